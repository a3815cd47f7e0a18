# Vendored from the S&I authors' repository (github.com/LMBTough/S-I, commit d8984f0f9325f053e7a7e4b16574842ebab09c34). See ../README.md.
#
# - cal_grad_value: S&I-A, cal_method_imagenet_bit.py, verbatim except `LogSoftmax(dim=-1).cuda()`
#   -> `LogSoftmax(dim=-1)` (CPU).
# - gaia_cal_grad_value: GAIA-A, cal_method.py's cal_grad_value, same change, renamed.
# - Grad_all_hook, Grad_feature_hook: hook.py, verbatim.
import torch
import torch.nn as nn
from torch.autograd import Variable
import torch.nn.functional as F
from split_resnetv2 import *

def cal_grad_value(net, input, device=None, hooks=None, loss_method="CE",alpha=1/255, method='multiply'):
    input, target = input
    input, target = input.to(device), target.to(device)
    net.zero_grad()
    # y = net(input)
    logsoftmax = torch.nn.LogSoftmax(dim=-1)    
    namespaces = globals()
    namespaces.update(locals())

    all_models = [
        (eval(f"NetHead{i}(net), NetRemain{i}(net)", namespaces)) for i in range(10)
    ]
    if hooks[-1].module_name == 'GroupNorm':
        all_models[-1] = (NetHead9SpeC(net), NetRemain9SpeC(net))
    original_input = input

    head, remain = all_models[-1]
    net.zero_grad()
    target = None
    input = head(original_input)
    if isinstance(input,tuple):
        input,last_layer_x = input
    else:
        last_layer_x = None
    gradients_bn = None
    last_outputs = None
    last_grads = None
    for _ in range(2):
        input = Variable(input, requires_grad=True)
        net.zero_grad()
        if last_layer_x is not None:
            y,bh = remain(input, last_layer_x)
        else:
            y,bh = remain(input)
        loss = logsoftmax(y)
        gd = torch.autograd.grad(loss, input, create_graph=True,grad_outputs=torch.ones_like(loss))[0]

        
        if last_grads is None and last_outputs is None:
            last_grads = gd.detach()
            last_outputs = input.detach().clone()
        else:
            outputs = input.detach().clone()
            last_grads = gd.detach()
            last_outputs = outputs

        if loss_method == "CE":
            ce = nn.CrossEntropyLoss(reduction='none')
            if target is None:
                target = y.argmax(dim=-1)
            loss = ce(y, target)
            grad = torch.autograd.grad(loss, input, create_graph=True,grad_outputs=torch.ones_like(loss))[0]
        elif loss_method == "MAX":
            grad = gd
        input = input + alpha * grad.sign()

        if gradients_bn is None:
            gradients_bn = last_grads
        else:
            if method == 'multiply':
                gradients_bn *= last_grads
            elif method == 'add':
                gradients_bn += last_grads
    
    # loss = logsoftmax(y)
    # loss.sum().backward(retain_graph=True)
    # before_head_grad = hooks[-1].data.mean(dim=(-1, -2))
    before_head_grad = gradients_bn.mean(dim=(-1, -2))
    output_component = torch.sqrt(torch.abs(before_head_grad).mean(dim=1))
    output_component = output_component.unsqueeze(dim=1)


    gradients = list()
    all_idx = list(range(9))
    for idx, (head, remain) in zip(all_idx, all_models[:-1]):
        # print(idx)
        net.zero_grad()
        target = None
        input = head(original_input)
        if isinstance(input,tuple):
            input,last_layer_x = input
        else:
            last_layer_x = None
        gradients_bn = None
        last_outputs = None
        last_grads = None
        for _ in range(2):
            input = Variable(input, requires_grad=True)
            net.zero_grad()
            if last_layer_x is not None:
                y,bh = remain(input, last_layer_x)
            else:
                y,bh = remain(input)
            bn_grad = torch.autograd.grad(y.sum(),bh,create_graph=True)[0]
            topk = torch.topk(bn_grad.squeeze(), int(bn_grad.shape[1] * 0.9))
            new_bh = []
            for i in range(bh.shape[0]):
                new_bh.append(bh[i][topk.indices[i],:,:])
            bh = torch.stack(new_bh,dim=0)
            loss = bh

            gd = torch.autograd.grad(loss, input, create_graph=True,grad_outputs=torch.ones_like(loss))[0]
            
            
            if last_grads is None and last_outputs is None:
                last_grads = gd.detach()
                last_outputs = input.detach().clone()
            else:
                outputs = input.detach().clone()
                last_grads = gd.detach()
                last_outputs = outputs

            if loss_method == "CE":
                ce = nn.CrossEntropyLoss(reduction='none')
                if target is None:
                    target = y.argmax(dim=-1)
                loss = ce(y, target)
                grad = torch.autograd.grad(loss, input, create_graph=True,grad_outputs=torch.ones_like(loss))[0]
            elif loss_method == "MAX":
                grad = gd
            input = input + alpha * grad.sign()
            if gradients_bn is None:
                gradients_bn = last_grads
            else:
                if method == 'multiply':
                    gradients_bn *= last_grads
                elif method == 'add':
                    gradients_bn += last_grads
        gradients.append(gradients_bn)
    # loss = net.before_head_data
    # loss.sum().backward()
    # gradients = [hook.data for hook in hooks]
    # gradients = gradients[:-1]
    gradients = [grad.mean(dim=(-1, -2)) for grad in gradients]
    inner_component = torch.abs(torch.cat(gradients, dim=1))
    score = torch.pow(inner_component / output_component, 2).mean(dim=1)


    return score.detach()


def gaia_cal_grad_value(net, input, device, hooks=None):
    net.zero_grad()
    y = net(input)
    logsoftmax = torch.nn.LogSoftmax(dim=-1)
    
    loss = logsoftmax(y)
    loss.sum().backward(retain_graph=True)
    before_head_grad = hooks[-1].data.mean(dim=(-1, -2))
    output_component = torch.sqrt(torch.abs(before_head_grad).mean(dim=1))
    output_component = output_component.unsqueeze(dim=1)

    loss = net.before_head_data
    loss.sum().backward()
    gradients = [hook.data for hook in hooks]
    gradients = gradients[:-1]
    gradients = [grad.mean(dim=(-1, -2)) for grad in gradients]
    inner_component = torch.abs(torch.cat(gradients, dim=1))
    score = torch.pow(inner_component / output_component, 2).mean(dim=1)
    return score.detach()


class Grad_all_hook:
    def __init__(self, module):
        self.hook = module.register_forward_hook(self.save_grad)
        self.data = torch.Tensor()

    def save_grad(self, module, input, output):
        def _stor_grad(grad):
            self.data = grad.detach()
        output.register_hook(_stor_grad)

    def close(self):
        self.hook.remove()

class Grad_feature_hook:
    def __init__(self, module):
        self.hook = module.register_forward_hook(self.save_grad)
        self.data = torch.Tensor()
        self.feature = torch.Tensor()

    def save_grad(self, module, input, output):
        def _stor_grad(grad):
            self.data = grad.detach()
        output.register_hook(_stor_grad)
        self.feature = output.clone()

    def close(self):
        self.hook.remove()
        
