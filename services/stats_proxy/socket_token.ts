/**
 * The dashboard's token on a WebSocket: browsers cannot set headers on
 * one, so it comes as the subprotocol `bearer.<base64url(token)>`, next to
 * `lagermeister`, which the proxy answers with.
 *
 * @module
 */
import type { AuthResult, BearerAuth } from "../net/bearer_auth.ts";

/** The WebSocket subprotocol the proxy answers with when the dashboard sends its token. */
export const WS_PROTOCOL = "lagermeister";
/** Prefix of the subprotocol that carries the token (`bearer.` + base64url of it). */
export const WS_TOKEN_PREFIX = "bearer.";

/** The subprotocols a WebSocket request offers (`Sec-WebSocket-Protocol`). */
export function offeredProtocols(req: Request): string[] {
  return (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim());
}

/** A WebSocket's token checked: the Authorization header, or the `bearer.` subprotocol. */
export function checkSocketToken(req: Request, auth: BearerAuth): AuthResult {
  if (req.headers.get("authorization") !== null) return auth.check(req);
  const offered = offeredProtocols(req);
  const carried = offered.find((p) => p.startsWith(WS_TOKEN_PREFIX));
  if (carried === undefined) return auth.checkToken(undefined);
  let token: string;
  try {
    const b64 = carried.slice(WS_TOKEN_PREFIX.length).replaceAll("-", "+").replaceAll("_", "/");
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    token = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    token = "\0"; // not base64url: counted as a wrong token
  }
  return auth.checkToken(token);
}
