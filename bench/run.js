"use strict";
// `npm run bench`: ours against the documented store's statements on better-sqlite3, the
// way a gateway runs them today, in the same process on the same machine. Prints figures
// and ratios; asserts nothing.

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const BetterSqlite3 = require("better-sqlite3");
const { ControlPlaneStore } = require("..");
const { DocumentedStore, DOCUMENTED_DDL } = require("./documented-store.js");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cp-bench-"));
let fileNo = 0;
const newFile = () => path.join(dir, `bench-${fileNo++}.db`);

function baseline(where) {
  const db = new BetterSqlite3(where === "memory" ? ":memory:" : newFile());
  db.exec(DOCUMENTED_DDL);
  return new DocumentedStore(db);
}

function native(where) {
  return new ControlPlaneStore(where === "memory" ? ":memory:" : newFile());
}

/** Operations per second of `fn(i)` run `n` times. */
function rate(n, fn) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return n / seconds;
}

/** Median microseconds of `fn(i)` over `n` timed calls. */
function medianMicros(n, fn) {
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    fn(i);
    times[i] = Number(process.hrtime.bigint() - start) / 1e3;
  }
  times.sort();
  return times[n >> 1];
}

const rows = [];
function report(name, where, ours, theirs, unit) {
  const ratio = unit.endsWith("/s") ? ours / theirs : theirs / ours; // rates: higher wins; times: lower wins
  rows.push({ operation: name, database: where, ours: fmt(ours, unit), baseline: fmt(theirs, unit), "ours vs baseline": `${ratio.toFixed(1)}x` });
}
const fmt = (x, unit) => `${x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1)} ${unit}`;

function seed(store) {
  store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 0 });
  store.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web", createdAtMs: 0 });
  return store;
}

const usage = (i) => ({ orgId: "acme", projectId: "web", runId: `run-${i}`, metric: "llm.tokens", unit: "token", quantity: 1 + (i % 7), observedAtMs: 1_000_000 + i, metadata: { model: "m" } });

// This machine's speed drifts from second to second, so each comparison runs in ROUNDS
// alternating rounds on fresh stores and reports the median of each side.
const ROUNDS = 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
function rounds(fn) {
  const ours = [];
  const theirs = [];
  for (let r = 0; r < ROUNDS; r++) {
    const [a, b] = fn(r);
    ours.push(a);
    theirs.push(b);
  }
  return [median(ours), median(theirs)];
}

function compareRate(name, where, counts, op) {
  const [ours, theirs] = rounds(() => {
    // Each store is closed before the other runs, so no file work of one (our background
    // checkpoint included) overlaps the other's measurement.
    const a = seed(native(where));
    const oursRate = rate(counts.ours, (i) => op(a, i));
    a.close();
    const b = seed(baseline(where));
    const theirsRate = rate(counts.baseline, (i) => op(b, i));
    b.db.close();
    return [oursRate, theirsRate];
  });
  report(name, where, ours, theirs, "ops/s");
}

const org = (i) => ({ orgId: `org-${i}`, slug: `org-${i}`, name: `Org ${i}`, createdAtMs: i });
// On a file the baseline runs in SQLite's default rollback journal with full syncs, as a
// gateway opening the file with bun:sqlite or better-sqlite3 does; it gets fewer calls.
compareRate("createOrg", "memory", { ours: 20_000, baseline: 20_000 }, (s, i) => s.createOrg(org(i)));
compareRate("createOrg", "file", { ours: 3_000, baseline: 300 }, (s, i) => s.createOrg(org(i)));
compareRate("recordUsage", "memory", { ours: 30_000, baseline: 30_000 }, (s, i) => s.recordUsage(usage(i)));
compareRate("recordUsage", "file", { ours: 5_000, baseline: 500 }, (s, i) => s.recordUsage(usage(i)));

// Batches: ours in one call per 1,000 events; the baseline as a gateway would batch today,
// its documented recordUsage in a loop inside one better-sqlite3 transaction.
{
  const batch = Array.from({ length: 1_000 }, (_, i) => usage(i));
  const batches = 100;
  const [ours, theirs] = rounds(() => {
    const a = seed(native("memory"));
    const b = seed(baseline("memory"));
    const inTx = b.db.transaction(() => { for (const e of batch) b.recordUsage(e); });
    return [rate(batches, () => a.recordUsageBatch(batch, { returning: "ids" })) * 1_000, rate(batches, () => inTx()) * 1_000];
  });
  report("recordUsageBatch, 1,000 per call", "memory", ours, theirs, "events/s");
}

// consumeUsage (check every limit and record, in one BEGIN IMMEDIATE) against our own
// recordUsage on the same store, each timed before and after the other.
for (const where of ["memory", "file"]) {
  const n = where === "memory" ? 10_000 : 2_000;
  const [consume, record] = rounds(() => {
    const ours = seed(native(where));
    ours.setUsageLimit({ orgId: "acme", projectId: "web", metric: "llm.tokens", unit: "token", period: "daily", limitQuantity: 1e15 });
    ours.setUsageLimit({ orgId: "acme", metric: "llm.tokens", unit: "token", period: "monthly", limitQuantity: 1e15 });
    const before = rate(n, (i) => ours.recordUsage(usage(i)));
    const c = rate(n, (i) => ours.consumeUsage(usage(n + i)));
    const after = rate(n, (i) => ours.recordUsage(usage(2 * n + i)));
    ours.close();
    return [c, (before + after) / 2];
  });
  rows.push({ operation: "consumeUsage (2 limits) vs our recordUsage", database: where, ours: fmt(consume, "ops/s"), baseline: `${fmt(record, "ops/s")} (recordUsage)`, "ours vs baseline": `${(consume / record).toFixed(2)}x` });
}

// checkUsageLimit with N events spread over its 30-day window.
const MONTH = 30 * 86_400_000;
const until = 100 * 86_400_000;
const spread = (i, n) => ({ orgId: "acme", projectId: "web", runId: null, metric: "llm.tokens", unit: "token", quantity: 1 + (i % 7), observedAtMs: until - MONTH + Math.floor((i * MONTH) / n), metadata: {} });
for (const events of [10_000, 100_000, 1_000_000]) {
  const ours = seed(native("memory"));
  const theirs = seed(baseline("memory"));
  for (const s of [ours, theirs]) s.setUsageLimit({ orgId: "acme", projectId: "web", metric: "llm.tokens", unit: "token", limitQuantity: 1e15, updatedAtMs: 0 });
  const chunk = 10_000;
  for (let at = 0; at < events; at += chunk) {
    ours.recordUsageBatch(Array.from({ length: Math.min(chunk, events - at) }, (_, k) => spread(at + k, events)), { returning: "ids" });
  }
  theirs.db.transaction(() => { for (let i = 0; i < events; i++) theirs.recordUsage(spread(i, events)); })();
  const check = { orgId: "acme", projectId: "web", metric: "llm.tokens", unit: "token", untilMs: until };
  const a = ours.checkUsageLimit(check).usedQuantity;
  const b = theirs.checkUsageLimit(check).usedQuantity;
  if (a !== b) throw new Error(`the stores disagree: ${a} vs ${b}`);
  const samples = events >= 1_000_000 ? 15 : events >= 100_000 ? 50 : 300;
  report(`checkUsageLimit, ${events.toLocaleString("en-US")} events in window`, "memory", medianMicros(2_000, () => ours.checkUsageLimit(check)), medianMicros(samples, () => theirs.checkUsageLimit(check)), "µs");
}

console.table(rows);
fs.rmSync(dir, { recursive: true, force: true });
