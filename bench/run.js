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
  const ratio = unit === "ops/s" ? ours / theirs : theirs / ours;
  rows.push({ operation: name, database: where, ours: fmt(ours, unit), baseline: fmt(theirs, unit), "ours vs baseline": `${ratio.toFixed(1)}x` });
}
const fmt = (x, unit) => `${x >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1)} ${unit}`;

function seed(store) {
  store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 0 });
  store.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web", createdAtMs: 0 });
  return store;
}

const usage = (i) => ({ orgId: "acme", projectId: "web", runId: `run-${i}`, metric: "llm.tokens", unit: "token", quantity: 1 + (i % 7), observedAtMs: 1_000_000 + i, metadata: { model: "m" } });

function compareRate(name, where, counts, op) {
  const ours = seed(native(where));
  const theirs = seed(baseline(where));
  report(name, where, rate(counts.ours, (i) => op(ours, i)), rate(counts.baseline, (i) => op(theirs, i)), "ops/s");
}

const org = (i) => ({ orgId: `org-${i}`, slug: `org-${i}`, name: `Org ${i}`, createdAtMs: i });
for (const where of ["memory", "file"]) {
  // The baseline on a file runs in SQLite's default rollback journal with full syncs, as a
  // gateway opening the file with bun:sqlite or better-sqlite3 does: fewer calls keep it short.
  const few = where === "memory" ? 1 : 10;
  compareRate("createOrg", where, { ours: 20_000 / few, baseline: 20_000 / few / (where === "memory" ? 1 : 10) }, (s, i) => s.createOrg(org(i)));
  compareRate("recordUsage", where, { ours: 50_000 / few, baseline: 50_000 / few / (where === "memory" ? 1 : 10) }, (s, i) => s.recordUsage(usage(i)));
}

for (const events of [10_000, 100_000]) {
  const ours = seed(native("memory"));
  const theirs = seed(baseline("memory"));
  for (const s of [ours, theirs]) {
    s.setUsageLimit({ orgId: "acme", projectId: "web", metric: "llm.tokens", unit: "token", limitQuantity: 1e12, updatedAtMs: 0 });
    s.setUsageLimit({ orgId: "acme", metric: "llm.tokens", unit: "token", limitQuantity: 1e12, updatedAtMs: 0 });
  }
  theirs.db.transaction(() => {
    for (let i = 0; i < events; i++) theirs.recordUsage(usage(i));
  })();
  for (let i = 0; i < events; i++) ours.recordUsage(usage(i));
  const check = { orgId: "acme", projectId: "web", metric: "llm.tokens", unit: "token", untilMs: 1_000_000 + events };
  const a = ours.checkUsageLimit(check).usedQuantity;
  const b = theirs.checkUsageLimit(check).usedQuantity;
  if (a !== b) throw new Error(`the stores disagree: ${a} vs ${b}`);
  const n = events >= 100_000 ? 200 : 1_000;
  report(`checkUsageLimit, ${events.toLocaleString("en-US")} events`, "memory", medianMicros(n, () => ours.checkUsageLimit(check)), medianMicros(n, () => theirs.checkUsageLimit(check)), "µs");
}

console.table(rows);
fs.rmSync(dir, { recursive: true, force: true });
