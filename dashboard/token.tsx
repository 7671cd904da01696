/**
 * The proxy's token in the page: asked for once when the proxy answers 401,
 * kept in sessionStorage (this tab only, gone when it closes), sent as
 * `Authorization: Bearer` and as a WebSocket subprotocol.
 *
 * @module
 */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import { authHeaders } from "./connection.ts";

const KEY = "lagermeister.proxyToken";

/** Whether the proxy lets this token (or none) read its data. */
export async function tokenAccepted(token: string | undefined): Promise<boolean> {
  const r = await fetch("/config", { cache: "no-store", headers: authHeaders(token) });
  await r.body?.cancel();
  return r.status !== 401;
}

/** The token this tab keeps, if any. */
export function storedToken(): string | undefined {
  try {
    return sessionStorage.getItem(KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Keeps the token for this tab. */
export function storeToken(token: string): void {
  try {
    sessionStorage.setItem(KEY, token);
  } catch {
    // storage disabled: the token lives in memory only
  }
}

/** Props of {@link TokenPrompt}. */
export interface TokenPromptProps {
  onToken: (token: string) => void;
}

/** Asks for the token until the proxy accepts it. */
export function TokenPrompt(p: TokenPromptProps): JSX.Element {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const input = (e.currentTarget as HTMLFormElement).elements.namedItem("token");
    const token = (input as HTMLInputElement).value.trim();
    if (!token) return;
    setBusy(true);
    try {
      if (await tokenAccepted(token)) {
        storeToken(token);
        p.onToken(token);
      } else setError("The stats proxy did not accept this token.");
    } catch {
      setError("The stats proxy cannot be reached.");
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="page">
      <form class="token-prompt panel" data-testid="token-prompt" onSubmit={submit}>
        <h1>Lagermeister</h1>
        <p>This stats proxy needs a token (PROXY_TOKEN).</p>
        <input
          name="token"
          type="password"
          autocomplete="off"
          aria-label="token"
          data-testid="token-input"
        />
        <button type="submit" disabled={busy} data-testid="token-submit">Open dashboard</button>
        {error && <p class="token-error" data-testid="token-error">{error}</p>}
      </form>
    </div>
  );
}
