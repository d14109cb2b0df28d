"use strict";
// The store on the gateway's own handle, against the documented store's statements on the
// same kind of handle, and the store opened by path against both. Runs under Bun
// (bun:sqlite) and under Node (better-sqlite3): `bun bench/shared-handle.js`,
// `node bench/shared-handle.js` (both are part of `npm run bench`). Like with like: every
// side in memory, or every side on a WAL file with synchronous=NORMAL (our path form's
// settings). Prints figures and ratios; asserts nothing.

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { ControlPlaneStore } = require("..");
const { DocumentedStore, DOCUMENTED_DDL } = require("./documented-store.js");

const isBun = typeof Bun !== "undefined";
const binding = isBun ? "bun:sqlite" : "better-sqlite3";
const Handle = isBun ? require("bun:sqlite").Database : require("better-sqlite3");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cp-bench-shared-"));
let fileNo = 0;

function openHandle(where) {
  const db = new Handle(where === "memory" ? ":memory:" : path.join(dir, `h-${fileNo++}.db`));
  if (where === "file") db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  return db;
}

/** The three sides, each seeded with one org and project. */
const sides = {
  "documented statements on the handle": (where) => {
    const db = openHandle(where);
    db.exec(DOCUMENTED_DDL);
    const s = new DocumentedStore(db);
    return { s, close: () => db.close() };
  },
  "store on the handle": (where) => {
    const db = openHandle(where);
    const s = new ControlPlaneStore(db);
    return { s, close: () => { s.close(); db.close(); } };
  },
  "store opened by path": (where) => {
    const s = new ControlPlaneStore(where === "memory" ? ":memory:" : path.join(dir, `p-${fileNo++}.db`));
    return { s, close: () => s.close() };
  },
};

function seed(s) {
  s.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 0 });
  s.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web", createdAtMs: 0 });
}

const now = () => Number(process.hrtime.bigint()) / 1e3;
/** Microseconds per call of `fn(i)` over `n` calls. */
function perCall(n, fn) {
  const start = now();
  for (let i = 0; i < n; i++) fn(i);
  return (now() - start) / n;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

const ROUNDS = 3;
const rows = [];
function compare(operation, where, n, prepare, op) {
  const times = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, open] of Object.entries(sides)) {
      const side = open(where);
      seed(side.s);
      const state = prepare(side.s);
      times[name].push(perCall(n, (i) => op(side.s, i, state)));
      side.close();
    }
  }
  report(operation, where, times);
}

/** A row of the table: each side's median µs per call, and the ratios. */
function report(operation, where, times) {
  const [doc, handle, own] = Object.keys(sides).map((k) => median(times[k]));
  rows.push({
    operation,
    database: where,
    "documented (µs)": doc.toFixed(1),
    "store on handle (µs)": handle.toFixed(1),
    "store by path (µs)": own.toFixed(1),
    "handle vs documented": `${(doc / handle).toFixed(2)}x`,
    "path vs documented": `${(doc / own).toFixed(2)}x`,
    "path vs handle": `${(handle / own).toFixed(2)}x`,
  });
}

const org = (i) => ({ orgId: `org-${i}`, slug: `org-${i}`, name: `Org ${i}`, createdAtMs: i });
const usage = (i) => ({ orgId: "acme", projectId: "web", runId: `run-${i}`, metric: "llm.tokens", unit: "token", quantity: 1 + (i % 7), observedAtMs: 1_000_000 + i, metadata: { model: "m" } });
for (const where of ["memory", "file"]) {
  compare("createOrg", where, where === "memory" ? 5_000 : 2_000, () => null, (s, i) => s.createOrg(org(i)));
  compare("recordUsage", where, where === "memory" ? 10_000 : 3_000, () => null, (s, i) => s.recordUsage(usage(i)));
}

// checkUsageLimit with 100,000 events spread over its 30-day window, every side reading
// the same events (written in one transaction through each side's own path).
const MONTH = 30 * 86_400_000;
const until = 100 * 86_400_000;
const EVENTS = 100_000;
const spread = (i) => ({ orgId: "acme", projectId: "web", runId: null, metric: "llm.tokens", unit: "token", quantity: 1 + (i % 7), observedAtMs: until - MONTH + Math.floor((i * MONTH) / EVENTS), metadata: {} });
const check = { orgId: "acme", projectId: "web", metric: "llm.tokens", unit: "token", untilMs: until };
const expected = Array.from({ length: EVENTS }, (_, i) => 1 + (i % 7)).reduce((a, b) => a + b, 0);
compare(
  "checkUsageLimit, 100,000 events",
  "memory",
  40,
  (s) => {
    s.setUsageLimit({ orgId: "acme", projectId: "web", metric: "llm.tokens", unit: "token", limitQuantity: 1e15, updatedAtMs: 0 });
    if (s instanceof DocumentedStore) s.db.transaction(() => { for (let i = 0; i < EVENTS; i++) s.recordUsage(spread(i)); })();
    else for (let at = 0; at < EVENTS; at += 10_000) s.recordUsageBatch(Array.from({ length: 10_000 }, (_, k) => spread(at + k)), { returning: "ids" });
    const used = s.checkUsageLimit(check).usedQuantity;
    if (used !== expected) throw new Error(`a side disagrees: ${used} vs ${expected}`);
    return null;
  },
  (s) => s.checkUsageLimit(check),
);

// A fresh store, as a test suite makes one per test: a new in-memory handle (or path),
// the schema, one createOrg, closed. The target: on a fresh handle at most 2x the
// documented statements (their DDL and store) on one.
{
  const times = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, open] of Object.entries(sides)) {
      times[name].push(perCall(300, (i) => {
        const side = open("memory");
        side.s.createOrg(org(i));
        side.close();
      }));
    }
  }
  report("fresh store + createOrg + close", "memory", times);
}

console.log(`${isBun ? `Bun ${Bun.version}` : `Node ${process.version}`}, ${binding}; median of ${ROUNDS} rounds; µs per call (lower is faster)`);
console.table(rows);
fs.rmSync(dir, { recursive: true, force: true });
