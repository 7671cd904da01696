/**
 * Real headless Chromium for browser tests (Debian's `chromium`, driven by
 * `playwright-core`; no browser download).
 *
 * @module
 */
import { type Browser, chromium, type LaunchOptions } from "playwright-core";

/** Flags for a quiet, sandbox-free headless Chromium that talks only to the pages it is sent to. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** The Chromium binary: `$CHROMIUM_PATH`, else Debian's `/usr/bin/chromium`. */
export function chromiumPath(): string {
  return Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
}

/** Launches headless Chromium with {@link CHROMIUM_ARGS}; close it in a `finally`. */
export function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [...CHROMIUM_ARGS, ...(options.args ?? [])],
    timeout: 30_000,
    ...options,
  });
}

/** Console errors and page errors of a page, collected as they happen. */
export interface ConsoleWatch {
  readonly errors: string[];
  /** From now on, refused WebSocket/fetch connections (a server restarting) are expected. */
  expectRefusedConnections(): void;
}

/** Collects a page's console errors and uncaught exceptions. */
export function watchConsole(page: import("playwright-core").Page): ConsoleWatch {
  const errors: string[] = [];
  let refusedExpected = false;
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    // While a server is down, Chromium logs the refused connections: expected then.
    if (refusedExpected && /WebSocket|ERR_CONNECTION_REFUSED|Failed to load/.test(m.text())) return;
    errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return {
    errors,
    expectRefusedConnections: () => {
      refusedExpected = true;
    },
  };
}
