"use strict";
// One process of `npm run bench:ab` (bench/ab.js starts it; not meant to be run by hand).
// Under Node or Bun, it requires one side's package (AB_PACKAGE: a checkout whose index.js
// loads CONTROL_PLANE_NATIVE_PATH, or, before binding.js, its own control-plane-store.node)
// and times the request path's calls on this runtime's paths:
//   Node: our own connection (":memory:", a WAL file), a better-sqlite3 handle (":memory:",
//         a WAL file), and fresh stores;
//   Bun:  a bun:sqlite handle (":memory:", a WAL file).
// AB_ROWS (a JSON list of "path|call" keys) runs only those rows; AB_MODE=list lists them.
// Every row opens a fresh store (a fresh file or handle), seeds it, makes its warm-up calls
// and then its timed calls, all with inputs built before the clock starts, and closes it.
// AB_MODE=calibrate: calls until AB_CALIBRATE_SECONDS have passed, to learn each row's
// µs per call; AB_MODE=measure: AB_COUNTS[row] timed calls (the same on both sides), after
// a tenth as many warm-up calls (at least a few, at most 500), timed in AB_SLICES (10)
// equal slices: the row's figure is the median slice's µs per call.
// Writes its report (JSON) to AB_OUT: the runtime, the binary it mapped, and per row the
// calls, µs per call (wall clock, and CPU time of the JS thread), the timed span and a digest of the last result (the two sides must
// agree on it).

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const isBun = typeof Bun !== "undefined";
const PACKAGE = process.env.AB_PACKAGE;
const MODE = process.env.AB_MODE ?? "measure";
const COUNTS = process.env.AB_COUNTS ? JSON.parse(process.env.AB_COUNTS) : {};
const CALIBRATE_SECONDS = Number(process.env.AB_CALIBRATE_SECONDS ?? 0.1);
const HANDLE_SYNC = process.env.AB_HANDLE_SYNC || null;
const SLICES = Number(process.env.AB_SLICES ?? 10);
const ONLY_ROWS = process.env.AB_ROWS ? new Set(JSON.parse(process.env.AB_ROWS)) : null;

const { ControlPlaneStore } = require(PACKAGE);
const Handle = isBun ? require("bun:sqlite").Database : require("better-sqlite3");
const handleName = isBun ? "bun:sqlite" : "better-sqlite3";

/** The control-plane-store binaries this process has mapped (Linux), real paths. */
function loadedBinaries() {
  try {
    const maps = fs.readFileSync("/proc/self/maps", "utf8");
    const files = new Set();
    for (const line of maps.split("\n")) {
      const file = line.slice(line.indexOf("/"));
      if (line.includes("/") && /control-plane-store[^/]*\.node$/.test(file)) files.add(fs.realpathSync(file));
    }
    return [...files];
  } catch {
    return null;
  }
}

/** The JS thread's CPU time in ms (Linux: its schedstat, in ns), or null where there is none. */
const THREAD_STAT = `/proc/self/task/${process.pid}/schedstat`;
const threadCpu = (() => {
  try {
    const read = () => Number(fs.readFileSync(THREAD_STAT, "utf8").split(" ")[0]) / 1e6;
    return Number.isFinite(read()) && read() > 0 ? read : () => null;
  } catch {
    return () => null;
  }
})();

const collect = () => (isBun ? Bun.gc(true) : globalThis.gc?.());
const now = () => performance.now();

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cp-ab-"));
let fileNo = 0;
const newFile = () => path.join(dir, `f-${fileNo++}.db`);
const removeFile = (file) => {
  for (const suffix of ["", "-wal", "-shm", "-journal"]) fs.rmSync(file + suffix, { force: true });
};

function openHandle(file) {
  const db = new Handle(file ?? ":memory:");
  if (file) {
    db.exec("PRAGMA journal_mode = WAL");
    if (HANDLE_SYNC) db.exec(`PRAGMA synchronous = ${HANDLE_SYNC}`);
  }
  return db;
}

/** The handle's settings on a WAL file, as the rows get them. */
function handleSettings() {
  const file = newFile();
  const db = openHandle(file);
  const get = (sql) => Object.values((isBun ? db.query(sql) : db.prepare(sql)).get())[0];
  try {
    return { sqlite: get("SELECT sqlite_version()"), journalMode: get("PRAGMA journal_mode"), synchronous: get("PRAGMA synchronous") };
  } finally {
    db.close();
    removeFile(file);
  }
}

// ---------------------------------------------------------------------------------------
// Paths: where a row's store lives. open() gives { store, close }.

const PATHS = isBun
  ? [
      { name: "bun:sqlite handle, :memory:", open: () => onHandle(null) },
      { name: "bun:sqlite handle, WAL file", open: () => onHandle(newFile()) },
    ]
  : [
      { name: "own connection, :memory:", open: () => own(":memory:") },
      { name: "own connection, WAL file", open: () => own(newFile()) },
      { name: "better-sqlite3 handle, :memory:", open: () => onHandle(null) },
      { name: "better-sqlite3 handle, WAL file", open: () => onHandle(newFile()) },
    ];

function own(where) {
  const store = new ControlPlaneStore(where);
  return {
    store,
    close() {
      store.close();
      if (where !== ":memory:") removeFile(where);
    },
  };
}

function onHandle(file) {
  const db = openHandle(file);
  let store;
  try {
    store = new ControlPlaneStore(db);
  } catch (error) {
    db.close();
    throw error;
  }
  return {
    store,
    close() {
      store.close();
      db.close();
      if (file) removeFile(file);
    },
  };
}

// ---------------------------------------------------------------------------------------
// Rows: the same data and inputs as bench/request-path.js.

const DAY = 86_400_000;
const MONTH = 30 * DAY;
const T0 = 400 * DAY;
const ORG = "acme";
const PROJECT = "web";
const METRIC = "llm.tokens";
const UNIT = "token";

const event = (i, observedAtMs) => ({ orgId: ORG, projectId: PROJECT, runId: `run-${i}`, metric: METRIC, unit: UNIT, quantity: 1 + (i % 7), observedAtMs, metadata: { model: "m" } });
const spreadOverMonth = (n) => Array.from({ length: n }, (_, i) => ({ ...event(i, T0 - MONTH + 1 + Math.floor(((i + 0.5) * (MONTH - 1)) / n)), runId: null, metadata: {} }));
const sum = (events) => events.reduce((a, e) => a + e.quantity, 0);

function seedTenant(s) {
  s.createOrg({ orgId: ORG, slug: ORG, name: "Acme", createdAtMs: 0 });
  s.createProject({ orgId: ORG, projectId: PROJECT, slug: PROJECT, name: "Web", createdAtMs: 0 });
}

/** History loaded in bulk, 10,000 events a call, as a gateway backfills. */
function load(s, events) {
  for (let at = 0; at < events.length; at += 10_000) s.recordUsageBatch(events.slice(at, at + 10_000), { returning: "ids" });
}

const projectMonthly = { orgId: ORG, projectId: PROJECT, metric: METRIC, unit: UNIT, period: "monthly", limitQuantity: 1e15, updatedAtMs: 0 };
const projectDaily = { orgId: ORG, projectId: PROJECT, metric: METRIC, unit: UNIT, period: "daily", limitQuantity: 1e15, updatedAtMs: 0 };
const orgMonthly = { orgId: ORG, metric: METRIC, unit: UNIT, period: "monthly", limitQuantity: 1e15, updatedAtMs: 0 };
const checkInput = { orgId: ORG, projectId: PROJECT, metric: METRIC, unit: UNIT, period: "monthly", untilMs: T0 };
const SMALL = spreadOverMonth(35).map((e, i) => ({ ...e, runId: `run-${i}` }));
const LARGE = spreadOverMonth(100_000);
const DAY_HISTORY = Array.from({ length: 1_000 }, (_, i) => ({ ...event(i, T0 - DAY + 500 + i * 86_400), runId: null }));
const checkDigest = (c) => (c ? `used ${c.usedQuantity} of ${c.limitQuantity}${c.exceeded ? ", exceeded" : ""}` : "null");
const consumeDigest = (r) => `${r.allowed ? "allowed" : "denied"}; ${[...r.checks].map((c) => `${c.period} ${c.usedQuantity}`).sort().join(", ")}; event at ${r.event?.observedAtMs}`;

const ROWS = [
  {
    name: "recordUsage",
    methods: ["recordUsage"],
    setup: seedTenant,
    input: (i) => event(i, T0 + i),
    call: (s, e) => s.recordUsage(e),
    digest: (e) => `${e.quantity} at ${e.observedAtMs}, ${e.runId}, ${e.metadata?.model}`,
  },
  {
    name: "checkUsageLimit, 35 events",
    methods: ["setUsageLimit", "recordUsage", "checkUsageLimit"],
    setup: (s) => {
      seedTenant(s);
      s.setUsageLimit(projectMonthly);
      for (const e of SMALL) s.recordUsage(e);
    },
    input: () => checkInput,
    call: (s, c) => s.checkUsageLimit(c),
    expect: sum(SMALL),
    digest: checkDigest,
  },
  {
    name: "checkUsageLimit, 100k events",
    methods: ["setUsageLimit", "recordUsageBatch", "checkUsageLimit"],
    setup: (s) => {
      seedTenant(s);
      s.setUsageLimit(projectMonthly);
      load(s, LARGE);
    },
    input: () => checkInput,
    call: (s, c) => s.checkUsageLimit(c),
    expect: sum(LARGE),
    digest: checkDigest,
  },
  {
    name: "consumeUsage, 1 limit",
    methods: ["setUsageLimit", "recordUsageBatch", "consumeUsage"],
    setup: (s) => {
      seedTenant(s);
      s.setUsageLimit(projectDaily);
      load(s, DAY_HISTORY);
    },
    input: (i) => event(1_000 + i, T0 + i * 1_000),
    call: (s, e) => s.consumeUsage(e),
    digest: consumeDigest,
  },
  {
    name: "consumeUsage, 2 limits",
    methods: ["setUsageLimit", "recordUsageBatch", "consumeUsage"],
    setup: (s) => {
      seedTenant(s);
      s.setUsageLimit(projectDaily);
      s.setUsageLimit(orgMonthly);
      load(s, DAY_HISTORY);
    },
    input: (i) => event(1_000 + i, T0 + i * 1_000),
    call: (s, e) => s.consumeUsage(e),
    digest: consumeDigest,
  },
  {
    name: "createOrg",
    methods: ["createOrg"],
    setup: () => {},
    input: (i) => ({ orgId: `org-${i}`, slug: `org-${i}`, name: `Org ${i}`, createdAtMs: T0 + i }),
    call: (s, o) => s.createOrg(o),
    digest: (o) => `${o.orgId} ${o.slug} ${o.name} ${o.createdAtMs}`,
  },
  {
    name: "recordUsageBatch ×1,000 (µs per batch)",
    methods: ["recordUsageBatch"],
    setup: seedTenant,
    input: (b) => Array.from({ length: 1_000 }, (_, k) => event(b * 1_000 + k, T0 + b * 1_000 + k)),
    call: (s, batch) => s.recordUsageBatch(batch, { returning: "ids" }),
    digest: (r) => `${r.count ?? r.length} events, ids ${r.ids ? r.ids[r.ids.length - 1] - r.ids[0] + 1 : "?"} apart`,
    warmMin: 2,
  },
];

// Fresh stores (Node): each call opens a store, creates an org and closes it.
const FRESH_ORG = { orgId: "org-fresh", slug: "fresh", name: "Fresh", createdAtMs: T0 };
const FRESH = isBun
  ? []
  : [
      {
        name: "new ControlPlaneStore(\":memory:\") + createOrg + close",
        methods: ["createOrg"],
        call: () => {
          const s = new ControlPlaneStore(":memory:");
          const org = s.createOrg(FRESH_ORG);
          s.close();
          return org;
        },
      },
      {
        name: "fresh better-sqlite3 :memory: handle + store + createOrg + close",
        methods: ["createOrg"],
        call: () => {
          const db = new Handle(":memory:");
          const s = new ControlPlaneStore(db);
          const org = s.createOrg(FRESH_ORG);
          s.close();
          db.close();
          return org;
        },
      },
    ].map((r) => ({ ...r, setup: () => {}, input: () => null, call: (_s, _i) => r.call(), digest: (o) => `${o.orgId} ${o.slug}`, fresh: true }));

// ---------------------------------------------------------------------------------------

/** The methods a store of this build has (an in-memory one, opened once to look). */
function methodsOfBuild() {
  const s = new ControlPlaneStore(":memory:");
  try {
    const names = new Set();
    for (const m of ["recordUsage", "recordUsageBatch", "checkUsageLimit", "consumeUsage", "createOrg", "createProject", "setUsageLimit"]) {
      if (typeof s[m] === "function") names.add(m);
    }
    return names;
  } finally {
    s.close();
  }
}

function timeCalls(s, row, from, count) {
  const inputs = Array.from({ length: count }, (_, k) => row.input(from + k));
  let last;
  const cpuStart = threadCpu();
  const start = now();
  for (let k = 0; k < count; k++) last = row.call(s, inputs[k]);
  const ms = now() - start;
  const cpuEnd = threadCpu();
  return { ms, cpuMs: cpuStart === null ? null : cpuEnd - cpuStart, last };
}

const median = (xs) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

/**
 * `n` timed calls (inputs built first) in SLICES equal slices, each timed alone: the
 * median slice's µs per call, by either clock, is the row's figure in this process (a
 * burst of another process's work on the machine spoils a slice, not the row).
 */
function timeSlices(s, row, from, n) {
  const inputs = Array.from({ length: n }, (_, k) => row.input(from + k));
  const slices = [];
  let last;
  for (let c = 0; c < SLICES; c++) {
    const lo = Math.floor((c * n) / SLICES);
    const hi = Math.floor(((c + 1) * n) / SLICES);
    if (hi === lo) continue;
    const cpuStart = threadCpu();
    const start = now();
    for (let k = lo; k < hi; k++) last = row.call(s, inputs[k]);
    const ms = now() - start;
    const cpuEnd = threadCpu();
    slices.push({ calls: hi - lo, ms, cpuMs: cpuStart === null ? null : cpuEnd - cpuStart });
  }
  const total = (f) => slices.reduce((a, x) => a + x[f], 0);
  return {
    us: median(slices.map((x) => (x.ms * 1_000) / x.calls)),
    cpuUs: slices.some((x) => x.cpuMs === null) ? null : median(slices.map((x) => (x.cpuMs * 1_000) / x.calls)),
    meanUs: (total("ms") * 1_000) / n,
    meanCpuUs: slices.some((x) => x.cpuMs === null) ? null : (total("cpuMs") * 1_000) / n,
    spanMs: total("ms"),
    last,
  };
}

function runRow(pathName, open, row, methods) {
  const key = `${pathName}|${row.name}`;
  const base = { key, path: pathName, call: row.name };
  const lacking = row.methods.concat(row.fresh ? [] : ["createOrg", "createProject"]).filter((m) => !methods.has(m));
  if (lacking.length) return { ...base, skipped: `this build has no ${[...new Set(lacking)].join(", ")}` };
  collect();
  let opened;
  try {
    opened = open();
    const s = opened.store;
    row.setup(s);
    let n;
    let ms = 0;
    let cpuMs = 0;
    let last;
    let warm;
    if (MODE === "calibrate") {
      warm = row.warmMin ?? 5;
      timeCalls(s, row, 0, warm);
      n = 0;
      for (let chunk = 1; ms < CALIBRATE_SECONDS * 1_000; chunk = Math.min(chunk * 2, 4_096)) {
        const t = timeCalls(s, row, warm + n, chunk);
        ms += t.ms;
        cpuMs = cpuMs === null || t.cpuMs === null ? null : cpuMs + t.cpuMs;
        n += chunk;
        last = t.last;
      }
    } else {
      n = COUNTS[key];
      if (!n) return { ...base, skipped: "no count for this row (it failed in calibration)" };
      warm = Math.min(500, Math.max(row.warmMin ?? 10, Math.ceil(n / 10)));
      timeCalls(s, row, 0, warm);
      const t = timeSlices(s, row, warm, n);
      if (row.expect !== undefined && t.last?.usedQuantity !== row.expect) throw new Error(`usedQuantity ${t.last?.usedQuantity}, expected ${row.expect}`);
      return { ...base, n, warm, us: t.us, cpuUs: t.cpuUs, meanUs: t.meanUs, meanCpuUs: t.meanCpuUs, spanMs: t.spanMs, check: row.digest(t.last) };
    }
    if (row.expect !== undefined && last?.usedQuantity !== row.expect) throw new Error(`usedQuantity ${last?.usedQuantity}, expected ${row.expect}`);
    return { ...base, n, warm, us: (ms * 1_000) / n, cpuUs: cpuMs === null ? null : (cpuMs * 1_000) / n, spanMs: ms, check: row.digest(last), minCalls: row.fresh || row.warmMin ? 10 : 50 };
  } catch (error) {
    return { ...base, error: String(error?.message ?? error).split("\n")[0] };
  } finally {
    opened?.close();
  }
}

function main() {
  const loaded = loadedBinaries();
  const methods = methodsOfBuild();
  const settings = handleSettings();
  const rows = [];
  const wanted = (pathName, row) => {
    if (MODE === "list") rows.push({ key: `${pathName}|${row.name}`, path: pathName, call: row.name });
    return MODE !== "list" && (!ONLY_ROWS || ONLY_ROWS.has(`${pathName}|${row.name}`));
  };
  for (const p of PATHS) for (const row of ROWS) if (wanted(p.name, row)) rows.push(runRow(p.name, p.open, row, methods));
  for (const row of FRESH) if (wanted("fresh store", row)) rows.push(runRow("fresh store", () => ({ store: null, close() {} }), row, methods));
  const runtime = isBun ? `Bun ${Bun.version}` : `Node ${process.version}`;
  const version = isBun ? "" : ` ${require("better-sqlite3/package.json").version}`;
  const sync = HANDLE_SYNC ? `synchronous=${settings.synchronous} (AB_HANDLE_SYNC)` : `synchronous=${settings.synchronous} (the handle's default)`;
  const environment = `${handleName}${version} (SQLite ${settings.sqlite}); its WAL files: journal_mode=${settings.journalMode}, ${sync}; our own connection's files: the store's own settings`;
  fs.writeFileSync(process.env.AB_OUT, JSON.stringify({ runtime, environment, loaded, rows }));
}

try {
  main();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
