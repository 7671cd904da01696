/**
 * The readiness line: one JSON object on stdout, printed on purpose once a
 * program serves, e.g.
 * `{"event":"ready","program":"tcp_receiver","listen":"127.0.0.1:35000","stats":"127.0.0.1:34999"}`.
 *
 * Supervisors, tests and the bench wait for this line instead of matching
 * log wording; logs go to stderr, so stdout carries nothing else from a
 * server program.
 *
 * @module
 */

/** The fields of a readiness line. */
export interface ReadyLine {
  event: "ready";
  /** Program name, e.g. `tcp_receiver`. */
  program: string;
  /** Addresses (`host:port`) and other facts a client needs, by name. */
  [field: string]: string | undefined;
}

/** `host:port` of a listening address. */
export function hostPort(addr: { hostname: string; port: number }): string {
  return `${addr.hostname}:${addr.port}`;
}

/** Prints the readiness line of `program` with `fields` (undefined ones left out). */
export function announceReady(program: string, fields: Record<string, string | undefined>): void {
  const line: ReadyLine = { event: "ready", program };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) line[k] = v;
  console.log(JSON.stringify(line));
}

/** The readiness line in `text` (a program's stdout so far), or undefined. */
export function findReadyLine(text: string): ReadyLine | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith('{"event":"ready"')) continue;
    try {
      return JSON.parse(line) as ReadyLine;
    } catch {
      // a partial line: not yet
    }
  }
  return undefined;
}
