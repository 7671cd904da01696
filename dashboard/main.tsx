/**
 * The dashboard's entry point, bundled by `deno bundle --platform browser`
 * into `dist/app.js` (and its styles into `dist/app.css`).
 *
 * @module
 */
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { render } from "preact";
import { App } from "./app.tsx";
import { messagesUrl } from "./connection.ts";
import { DashboardStore } from "./state.ts";

const root = document.getElementById("app");
if (root) {
  root.textContent = "";
  render(<App store={new DashboardStore()} url={messagesUrl(location)} />, root);
}
