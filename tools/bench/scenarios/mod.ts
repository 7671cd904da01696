/**
 * The bench scenarios. Each starts its programs fresh (the program under
 * test and a load source in separate processes), measures, stops them,
 * and returns one `ScenarioResult`.
 *
 * One file per scenario family (`baseline.ts`, `tcp.ts`, `http.ts`,
 * `subscriber.ts`, `end_to_end.ts`, `idle.ts`, `micro.ts`), over the shared
 * `context.ts`, `scale.ts`, `stored.ts`, `receivers.ts`,
 * `subscriber_sink.ts` and `measure.ts`; `all.ts` lists them in order.
 *
 * @module
 */
export { SCENARIOS } from "./all.ts";
export {
  BENCH_CHUNK_MESSAGES,
  type BenchContext,
  HTTP_BATCH_MESSAGES,
  PER_MESSAGE_E2E_RATE,
  type Scenario,
  Scope,
  SEED_RATE,
  STREAM,
  SUBJECT,
} from "./context.ts";
export { type Scale, SCALES } from "./scale.ts";
export { logLine, rateResult, settleTargets } from "./measure.ts";
export { resetStream, rfc3339Ms, streamState, waitStored, waitStoredLines } from "./stored.ts";
