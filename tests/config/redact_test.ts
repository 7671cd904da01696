/**
 * URL redaction: what is printed of a URL, and what is scrubbed out of
 * other text that quotes it, hide the same parts.
 */
import assert from "node:assert/strict";
import { redactUrl, redactUrlList, urlSecretReplacements } from "../../services/config/mod.ts";

function scrub(url: string, text: string): string {
  for (const [secret, replacement] of urlSecretReplacements(url)) {
    text = text.replaceAll(secret, replacement);
  }
  return text;
}

Deno.test("redactUrl hides credentials, the path after its first segment and query values", () => {
  assert.equal(
    redactUrl("nats://alice:hunter2@127.0.0.1:4222"),
    "nats://alice:***@127.0.0.1:4222/",
  );
  assert.equal(redactUrl("nats://s3cr3ttoken@host:4222"), "nats://***@host:4222/");
  assert.equal(redactUrl("http://h/"), "http://h/");
  assert.equal(redactUrl("http://h/_bulk"), "http://h/_bulk");
  assert.equal(
    redactUrl("https://h/receiver/v1/http/TOKEN?key=x"),
    "https://h/receiver/***?***",
  );
  assert.equal(redactUrl("https://h/0123456789abcdef0123"), "https://h/***");
  assert.equal(redactUrl("not a url at all"), "not ***");
  assert.equal(redactUrlList("nats://a:b@h1,nats://h2"), "nats://a:***@h1/,nats://h2/");
});

Deno.test("urlSecretReplacements scrubs every part redactUrl hides, in any form", () => {
  const url = "https://user:pa55word99@h.example/receiver/v1/SECRETTOKEN42?key=SECRETKEY1%2F";
  const redacted = redactUrl(url);
  assert.equal(
    scrub(url, `error sending request for url (${url})`),
    `error sending request for url (${redacted})`,
  );
  assert.equal(
    scrub(url, "GET /receiver/v1/SECRETTOKEN42?key=SECRETKEY1%2F failed"),
    `GET ${redacted} failed`,
  );
  const bare = scrub(url, "token SECRETTOKEN42, key SECRETKEY1/ and pa55word99 refused");
  assert.equal(bare, "token ***, key *** and *** refused");
  // The first path segment stays, as in the printed URL.
  assert.equal(scrub(url, "receiver"), "receiver");
  // A long only segment is a token: hidden in both.
  const sumo = "https://h/0123456789abcdef0123";
  assert.equal(redactUrl(sumo), "https://h/***");
  assert.equal(scrub(sumo, "bad 0123456789abcdef0123"), "bad ***");
  // Longest first: the whole URL is replaced before its parts.
  const pairs = urlSecretReplacements(url);
  assert.deepEqual(
    pairs.map(([s]) => s.length),
    pairs.map(([s]) => s.length).sort((a, b) => b - a),
  );
});
