/**
 * The dashboard page: headline numbers, live charts, per-sender tables and
 * the connection state, all read from one {@link DashboardStore}.
 *
 * @module
 */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ConnectionBadge } from "./components/connection_badge.tsx";
import { LagGauge } from "./components/lag_gauge.tsx";
import { LastSeenTable } from "./components/last_seen_table.tsx";
import { Panel } from "./components/panel.tsx";
import { ReceiversTable } from "./components/receivers_table.tsx";
import { StatTile } from "./components/stat_tile.tsx";
import { SubscribersTable } from "./components/subscribers_table.tsx";
import { TimeChart } from "./components/time_chart.tsx";
import {
  type ConnectionState,
  fetchProxyStatus,
  type ProxyStatus,
  StatsConnection,
} from "./connection.ts";
import {
  formatBytes,
  formatClock,
  formatNumber,
  formatSeconds,
  formatSecondsAxis,
} from "./format.ts";
import type { DashboardStore } from "./state.ts";

/** Props of {@link App}. */
export interface AppProps {
  store: DashboardStore;
  /** The `/messages` WebSocket URL. */
  url: string;
  /** The proxy's token, when it asks for one. */
  token?: string;
  /** Re-render at most this often while events stream in (default 500 ms). */
  renderEveryMs?: number;
}

/** Re-renders the component when the store changes, at most every `ms`; returns the version. */
function useStoreVersion(store: DashboardStore, ms: number): number {
  const [version, setVersion] = useState(store.version);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = store.subscribe(() => {
      timer ??= setTimeout(() => {
        timer = undefined;
        setVersion(store.version);
      }, ms);
    });
    return () => {
      off();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [store, ms]);
  return version;
}

/** The current time, ticking every second (for "x s ago" and countdowns). */
function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);
  return now;
}

/** The live connection, and the proxy's health polled while connected. */
function useConnection(
  store: DashboardStore,
  url: string,
  token: string | undefined,
): { state: ConnectionState; proxy?: ProxyStatus; retry: () => void } {
  const conn = useRef<StatsConnection | null>(null);
  const [state, setState] = useState<ConnectionState>({
    status: "connecting",
    attempt: 0,
    since: Date.now(),
    events: 0,
  });
  const [proxy, setProxy] = useState<ProxyStatus | undefined>(undefined);
  useEffect(() => {
    const c = new StatsConnection({
      url,
      onEvent: (e) => store.ingest(e),
      onOpen: () => store.beginSession(),
      onState: setState,
      token,
    });
    conn.current = c;
    c.start();
    return () => c.stop();
  }, [store, url, token]);
  useEffect(() => {
    if (state.status !== "connected") return;
    let live = true;
    const poll = async () => {
      const s = await fetchProxyStatus("", fetch, token);
      if (live) setProxy(s);
    };
    poll();
    const t = setInterval(poll, 5000);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [state.status, token]);
  return { state, proxy, retry: () => conn.current?.retryNow() };
}

/** The whole dashboard. */
export function App(p: AppProps): JSX.Element {
  const { store } = p;
  useStoreVersion(store, p.renderEveryMs ?? 500);
  const now = useNow();
  const { state, proxy, retry } = useConnection(store, p.url, p.token);

  // everything is derived on each render (at most every renderEveryMs, and each second for
  // the clock), so charts, numbers and tables always agree; it is cheap at these sizes
  const charts = {
    input: store.chart("Throughput", "input"),
    batches: store.chart("BatchCount", "output"),
    lag: store.chart("Lag"),
    pending: store.chart("Pending"),
  };
  const o = store.overview();
  const receivers = store.receivers();
  const subscribers = store.subscribers();
  const lastSeen = store.lastSeen();
  const since = o.since ? ` · counts since ${formatClock(o.since)}` : "";
  const problemLevel = o.deadLettered > 0 ? "error" : o.failures > 0 ? "warn" : "ok";

  return (
    <div class="page">
      <header class="topbar">
        <div class="brand">
          <svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true">
            <rect x="2" y="13" width="5" height="9" rx="1" fill="#56B4E9" />
            <rect x="9.5" y="8" width="5" height="14" rx="1" fill="#E69F00" />
            <rect x="17" y="3" width="5" height="19" rx="1" fill="#3CC9A0" />
          </svg>
          <div>
            <h1>Lagermeister</h1>
            <p class="brand-sub">log pipeline monitor</p>
          </div>
        </div>
        <ConnectionBadge state={state} proxy={proxy} now={now} onRetry={retry} />
      </header>

      {state.status !== "connected" && store.accepted > 0 && (
        <div class="stale-banner" role="alert" data-testid="stale-banner">
          Connection to the stats proxy lost — showing the data received until{" "}
          {formatClock(state.since / 1000)}. Reconnecting automatically.
        </div>
      )}
      <main class={state.status === "connected" ? "" : "stale"}>
        <div class="tiles">
          <StatTile
            testId="kpi-input"
            label="Input"
            value={formatNumber(o.inputRate)}
            unit="msgs/s"
            hint={`${receivers.length} receiver${receivers.length === 1 ? "" : "s"}`}
          />
          <StatTile
            testId="kpi-output"
            label="Delivered"
            value={formatNumber(o.outputRate)}
            unit="msgs/s"
            hint={`${subscribers.length} subscriber${subscribers.length === 1 ? "" : "s"}`}
          />
          <LagGauge lag={o.lag} threshold={o.lagThreshold} level={o.lagLevel} />
          <StatTile
            testId="kpi-pending"
            label="Backlog"
            value={formatNumber(o.pending)}
            unit="records"
            hint="JetStream messages pending for the consumer (a chunk holds many lines)"
          />
          <StatTile
            testId="kpi-stream"
            label="Stream"
            value={formatNumber(o.streamMessages)}
            unit="records"
            hint={`${formatBytes(o.streamBytes)} stored · a record is a chunk of lines or one line`}
          />
          <StatTile
            testId="kpi-problems"
            label="Dead letters"
            value={formatNumber(o.deadLettered)}
            unit="msgs"
            level={problemLevel}
            levelLabel={problemLevel === "error" ? "ALERT" : undefined}
            hint={`failed ${formatNumber(o.failures)} · retries ${
              formatNumber(o.retries)
            } · rejected input ${formatNumber(o.rejected)}`}
          />
        </div>

        <div class="grid-2">
          <TimeChart
            testId="chart-throughput"
            title="Input throughput"
            subtitle="messages per second, per receiver"
            data={charts.input}
            format={formatNumber}
            empty="Waiting for receivers…"
          />
          <TimeChart
            testId="chart-lag"
            title="Lag"
            subtitle={`seconds behind · warn ${o.lagThreshold.Warn} s · error ${o.lagThreshold.Error} s`}
            data={charts.lag}
            format={formatSeconds}
            axisFormat={formatSecondsAxis}
            threshold={o.lagThreshold}
            empty="Waiting for subscribers…"
          />
          <TimeChart
            testId="chart-batches"
            title="Output batches"
            subtitle="batches posted per second, per subscriber"
            data={charts.batches}
            format={formatNumber}
            empty="Waiting for subscribers…"
          />
          <TimeChart
            testId="chart-pending"
            title="Backlog"
            subtitle="messages pending for the consumer"
            data={charts.pending}
            format={formatNumber}
            empty="Waiting for subscribers…"
          />
        </div>

        <Panel
          testId="subscribers"
          title="Subscribers"
          subtitle={`output to the log service${since}`}
        >
          <SubscribersTable rows={subscribers} />
        </Panel>

        <div class="grid-2">
          <Panel testId="receivers" title="Receivers" subtitle={`input from clients${since}`}>
            <ReceiversTable rows={receivers} />
          </Panel>
          <Panel testId="last-seen" title="Last seen" subtitle="every sender, by host">
            <LastSeenTable rows={lastSeen} />
          </Panel>
        </div>
      </main>

      <footer class="footer">
        <span>{formatNumber(store.accepted)} events received</span>
        {proxy && (
          <span>
            proxy: {proxy.clients} viewer{proxy.clients === 1 ? "" : "s"} · {formatNumber(
              proxy.invalid,
            )} invalid events dropped · {formatNumber(proxy.dropped)} slow-viewer drops
          </span>
        )}
      </footer>
    </div>
  );
}
