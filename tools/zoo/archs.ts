/**
 * The 23 torchvision 0.14 architectures of the zoo sweep (tools/zoo/export.py holds the same
 * list for Python): the benchmark's `zoo/<arch>` models and the sweep's default.
 * @module
 */
export const ZOO_ARCHS: readonly string[] = [
  "resnet18",
  "resnet50",
  "resnext50_32x4d",
  "wide_resnet50_2",
  "vgg11_bn",
  "alexnet",
  "squeezenet1_0",
  "googlenet",
  "inception_v3",
  "mobilenet_v2",
  "mobilenet_v3_small",
  "mobilenet_v3_large",
  "mnasnet1_0",
  "efficientnet_b0",
  "efficientnet_v2_s",
  "regnet_y_400mf",
  "regnet_x_400mf",
  "shufflenet_v2_x1_0",
  "densenet121",
  "convnext_tiny",
  "swin_t",
  "vit_b_16",
  "maxvit_t",
];
