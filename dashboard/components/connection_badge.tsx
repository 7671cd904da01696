/**
 * The state of the dashboard's live connection to the stats proxy, and of
 * the proxy's connection to NATS.
 *
 * @module
 */
import type { JSX } from "preact";
import type { ConnectionState, ProxyStatus } from "../connection.ts";

/** Props of {@link ConnectionBadge}. */
export interface ConnectionBadgeProps {
  state: ConnectionState;
  /** The proxy's `/health`, when known. */
  proxy?: ProxyStatus;
  now: number;
  onRetry: () => void;
}

/** "● Live", "◌ Reconnecting in 3 s (attempt 2) [Retry now]", plus the broker state. */
export function ConnectionBadge(p: ConnectionBadgeProps): JSX.Element {
  const { state } = p;
  let text: string;
  let detail = "";
  switch (state.status) {
    case "connected":
      text = "Live";
      break;
    case "connecting":
      text = "Connecting…";
      break;
    case "reconnecting": {
      text = "Reconnecting";
      const wait = Math.max(0, Math.ceil(((state.retryAt ?? p.now) - p.now) / 1000));
      detail = wait > 0 ? `next try in ${wait} s · attempt ${state.attempt}` : "trying…";
      break;
    }
    default:
      text = "Stopped";
  }
  const broker = state.status === "connected" && p.proxy ? p.proxy.nats : undefined;
  return (
    <div class="conn" role="status" aria-live="polite">
      <span
        class={`conn-pill conn-${state.status}`}
        data-testid="connection-state"
        data-status={state.status}
      >
        <span class="conn-dot" aria-hidden="true" />
        {text}
        {detail && <span class="conn-detail">{detail}</span>}
      </span>
      {state.status === "reconnecting" && (
        <button type="button" class="btn" onClick={p.onRetry}>Retry now</button>
      )}
      {broker && (
        <span
          class={`conn-pill ${broker === "connected" ? "conn-connected" : "conn-reconnecting"}`}
          data-testid="broker-state"
          title="the stats proxy's connection to NATS"
        >
          <span class="conn-dot" aria-hidden="true" />
          NATS {broker}
        </span>
      )}
    </div>
  );
}
