/**
 * Runs the `@example` code of the API users call (the client, SiEngine, the manifest types) as
 * written: each example is cut from its JSDoc, its relative imports pointed at the documented
 * file, and run with the working directory in a scratch folder holding the files examples name
 * (`model.onnx`: a tiny classifier fixture, `manifest.json`: the bundled model's, `digit.png`);
 * `http://localhost:8000` is the service in process, with a fake model. What each example prints
 * is checked, so an example that stops working, or stops saying what it shows, fails here.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { DEFAULT_CONFIG } from "../../src/config.ts";
import { createApp } from "../../src/http/app.ts";
import { createFakeModel, createFakeRegistry } from "../helpers/fake_model.ts";
import { solidPng } from "../http/png.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Per documented file, what its examples must print (one pattern per line, in order). */
const EXPECTED: Readonly<Record<string, readonly RegExp[]>> = {
  "client/mod.ts": [/^digit\.png: class \d+, score -?\d/, /^1 of 1 scored by fake$/],
  "src/engine/engine.ts": [/^class \d+, score -?\d[\d.e-]* over 2 splits$/],
  "src/models/manifest.ts": [
    /^fmnist-wrn40: fused, input 32x32$/,
    /^defaults\.method: one of si, si_a, .*, fused$/,
  ],
};

/** The code of each `@example` in a file's JSDoc (the fenced ts block after the tag). */
function examplesOf(source: string): string[] {
  const found: string[] = [];
  const tag =
    /@example[^\n]*\n((?:\s*\*[^\n]*\n)*?)\s*\*\s*```ts\n((?:\s*\*[^\n]*\n)*?)\s*\*\s*```/g;
  for (const m of source.matchAll(tag)) {
    found.push(m[2].split("\n").map((l) => l.replace(/^\s*\* ?/, "")).join("\n"));
  }
  return found;
}

/** Writes an example as a module in `dir`, its relative imports resolved against `file`. */
async function writeExample(code: string, file: string, dir: string): Promise<string> {
  const base = pathToFileURL(join(ROOT, file));
  const resolved = code.replace(
    /from "(\.\.?\/[^"]+)"/g,
    (_, spec) => `from "${new URL(spec, base)}"`,
  );
  const path = join(dir, `example_${crypto.randomUUID()}.ts`);
  await Deno.writeTextFile(path, resolved);
  return path;
}

/** Runs one example; returns what it printed. */
async function runExample(code: string, file: string, scratch: string): Promise<string[]> {
  const path = await writeExample(code, file, scratch);
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => printed.push(args.map(String).join(" "));
  try {
    await import(pathToFileURL(path).href);
  } finally {
    console.log = log;
  }
  return printed;
}

/** A scratch folder with the files the examples read, entered for the duration of `body`. */
async function inScratch(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "si-examples-" });
  const cwd = Deno.cwd();
  await Deno.copyFile(
    join(ROOT, "tests/fixtures/tiny/cnn-op17-bn-dyn.onnx"),
    join(dir, "model.onnx"),
  );
  await Deno.copyFile(join(ROOT, "models/fmnist-wrn40/manifest.json"), join(dir, "manifest.json"));
  await Deno.writeFile(join(dir, "digit.png"), await solidPng(200, 4));
  const fake = createFakeModel({ inputDims: [1, 4, 4] });
  const config = { ...DEFAULT_CONFIG, batchWaitMs: 0, publicDir: "/nonexistent-public" };
  const app = createApp({ registry: createFakeRegistry([fake]), config });
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    return req.url.startsWith("http://localhost:8000/") ? app.handler(req) : realFetch(req);
  };
  Deno.chdir(dir);
  try {
    await body(dir);
  } finally {
    Deno.chdir(cwd);
    globalThis.fetch = realFetch;
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("examplesOf() cuts the fenced code after each @example tag", () => {
  const src =
    "/**\n * Does it.\n *\n * @example Use\n * ```ts\n * const a = 1;\n *   f(a);\n * ```\n */";
  assert.deepEqual(examplesOf(src), ["const a = 1;\n  f(a);\n"]);
});

Deno.test("the @examples type-check against the code they document", async () => {
  const dir = await Deno.makeTempDir({ prefix: "si-examples-check-" });
  try {
    const paths: string[] = [];
    for (const file of Object.keys(EXPECTED)) {
      for (const code of examplesOf(await Deno.readTextFile(join(ROOT, file)))) {
        paths.push(await writeExample(code, file, dir));
      }
    }
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--quiet", "--config", join(ROOT, "deno.json"), ...paths],
      stdout: "null",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

for (const [file, expected] of Object.entries(EXPECTED)) {
  Deno.test(`the @example of ${file} runs and prints what it says`, async () => {
    const examples = examplesOf(await Deno.readTextFile(join(ROOT, file)));
    assert.ok(examples.length > 0, `${file} has an @example`);
    await inScratch(async (dir) => {
      const printed: string[] = [];
      for (const code of examples) printed.push(...await runExample(code, file, dir));
      assert.equal(printed.length, expected.length, printed.join("\n"));
      expected.forEach((pattern, i) => assert.match(printed[i], pattern));
    });
  });
}
