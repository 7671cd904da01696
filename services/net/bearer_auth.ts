/**
 * Bearer-token authentication of HTTP requests: tokens from a comma list or
 * from a file (`@path`, one token per line, re-read on SIGHUP so tokens are
 * rotated without a restart), compared in constant time, refusals counted
 * by reason. Tokens are never logged.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { TokenSource } from "../config/mod.ts";
import { errorMessage, type Logger } from "../log/mod.ts";
import type { Counter, MetricsRegistry } from "../metrics/mod.ts";
import { onReloadSignal } from "./reload_signal.ts";

/** Why a request was refused. */
export type AuthRefusal = "missing" | "malformed" | "wrong";

/** The result of {@link BearerAuth.check}. */
export type AuthResult = { ok: true } | { ok: false; reason: AuthRefusal };

/** A token file or list that cannot be used; the message never holds a token. */
export class TokenSourceError extends Error {
  override name = "TokenSourceError";
}

function digest(token: string): Uint8Array {
  return createHash("sha256").update(token).digest();
}

/** Reads the tokens of a source (throws {@link TokenSourceError}). */
export function readTokens(source: TokenSource): string[] {
  let tokens = source.tokens;
  if (source.file !== undefined) {
    let text: string;
    try {
      text = Deno.readTextFileSync(source.file);
    } catch (err) {
      throw new TokenSourceError(`cannot read token file ${source.file}: ${errorMessage(err)}`);
    }
    tokens = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  }
  if (tokens.length === 0) {
    throw new TokenSourceError(
      source.file === undefined ? "no token given" : `token file ${source.file} holds no token`,
    );
  }
  if (tokens.some((t) => /\s/.test(t))) {
    throw new TokenSourceError("a token must not contain whitespace");
  }
  return tokens;
}

/** Options of {@link BearerAuth}. */
export interface BearerAuthOptions {
  /** Where refusals are counted (`unauthorized_missing`, `…_malformed`, `…_wrong`). */
  registry?: MetricsRegistry;
  /** Counter name prefix, default `unauthorized`. */
  counterPrefix?: string;
  /** `realm` of the `WWW-Authenticate` answer. */
  realm?: string;
  log: Logger;
}

/** Checks `Authorization: Bearer <token>` against a set of tokens. */
export class BearerAuth {
  #digests: Uint8Array[];
  readonly #source: TokenSource;
  readonly #o: BearerAuthOptions;
  #refused: Record<AuthRefusal, Counter | { value: number }>;
  #stopSignal: (() => void) | undefined;

  /** Reads the tokens now (throws {@link TokenSourceError}). */
  constructor(source: TokenSource, o: BearerAuthOptions) {
    this.#source = source;
    this.#o = o;
    this.#digests = readTokens(source).map(digest);
    this.#refused = { missing: { value: 0 }, malformed: { value: 0 }, wrong: { value: 0 } };
    if (o.registry) this.countIn(o.registry, o.counterPrefix);
  }

  /**
   * Counts refusals in `registry` as `<prefix>_missing`, `_malformed` and
   * `_wrong` (prefix default `unauthorized`) from now on.
   */
  countIn(registry: MetricsRegistry, prefix = "unauthorized"): this {
    const before = this.#refused;
    const counter = (reason: AuthRefusal, help: string) => {
      const c = registry.counter(`${prefix}_${reason}`, help);
      c.value += before[reason].value;
      return c;
    };
    this.#refused = {
      missing: counter("missing", "requests refused 401: no bearer token"),
      malformed: counter("malformed", "requests refused 401: Authorization is not a bearer token"),
      wrong: counter("wrong", "requests refused 401: unknown bearer token"),
    };
    return this;
  }

  /** How many tokens are accepted now. */
  get size(): number {
    return this.#digests.length;
  }

  /** Refusals so far by reason. */
  get refusedBy(): Record<AuthRefusal, number> {
    return {
      missing: this.#refused.missing.value,
      malformed: this.#refused.malformed.value,
      wrong: this.#refused.wrong.value,
    };
  }

  /**
   * Reads a token file again (a list given inline does not change). A file
   * that cannot be used is logged and the current tokens stay.
   */
  reload(): boolean {
    if (this.#source.file === undefined) return false;
    try {
      this.#digests = readTokens(this.#source).map(digest);
      this.#o.log.info("tokens reloaded", { file: this.#source.file, tokens: this.size });
      return true;
    } catch (err) {
      this.#o.log.error("tokens not reloaded; the current ones stay", {
        error: errorMessage(err),
      });
      return false;
    }
  }

  /** Re-reads the token file on every SIGHUP until {@link close}. */
  reloadOnSignal(): this {
    this.#stopSignal ??= onReloadSignal(() => this.reload());
    return this;
  }

  /** Stops listening for SIGHUP. */
  close(): void {
    this.#stopSignal?.();
    this.#stopSignal = undefined;
  }

  /** Checks a presented token (compares against every token, in constant time each). */
  checkToken(token: string | undefined | null): AuthResult {
    if (!token) return this.#refuse("missing");
    const d = digest(token);
    let match = false;
    for (const t of this.#digests) match = timingSafeEqual(d, t) || match;
    return match ? { ok: true } : this.#refuse("wrong");
  }

  /** Checks the request's `Authorization` header. */
  check(req: Request): AuthResult {
    const h = req.headers.get("authorization");
    if (h === null || h.trim() === "") return this.#refuse("missing");
    const m = /^Bearer[ ]+([^\s]+)\s*$/i.exec(h);
    if (!m) return this.#refuse("malformed");
    return this.checkToken(m[1]);
  }

  /** The 401 answer for a refusal: JSON error and `WWW-Authenticate: Bearer`. */
  unauthorized(reason: AuthRefusal, headers?: HeadersInit): Response {
    const realm = this.#o.realm ?? "lagermeister";
    const challenge = reason === "missing"
      ? `Bearer realm="${realm}"`
      : `Bearer realm="${realm}", error="invalid_token"`;
    const h = new Headers(headers);
    h.set("www-authenticate", challenge);
    h.set("cache-control", "no-store");
    const message = reason === "missing"
      ? "authentication required: send Authorization: Bearer <token>"
      : reason === "malformed"
      ? "the Authorization header is not a bearer token"
      : "invalid token";
    return Response.json({ status: "error", message }, { status: 401, headers: h });
  }

  /** Checks `req`; undefined when it may pass, else the 401 answer. */
  guard(req: Request, headers?: HeadersInit): Response | undefined {
    const r = this.check(req);
    return r.ok ? undefined : this.unauthorized(r.reason, headers);
  }

  #refuse(reason: AuthRefusal): AuthResult {
    this.#refused[reason].value++;
    return { ok: false, reason };
  }
}
