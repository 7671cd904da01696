/**
 * The dashboard's entry point, bundled by `deno bundle --platform browser`
 * into `dist/app.js` (and its styles into `dist/app.css`). When the proxy
 * wants a token it asks for it first.
 *
 * @module
 */
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { render } from "preact";
import { App } from "./app.tsx";
import { messagesUrl } from "./connection.ts";
import { DashboardStore } from "./state.ts";
import { storedToken, tokenAccepted, TokenPrompt } from "./token.tsx";

const root = document.getElementById("app");

function show(token: string | undefined): void {
  render(
    <App store={new DashboardStore()} url={messagesUrl(location)} token={token} />,
    root!,
  );
}

if (root) {
  root.textContent = "";
  const token = storedToken();
  // Unreachable proxy: start anyway, the connection retries by itself.
  const ok = await tokenAccepted(token).catch(() => true);
  if (ok) show(token);
  else render(<TokenPrompt onToken={show} />, root);
}
