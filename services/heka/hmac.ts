/**
 * HMAC signatures of Heka stream framing headers.
 *
 * A Heka client may sign each message: the framing header then carries the
 * signer name, key version, hash function (MD5 or SHA1) and the HMAC digest of
 * the message bytes. Signer ids are `"name_version"` as in Heka's
 * `[HekaFramingSplitter.signer.name_version]` configuration (and
 * `TCPRCVR_SIGNERS`); a header without a key version is version 0, as in Go.
 *
 * @module
 */
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";
import { type HekaHeader, HmacHash } from "./codec.ts";

/** How a producer signs messages (for generators and tests). */
export interface HmacSigner {
  /** Signer name, sent as `hmac_signer`. */
  name: string;
  /** Key version, sent as `hmac_key_version`. */
  version: number;
  /** The shared secret; a string is used as its UTF-8 bytes. */
  key: string | Uint8Array;
  /** Hash function of the HMAC. */
  hash: "md5" | "sha1";
}

/** Options of {@link SignatureVerifier}. */
export interface SignatureVerifierOptions {
  /** Keys by signer id `"name_version"`, e.g. `{ "ops_1": "secret" }`. */
  signers: Record<string, string>;
  /** When true, messages whose header carries no digest are rejected. */
  requireSigned: boolean;
}

/**
 * Outcome of {@link SignatureVerifier.verify}. Only `"ok"` and `"unsigned"`
 * (no digest, signatures not required) mean "accept".
 */
export type VerifyResult =
  | "ok"
  | "unsigned"
  | "unsigned-rejected"
  | "unknown-signer"
  | "bad-digest"
  | "unsupported-hash";

/** True when a {@link VerifyResult} means the message may be accepted. */
export function isAccepted(result: VerifyResult): boolean {
  return result === "ok" || result === "unsigned";
}

const encoder = new TextEncoder();

function keyObject(key: string | Uint8Array): KeyObject {
  return createSecretKey(typeof key === "string" ? encoder.encode(key) : key);
}

/** Node's hash name for a header's `hmac_hash_function`, or undefined when unsupported. */
function hashName(fn: number): "md5" | "sha1" | undefined {
  if (fn === HmacHash.MD5) return "md5";
  if (fn === HmacHash.SHA1) return "sha1";
  return undefined;
}

function digest(hash: "md5" | "sha1", key: KeyObject, message: Uint8Array): Uint8Array {
  const d = createHmac(hash, key).update(message).digest();
  // A Node Buffer is a Uint8Array subclass; hand out a plain Uint8Array view.
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

const signerKeys = new WeakMap<HmacSigner, { source: string | Uint8Array; key: KeyObject }>();

/**
 * The HMAC digest (16 bytes for MD5, 20 for SHA1) of `message` under the
 * signer's key. Key objects are cached per signer object.
 */
export function signMessage(message: Uint8Array, signer: HmacSigner): Uint8Array {
  let cached = signerKeys.get(signer);
  if (cached === undefined || cached.source !== signer.key) {
    cached = { source: signer.key, key: keyObject(signer.key) };
    signerKeys.set(signer, cached);
  }
  return digest(signer.hash, cached.key, message);
}

/**
 * Checks the HMAC of framed messages against configured signer keys, as
 * Heka's `authenticateMessage`: a header without a digest is unsigned; a
 * digest from an unknown signer id or that does not match is rejected.
 * Digests are compared in constant time.
 */
export class SignatureVerifier {
  /** Whether unsigned messages are rejected. */
  readonly requireSigned: boolean;
  readonly #keys = new Map<string, KeyObject>();

  /** Builds the verifier; key objects are created once per signer here. */
  constructor(options: SignatureVerifierOptions) {
    this.requireSigned = options.requireSigned;
    for (const [id, key] of Object.entries(options.signers)) {
      this.#keys.set(id, keyObject(key));
    }
  }

  /** Number of configured signer keys. */
  get size(): number {
    return this.#keys.size;
  }

  /** Verifies `message` (the bytes after the header) against its framing `header`. */
  verify(header: HekaHeader, message: Uint8Array): VerifyResult {
    const mac = header.hmac;
    if (mac === undefined) return this.requireSigned ? "unsigned-rejected" : "unsigned";
    const key = this.#keys.get(`${header.hmacSigner ?? ""}_${header.hmacKeyVersion ?? 0}`);
    if (key === undefined) return "unknown-signer";
    const hash = hashName(header.hmacHashFunction);
    if (hash === undefined) return "unsupported-hash";
    const expected = digest(hash, key, message);
    // The digest length is public (it follows from the hash function).
    if (mac.length !== expected.length) return "bad-digest";
    return timingSafeEqual(mac, expected) ? "ok" : "bad-digest";
  }
}
