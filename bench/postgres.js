"use strict";
// The PostgreSQL bench: recordUsage, consumeUsage (2 limits) and checkUsageLimit through
// our async store (ControlPlaneStore.connect("postgres://...")) against the documented
// store's statements (bench/documented-store.js) ported to PostgreSQL and run with `pg`
// (node-postgres), the way a gateway on PostgreSQL would run them: one statement at a
// time in autocommit, the usage row read back by id, checks summing raw rows.
// `node bench/postgres.js` (the last step of `npm run bench`).
//
// One server (a throwaway one from __tests__/pg/server.js, fsync off; or BENCH_PG_URL),
// both sides on the same tables (ours creates the schema; the documented statements run
// on it, as the SQLite benches run them on our files). For each call, each side and 1, 2
// and 4 client processes: N forked processes (this file, role "child"), each with its
// own store or pg.Pool of the same size (POOL), make their warm-up calls, wait at a
// barrier, then make CALLS calls one at a time (one in flight per process), timing each
// (process.hrtime.bigint, CLOCK_MONOTONIC: the same clock in every process here). The
// parent prints ops/s = all calls ÷ the whole run's span (first process's first call to
// the last process's last), p50 and p99 of every call's latency, and how much of the span
// all N processes were running at once (the overlap). Each (call, clients) pair runs
// ROUNDS rounds, the side going first alternating, each round on a fresh pair of orgs
// seeded the same (a project; its daily limit and the org's monthly limit, 1e15 so every
// call is allowed; 1,000 events in the day before T0); the figures are the rounds'
// medians.
//
// Like with like: the same inputs, built the same on both sides; the documented side's
// statements are named (prepared once per connection, as better-sqlite3's prepare) and
// return what the documented store returns (the row read back by id, int8 as numbers);
// its consumeUsage is what a gateway does today: checkUsageLimit for both limits, then
// recordUsage if both allow (not atomic). After every round the two orgs are checked
// (both limits, by our store and by the documented statements, on both orgs): all must
// agree on usedQuantity, and a check's result must equal the seeded sum, or this throws.
//
// Checks stay flat: one org gets ~1k, then ~100k, then 1M events spread over its 30-day
// window (INSERT ... SELECT FROM generate_series, ids from our trigger; the load and our
// fold of it timed), and checkUsageLimit's p50 is measured at each size, ours against
// the documented SUM, in this process (one client).
// Prints figures and ratios; asserts nothing but the agreement; exits 0.
// BENCH_SCALE=0.1 shrinks every count (1M events → 100k); BENCH_ROUNDS overrides the rounds;
// BENCH_ONLY=flat runs the growing-window checks alone.

const { fork } = require("node:child_process");
const os = require("node:os");
const path = require("node:path");
const pg = require("pg");
const { ControlPlaneStore } = require("..");
const { DocumentedPg } = require("./documented-pg.js"); // also reads int8 as numbers

const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const POOL = 4;
const CLIENTS = [1, 2, 4];
const scaled = (n, min = 2) => Math.max(min, Math.round(n * SCALE));

const DAY = 86_400_000;
const MONTH = 30 * DAY;
const T0 = 400 * DAY; // the "now" of the bench: every window ends near it
const METRIC = "llm.tokens";
const UNIT = "token";
const PROJECT = "web";
const HISTORY = 1_000; // events in the day before T0, in every org of the throughput rows

// ---------------------------------------------------------------------------------------
// The calls, the same inputs on both sides.

const limitsOf = (orgId) => [
  { orgId, projectId: PROJECT, metric: METRIC, unit: UNIT, period: "daily", limitQuantity: 1e15 },
  { orgId, projectId: null, metric: METRIC, unit: UNIT, period: "monthly", limitQuantity: 1e15 },
];

/** Call `i` (warm-up ones included) of client `c` of `n`: times interleaved across clients, 1 ms apart, from T0. */
const eventOf = (orgId, i, c, n) => {
  const k = i * n + c;
  return { orgId, projectId: PROJECT, runId: `run-${c}-${i}`, metric: METRIC, unit: UNIT, quantity: 1 + (k % 7), observedAtMs: T0 + 1 + k, metadata: { model: "m" } };
};

/** The seeded history: HISTORY events in the day before T0 (so in both windows of a call at T0). */
const historyOf = (orgId) =>
  Array.from({ length: HISTORY }, (_, i) => ({ orgId, projectId: PROJECT, metric: METRIC, unit: UNIT, quantity: 1 + (i % 7), observedAtMs: T0 - DAY + 500 + i * 86_000 }));
const HISTORY_SUM = historyOf("x").reduce((a, e) => a + e.quantity, 0);

const checkInputOf = (orgId) => ({ orgId, projectId: PROJECT, metric: METRIC, unit: UNIT, period: "daily", untilMs: T0 });

const OPS = {
  recordUsage: {
    calls: scaled(2_000, 20),
    warm: 20,
    note: "one event a call; both return the event recorded (the documented statements: the project's check, the insert, the row read back by id: 3 statements)",
    ours: (s, org, i, c, n) => s.recordUsage(eventOf(org, i, c, n)),
    documented: (d, org, i, c, n) => d.recordUsage(eventOf(org, i, c, n)),
    summary: (r) => ({ quantity: r.quantity }),
  },
  consumeUsage: {
    calls: scaled(500, 10),
    warm: 10,
    note: "the project's daily and the org's monthly limit; ours checks both and records atomically under its write lock; documented: checkUsageLimit for both (2 statements each), then recordUsage (3): 7 statements, not atomic",
    ours: (s, org, i, c, n) => s.consumeUsage(eventOf(org, i, c, n)),
    documented: (d, org, i, c, n) => d.consumeUsage(eventOf(org, i, c, n), limitsOf(org)),
    summary: (r) => {
      if (!r.allowed) throw new Error(`consumeUsage refused a call: ${JSON.stringify(r).slice(0, 300)}`);
      return { allowed: r.allowed, used: r.checks.map((x) => x.usedQuantity) };
    },
  },
  checkUsageLimit: {
    calls: scaled(1_000, 10),
    warm: 20,
    note: `the project's daily limit at untilMs = T0, ${HISTORY.toLocaleString("en-US")} events in its window; the same check repeated (documented: the limit, then SUM over the raw rows: 2 statements)`,
    ours: (s, org) => s.checkUsageLimit(checkInputOf(org)),
    documented: (d, org) => d.checkUsageLimit(checkInputOf(org)),
    summary: (r) => ({ usedQuantity: r.usedQuantity }),
  },
};

// ---------------------------------------------------------------------------------------
// A client process.

async function openSide(side, url) {
  if (side === "ours") {
    const store = await ControlPlaneStore.connect(url, { poolSize: POOL });
    return { store, close: () => store.close() };
  }
  const pool = new pg.Pool({ connectionString: url, max: POOL });
  return { store: new DocumentedPg(pool), close: () => pool.end() };
}

function child() {
  let state;
  process.on("message", async (msg) => {
    try {
      if (msg.type === "config") {
        const { url, side, op, org, index, clients, warm } = msg;
        const opened = await openSide(side, url);
        const call = OPS[op][side];
        for (let i = 0; i < warm; i++) await call(opened.store, org, i, index, clients);
        state = { ...msg, opened, call };
        process.send({ type: "ready" });
      } else if (msg.type === "go") {
        const { op, org, index, clients, warm, calls, opened, call } = state;
        const lat = new Float64Array(calls);
        let last;
        const start = process.hrtime.bigint();
        for (let i = 0; i < calls; i++) {
          const t = process.hrtime.bigint();
          last = await call(opened.store, org, warm + i, index, clients);
          lat[i] = Number(process.hrtime.bigint() - t) / 1_000; // µs
        }
        const end = process.hrtime.bigint();
        const summary = OPS[op].summary(last);
        await opened.close();
        process.send({ type: "done", lat: Array.from(lat), start: String(start), end: String(end), summary }, () => process.exit(0));
      }
    } catch (err) {
      process.send({ type: "error", message: err && err.stack ? err.stack : String(err) }, () => process.exit(1));
    }
  });
}

// ---------------------------------------------------------------------------------------
// The parent.

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/** N client processes of one side making one call; their figures. */
async function runClients(url, side, op, org, clients) {
  const { calls, warm } = OPS[op];
  const procs = [];
  const ready = [];
  const done = [];
  for (let index = 0; index < clients; index++) {
    const p = fork(__filename, ["child"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let onReady;
    let onDone;
    let onFail;
    ready.push(new Promise((res, rej) => ((onReady = res), (onFail = rej))));
    done.push(new Promise((res, rej) => ((onDone = res), (p.failDone = rej))));
    p.on("message", (m) => {
      if (m.type === "ready") onReady();
      else if (m.type === "done") onDone(m);
      else if (m.type === "error") {
        const e = new Error(`${side} ${op} client ${index}: ${m.message}`);
        onFail(e);
        p.failDone(e);
      }
    });
    p.on("exit", (code) => {
      if (code !== 0) {
        const e = new Error(`${side} ${op} client ${index} exited ${code}`);
        onFail(e);
        p.failDone(e);
      }
    });
    p.send({ type: "config", url, side, op, org, index, clients, warm, calls });
    procs.push(p);
  }
  let results;
  try {
    await Promise.all(ready);
    for (const p of procs) p.send({ type: "go" });
    results = await Promise.all(done);
  } catch (err) {
    for (const p of procs) if (p.exitCode === null) p.kill(); // the others would wait at the barrier for ever
    throw err;
  }
  const starts = results.map((r) => BigInt(r.start));
  const ends = results.map((r) => BigInt(r.end));
  const min = (xs) => xs.reduce((a, b) => (b < a ? b : a));
  const max = (xs) => xs.reduce((a, b) => (b > a ? b : a));
  const spanNs = Number(max(ends) - min(starts));
  const overlapNs = Math.max(0, Number(min(ends) - max(starts)));
  const lat = results.flatMap((r) => r.lat).sort((a, b) => a - b);
  return {
    opsPerSec: lat.length / (spanNs / 1e9),
    p50: pct(lat, 0.5),
    p99: pct(lat, 0.99),
    overlap: overlapNs / spanNs,
    spanMs: spanNs / 1e6,
    calls: lat.length,
    summaries: results.map((r) => r.summary),
  };
}

async function seedOrg(ours, orgId) {
  await ours.createOrg({ orgId, slug: orgId, name: orgId });
  await ours.createProject({ orgId, projectId: PROJECT, slug: PROJECT, name: "Web" });
  for (const l of limitsOf(orgId)) await ours.setUsageLimit(l);
  await ours.recordUsageBatch(historyOf(orgId), { returning: "ids" });
}

/** Both limits of both orgs, by our store and by the documented statements: all must agree. */
async function agreeAfter(ours, doc, orgs, untilMs, what) {
  const seen = [];
  for (const org of orgs) {
    for (const l of limitsOf(org)) {
      const input = { orgId: org, projectId: l.projectId, metric: METRIC, unit: UNIT, period: l.period, untilMs };
      const a = await ours.checkUsageLimit(input);
      const b = await doc.checkUsageLimit(input);
      seen.push({ org, period: l.period, ours: a.usedQuantity, documented: b.usedQuantity });
    }
  }
  for (const period of ["daily", "monthly"]) {
    const values = seen.filter((x) => x.period === period).flatMap((x) => [x.ours, x.documented]);
    if (values.some((v) => v !== values[0])) throw new Error(`${what}: the sides disagree on usedQuantity: ${JSON.stringify(seen)}`);
  }
  return seen;
}

const fmt = (x, d = 2) => (x >= 1000 ? Math.round(x).toLocaleString("en-US") : x >= 100 ? x.toFixed(0) : x.toFixed(d));
const ms = (us) => fmt(us / 1000, 3);

function printTable(header, lines) {
  const widths = header.map((h, c) => Math.max(h.length, ...lines.filter(Array.isArray).map((l) => String(l[c]).length)));
  const line = (cells) => cells.map((x, c) => (c > 2 ? String(x).padStart(widths[c]) : String(x).padEnd(widths[c]))).join("  ").trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  console.log(line(header));
  console.log(rule);
  for (const l of lines) console.log(Array.isArray(l) ? line(l) : rule);
}

/** The flat-checks part: one org, its window growing to 1M events. */
async function flatChecks(ours, doc, pool, run) {
  const org = `big-${run}`;
  await ours.createOrg({ orgId: org, slug: org, name: org });
  await ours.createProject({ orgId: org, projectId: PROJECT, slug: PROJECT, name: "Web" });
  const limit = { orgId: org, projectId: PROJECT, metric: METRIC, unit: UNIT, period: "monthly", limitQuantity: 1e15 };
  await ours.setUsageLimit(limit);
  const input = { orgId: org, projectId: PROJECT, metric: METRIC, unit: UNIT, period: "monthly", untilMs: T0 };
  const sizes = [1_000, scaled(100_000, 1_000), scaled(1_000_000, 1_000)];
  const out = [];
  let have = 0;
  let expected = 0;
  for (const size of sizes) {
    const add = size - have;
    // `add` events spread evenly over the 30 days before T0 (never on the window's edge),
    // quantities 1..7, in one transaction under our writers' lock: ids drawn from the
    // table's sequence (schema 4 and later), as our writers' are.
    let at = performance.now();
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock(7165066978584914945)"); // our writers' lock (docs/postgres.md)
      await client.query(
        `INSERT INTO _smithers_cp_usage_events (org_id, project_id, metric, quantity, unit, observed_at_ms)
         SELECT $1, $2, $3, 1 + (g % 7), $4, $5::bigint - $6::bigint + 1 + floor((g + 0.5) * ($6::bigint - 1) / $7)::bigint
         FROM generate_series(0, $7 - 1) AS g`,
        [org, PROJECT, METRIC, UNIT, T0, MONTH, add],
      );
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK");
      throw err;
    } finally {
      client.release();
    }
    await pool.query("VACUUM ANALYZE _smithers_cp_usage_events");
    const loadMs = performance.now() - at;
    for (let g = 0; g < add; g++) expected += 1 + (g % 7);
    have = size;
    // Our rollups take the new tail: the first read of ours finds it and folds it in
    // (docs/rollups.md: the bulk fold); checkRollups then compares them with the raw
    // events (a pass over every event) and would rebuild them if they disagreed.
    at = performance.now();
    const first = await ours.checkUsageLimit(input);
    const foldMs = performance.now() - at;
    at = performance.now();
    const rollups = await ours.checkRollups({ repair: true });
    const checkRollupsMs = performance.now() - at;
    const d0 = await doc.checkUsageLimit(input);
    if (first.usedQuantity !== expected || d0.usedQuantity !== expected) {
      throw new Error(`checks at ${size} events disagree: ours ${first.usedQuantity}, documented ${d0.usedQuantity}, expected ${expected}`);
    }
    // Rounds, the side going first alternating: each side's calls for ~0.5 s (at least 5,
    // at most 300), p50 of the round; the rounds' median.
    const p50s = { ours: [], documented: [] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? ["ours", "documented"] : ["documented", "ours"];
      for (const side of order) {
        const s = side === "ours" ? ours : doc;
        const lat = [];
        const began = performance.now();
        while (lat.length < 300 && (lat.length < 5 || performance.now() - began < 500)) {
          const t = process.hrtime.bigint();
          const res = await s.checkUsageLimit(input);
          lat.push(Number(process.hrtime.bigint() - t) / 1000);
          if (res.usedQuantity !== expected) throw new Error(`${side} check at ${size} events: ${res.usedQuantity} != ${expected}`);
        }
        p50s[side].push(median(lat));
      }
    }
    out.push({ size, loadMs, foldMs, checkRollupsMs, rollups, ours: median(p50s.ours), documented: median(p50s.documented) });
    console.error(`  flat checks: ${size.toLocaleString("en-US")} events done`);
  }
  return out;
}

async function parent() {
  const started = performance.now();
  let server = null;
  let url = process.env.BENCH_PG_URL;
  if (!url) {
    server = require("../__tests__/pg/server.js").startServer({ database: "cp_bench" });
    url = server.url;
  }
  const run = Date.now().toString(36); // org ids unique to this run (BENCH_PG_URL may be reused)
  const ours = await ControlPlaneStore.connect(url, { poolSize: POOL });
  const pool = new pg.Pool({ connectionString: url, max: POOL });
  const doc = new DocumentedPg(pool);
  try {
    const [{ version }] = (await pool.query("SELECT version()")).rows;
    console.log(`postgres bench: Node ${process.version}, ${os.platform()}-${os.arch()}, ${os.cpus().length} cores; ${version.split(",")[0]}${server ? " (throwaway server: fsync off, synchronous_commit off, shared_buffers 32MB)" : " (BENCH_PG_URL)"}; pg ${require("pg/package.json").version}`);
    console.log(`Each client process: its own store or pg.Pool of ${POOL} connections, one call in flight; ${ROUNDS} rounds per row (fresh orgs, the side going first alternating), the rounds' medians${SCALE !== 1 ? `; BENCH_SCALE=${SCALE}` : ""}`);
    console.log(`ops/s: all processes' calls ÷ the whole run's span (first call's start to last call's end); p50/p99: every call's latency, ms; overlap: the share of the span all processes were running at once; ratios: ours ÷ documented (ops/s: higher is better for ours; p50: lower is)`);
    console.log("");

    const lines = [];
    for (const op of process.env.BENCH_ONLY === "flat" ? [] : Object.keys(OPS)) {
      if (lines.length) lines.push(null);
      for (const clients of CLIENTS) {
        const per = { ours: [], documented: [] };
        for (let r = 0; r < ROUNDS; r++) {
          const orgs = { ours: `${op.toLowerCase()}-${clients}-${r}-o-${run}`, documented: `${op.toLowerCase()}-${clients}-${r}-d-${run}` };
          for (const side of ["ours", "documented"]) await seedOrg(ours, orgs[side]);
          await ours.checkUsageLimit(checkInputOf(orgs.ours)); // folds the seeding's tail, untimed
          const order = r % 2 === 0 ? ["ours", "documented"] : ["documented", "ours"];
          const got = {};
          for (const side of order) {
            got[side] = await runClients(url, side, op, orgs[side], clients);
            per[side].push(got[side]);
            await ours.checkUsageLimit(checkInputOf(orgs.ours)); // folds the other side's tail, untimed
          }
          if (op === "checkUsageLimit") {
            const used = [...got.ours.summaries, ...got.documented.summaries].map((s) => s.usedQuantity);
            if (used.some((u) => u !== HISTORY_SUM)) throw new Error(`checkUsageLimit: usedQuantity ${JSON.stringify(used)}, expected ${HISTORY_SUM} on both sides`);
          }
          await agreeAfter(ours, doc, [orgs.ours, orgs.documented], T0 + DAY, `${op}, ${clients} clients, round ${r}`);
        }
        const m = (side, k) => median(per[side].map((x) => x[k]));
        for (const side of ["ours", "documented"]) {
          lines.push([
            side === "ours" ? op : "",
            side === "ours" ? String(clients) : "",
            side,
            per[side][0].calls.toLocaleString("en-US"),
            fmt(m(side, "opsPerSec"), 0),
            ms(m(side, "p50")),
            ms(m(side, "p99")),
            `${Math.round(m(side, "overlap") * 100)}%`,
            side === "ours" ? `${(m("ours", "opsPerSec") / m("documented", "opsPerSec")).toFixed(2)}` : "",
            side === "ours" ? `${(m("ours", "p50") / m("documented", "p50")).toFixed(2)}` : "",
          ]);
        }
        console.error(`  ${op}, ${clients} client(s) done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
      }
    }
    if (lines.length) printTable(["call", "clients", "side", "calls", "ops/s", "p50 ms", "p99 ms", "overlap", "ops/s ours÷doc", "p50 ours÷doc"], lines);
    console.log("");
    for (const [op, o] of Object.entries(OPS)) console.log(`- ${op}: ${o.note}; ${o.warm} warm-up calls per process before the barrier.`);
    console.log(`- Agreement: after every round both orgs' daily and monthly usedQuantity, by our store and by the documented statements, are equal (else this throws); every check returned ${HISTORY_SUM.toLocaleString("en-US")}.`);

    console.log("");
    console.log("checkUsageLimit as the window grows (one client: this process; the project's monthly limit, the events spread over its 30 days; p50 of a round's calls, the median of the rounds):");
    const flat = await flatChecks(ours, doc, pool, run);
    const flatLines = flat.map((f) => [
      f.size.toLocaleString("en-US"),
      "",
      "",
      fmt(f.loadMs / 1000, 2),
      fmt(f.foldMs / 1000, 2),
      fmt(f.checkRollupsMs / 1000, 2),
      ms(f.ours),
      ms(f.documented),
      (f.ours / f.documented).toFixed(3),
    ]);
    printTable(["events in window", "", "", "load s (INSERT…SELECT)", "ours' first check s (folds the tail)", "checkRollups s", "ours p50 ms", "documented p50 ms", "ours÷doc"], flatLines);
    const total = flat[flat.length - 1];
    const loadAll = flat.reduce((a, f) => a + f.loadMs, 0) / 1000;
    const foldAll = flat.reduce((a, f) => a + f.foldMs, 0) / 1000;
    console.log(`- Loaded in steps (to 1,000, to ${flat[1].size.toLocaleString("en-US")}, to ${total.size.toLocaleString("en-US")} events): "load s" is a step's one transaction (INSERT … SELECT FROM generate_series, ids numbered as our trigger numbers them) and VACUUM ANALYZE; ${loadAll.toFixed(1)} s in all. Our rollups took the tail on our first check after each step (the bulk fold): ${foldAll.toFixed(1)} s in all. checkRollups({ repair: true }) after the last step: ${JSON.stringify(total.rollups)}. Every check of both sides returned the loaded sum.`);
    console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
  } finally {
    await ours.close();
    await pool.end();
    if (server) server.stop();
  }
}

if (process.argv[2] === "child") {
  child();
} else {
  parent().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
