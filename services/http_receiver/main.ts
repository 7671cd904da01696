/**
 * `deno task receive-http`: the HTTP receiver program.
 *
 * @module
 */
import { loadConfig } from "../config/mod.ts";
import { openReceiver, type ReceiverIdentity, serveReceiver } from "../receiver/mod.ts";
import { httpReceiverInfo, httpReceiverSpec } from "./config.ts";
import { createHandler } from "./handler.ts";
import { hostPort } from "../runtime/ready.ts";

const id: ReceiverIdentity = { program: "http_receiver", sender: "http-receiver", prefix: "RCVR_" };
const cfg = loadConfig(httpReceiverInfo, httpReceiverSpec);
const parts = await openReceiver(id, cfg, httpReceiverSpec);
const { log } = parts;

const server = Deno.serve(
  {
    hostname: cfg.bindAddress.hostname,
    port: cfg.bindAddress.port,
    onListen: (a) => log.info("listening", { address: `${a.hostname}:${a.port}` }),
  },
  createHandler({
    gate: parts.gate,
    publisher: parts.store.publisher,
    sink: parts.sink,
    metrics: parts.metrics,
    maxMessageSize: cfg.maxMessageSize,
    maxStreamBytes: cfg.maxStreamBytes,
    requestTimeoutMs: cfg.requestTimeout,
    bodyTimeoutMs: cfg.bodyTimeout,
  }),
);

serveReceiver(id, cfg, parts, {
  listen: hostPort(server.addr),
  // Finishes requests in flight (each waits for its ack), refuses new ones;
  // a client that never finishes its request cannot hold the shutdown.
  close: () => Promise.race([server.shutdown(), new Promise<void>((r) => setTimeout(r, 10_000))]),
});
