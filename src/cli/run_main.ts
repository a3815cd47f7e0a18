/**
 * The shared entry of the command-line tools: run `main`, exit with its code, and turn an
 * unexpected error into one line on stderr and exit code 1 (no stack trace for users).
 * @module
 */

/** Runs a CLI `main(argv)` and exits the process with its result. */
export async function runMain(main: (argv: string[]) => Promise<number>): Promise<never> {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    Deno.exit(1);
  }
}
