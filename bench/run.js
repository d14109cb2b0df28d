"use strict";
// `npm run bench`: ours against the documented store's statements on better-sqlite3, the
// way a gateway runs them today, in the same process on the same machine, like with like:
// both in memory, or both on a WAL file with synchronous=NORMAL (our files' settings); one
// more row shows the baseline in SQLite's default rollback journal, labelled as such.
// Every row runs alternating rounds on fresh stores (each closed before the other side
// runs) and reports the medians. Prints figures, ratios and the targets; asserts nothing.

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const BetterSqlite3 = require("better-sqlite3");
const { ControlPlaneStore } = require("..");
const { DocumentedStore, DOCUMENTED_DDL } = require("./documented-store.js");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cp-bench-"));
let fileNo = 0;
const newFile = () => path.join(dir, `bench-${fileNo++}.db`);

/** The baseline: "memory", "file" (WAL, NORMAL, as ours) or "rollback" (SQLite's default journal). */
function baseline(where) {
  const db = new BetterSqlite3(where === "memory" ? ":memory:" : newFile());
  if (where === "file") db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  db.exec(DOCUMENTED_DDL);
  const store = new DocumentedStore(db);
  return { store, close: () => db.close() };
}

function native(where) {
  const store = new ControlPlaneStore(where === "memory" ? ":memory:" : newFile());
  return { store, close: () => store.close() };
}

const now = () => Number(process.hrtime.bigint()) / 1e3;
/** Operations per second of `fn(i)` run `n` times. */
function rate(n, fn) {
  const start = now();
  for (let i = 0; i < n; i++) fn(i);
  return n / ((now() - start) / 1e6);
}

/** Median microseconds of `fn(i)` over `n` timed calls. */
function medianMicros(n, fn) {
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const start = now();
    fn(i);
    times[i] = now() - start;
  }
  times.sort();
  return times[n >> 1];
}

const rows = [];
const fmt = (x, unit) => `${x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1)} ${unit}`;
function report(operation, database, ours, theirs, unit, target) {
  const ratio = unit.endsWith("/s") ? ours / theirs : theirs / ours; // rates: higher wins; times: lower wins
  rows.push({ operation, database, ours: fmt(ours, unit), baseline: fmt(theirs, unit), "ours vs baseline": `${ratio.toFixed(2)}x`, target: target ?? "" });
}

function seed(store) {
  store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 0 });
  store.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web", createdAtMs: 0 });
  return store;
}

const usage = (i) => ({ orgId: "acme", projectId: "web", runId: `run-${i}`, metric: "llm.tokens", unit: "token", quantity: 1 + (i % 7), observedAtMs: 1_000_000 + i, metadata: { model: "m" } });

// This machine's speed drifts from second to second: each comparison alternates ROUNDS
// rounds of each side on fresh stores and reports the median of each side.
const ROUNDS = 5;
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

/** Rates of `op` on each side; `theirsWhere` picks the baseline's journal. */
function compareRate(name, where, n, op, target, theirsWhere = where) {
  const [ours, theirs] = rounds(() => {
    const a = native(where);
    seed(a.store);
    const oursRate = rate(n, (i) => op(a.store, i));
    a.close();
    const b = baseline(theirsWhere);
    seed(b.store);
    const theirsRate = rate(theirsWhere === "rollback" ? Math.ceil(n / 10) : n, (i) => op(b.store, i));
    b.close();
    return [oursRate, theirsRate];
  });
  report(name, theirsWhere === "rollback" ? "file; baseline in the default rollback journal, full sync" : where, ours, theirs, "ops/s", target);
}

const org = (i) => ({ orgId: `org-${i}`, slug: `org-${i}`, name: `Org ${i}`, createdAtMs: i });
for (const where of ["memory", "file"]) {
  compareRate("createOrg", where, where === "memory" ? 20_000 : 5_000, (s, i) => s.createOrg(org(i)), ">= 0.8x");
  compareRate("recordUsage", where, where === "memory" ? 30_000 : 8_000, (s, i) => s.recordUsage(usage(i)), ">= 1.2x");
}
compareRate("recordUsage", "file", 5_000, (s, i) => s.recordUsage(usage(i)), "", "rollback");

// Batches: ours in one call per 1,000 events returning their ids; the baseline as a
// gateway would batch today, its insert in a loop inside one better-sqlite3 transaction,
// collecting the ids.
{
  const batch = Array.from({ length: 1_000 }, (_, i) => usage(i));
  const batches = 50;
  const [ours, theirs] = rounds(() => {
    const a = native("memory");
    seed(a.store);
    const oursRate = rate(batches, () => a.store.recordUsageBatch(batch, { returning: "ids" }).ids.length) * 1_000;
    a.close();
    const b = baseline("memory");
    seed(b.store);
    const inTx = b.store.db.transaction(() => batch.map((e) => b.store.recordUsageId(e)));
    const theirsRate = rate(batches, () => inTx().length) * 1_000;
    b.close();
    return [oursRate, theirsRate];
  });
  report("recordUsageBatch, 1,000 per call (ids)", "memory", ours, theirs, "events/s", ">= 3x");
}

// consumeUsage (check every limit and record, in one BEGIN IMMEDIATE) against the
// baseline's recordUsage, like with like.
for (const where of ["memory", "file"]) {
  const n = where === "memory" ? 10_000 : 3_000;
  const [consume, record] = rounds(() => {
    const a = native(where);
    seed(a.store);
    a.store.setUsageLimit({ orgId: "acme", projectId: "web", metric: "llm.tokens", unit: "token", period: "daily", limitQuantity: 1e15 });
    a.store.setUsageLimit({ orgId: "acme", metric: "llm.tokens", unit: "token", period: "monthly", limitQuantity: 1e15 });
    const c = rate(n, (i) => a.store.consumeUsage(usage(i)));
    a.close();
    const b = baseline(where);
    seed(b.store);
    const r = rate(n, (i) => b.store.recordUsage(usage(i)));
    b.close();
    return [c, r];
  });
  rows.push({ operation: "consumeUsage (2 limits) vs the baseline's recordUsage", database: where, ours: fmt(consume, "ops/s"), baseline: fmt(record, "ops/s"), "ours vs baseline": `${(consume / record).toFixed(2)}x`, target: ">= 0.5x" });
}

// A fresh in-memory store and one createOrg, as a test suite makes one per test, against
// the documented store's schema created on a fresh better-sqlite3 database.
{
  const n = 1_000;
  const [ours, theirs] = rounds(() => {
    const a = rate(n, (i) => {
      const s = new ControlPlaneStore(":memory:");
      s.createOrg(org(i));
      s.close();
    });
    const b = rate(n, (i) => {
      const s = baseline("memory");
      s.store.createOrg(org(i));
      s.close();
    });
    return [a, b];
  });
  report("a fresh in-memory store + createOrg", "memory", ours, theirs, "ops/s", ">= 1x");
}

// The org-scoped handle against the plain call, on the same kind of store: the handle's
// cost is putting its org into the input.
{
  const n = 30_000;
  const [scoped, plain] = rounds(() => {
    const a = native("memory");
    seed(a.store);
    const acme = a.store.forOrg("acme", { actorId: "ada" });
    const scopedRate = rate(n, (i) => {
      const { orgId: _org, ...rest } = usage(i);
      return acme.recordUsage(rest);
    });
    a.close();
    const b = native("memory");
    seed(b.store);
    const plainRate = rate(n, (i) => b.store.recordUsage(usage(i)));
    b.close();
    return [scopedRate, plainRate];
  });
  rows.push({ operation: "recordUsage through forOrg vs the plain call", database: "memory", ours: fmt(scoped, "ops/s"), baseline: `${fmt(plain, "ops/s")} (plain)`, "ours vs baseline": `${(scoped / plain).toFixed(2)}x`, target: "~1x" });
}

// checkUsageLimit with N events spread over its 30-day window, in alternating rounds of
// timed calls on the same two stores.
const MONTH = 30 * 86_400_000;
const until = 100 * 86_400_000;
const spread = (i, n) => ({ orgId: "acme", projectId: "web", runId: null, metric: "llm.tokens", unit: "token", quantity: 1 + (i % 7), observedAtMs: until - MONTH + Math.floor((i * MONTH) / n), metadata: {} });
for (const events of [10_000, 100_000, 1_000_000]) {
  const ours = native("memory");
  const theirs = baseline("memory");
  for (const s of [ours.store, theirs.store]) {
    seed(s);
    s.setUsageLimit({ orgId: "acme", projectId: "web", metric: "llm.tokens", unit: "token", limitQuantity: 1e15, updatedAtMs: 0 });
  }
  const chunk = 10_000;
  for (let at = 0; at < events; at += chunk) {
    ours.store.recordUsageBatch(Array.from({ length: Math.min(chunk, events - at) }, (_, k) => spread(at + k, events)), { returning: "ids" });
  }
  theirs.store.db.transaction(() => { for (let i = 0; i < events; i++) theirs.store.recordUsageId(spread(i, events)); })();
  const check = { orgId: "acme", projectId: "web", metric: "llm.tokens", unit: "token", untilMs: until };
  const a = ours.store.checkUsageLimit(check).usedQuantity;
  const b = theirs.store.checkUsageLimit(check).usedQuantity;
  if (a !== b) throw new Error(`the stores disagree: ${a} vs ${b}`);
  const samples = events >= 1_000_000 ? 5 : events >= 100_000 ? 20 : 100;
  const [oursMicros, theirsMicros] = rounds(() => [medianMicros(400, () => ours.store.checkUsageLimit(check)), medianMicros(samples, () => theirs.store.checkUsageLimit(check))]);
  report(`checkUsageLimit, ${events.toLocaleString("en-US")} events in window`, "memory", oursMicros, theirsMicros, "µs", "< 50 µs, flat");
  ours.close();
  theirs.close();
}

console.log(`Node ${process.version}; median of ${ROUNDS} alternating rounds`);
console.table(rows);
fs.rmSync(dir, { recursive: true, force: true });
