/**
 * How library code asks a program to stop at start-up without calling
 * `Deno.exit` itself: it throws an {@link ExitError}; the program's main
 * runs under {@link runMain}, which prints the error's one line and exits
 * with its code. Anything else thrown keeps its stack trace.
 *
 * @module
 */

/** A program must stop with `code`; `message` is printed as it is (stderr, stdout for code 0). */
export class ExitError extends Error {
  override name = "ExitError";
  constructor(message: string, readonly code: number) {
    super(message);
  }
}

/** A bad setting or file at start: one line `<program>: <problem>`, exit 2. */
export function configExit(program: string, problem: string): ExitError {
  return new ExitError(`${program}: ${problem}`, 2);
}

/** Runs a program's main; an {@link ExitError} becomes its line and exit code. */
export async function runMain(main: () => Promise<unknown> | unknown): Promise<void> {
  try {
    await main();
  } catch (err) {
    if (!(err instanceof ExitError)) throw err;
    if (err.message !== "") (err.code === 0 ? console.log : console.error)(err.message);
    Deno.exit(err.code);
  }
}
