"use strict";
// The request path at its floor: what one gateway request costs in our store against the
// documented store's statements (bench/documented-store.js, the way a gateway runs them
// today), per call, with the statements each side runs per call. Runs under Node and Bun
// (`node bench/request-path.js`, `bun bench/request-path.js`; both are part of
// `npm run bench`):
//   Node: our store on its own connection (":memory:", or a WAL file with
//         synchronous=NORMAL) against the documented statements on better-sqlite3 with the
//         same settings; informative: our store on a better-sqlite3 handle.
//   Bun:  our store on a bun:sqlite handle against the documented statements on the same
//         kind of handle, same settings; informative: our store by path.
// Like with like: the same inputs (built before the clock starts), the same data in the
// window (the two sides' usedQuantity must agree, or this throws), the same data
// returned, the same calls timed, the same durability. Every row runs ROUNDS rounds of
// the documented side and both forms of ours (own connection, handle) on fresh stores,
// each closed before the next opens, the order rotating each round, and reports the
// medians of µs per call; each path compares one form of ours with that documented side.
// Statements per call are counted in a separate, untimed pass: the same calls on a store
// given a counting wrapper around a handle of this runtime's binding.
// Prints figures, ratios, counts and the targets; asserts nothing; exits 0.
// BENCH_SCALE=0.1 shrinks every count (development); BENCH_ROUNDS overrides the rounds;
// BENCH_STATEMENTS=1 also lists the statements of each row's counting pass.

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { ControlPlaneStore, Database: OurDatabase } = require("..");
const { DocumentedStore, DOCUMENTED_DDL } = require("./documented-store.js");

const isBun = typeof Bun !== "undefined";
const binding = isBun ? "bun:sqlite" : "better-sqlite3";
const Handle = isBun ? require("bun:sqlite").Database : require("better-sqlite3");

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const LIST_STATEMENTS = process.env.BENCH_STATEMENTS === "1";
const scaled = (n) => Math.max(2, Math.round(n * SCALE));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cp-bench-request-"));
let fileNo = 0;
const newFile = () => path.join(dir, `f-${fileNo++}.db`);
const removeFile = (file) => {
  for (const suffix of ["", "-wal", "-shm"]) fs.rmSync(file + suffix, { force: true });
};

// ---------------------------------------------------------------------------------------
// Counting statements: a wrapper around a handle, shaped as the handle it wraps (the store
// reads exactly these: exec, prepare or query, the transaction flag, the open flag; on a
// statement run/all/values, reader, raw). Every statement run through it is counted:
// a statement call (run/get/all/values/iterate, on the statement or on what raw()
// returns) counts one; exec(script) counts the statements in the script.

/** Statements in an SQL script: `;`-terminated, outside quotes and comments. */
function statementsIn(sql) {
  let count = 0;
  let pending = false;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "-" && sql[i + 1] === "-") {
      while (i < sql.length && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      i = sql.indexOf("*/", i + 2);
      if (i < 0) break;
      i++;
    } else if (c === "'" || c === '"' || c === "`") {
      pending = true;
      for (i++; i < sql.length && sql[i] !== c; i++);
    } else if (c === ";") {
      if (pending) count++;
      pending = false;
    } else if (!/\s/.test(c)) {
      pending = true;
    }
  }
  return count + (pending ? 1 : 0);
}

function newCounter() {
  return {
    statements: 0,
    viaExec: 0,
    transactionStatementsViaPrepare: 0,
    bySql: new Map(),
    reset() {
      this.statements = 0;
      this.viaExec = 0;
      this.transactionStatementsViaPrepare = 0;
      this.bySql = new Map();
    },
    note(sql, how) {
      this.statements++;
      const key = `${how}: ${sql.replace(/\s+/g, " ").trim()}`;
      this.bySql.set(key, (this.bySql.get(key) ?? 0) + 1);
      if (how !== "exec" && /^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i.test(sql)) this.transactionStatementsViaPrepare++;
    },
  };
}

const STATEMENT_CALLS = ["run", "get", "all", "values", "iterate"];
const STATEMENT_MODES = ["raw", "pluck", "expand", "safeIntegers", "setReturnArrays", "bind"];
const STATEMENT_PROPERTIES = ["reader", "readonly", "busy", "source"];

function countingStatement(stmt, sql, counter) {
  const wrapped = {};
  for (const name of STATEMENT_CALLS) {
    if (typeof stmt[name] !== "function") continue;
    wrapped[name] = (...args) => {
      counter.note(sql, name);
      return stmt[name](...args);
    };
  }
  for (const name of STATEMENT_MODES) {
    if (typeof stmt[name] !== "function") continue;
    // raw(true) and the like return the statement: hand back the wrapper, so calls made
    // on what they return are counted too.
    wrapped[name] = (...args) => {
      const out = stmt[name](...args);
      return out === stmt ? wrapped : out;
    };
  }
  for (const name of STATEMENT_PROPERTIES) {
    if (name in stmt) Object.defineProperty(wrapped, name, { get: () => stmt[name], enumerable: true });
  }
  if (typeof stmt.finalize === "function") wrapped.finalize = () => stmt.finalize();
  return wrapped;
}

function countingHandle(db, counter) {
  const wrapped = {
    exec(sql) {
      const n = statementsIn(sql);
      counter.statements += n;
      counter.viaExec += n;
      const key = `exec (${n}): ${sql.replace(/\s+/g, " ").trim().slice(0, 100)}`;
      counter.bySql.set(key, (counter.bySql.get(key) ?? 0) + 1);
      const out = db.exec(sql);
      return out === db ? wrapped : out;
    },
    close: () => db.close(),
  };
  for (const name of ["prepare", "query"]) {
    if (typeof db[name] === "function") wrapped[name] = (sql) => countingStatement(db[name](sql), sql, counter);
  }
  // The transaction flag (better-sqlite3's and bun:sqlite's `inTransaction`, or
  // `isTransaction`) and the open flag, read through on every access.
  for (const name of ["inTransaction", "isTransaction", "open", "isOpen"]) {
    if (typeof db[name] === "boolean") Object.defineProperty(wrapped, name, { get: () => db[name], enumerable: true });
  }
  // The documented side's batches run in db.transaction(fn): its BEGIN and COMMIT count.
  if (typeof db.transaction === "function") {
    wrapped.transaction = (fn) => {
      const inTx = db.transaction(fn);
      return (...args) => {
        counter.note("BEGIN", "transaction");
        const out = inTx(...args);
        counter.note("COMMIT", "transaction");
        return out;
      };
    };
  }
  return wrapped;
}

// ---------------------------------------------------------------------------------------
// The sides. `where` is "memory" or "file" (WAL, synchronous=NORMAL: our files' settings).

/**
 * A handle of this runtime's binding: empty, or holding a copy of `image` (another
 * handle's `serialize()`): in memory, or written to a new file opened with our settings.
 */
function openHandle(where, image) {
  const file = where === "memory" ? null : newFile();
  let db;
  if (image && !file) {
    // An image of a WAL file says so in its header (bytes 18 and 19), and SQLite cannot
    // open such an image in memory: marked as a rollback-journal database, it can.
    const bytes = Buffer.from(image);
    if (bytes[18] === 2) bytes[18] = bytes[19] = 1;
    db = isBun ? Handle.deserialize(bytes) : new Handle(bytes);
  } else {
    if (image) fs.writeFileSync(file, image);
    db = new Handle(file ?? ":memory:");
  }
  if (file) db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
  return { db, file };
}

/** The documented statements on a handle of this runtime's binding. */
function documented(where, counter, image) {
  const { db, file } = openHandle(where, image);
  if (!image) db.exec(DOCUMENTED_DDL);
  const store = new DocumentedStore(counter ? countingHandle(db, counter) : db);
  return {
    store,
    db,
    close() {
      db.close();
      if (file) removeFile(file);
    },
  };
}

/** Our store on a handle of this runtime's binding. */
function oursOnHandle(where, counter, image) {
  const { db, file } = openHandle(where, image);
  const store = new ControlPlaneStore(counter ? countingHandle(db, counter) : db);
  return {
    store,
    db,
    close() {
      store.close();
      db.close();
      if (file) removeFile(file);
    },
  };
}

/** Our store on its own connection, by path (a file: empty, or a copy of `image`). */
function oursOwn(where, image) {
  const file = where === "memory" ? null : newFile();
  if (file && image) fs.writeFileSync(file, image);
  const store = new ControlPlaneStore(file ?? ":memory:");
  return {
    store,
    close() {
      store.close();
      if (file) removeFile(file);
    },
  };
}

// ---------------------------------------------------------------------------------------
// The rows: each one call, the same inputs on both sides.

const DAY = 86_400_000;
const MONTH = 30 * DAY;
const T0 = 400 * DAY; // the "now" of the request path: every window ends near it
const ORG = "acme";
const PROJECT = "web";
const METRIC = "llm.tokens";
const UNIT = "token";

function seedTenant(s) {
  s.createOrg({ orgId: ORG, slug: ORG, name: "Acme", createdAtMs: 0 });
  s.createProject({ orgId: ORG, projectId: PROJECT, slug: PROJECT, name: "Web", createdAtMs: 0 });
}

const event = (i, observedAtMs) => ({
  orgId: ORG,
  projectId: PROJECT,
  runId: `run-${i}`,
  metric: METRIC,
  unit: UNIT,
  quantity: 1 + (i % 7),
  observedAtMs,
  metadata: { model: "m" },
});

/** Events written before the clock starts: ours through recordUsageBatch, the documented
 * store's inserts in one transaction (how each side loads history in bulk). */
function loadEvents(side, events) {
  if (side === "documented") return (s) => s.db.transaction(() => { for (const e of events) s.recordUsageId(e); })();
  return (s) => {
    for (let at = 0; at < events.length; at += 10_000) s.recordUsageBatch(events.slice(at, at + 10_000), { returning: "ids" });
  };
}

const monthlyProjectLimit = { orgId: ORG, projectId: PROJECT, metric: METRIC, unit: UNIT, period: "monthly", limitQuantity: 1e15, updatedAtMs: 0 };
const checkInput = { orgId: ORG, projectId: PROJECT, metric: METRIC, unit: UNIT, period: "monthly", untilMs: T0 };
const sumQuantities = (events) => events.reduce((a, e) => a + e.quantity, 0);

/** `n` events spread evenly over the 30-day window ending at T0 (never on its edge). */
const spreadOverMonth = (n) => Array.from({ length: n }, (_, i) => ({ ...event(i, T0 - MONTH + 1 + Math.floor(((i + 0.5) * (MONTH - 1)) / n)), runId: null, metadata: {} }));

/**
 * A row: `n` timed calls after `warm` untimed ones, per side and round.
 * - setup(s, side): seeds a fresh store (side: "ours" or "documented");
 * - inputs(count): every call's input, the same for both sides;
 * - ours(s, input) / documented(s, input, state): one call (documentedState(s) makes the
 *   state);
 * - sameStores: load once, time every round on the same stores (see `measure`);
 * - agree(oursLast, documentedLast): what both sides must agree on (compared after every
 *   round; a difference throws);
 * - targets: the cost ratio each path must stay under, by path key.
 */
function rows() {
  const sizes = (memory, file) => ({ memory: scaled(memory), file: scaled(file) });
  const list = [];

  {
    const counts = sizes(3_000, 1_000);
    list.push({
      name: "recordUsage",
      note: "one event a call; both return the event recorded (the documented store re-reads its row by id); ours in one BEGIN IMMEDIATE ... COMMIT with the org's lifecycle guard, folding usage into its rollups every 16 events",
      n: counts,
      warm: 100,
      setup: (s) => seedTenant(s),
      inputs: (n) => Array.from({ length: n }, (_, i) => event(i, T0 + i)),
      ours: (s, e) => s.recordUsage(e),
      documented: (s, e) => s.recordUsage(e),
      agree: (a, b) => [a.quantity, a.observedAtMs, a.runId, a.metadata.model].join() === [b.quantity, b.observedAtMs, b.runId, b.metadata.model].join(),
      targets: { ownMemory: 1.25, ownWal: 1.3, bunMemory: 2.2, bunWal: 1.7 },
    });
  }

  {
    const counts = sizes(2_000, 600);
    list.push({
      name: "createOrg",
      note: "ours in one transaction with its audit event linked into the org's hash chain; the documented store inserts the org and an unchained audit event in two autocommits, then re-reads the org",
      n: counts,
      warm: 100,
      setup: () => null,
      inputs: (n) => Array.from({ length: n }, (_, i) => ({ orgId: `org-${i}`, slug: `org-${i}`, name: `Org ${i}`, createdAtMs: T0 + i })),
      ours: (s, o) => s.createOrg(o),
      documented: (s, o) => s.createOrg(o),
      agree: (a, b) => [a.orgId, a.slug, a.name, a.createdAtMs].join() === [b.orgId, b.slug, b.name, b.createdAtMs].join(),
      targets: { ownMemory: 2.0, ownWal: 1.3, bunMemory: 2.5, bunWal: 1.6 },
    });
  }

  {
    // ~35 events of the limit's metric in its window (the month before T0), recorded one
    // request at a time as a gateway records them.
    const history = spreadOverMonth(35).map((e, i) => ({ ...e, runId: `run-${i}` }));
    const expected = sumQuantities(history);
    list.push({
      name: "checkUsageLimit, 35 events",
      note: "the project's monthly limit, 35 events of its metric in the 30 days before untilMs, recorded one call at a time (ours: 32 folded into rollups, 3 in the tail); the same check repeated",
      n: sizes(2_000, 2_000),
      warm: 100,
      setup: (s) => {
        seedTenant(s);
        s.setUsageLimit(monthlyProjectLimit);
        for (const e of history) s.recordUsage(e);
      },
      inputs: (n) => Array.from({ length: n }, () => checkInput),
      ours: (s, c) => s.checkUsageLimit(c),
      documented: (s, c) => s.checkUsageLimit(c),
      agree: (a, b) => a.usedQuantity === b.usedQuantity && a.usedQuantity === expected,
      targets: { ownMemory: 1.0, ownWal: 1.0, bunMemory: 2.0, bunWal: 1.6 },
    });
  }

  {
    const EVENTS = 100_000;
    const history = spreadOverMonth(EVENTS);
    const expected = sumQuantities(history);
    list.push({
      name: "checkUsageLimit, 100k events",
      note: "the same limit and window, 100,000 events spread over it, loaded in bulk (ours by recordUsageBatch, the documented store's inserts in one transaction)",
      n: sizes(8, 8),
      warm: 2,
      sameStores: true,
      setup: (s, side) => {
        seedTenant(s);
        s.setUsageLimit(monthlyProjectLimit);
        loadEvents(side, history)(s);
      },
      inputs: (n) => Array.from({ length: n }, () => checkInput),
      ours: (s, c) => s.checkUsageLimit(c),
      documented: (s, c) => s.checkUsageLimit(c),
      agree: (a, b) => a.usedQuantity === b.usedQuantity && a.usedQuantity === expected,
      targets: { ownMemory: 0.01, ownWal: 0.01, bunMemory: 0.01, bunWal: 0.01 },
    });
  }

  {
    // Two limits (the project's daily, the org's monthly), 1,000 events in the day before
    // T0 (so in both windows), then one request a second from T0.
    const history = Array.from({ length: 1_000 }, (_, i) => ({ ...event(i, T0 - DAY + 500 + i * 86_400), runId: null }));
    const limits = [
      { orgId: ORG, projectId: PROJECT, metric: METRIC, unit: UNIT, period: "daily", limitQuantity: 1e15, updatedAtMs: 0 },
      { orgId: ORG, metric: METRIC, unit: UNIT, period: "monthly", limitQuantity: 1e15, updatedAtMs: 0 },
    ];
    list.push({
      name: "consumeUsage, 2 limits, 1k events",
      note: "the project's daily and the org's monthly limit, 1,000 events in the day before the first call, then one call a second; ours checks both and records in one BEGIN IMMEDIATE; the documented store, as a gateway does it today: checkUsageLimit for both, then recordUsage if both allow (three autocommit calls, not atomic)",
      n: sizes(300, 250),
      warm: 20,
      setup: (s, side) => {
        seedTenant(s);
        for (const l of limits) s.setUsageLimit(l);
        loadEvents(side, history)(s);
      },
      inputs: (n) => Array.from({ length: n }, (_, i) => event(1_000 + i, T0 + i * 1_000)),
      ours: (s, e) => s.consumeUsage(e),
      documented: (s, e) => {
        const checks = limits.map((l) => s.checkUsageLimit({ orgId: l.orgId, projectId: l.projectId, metric: l.metric, unit: l.unit, period: l.period, untilMs: e.observedAtMs }));
        const allowed = checks.every((c) => c.usedQuantity + e.quantity <= c.limitQuantity);
        return { allowed, event: allowed ? s.recordUsage(e) : null, checks };
      },
      agree: (a, b) => {
        const used = (r) => ["daily", "monthly"].map((p) => r.checks.find((c) => c.period === p).usedQuantity).join();
        return a.allowed && b.allowed && used(a) === used(b) && a.event.observedAtMs === b.event.observedAtMs;
      },
      targets: { ownMemory: 0.05, ownWal: 0.1, bunMemory: 0.08, bunWal: 0.15 },
    });
  }

  {
    list.push({
      name: "recordUsageBatch ×1,000",
      note: "1,000 events a call; ours recordUsageBatch(events, { returning: \"ids\" }); documented: its insert (after its project check) in a loop inside one db.transaction, collecting the ids",
      n: sizes(8, 8),
      warm: 1,
      setup: (s) => seedTenant(s),
      inputs: (n) => Array.from({ length: n }, (_, b) => Array.from({ length: 1_000 }, (_, k) => event(b * 1_000 + k, T0 + b * 1_000 + k))),
      ours: (s, batch) => s.recordUsageBatch(batch, { returning: "ids" }).ids,
      documented: (s, batch, state) => state.inTx(batch),
      documentedState: (s) => ({ inTx: s.db.transaction((batch) => batch.map((e) => s.recordUsageId(e))) }),
      agree: (a, b) => a.length === 1_000 && b.length === 1_000 && a[999] - a[0] === b[999] - b[0],
      targets: { ownMemory: 0.5, ownWal: 0.5, bunMemory: 1.0, bunWal: 0.8 },
    });
  }
  return list;
}

// ---------------------------------------------------------------------------------------
// The paths (the issue's columns), this runtime's.

const PATHS = isBun
  ? [
      { key: "bunMemory", label: "bun handle, memory", where: "memory", ours: "handle" },
      { key: "bunWal", label: "bun handle, WAL", where: "file", ours: "handle" },
      { key: null, label: "own :memory: (info)", where: "memory", ours: "own" },
      { key: null, label: "own WAL (info)", where: "file", ours: "own" },
    ]
  : [
      { key: "ownMemory", label: "own :memory:", where: "memory", ours: "own" },
      { key: "ownWal", label: "own WAL", where: "file", ours: "own" },
      { key: null, label: "better-sqlite3 handle, memory (info)", where: "memory", ours: "handle" },
      { key: null, label: "better-sqlite3 handle, WAL (info)", where: "file", ours: "handle" },
    ];

function describePath(p) {
  const settings = p.where === "memory" ? ":memory:" : "WAL file, synchronous=NORMAL";
  const oursIs = p.ours === "own" ? `our store on its own connection (${settings})` : `our store on a ${binding} Database (${settings})`;
  return `${oursIs} vs the documented statements on ${binding} (${settings})`;
}

const now = () => performance.now() * 1_000; // µs
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

/** A fresh store of one side: "documented", or ours "own" (by path) or "handle". */
function open(side, where, counter, image) {
  if (side === "documented") return documented(where, counter, image);
  return side === "own" ? oursOwn(where, image) : oursOnHandle(where, counter, image);
}

/** A side's store, seeded (or opened on a copy of a seeded database, from `images`),
 * with its call and `warm` untimed calls made. */
function prepared(row, side, where, inputs, counter, images) {
  const kind = side === "documented" ? "documented" : "ours";
  // Our own connection in memory cannot be opened on a copy: it is seeded.
  const image = images && !(side === "own" && where === "memory") ? images[kind] : undefined;
  const opened = open(side, where, counter, image);
  try {
    const s = opened.store;
    if (!image) row.setup(s, kind);
    const state = kind === "documented" && row.documentedState ? row.documentedState(s) : null;
    const call = kind === "documented" ? row.documented : row.ours;
    for (let i = 0; i < row.warm; i++) call(s, inputs[i], state);
    return { ...opened, run: (i) => call(s, inputs[i], state) };
  } catch (err) {
    opened.close();
    throw err;
  }
}

/** µs per call of the timed calls (those after the warm ones), and the last result. */
function timed(row, side, inputs) {
  let last;
  const start = now();
  for (let i = row.warm; i < inputs.length; i++) last = side.run(i);
  return { micros: (now() - start) / (inputs.length - row.warm), last };
}

/**
 * A `sameStores` row's data, loaded once per side (its setup) and copied into every store
 * that can be opened on a copy: ours written by our own connection to a file (the same
 * file format on every engine), the documented store's by a handle in memory.
 */
const imageCache = new Map();
function imagesOf(row) {
  if (!imageCache.has(row.name)) {
    const file = newFile();
    const ours = new ControlPlaneStore(file);
    row.setup(ours, "ours");
    ours.close(); // checkpoints the WAL into the file and removes it
    const oursImage = fs.readFileSync(file);
    removeFile(file);
    const doc = documented("memory");
    row.setup(doc.store, "documented");
    const docImage = Buffer.from(doc.db.serialize());
    doc.close();
    imageCache.set(row.name, { ours: oursImage, documented: docImage });
  }
  return imageCache.get(row.name);
}

/**
 * One row on one kind of database: the documented statements and both forms of ours
 * (own connection, handle), in ROUNDS rounds, the order of the three rotating each round.
 * Each round opens fresh stores, each closed before the next side opens; a row marked
 * `sameStores` (a read that leaves its store as it was, over data that is costly to load)
 * opens each side's store once and times its rounds on it.
 */
function measure(row, where) {
  const n = row.n[where];
  const inputs = row.inputs(row.warm + n);
  const sides = ["own", "documented", "handle"];
  const times = Object.fromEntries(sides.map((k) => [k, []]));
  const images = row.sameStores ? imagesOf(row) : undefined;
  const kept = images ? Object.fromEntries(sides.map((k) => [k, prepared(row, k, where, inputs, null, images)])) : null;
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const order = sides.map((_, k) => sides[(k + r) % sides.length]);
      const last = {};
      for (const k of order) {
        const side = kept ? kept[k] : prepared(row, k, where, inputs, null);
        try {
          const out = timed(row, side, inputs);
          times[k].push(out.micros);
          last[k] = out.last;
        } finally {
          if (!kept) side.close();
        }
      }
      for (const k of ["own", "handle"]) {
        if (!row.agree(last[k], last.documented)) {
          throw new Error(`${row.name} (${where}, ours ${k}): the sides disagree: ${JSON.stringify(last[k]).slice(0, 400)} vs ${JSON.stringify(last.documented).slice(0, 400)}`);
        }
      }
    }
    return { n, documented: median(times.documented), own: median(times.own), handle: median(times.handle), counted: count(row, where, inputs, images) };
  } finally {
    if (kept) for (const side of Object.values(kept)) side.close();
  }
}

function count(row, where, inputs, images) {
  const n = inputs.length - row.warm;
  // The statements per call, counted over the same calls on counting handles of the same
  // settings (ours on a handle: the core runs the same statements on its own connection),
  // on the same data.
  const counted = {};
  for (const [kind, side] of [["ours", "handle"], ["documented", "documented"]]) {
    const counter = newCounter();
    const s = prepared(row, side, where, inputs, counter, images);
    try {
      counter.reset();
      timed(row, s, inputs);
    } finally {
      s.close();
    }
    counted[kind] = { perCall: counter.statements / n, viaExec: counter.viaExec / n, txViaPrepare: counter.transactionStatementsViaPrepare / n, bySql: counter.bySql };
  }
  return counted;
}

// ---------------------------------------------------------------------------------------

function sqliteVersions() {
  const theirs = (() => {
    const db = new Handle(":memory:");
    try {
      return db.prepare("SELECT sqlite_version() AS v").get().v;
    } finally {
      db.close();
    }
  })();
  let ours = "?";
  try {
    const db = new OurDatabase(":memory:");
    ours = db.query("SELECT sqlite_version() AS v").get().v;
    db.close();
  } catch {
    // an older build's Database: the version is only informative
  }
  return { theirs, ours };
}

const fmtMicros = (x) => (x >= 1_000 ? Math.round(x).toLocaleString("en-US") : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtRatio = (x) => (x < 0.01 ? x.toFixed(4) : x < 0.1 ? x.toFixed(3) : x.toFixed(2));
const fmtCount = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

function printTable(header, lines) {
  const widths = header.map((h, c) => Math.max(h.length, ...lines.filter(Array.isArray).map((l) => String(l[c]).length)));
  const right = header.map((_, c) => c > 1);
  const line = (cells) => cells.map((x, c) => (right[c] ? String(x).padStart(widths[c]) : String(x).padEnd(widths[c]))).join("  ").trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  console.log(line(header));
  console.log(rule);
  for (const l of lines) console.log(Array.isArray(l) ? line(l) : rule);
}

function main() {
  const started = now();
  const versions = sqliteVersions();
  const runtime = isBun ? `Bun ${Bun.version}` : `Node ${process.version}`;
  console.log(`request path: ${runtime}, ${os.platform()}-${os.arch()}, ${os.cpus().length} cores; ${binding} ${isBun ? "" : `${require("better-sqlite3/package.json").version} `}(SQLite ${versions.theirs}); our own connection: SQLite ${versions.ours}`);
  console.log(`µs per call (lower is faster): the mean of a round's timed calls, the median of ${ROUNDS} rounds; ours ÷ doc: the cost ratio ours ÷ documented (lower is better); stmts/call: statements run per call; (info): no targets${SCALE !== 1 ? `; BENCH_SCALE=${SCALE}` : ""}`);
  console.log("");
  for (const p of PATHS) console.log(`  ${p.label.padEnd(PATHS.reduce((w, q) => Math.max(w, q.label.length), 0))}  ${describePath(p)}`);
  console.log("");

  const all = rows();
  const measured = new Map();
  for (const where of ["memory", "file"]) {
    for (const row of all) {
      const rowStarted = now();
      measured.set(`${row.name}|${where}`, measure(row, where));
      if (process.env.BENCH_ROW_TIMES) console.error(`  ${row.name}, ${where}: ${((now() - rowStarted) / 1e6).toFixed(1)} s`);
    }
  }

  const results = [];
  const lines = [];
  for (const p of PATHS) {
    if (lines.length) lines.push(null);
    all.forEach((row, i) => {
      const m = measured.get(`${row.name}|${p.where}`);
      const ours = m[p.ours];
      const ratio = ours / m.documented;
      const target = p.key ? row.targets[p.key] : null;
      const pass = target === null ? null : ratio <= target;
      results.push({ path: p, row, m, ratio, target, pass });
      lines.push([
        i === 0 ? p.label : "",
        row.name,
        m.n,
        fmtMicros(ours),
        fmtMicros(m.documented),
        fmtRatio(ratio),
        fmtCount(m.counted.ours.perCall),
        fmtCount(m.counted.documented.perCall),
        target === null ? "-" : `≤ ${target} ${pass ? "PASS" : "FAIL"}`,
      ]);
    });
  }
  printTable(["path", "call", "calls", "ours µs", "documented µs", "ours ÷ doc", "stmts/call ours", "stmts/call doc", "target"], lines);

  // How it was measured and counted, from what the runs saw.
  const execPerCall = Math.max(...results.map((r) => r.m.counted.ours.viaExec));
  const txPerCall = results.find((r) => r.row.name === "recordUsage").m.counted.ours.txViaPrepare;
  const notes = [
    `Rounds: each round opens fresh stores, each closed before the next side opens, and rotates which side goes first; the documented side of a row is measured once per database kind, in the same rounds as both forms of ours. The 100k row loads its events once per side and opens its stores on copies of that load (in memory: sqlite3_deserialize; ours by path in memory loads its own), timing its rounds on the same stores (a check leaves them as they were).`,
    `Like with like: both sides in memory, or both on a WAL file with synchronous=NORMAL; the same inputs, built before the clock starts; both sides return the same data; the two sides' usedQuantity (and the other results' fields) are checked to agree after every round.`,
    ...all.map((r) => `${r.name}: ${r.note}.`),
    `Own WAL file: our connection checkpoints its WAL on a background thread (not in the JS thread's µs per call); a handle, ours or the documented store's, checkpoints inline every 1,000 WAL pages.`,
    `Statements per call: counted in a separate, untimed pass of the same calls on the same data, through a counting wrapper around a ${binding} handle with the same settings: every run/get/all/values/iterate of a statement from prepare/query counts one (also on what raw() returns), exec counts the statements of its script, and the documented side's db.transaction counts its BEGIN and COMMIT. The core runs the same statements on every engine, so the count on a wrapped handle is the count for our own connection too. Our BEGIN/COMMIT reach the handle through prepare(sql).run() (recordUsage: ${fmtCount(txPerCall)} per call); exec ran ${fmtCount(execPerCall)} of our statements per call.`,
  ];
  console.log("");
  for (const note of notes) console.log(wrap(`- ${note}`, 110, "  "));

  if (LIST_STATEMENTS) {
    for (const r of results) {
      if (r.path !== PATHS[0]) continue;
      for (const side of ["ours", "documented"]) {
        console.log(`\n${r.row.name} (${r.path.where}), ${side}: statements over ${r.m.n} calls`);
        for (const [sql, k] of [...r.m.counted[side].bySql].sort((a, b) => b[1] - a[1])) console.log(`  ${String(k).padStart(7)}  ${sql.slice(0, 160)}`);
      }
    }
  }

  const targeted = results.filter((r) => r.target !== null);
  const met = targeted.filter((r) => r.pass);
  console.log(`\nTargets (${runtime}): ${met.length} of ${targeted.length} targets met`);
  for (const r of targeted.filter((x) => !x.pass)) console.log(`  FAIL  ${r.path.label}: ${r.row.name}: ${fmtRatio(r.ratio)} > ${r.target}`);
  console.log(`(${((now() - started) / 1e6).toFixed(0)} s)`);
}

/** `text` in lines of at most `width` characters, the later ones indented. */
function wrap(text, width, indent) {
  const out = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = indent + word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.push(line);
  return out.join("\n");
}

try {
  main();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
