/**
 * `deno task heka-cat [--match SPEC] [--format json|text] [--max-size N] FILE...`
 *
 * Reads Heka-framed stream files (`-` = stdin) and prints the messages that
 * match (run.ts {@link runHekaCat}). `--format json` prints one JSON object
 * per line in the subscriber's shape. Counts of skipped and invalid records
 * go to stderr.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DEFAULT_MAX_MESSAGE_SIZE } from "../heka/framing.ts";
import { ExitError, runMain } from "../runtime/exit.ts";
import { errorMessage } from "../runtime/async.ts";
import { type HekaCatOptions, runHekaCat } from "./run.ts";

const USAGE = `heka-cat — prints the messages of Heka-framed stream files

Usage: deno task heka-cat [--match SPEC] [--format json|text] [--max-size N] FILE...

  --match SPEC     only messages matching this Heka message matcher spec
  --format FORMAT  text (default, readable) or json (one JSON object per line,
                   the subscriber's shape, every default field)
  --max-size N     largest message in bytes (default ${DEFAULT_MAX_MESSAGE_SIZE})
  FILE             a Heka stream file; - reads standard input

Counts of printed, skipped and invalid records go to standard error.`;

function usageError(message: string): ExitError {
  return new ExitError(`heka-cat: ${message}`, 2);
}

/** The options of the command line, or an {@link ExitError} (help: code 0). */
function parseCommandLine(args: string[]): HekaCatOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        match: { type: "string" },
        format: { type: "string", default: "text" },
        "max-size": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw usageError(`${errorMessage(err)}\n\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (values.help) throw new ExitError(USAGE, 0);
  const format = values.format;
  if (format !== "json" && format !== "text") {
    throw usageError(`--format must be json or text, got ${JSON.stringify(format)}`);
  }
  let maxSize = DEFAULT_MAX_MESSAGE_SIZE;
  if (values["max-size"] !== undefined) {
    maxSize = Number(values["max-size"]);
    if (!Number.isSafeInteger(maxSize) || maxSize < 1) {
      throw usageError(
        `--max-size must be a positive integer, got ${JSON.stringify(values["max-size"])}`,
      );
    }
  }
  if (positionals.length === 0) {
    throw usageError(`no input file (use - for standard input)\n\n${USAGE}`);
  }
  return { files: positionals, match: values.match, format, maxSize };
}

if (import.meta.main) {
  await runMain(() => runHekaCat(parseCommandLine(Deno.args)));
}
