/**
 * The bench's load: a file of pre-framed 3 KB Heka messages (the log
 * generator's realistic payloads), and unique uuids patched in per send so
 * JetStream's de-duplication (`Nats-Msg-Id` = uuid) never drops one.
 *
 * @module
 */
import { FrameSplitter } from "../../services/heka/framing.ts";
import { buildTemplates } from "../../services/log_generator/payloads.ts";
import { MessageStamper, UUID_OFFSET } from "../../services/log_generator/stamp.ts";

/** Size of each benchmark message in bytes, as the seed's "3 KB messages". */
export const MESSAGE_SIZE = 3000;

/** Where each record of a framed buffer lies. */
export interface FrameIndex {
  /** Start of each record (its 0x1E); one more entry at the end: the buffer length. */
  frameStart: number[];
  /** Start of each record's message bytes. */
  messageStart: number[];
}

/** Writes `variants` framed messages of {@link MESSAGE_SIZE} bytes to `path`; returns the bytes. */
export async function writeFramesFile(path: string, variants = 256): Promise<Uint8Array> {
  const stamper = new MessageStamper(
    buildTemplates({ size: MESSAGE_SIZE, hostname: "bench-host", variants }),
  );
  const out = new Uint8Array(stamper.maxFrameSize * variants);
  let at = 0;
  for (let i = 0; i < variants; i++) at = stamper.writeFrame(out, at);
  const bytes = out.subarray(0, at);
  await Deno.writeFile(path, bytes);
  return bytes;
}

/** Indexes a buffer of back-to-back Heka records. */
export function indexFrames(data: Uint8Array): FrameIndex {
  const splitter = new FrameSplitter({ maxMessageSize: 16 * 1024 * 1024 });
  splitter.push(data);
  const frameStart: number[] = [];
  const messageStart: number[] = [];
  let next = 0;
  for (let f = splitter.next(); f !== null; f = splitter.next()) {
    const m = f.message.byteOffset - data.byteOffset;
    frameStart.push(next);
    messageStart.push(m);
    next = m + f.message.length;
  }
  frameStart.push(next);
  if (messageStart.length === 0) throw new Error("no Heka records in the buffer");
  return { frameStart, messageStart };
}

/**
 * Unique 16-byte uuids: 8 random bytes per run, 2 bytes of a stream id, a
 * 6-byte counter.
 */
export class UuidSequence {
  readonly #prefix = crypto.getRandomValues(new Uint8Array(8));
  readonly #stream: number;
  #counter = 0;

  constructor(stream: number) {
    this.#stream = stream & 0xffff;
  }

  /** Writes the next uuid at `buf[at..at+16)`. */
  write(buf: Uint8Array, at: number): void {
    buf.set(this.#prefix, at);
    buf[at + 8] = this.#stream >>> 8;
    buf[at + 9] = this.#stream & 0xff;
    let c = this.#counter++;
    for (let i = 15; i >= 10; i--) {
      buf[at + i] = c % 256;
      c = Math.floor(c / 256);
    }
  }

  /** Patches the uuid of the message starting at `messageAt`. */
  patch(buf: Uint8Array, messageAt: number): void {
    this.write(buf, messageAt + UUID_OFFSET);
  }
}
