/**
 * Strings of a decoded message that were not valid UTF-8 on the wire.
 *
 * A decoded {@link HekaMessage} holds its strings as a non-fatal
 * `TextDecoder` reads them (each maximal bad sequence becomes one U+FFFD),
 * which is what JSON output shows. Heka's matcher works on the wire bytes
 * instead: `==` and `<` compare bytes, and Go's regexp reads each invalid
 * byte as one U+FFFD. So the codec records the wire bytes of every string
 * that was not valid UTF-8 here, beside the message (a `WeakMap`, so the
 * message objects keep their shape), and the matcher asks for them.
 *
 * @module
 */
import type { HekaField, HekaMessage } from "./message.ts";

/** Which string of a message or field: a header name, `"name"`, or an index into `valueString`. */
export type StringSlot =
  | "type"
  | "logger"
  | "payload"
  | "envVersion"
  | "hostname"
  | "name"
  | number;

interface StringRecord {
  /** The decoded text the bytes were recorded for (a later assignment invalidates them). */
  text: string;
  bytes: Uint8Array;
  /** The Go reading of `bytes`, made on first use. */
  goText: string | undefined;
}

const records = new WeakMap<HekaMessage | HekaField, Map<StringSlot, StringRecord>>();
const encoder = new TextEncoder();

/**
 * Records that `text` (the decoded value in `slot` of `holder`) came from
 * the invalid UTF-8 `bytes`, or, with `bytes` undefined, that it came from
 * valid UTF-8 (forgetting an earlier record for the slot). The codec calls
 * this for every decoded text that holds U+FFFD.
 */
export function noteWireUtf8(
  holder: HekaMessage | HekaField,
  slot: StringSlot,
  text: string,
  bytes: Uint8Array | undefined,
): void {
  let m = records.get(holder);
  if (bytes === undefined) {
    m?.delete(slot);
    return;
  }
  if (m === undefined) records.set(holder, m = new Map());
  m.set(slot, { text, bytes, goText: undefined });
}

function lookup(holder: HekaMessage | HekaField, slot: StringSlot, text: string) {
  const r = records.get(holder)?.get(slot);
  return r !== undefined && r.text === text ? r : undefined;
}

/**
 * Whether `text`, the value in `slot` of `holder`, was invalid UTF-8 on the
 * wire. Only a text holding U+FFFD can have been.
 */
export function wasInvalidUtf8(
  holder: HekaMessage | HekaField,
  slot: StringSlot,
  text: string,
): boolean {
  return lookup(holder, slot, text) !== undefined;
}

/** The UTF-8 bytes Heka sees for `text`, the value in `slot` of `holder`. */
export function wireBytesOf(
  holder: HekaMessage | HekaField,
  slot: StringSlot,
  text: string,
): Uint8Array {
  return lookup(holder, slot, text)?.bytes ?? encoder.encode(text);
}

/**
 * `text` as Go reads the wire bytes it was decoded from (each invalid byte
 * one U+FFFD); `text` itself when those bytes were valid UTF-8.
 */
export function goTextOf(holder: HekaMessage | HekaField, slot: StringSlot, text: string): string {
  // A miss is cheap: V8 answers at once for an object that never was a key.
  const slots = records.get(holder);
  if (slots === undefined) return text;
  const r = slots.get(slot);
  if (r === undefined || r.text !== text) return text;
  return r.goText ??= decodeUtf8Go(r.bytes);
}

/** Whether `bytes` are valid UTF-8 (what a fatal decoder accepts). */
export function isValidUtf8(bytes: Uint8Array): boolean {
  const n = bytes.length;
  for (let i = 0; i < n;) {
    if (bytes[i] < 0x80) i++;
    else {
      const len = sequenceLength(bytes, i);
      if (len === 0) return false;
      i += len;
    }
  }
  return true;
}

/**
 * Length of the valid UTF-8 sequence for one code point at `bytes[i]`
 * (`bytes[i] >= 0x80`), or 0 when there is none: Go's `utf8.DecodeRune`
 * rules (no overlong forms, no surrogates, nothing above U+10FFFF).
 */
function sequenceLength(b: Uint8Array, i: number): number {
  const c = b[i];
  const n = b.length;
  const cont = (j: number) => j < n && (b[j] & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    const c1 = b[i + 1];
    if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
    if (c === 0xed && c1 > 0x9f) return 0; // surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    const c1 = b[i + 1];
    if (c === 0xf0 && c1 < 0x90) return 0; // overlong
    if (c === 0xf4 && c1 > 0x8f) return 0; // above U+10FFFF
    return 4;
  }
  return 0;
}

/**
 * Decodes UTF-8 as Go does when it ranges over a string or runs a regexp
 * on it: each byte that does not start a valid sequence becomes one
 * U+FFFD (a non-fatal `TextDecoder` replaces a truncated sequence such as
 * `e2 82` by a single U+FFFD instead).
 */
export function decodeUtf8Go(bytes: Uint8Array): string {
  let out = "";
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const c = bytes[i];
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    const len = sequenceLength(bytes, i);
    if (len === 0) {
      out += "\uFFFD";
      i++;
      continue;
    }
    let cp = len === 2 ? c & 0x1f : len === 3 ? c & 0x0f : c & 0x07;
    for (let k = 1; k < len; k++) cp = (cp << 6) | (bytes[i + k] & 0x3f);
    out += String.fromCodePoint(cp);
    i += len;
  }
  return out;
}
