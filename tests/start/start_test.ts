/**
 * Issue #5 acceptance: `deno task start` brings up everything with zero
 * configuration; logs sent to the TCP and HTTP receivers all appear under
 * the data dir's sink/; Ctrl-C (SIGINT) leaves no process behind.
 */
import { sleep } from "../../services/runtime/async.ts";
import assert from "node:assert/strict";
import { frameMessage } from "../../services/heka/framing.ts";
import { makeMessage } from "../helpers/messages.ts";
import { alive } from "../helpers/proc_stats.ts";
import { startPipeline } from "../helpers/pipeline.ts";
import { concat, postMessage, writeInChunks } from "../helpers/receivers.ts";

async function sinkText(dir: string): Promise<string> {
  let text = "";
  try {
    for await (const e of Deno.readDir(dir)) text += await Deno.readTextFile(`${dir}/${e.name}`);
  } catch {
    // not created yet
  }
  return text;
}

Deno.test("deno task start: whole pipeline, logs land in .data/sink, Ctrl-C stops every process", async () => {
  const { proc: start, dataDir, ports } = await startPipeline();
  try {
    assert.match(start.stdout, new RegExp(`http://localhost:${ports.proxy}/`));
    const dash = await fetch(`http://127.0.0.1:${ports.proxy}/`);
    assert.equal(dash.status, 200);
    assert.match(await dash.text(), /<html/i);
    // The dashboard stays on this machine unless PROXY_BIND_ADDRESS says otherwise (issue #15).
    assert.match(start.stderr, /msg="stats proxy listening" .*address=127\.0\.0\.1:/);

    const tcpMsgs = Array.from({ length: 50 }, (_, i) => makeMessage(i));
    const httpMsgs = Array.from({ length: 50 }, (_, i) => makeMessage(100 + i));
    await writeInChunks(ports.tcp, concat(tcpMsgs.map((m) => frameMessage(m.bytes))));
    for (const m of httpMsgs) assert.equal((await postMessage(ports.http, m.bytes)).status, 200);

    const want = [...tcpMsgs, ...httpMsgs].map((m) => m.uuid);
    const deadline = Date.now() + 30_000;
    let missing = want;
    while (Date.now() < deadline) {
      const text = await sinkText(`${dataDir}/sink`);
      missing = want.filter((u) => !text.includes(u));
      if (missing.length === 0) break;
      await sleep(200);
    }
    assert.deepEqual(missing, [], "every message delivered to the local sink");
    const lines = (await sinkText(`${dataDir}/sink`)).trim().split("\n");
    for (const l of lines) assert.ok(JSON.parse(l).Uuid);
  } finally {
    const pids = [...start.stderr.matchAll(/msg=started child=\S+ pid=(\d+)/g)].map((m) =>
      Number(m[1])
    );
    const status = await start.stop("SIGINT", 60_000);
    assert.equal(status.code, 0, start.stderr.slice(-3000));
    assert.ok(pids.length >= 5, `children started: ${pids.length}`);
    await sleep(200);
    assert.deepEqual(pids.filter(alive), [], "no child process left behind");
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
