/**
 * Rebuilds a Dockerfile's final-stage layout in a directory, without Docker: its COPYs from the
 * build context and its `deno …` RUN steps, in Dockerfile order, with WORKDIR mapped to `dir`.
 * @module
 */
import { cp, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  copySources,
  envOf,
  execForm,
  type Instruction,
  splitFlags,
} from "../../deploy/lib/dockerfile.ts";
import { ROOT } from "./helpers.ts";

/** What the image would run, mapped onto the rebuilt directory. */
export interface Layout {
  readonly dir: string;
  /** Image ENV with WORKDIR paths rewritten into `dir` (DENO_DIR dropped: see below). */
  readonly env: Record<string, string>;
  readonly cmd: string[];
  readonly healthcheck: string[];
  /** Context paths copied, as the COPYs name them. */
  readonly copied: string[];
}

/** Rebuilds the final stage of `instructions` in `dir`. */
export async function rebuildLayout(instructions: Instruction[], dir: string): Promise<Layout> {
  const stage = instructions.slice(instructions.map((i) => i.keyword).lastIndexOf("FROM"));
  const workdir = stage.findLast((i) => i.keyword === "WORKDIR")?.args ?? "/";
  const toLocal = (p: string) =>
    p.startsWith(workdir) ? join(dir, p.slice(workdir.length)) : join(dir, p);
  const env = envOf(stage);
  // The image's DENO_DIR starts empty and is filled by the build's `deno install`; here the
  // machine's own cache plays that part, so nothing is downloaded again.
  delete env.DENO_DIR;
  for (const [k, v] of Object.entries(env)) if (v.startsWith(workdir)) env[k] = toLocal(v);

  const copied: string[] = [];
  let seenWorkdir = false;
  for (const ins of stage) {
    if (ins.keyword === "WORKDIR") seenWorkdir = true;
    if (!seenWorkdir) continue; // system setup (apt, users) happens before WORKDIR
    if (ins.keyword === "COPY") {
      const sources = copySources(ins);
      if (sources.length === 0) continue;
      const { rest } = splitFlags(ins.args);
      const dest = rest.split(/\s+/).at(-1)!;
      for (const src of sources) {
        const target = dest.endsWith("/")
          ? join(toLocal(dest), src.endsWith("/") ? "" : src.split("/").at(-1)!)
          : toLocal(dest);
        await mkdir(dirname(target), { recursive: true });
        await cp(join(ROOT, src), target, { recursive: true });
        copied.push(src);
      }
    } else if (ins.keyword === "RUN") {
      const argv = ins.args.split(/\s+/);
      if (argv[0] !== "deno") throw new Error(`Cannot replay RUN ${ins.args}`);
      const out = await new Deno.Command(Deno.execPath(), {
        args: argv.slice(1),
        cwd: dir,
        env: { ...env, DENO_NO_UPDATE_CHECK: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      if (!out.success) {
        throw new Error(`RUN ${ins.args} failed:\n${new TextDecoder().decode(out.stderr)}`);
      }
    }
  }
  const cmd = execForm(stage.findLast((i) => i.keyword === "CMD")!.args)!;
  const hc = stage.find((i) => i.keyword === "HEALTHCHECK")!.args;
  const healthcheck = execForm(hc.slice(hc.indexOf("[")))!;
  return { dir, env, cmd, healthcheck, copied };
}
