/**
 * Every bench scenario, in the order they run.
 *
 * @module
 */
import { baseline, limitCore, limitPacked } from "./baseline.ts";
import type { Scenario } from "./context.ts";
import { endToEndScenario } from "./end_to_end.ts";
import { http32Scenario, httpBatch, httpFloor } from "./http.ts";
import { idle } from "./idle.ts";
import { micro } from "./micro.ts";
import { subscriberScenario } from "./subscriber.ts";
import { tcpScenario } from "./tcp.ts";

/** Every scenario, in the order they run (later ones compare with earlier ones). */
export const SCENARIOS: Scenario[] = [
  baseline,
  limitCore,
  limitPacked,
  tcpScenario("tcp-1-per-message", 1, (s) => s.tcp1, { packed: false }),
  tcpScenario("tcp-1", 1, (s) => s.tcp1),
  tcpScenario("tcp-1-tls", 1, (s) => s.tcp1, { tls: true }),
  tcpScenario("tcp-16-per-message", 16, (s) => s.tcp16, { packed: false }),
  tcpScenario("tcp-16", 16, (s) => s.tcp16),
  http32Scenario("http-32-per-message", false),
  http32Scenario("http-32", true),
  httpFloor,
  httpBatch,
  subscriberScenario("ndjson", false),
  subscriberScenario("ndjson"),
  subscriberScenario("es-bulk"),
  subscriberScenario("loki"),
  subscriberScenario("splunk-hec"),
  endToEndScenario("end-to-end-per-message", false),
  endToEndScenario("end-to-end", true),
  idle,
  micro,
];
