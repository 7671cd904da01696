/**
 * Stand-ins for the log stores there is no server of here: real HTTP
 * servers (on top of {@link Sink}) that check every body as the real store
 * does, by its published API documentation, and answer as it answers.
 * Kept small; each check names the rule it follows.
 *
 * - Elasticsearch `_bulk` (Elasticsearch reference, "Bulk API"): NDJSON of
 *   `action_and_meta_data\n optional_source\n`; "the final line of data must
 *   end with a newline character"; `Content-Type: application/x-ndjson`;
 *   `index` and `create` expect a source on the next line. The answer is
 *   200 with `{"took","errors","items":[{"index":{"_index","_id","status",
 *   "error"?}}]}`, one item per action, in order; `errors` is true when any
 *   item failed.
 * - Grafana Loki push (Loki HTTP API, `POST /loki/api/v1/push`): JSON
 *   `{"streams":[{"stream":{<label>:<string>},"values":[["<unix epoch in
 *   nanoseconds>","<log line>"]]}]}`; label names as Prometheus'
 *   (`[a-zA-Z_][a-zA-Z0-9_]*`), at least one label per stream; 204 on success.
 *   Entries of one stream must come in time order (Loki's classic rule; it
 *   answers 400 "entry out of order").
 * - Splunk HEC (Splunk docs, "Format events for HTTP Event Collector"):
 *   `POST /services/collector/event` with `Authorization: Splunk <hec_token>`;
 *   the body is event objects one after another ("batched events", no
 *   array); each needs `event`; `time` is epoch seconds with an optional
 *   fraction. Answers `{"text":"Success","code":0}`, 401 code 2 "Token is
 *   required", 403 code 4 "Invalid token", 400 code 6 "Invalid data format",
 *   400 code 12 "Event field is required".
 *
 * @module
 */
import { Sink, type SinkRequest } from "./sink.ts";

function json(status: number, body: unknown): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: status === 204 ? {} : { "content-type": "application/json" },
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** One document of a bulk request, as the ES sink saw it. */
export interface BulkItem {
  action: string;
  index: string;
  id: string | undefined;
  doc: Record<string, unknown>;
}

/** What the ES sink answers for one item: an HTTP status, and the error for failures. */
export type BulkItemAnswer = { status: number; error?: { type: string; reason: string } };

/** An Elasticsearch `_bulk` endpoint. */
export class EsBulkSink {
  /** Stored documents by `_index/_id` (a resend overwrites: one copy). */
  readonly docs = new Map<string, Record<string, unknown>>();
  /** Bulk requests that passed the checks, as item lists. */
  readonly bulks: BulkItem[][] = [];
  /** Requests refused as malformed, with why. */
  readonly malformed: string[] = [];
  readonly sink: Sink;

  /** `answer` decides each item's result (default 201). */
  constructor(answer: (item: BulkItem) => BulkItemAnswer = () => ({ status: 201 })) {
    this.sink = Sink.start((r) => this.#handle(r, answer));
  }

  #handle(r: SinkRequest, answer: (item: BulkItem) => BulkItemAnswer): Response {
    const bad = (why: string) => {
      this.malformed.push(why);
      return json(400, {
        error: { type: "illegal_argument_exception", reason: why },
        status: 400,
      });
    };
    if (r.method !== "POST" || !r.path.endsWith("/_bulk")) return bad(`not a bulk request`);
    const type = r.headers.get("content-type") ?? "";
    if (!type.startsWith("application/x-ndjson")) return bad(`Content-Type ${type}`);
    if (!r.body.endsWith("\n")) {
      return bad("The bulk request must be terminated by a newline [\\n]");
    }
    const lines = r.body.slice(0, -1).split("\n");
    const items: BulkItem[] = [];
    for (let i = 0; i < lines.length; i++) {
      let action: unknown;
      try {
        action = JSON.parse(lines[i]);
      } catch {
        return bad(`Malformed action/metadata line [${i + 1}]`);
      }
      if (!isObject(action) || Object.keys(action).length !== 1) {
        return bad(`Malformed action/metadata line [${i + 1}]`);
      }
      const [name, meta] = Object.entries(action)[0];
      if (name !== "index" && name !== "create") return bad(`unexpected action [${name}]`);
      if (!isObject(meta) || typeof meta._index !== "string") return bad("index is missing");
      if (meta._id !== undefined && (typeof meta._id !== "string" || meta._id === "")) {
        return bad("_id must be a non-empty string");
      }
      if (i + 1 >= lines.length) return bad(`${name} expects a source on the next line`);
      let doc: unknown;
      try {
        doc = JSON.parse(lines[++i]);
      } catch {
        return bad(`source of line ${i + 1} is not JSON`);
      }
      if (!isObject(doc)) return bad(`source of line ${i + 1} is not an object`);
      items.push({ action: name, index: meta._index, id: meta._id as string | undefined, doc });
    }
    this.bulks.push(items);
    let errors = false;
    const results = items.map((item) => {
      const a = answer(item);
      const ok = a.status >= 200 && a.status < 300;
      if (ok) this.docs.set(`${item.index}/${item.id ?? crypto.randomUUID()}`, item.doc);
      else errors = true;
      return {
        [item.action]: {
          _index: item.index,
          _id: item.id ?? "generated",
          status: a.status,
          ...(ok ? { result: "created" } : { error: a.error ?? { type: "x", reason: "x" } }),
        },
      };
    });
    return json(200, { took: 1, errors, items: results });
  }

  url(): string {
    return this.sink.url("/_bulk");
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}

/** One push the Loki sink accepted. */
export interface LokiPush {
  streams: { stream: Record<string, string>; values: [string, string][] }[];
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A Loki push endpoint. */
export class LokiSink {
  readonly pushes: LokiPush[] = [];
  readonly malformed: string[] = [];
  readonly sink: Sink;

  constructor() {
    this.sink = Sink.start((r) => this.#handle(r));
  }

  #handle(r: SinkRequest): Response {
    const bad = (why: string) => {
      this.malformed.push(why);
      return new Response(why, { status: 400 });
    };
    if (r.method !== "POST" || r.path !== "/loki/api/v1/push") return bad("404 page not found");
    if (!(r.headers.get("content-type") ?? "").startsWith("application/json")) {
      return bad("unsupported Content-Type (send application/json or application/x-protobuf)");
    }
    let push: unknown;
    try {
      push = JSON.parse(r.body);
    } catch (err) {
      return bad(`loghttp.PushRequest: ${err}`);
    }
    if (!isObject(push) || !Array.isArray(push.streams)) return bad("streams is missing");
    for (const s of push.streams) {
      if (!isObject(s) || !isObject(s.stream) || !Array.isArray(s.values)) {
        return bad("a stream needs stream and values");
      }
      const labels = Object.entries(s.stream);
      if (labels.length === 0) return bad("error at least one label pair is required per stream");
      for (const [k, v] of labels) {
        if (!LABEL_NAME.test(k)) return bad(`invalid label name ${k}`);
        if (typeof v !== "string") return bad(`label ${k} is not a string`);
      }
      let last = -1n;
      for (const v of s.values) {
        if (
          !Array.isArray(v) || v.length < 2 || typeof v[0] !== "string" ||
          !/^\d+$/.test(v[0]) || typeof v[1] !== "string"
        ) {
          return bad(`a value must be ["<ns>","<line>"], got ${JSON.stringify(v).slice(0, 80)}`);
        }
        const t = BigInt(v[0]);
        if (t < last) return bad(`entry out of order for stream ${JSON.stringify(s.stream)}`);
        last = t;
      }
    }
    this.pushes.push(push as unknown as LokiPush);
    return json(204, null);
  }

  url(): string {
    return this.sink.url("/loki/api/v1/push");
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}

/** Splits concatenated JSON objects (whitespace between allowed); undefined when malformed. */
export function splitConcatenated(text: string): unknown[] | undefined {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "{") {
      if (depth++ === 0) start = i;
    } else if (c === "}") {
      if (--depth === 0) {
        try {
          out.push(JSON.parse(text.slice(start, i + 1)));
        } catch {
          return undefined;
        }
      }
      if (depth < 0) return undefined;
    } else if (depth === 0 && !/\s/.test(c)) return undefined;
  }
  return depth === 0 ? out : undefined;
}

/** A Splunk HTTP Event Collector. */
export class SplunkHecSink {
  readonly events: Record<string, unknown>[] = [];
  readonly malformed: string[] = [];
  readonly sink: Sink;

  constructor(readonly token: string) {
    this.sink = Sink.start((r) => this.#handle(r));
  }

  #handle(r: SinkRequest): Response {
    const answer = (status: number, code: number, text: string) => {
      if (code !== 0) this.malformed.push(text);
      return json(status, { text, code });
    };
    if (r.method !== "POST" || r.path !== "/services/collector/event") {
      return answer(404, 404, "The requested URL was not found on this server.");
    }
    const auth = r.headers.get("authorization");
    if (auth === null) return answer(401, 2, "Token is required");
    const m = /^Splunk (\S+)$/.exec(auth);
    if (m === null) return answer(401, 3, "Invalid authorization");
    if (m[1] !== this.token) return answer(403, 4, "Invalid token");
    const events = splitConcatenated(r.body);
    if (events === undefined || events.length === 0) return answer(400, 6, "Invalid data format");
    for (const e of events) {
      if (!isObject(e)) return answer(400, 6, "Invalid data format");
      if (!("event" in e)) return answer(400, 12, "Event field is required");
      if (e.event === "" || e.event === null) return answer(400, 13, "Event field cannot be blank");
      if (e.time !== undefined && typeof e.time !== "number") {
        return answer(400, 6, "Invalid data format");
      }
    }
    this.events.push(...(events as Record<string, unknown>[]));
    return answer(200, 0, "Success");
  }

  url(): string {
    return this.sink.url("/services/collector/event");
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}
