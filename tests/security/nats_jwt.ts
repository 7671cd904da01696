/**
 * NATS decentralized (operator / JWT) auth for tests: an operator, a system
 * account, an account with JetStream and a user, signed with NKeys made on
 * the spot — the config a `nats-server` needs (MEMORY resolver with
 * `resolver_preload`) and the user's `.creds` file. Nothing is fetched.
 *
 * JWTs follow NATS JWT v2: header `{"typ":"JWT","alg":"ed25519-nkey"}`,
 * claims `{jti, iat, iss, name, sub, nats: {..., type, version: 2}}`, the
 * signature an Ed25519 signature by the issuer's NKey over `header.claims`.
 *
 * @module
 */
import { nkeys } from "nats";

/** An NKey pair as nkeys.js makes it. */
export type KeyPair = ReturnType<typeof nkeys.createUser>;

const encoder = new TextEncoder();

/** base64url without padding, as JWTs use. */
export function base64url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 without padding (the alphabet of NATS JWT ids). */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The `nats` part of a claim set (type-specific fields plus `type` and `version`). */
export type NatsClaims = Record<string, unknown> & { type: "operator" | "account" | "user" };

/**
 * Encodes and signs a NATS JWT v2: `subject` is the public key the JWT is
 * about, `issuer` signs it (the operator signs itself and its accounts,
 * accounts sign their users).
 */
export async function encodeJwt(
  issuer: KeyPair,
  subject: string,
  name: string,
  nats: NatsClaims,
): Promise<string> {
  const header = base64url(encoder.encode(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" })));
  const claims: Record<string, unknown> = {
    iat: Math.floor(Date.now() / 1000),
    iss: issuer.getPublicKey(),
    name,
    sub: subject,
    nats: { ...nats, version: 2 },
  };
  // The id is a hash of the claims without it, as the Go library makes it.
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(JSON.stringify(claims)));
  const body = { jti: base32(new Uint8Array(digest)), ...claims };
  const payload = base64url(encoder.encode(JSON.stringify(body)));
  const signature = issuer.sign(encoder.encode(`${header}.${payload}`));
  return `${header}.${payload}.${base64url(signature)}`;
}

/** The text of a `.creds` file (what `nsc` writes). */
export function credsFile(userJwt: string, userSeed: string): string {
  return [
    "-----BEGIN NATS USER JWT-----",
    userJwt,
    "------END NATS USER JWT------",
    "",
    "************************* IMPORTANT *************************",
    "NKEY Seed printed below can be used to sign and prove identity.",
    "NKEYs are sensitive and should be treated as secrets.",
    "",
    "-----BEGIN USER NKEY SEED-----",
    userSeed,
    "------END USER NKEY SEED------",
    "",
    "*************************************************************",
    "",
  ].join("\n");
}

/** Everything a test needs to run a JWT-mode server and connect to it. */
export interface OperatorSetup {
  /** nats-server config: operator, system account, MEMORY resolver with the preloaded accounts. */
  serverConfig: string;
  /** Contents of the user's `.creds` file. */
  creds: string;
  /** The user's NKey seed (`SU...`), a secret that must never be logged. */
  userSeed: string;
  /** The user's JWT. */
  userJwt: string;
  /** The application account's public key. */
  account: string;
}

/** Account limits with JetStream enabled and nothing limited (-1 = unlimited). */
const UNLIMITED = {
  subs: -1,
  data: -1,
  payload: -1,
  imports: -1,
  exports: -1,
  wildcards: true,
  conn: -1,
  leaf: -1,
  mem_storage: -1,
  disk_storage: -1,
  streams: -1,
  consumer: -1,
};

/**
 * Makes an operator, a system account, an application account with
 * JetStream and a user in it, and returns the server config and the
 * user's creds. `userName` appears in the server's logs only.
 */
export async function operatorSetup(userName = "lagermeister"): Promise<OperatorSetup> {
  const operator = nkeys.createOperator();
  const system = nkeys.createAccount();
  const account = nkeys.createAccount();
  const user = nkeys.createUser();
  const operatorJwt = await encodeJwt(operator, operator.getPublicKey(), "lm-operator", {
    type: "operator",
    system_account: system.getPublicKey(),
  });
  const systemJwt = await encodeJwt(operator, system.getPublicKey(), "SYS", {
    type: "account",
    limits: {
      subs: -1,
      data: -1,
      payload: -1,
      imports: -1,
      exports: -1,
      wildcards: true,
      conn: -1,
      leaf: -1,
    },
    default_permissions: { pub: {}, sub: {} },
  });
  const accountJwt = await encodeJwt(operator, account.getPublicKey(), "LM", {
    type: "account",
    limits: UNLIMITED,
    default_permissions: { pub: {}, sub: {} },
  });
  const userJwt = await encodeJwt(account, user.getPublicKey(), userName, {
    type: "user",
    pub: {},
    sub: {},
    subs: -1,
    data: -1,
    payload: -1,
  });
  const userSeed = new TextDecoder().decode(user.getSeed());
  const serverConfig = [
    `operator: ${operatorJwt}`,
    `system_account: ${system.getPublicKey()}`,
    "resolver: MEMORY",
    "resolver_preload: {",
    `  ${system.getPublicKey()}: ${systemJwt}`,
    `  ${account.getPublicKey()}: ${accountJwt}`,
    "}",
    "",
  ].join("\n");
  return {
    serverConfig,
    creds: credsFile(userJwt, userSeed),
    userSeed,
    userJwt,
    account: account.getPublicKey(),
  };
}
