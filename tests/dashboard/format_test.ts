// Number and time formatting on the dashboard.
import assert from "node:assert/strict";
import {
  formatAgo,
  formatBytes,
  formatNumber,
  formatSeconds,
  formatSecondsAxis,
  NO_VALUE,
} from "../../dashboard/format.ts";

Deno.test("numbers, bytes, seconds and ages read well", () => {
  assert.equal(formatNumber(null), NO_VALUE);
  assert.equal(formatNumber(0), "0");
  assert.equal(formatNumber(0.256), "0.26");
  assert.equal(formatNumber(3.5), "3.5");
  assert.equal(formatNumber(9620), "9,620");
  assert.equal(formatNumber(64_312), "64.3k");
  assert.equal(formatNumber(402_113), "402k");
  assert.equal(formatNumber(1_184_000), "1.2M");
  assert.equal(formatBytes(512), "512 B");
  assert.equal(formatBytes(3.5 * 1024 ** 3), "3.5 GiB");
  assert.equal(formatSeconds(3.561), "3.56 s");
  assert.equal(formatSeconds(45.2), "45.2 s");
  assert.equal(formatSeconds(200), "3m 20s");
  assert.equal(formatSeconds(undefined), NO_VALUE);
  assert.equal(formatSecondsAxis(2.5), "2.5 s");
  assert.equal(formatSecondsAxis(10), "10 s");
  assert.equal(formatAgo(0.4), "just now");
  assert.equal(formatAgo(12), "12 s ago");
  assert.equal(formatAgo(600), "10 min ago");
  assert.equal(formatAgo(7300), "2 h ago");
});
