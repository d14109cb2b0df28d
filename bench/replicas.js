"use strict";
// The scale-out bench: the PostgreSQL store as a deployment of several gateway replicas
// sees it. `node bench/replicas.js` (`npm run bench:replicas` builds first). Prints
// figures; asserts no timing. A call that fails (BUSY after lockTimeoutMs, say) is counted
// and its error printed, not timed; a result of the wrong shape, or consumeUsage refusing
// (its limits are never reached), stops the bench.
//
// - A latency proxy (this process, node:net) listens on 127.0.0.1 and forwards to the
//   server, holding every chunk BENCH_DELAY_MS (2) in each direction, in order per
//   direction: a round trip costs at least 2 × BENCH_DELAY_MS more, as between machines.
//   Per connection it counts turns: each time the client starts sending after the server
//   last sent (or first sends). The turns made during the measured loops ÷ the calls made
//   are the round trips per call.
// - The addon: a copy of the built file, made at the start, for the parent and every
//   replica (a build finishing mid-run would otherwise mix two builds).
// - One server: a throwaway one from __tests__/pg/server.js (fsync off; printed) and a
//   fresh database on it, or BENCH_PG_URL.
// - Replicas: N forked processes (this file, role "replica"), each with
//   `await ControlPlaneStore.connect(urlThroughProxy, { poolSize: 1 })` (or, for the
//   baseline, a pg.Pool of 1 running the documented store's statements,
//   bench/documented-pg.js), each making warm-up calls, then, from one wall-clock instant
//   (the barrier's clock, __tests__/workers/barrier.js), one call at a time for
//   BENCH_SECONDS. calls/s = every replica's calls ÷ (the last call's end − the start).
// - Placements: every replica on an org of its own, or all on one org. Each run has fresh
//   orgs, each with a project `web`, its daily limit and the org's monthly limit (1e15:
//   consumeUsage checks both and never refuses), no org quota. With one replica both
//   placements are the same run: it is made once and shown in both.
// - The baseline: the documented store's statements, one at a time in autocommit, through
//   the same proxy, on the same tables: recordUsage 3 statements, consumeUsage 7 (both
//   limits' checks, then recordUsage; not atomic), recordAuditEvent 2 (insert, read back),
//   createProject and createTeam 2 each (the row, then its audit event; not atomic).
//
// Env: BENCH_SECONDS (5) per run; BENCH_REPLICAS ("1,2,4,8"); BENCH_OPS (a comma list of
// recordUsage, consumeUsage, recordAuditEvent, createProject, createTeam; all);
// BENCH_DELAY_MS (2); BENCH_PG_URL (a server of yours instead of a throwaway one).
// A full run (5 s, 1,2,4,8, all five calls): 70 runs, 8 minutes on 2 busy cores.
// Quick: BENCH_SECONDS=1 BENCH_REPLICAS=1,8: 30 runs, under 2 minutes.

const { fork } = require("node:child_process");
const net = require("node:net");
const os = require("node:os");
const { now } = require("../__tests__/workers/barrier.js");

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const REPLICAS = (process.env.BENCH_REPLICAS ?? "1,2,4,8").split(",").map((x) => Number(x.trim()));
const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? 2);
const ALL_OPS = ["recordUsage", "consumeUsage", "recordAuditEvent", "createProject", "createTeam"];
const OPS = process.env.BENCH_OPS ? process.env.BENCH_OPS.split(",").map((x) => x.trim()) : ALL_OPS;
const WARM = 5; // warm-up calls per replica before the barrier
const METRIC = "llm.tokens";
const UNIT = "token";
const PROJECT = "web";
const LIMIT = 1e15;

for (const op of OPS) if (!ALL_OPS.includes(op)) throw new Error(`BENCH_OPS: unknown call ${op} (one of ${ALL_OPS.join(", ")})`);
if (!(SECONDS > 0)) throw new Error("BENCH_SECONDS must be a positive number");
if (!(DELAY_MS >= 0)) throw new Error("BENCH_DELAY_MS must be 0 or more");
if (REPLICAS.some((n) => !Number.isInteger(n) || n < 1)) throw new Error("BENCH_REPLICAS: a comma list of positive integers");

// ---------------------------------------------------------------------------------------
// The calls, the same inputs on both sides. Replica `r`'s call `i` on org `orgId`.

const limitsOf = (orgId) => [
  { orgId, projectId: PROJECT, metric: METRIC, unit: UNIT, period: "daily", limitQuantity: LIMIT },
  { orgId, projectId: null, metric: METRIC, unit: UNIT, period: "monthly", limitQuantity: LIMIT },
];

const eventOf = (orgId, r, i) => ({
  orgId,
  projectId: PROJECT,
  runId: `run-${r}-${i}`,
  metric: METRIC,
  unit: UNIT,
  quantity: 1 + (i % 7),
  observedAtMs: Date.now(),
  metadata: { model: "m" },
});

const CALLS = {
  recordUsage: {
    ours: (s, orgId, r, i) => s.recordUsage(eventOf(orgId, r, i)),
    documented: (d, orgId, r, i) => d.recordUsage(eventOf(orgId, r, i)),
    check: (res) => typeof res.id === "number",
  },
  consumeUsage: {
    ours: (s, orgId, r, i) => s.consumeUsage(eventOf(orgId, r, i)),
    documented: (d, orgId, r, i) => d.consumeUsage(eventOf(orgId, r, i), limitsOf(orgId)),
    check: (res) => res.allowed === true && res.checks.length === 2,
  },
  recordAuditEvent: {
    ours: (s, orgId, r, i) => s.recordAuditEvent(auditOf(orgId, r, i)),
    documented: (d, orgId, r, i) => d.recordAuditEvent(auditOf(orgId, r, i)),
    check: (res) => typeof res.id === "number",
  },
  createProject: {
    ours: (s, orgId, r, i) => s.createProject(projectOf(orgId, r, i)),
    documented: (d, orgId, r, i) => d.createProject(projectOf(orgId, r, i)),
    check: (res) => typeof res.projectId === "string",
  },
  createTeam: {
    ours: (s, orgId, r, i) => s.createTeam(teamOf(orgId, r, i)),
    documented: (d, orgId, r, i) => d.createTeam(teamOf(orgId, r, i)),
    check: (res) => typeof res.teamId === "string",
  },
};

/** The documented side's statements a call, each one round trip. */
const STATEMENTS = { recordUsage: 3, consumeUsage: 7, recordAuditEvent: 2, createProject: 2, createTeam: 2 };

function auditOf(orgId, r, i) {
  return { orgId, actorId: `replica-${r}`, action: "run.start", targetType: "run", targetId: `run-${r}-${i}`, occurredAtMs: Date.now(), metadata: { n: i } };
}
function projectOf(orgId, r, i) {
  return { orgId, projectId: `p${r}-${i}`, slug: `p${r}-${i}`, name: `Project ${r}/${i}`, createdAtMs: Date.now() };
}
function teamOf(orgId, r, i) {
  return { orgId, teamId: `t${r}-${i}`, slug: `t${r}-${i}`, name: `Team ${r}/${i}`, createdAtMs: Date.now() };
}

// ---------------------------------------------------------------------------------------
// A replica process.

async function openSide(side, url) {
  if (side === "ours") {
    const { ControlPlaneStore } = require("..");
    const store = await ControlPlaneStore.connect(url, { poolSize: 1 });
    return { store, close: () => store.close() };
  }
  const pg = require("pg");
  const { DocumentedPg } = require("./documented-pg.js");
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return { store: new DocumentedPg(pool), close: () => pool.end() };
}

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

function replica() {
  let state;
  process.on("message", async (msg) => {
    try {
      if (msg.type === "config") {
        const { url, side, op, orgId, index } = msg;
        const opened = await openSide(side, url);
        const call = CALLS[op][side];
        for (let i = 0; i < WARM; i++) {
          const res = await call(opened.store, orgId, index, i);
          if (!CALLS[op].check(res)) throw new Error(`${op}: unexpected result ${JSON.stringify(res).slice(0, 300)}`);
        }
        state = { ...msg, opened, call };
        process.send({ type: "ready" });
      } else if (msg.type === "go") {
        const { op, orgId, index, opened, call } = state;
        const { startAt, endAt } = msg;
        // Sleep to just before the instant, then spin to it (a timer alone would wake each
        // replica at a different moment).
        if (startAt - now() > 20) await sleep(startAt - now() - 15);
        while (now() < startAt) {
          // spin
        }
        const lat = [];
        const failed = {}; // "CODE: message" → [count, ms in all]: a call that failed is counted, not timed
        let i = WARM;
        while (now() < endAt) {
          const t = process.hrtime.bigint();
          let res;
          try {
            res = await call(opened.store, orgId, index, i++);
          } catch (err) {
            const key = `${err.code ?? err.name}: ${String(err.message).split("\n")[0].slice(0, 160)}`;
            const f = (failed[key] ??= [0, 0]);
            f[0]++;
            f[1] += Number(process.hrtime.bigint() - t) / 1e6;
            continue;
          }
          lat.push(Number(process.hrtime.bigint() - t) / 1e6); // ms
          if (!CALLS[op].check(res)) throw new Error(`${op}: unexpected result ${JSON.stringify(res).slice(0, 300)}`);
        }
        // Report, then stay idle until told to go: closing sends on the connection, and
        // the parent counts the proxy's turns once every replica is done.
        process.send({ type: "done", lat, failed, end: now() });
      } else if (msg.type === "exit") {
        await state.opened.close();
        process.exit(0);
      }
    } catch (err) {
      process.send({ type: "error", message: err && err.stack ? err.stack : String(err) }, () => process.exit(1));
    }
  });
}

// ---------------------------------------------------------------------------------------
// The latency proxy.

/**
 * Listens on 127.0.0.1 (a free port), forwarding each connection to `target`, every chunk
 * held `delayMs` in each direction (never less; a late timer makes it more, measured in
 * `stats.heldMs`), in order per direction. `stats.turns` counts, over every connection,
 * each time the client starts sending after the server last sent, or sends first.
 */
function startProxy(target, delayMs) {
  const stats = { turns: 0, chunks: 0, heldMs: 0, connections: 0 };
  const sockets = new Set();
  const server = net.createServer((client) => {
    stats.connections++;
    const upstream = net.connect({ host: target.host, port: target.port });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    }
    let last = null; // "c2s" or "s2c": which side sent last on this connection
    const relay = (from, to, dir) => {
      const queue = []; // { at, due, chunk } or { at, due, end: true }, in arrival order
      let timer = null;
      const flush = () => {
        timer = null;
        const t = performance.now();
        while (queue.length > 0 && queue[0].due <= t) {
          const item = queue.shift();
          if (item.end) {
            to.end();
          } else {
            stats.chunks++;
            stats.heldMs += t - item.at;
            if (!to.destroyed) to.write(item.chunk);
          }
        }
        arm();
      };
      const arm = () => {
        if (timer === null && queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0].due - performance.now()));
      };
      from.on("data", (chunk) => {
        if (dir === "c2s" && last !== "c2s") stats.turns++;
        last = dir;
        const at = performance.now();
        queue.push({ at, due: at + delayMs, chunk });
        arm();
      });
      from.on("end", () => {
        const at = performance.now();
        queue.push({ at, due: at + delayMs, end: true });
        arm();
      });
      from.on("error", () => {});
      from.on("close", (hadError) => {
        if (hadError) to.destroy();
      });
    };
    relay(client, upstream, "c2s");
    relay(upstream, client, "s2c");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: server.address().port,
        stats,
        snapshot: () => ({ ...stats }),
        close: () => {
          for (const s of sockets) s.destroy();
          return new Promise((res) => server.close(() => res()));
        },
      });
    });
  });
}

// ---------------------------------------------------------------------------------------
// The parent.

const pct = (sorted, p) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]);

/** N replicas of one side making one call, `orgOf(r)` the org of replica r; their figures. */
async function runReplicas(proxy, url, side, op, orgOf, n) {
  const procs = [];
  const ready = [];
  const done = [];
  const exited = [];
  for (let index = 0; index < n; index++) {
    const p = fork(__filename, ["replica"], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let onReady;
    let onDone;
    let onFail;
    let failDone;
    ready.push(new Promise((res, rej) => ((onReady = res), (onFail = rej))));
    done.push(new Promise((res, rej) => ((onDone = res), (failDone = rej))));
    exited.push(new Promise((res) => p.on("exit", res)));
    const fail = (e) => {
      onFail(e);
      failDone(e);
    };
    p.on("message", (m) => {
      if (m.type === "ready") onReady();
      else if (m.type === "done") onDone(m);
      else if (m.type === "error") fail(new Error(`${side} ${op}, replica ${index} of ${n}: ${m.message}`));
    });
    p.on("exit", (code) => {
      if (code !== 0) fail(new Error(`${side} ${op}, replica ${index} of ${n} exited ${code}`));
    });
    p.send({ type: "config", url, side, op, orgId: orgOf(index), index });
    procs.push(p);
  }
  for (const d of done) d.catch(() => {}); // a failure before the start rejects `ready` (awaited) and `done` too
  let results;
  let before;
  let after;
  let startAt;
  try {
    await Promise.all(ready);
    before = proxy.snapshot(); // every replica idle: its warm-up calls are behind it
    startAt = now() + 100;
    const endAt = startAt + SECONDS * 1000;
    for (const p of procs) p.send({ type: "go", startAt, endAt });
    results = await Promise.all(done);
    after = proxy.snapshot(); // every replica idle again, its store still open
  } catch (err) {
    for (const p of procs) if (p.exitCode === null) p.kill();
    throw err;
  }
  for (const p of procs) p.send({ type: "exit" });
  await Promise.all(exited);
  const lat = results.flatMap((r) => r.lat).sort((a, b) => a - b);
  const failed = {};
  for (const r of results) {
    for (const [key, [count, ms]] of Object.entries(r.failed)) {
      const f = (failed[key] ??= [0, 0]);
      f[0] += count;
      f[1] += ms;
    }
  }
  const failures = Object.values(failed).reduce((a, [count]) => a + count, 0);
  const spanMs = Math.max(...results.map((r) => r.end)) - startAt;
  const turns = after.turns - before.turns;
  const chunks = after.chunks - before.chunks;
  return {
    calls: lat.length,
    failures,
    failed,
    max: lat.length ? lat[lat.length - 1] : NaN,
    perSec: lat.length / (spanMs / 1000),
    p50: pct(lat, 0.5),
    p99: pct(lat, 0.99),
    turnsPerCall: turns / (lat.length + failures), // a failed call made its round trips too
    heldMs: chunks > 0 ? (after.heldMs - before.heldMs) / chunks : NaN,
  };
}

async function seedOrg(store, orgId) {
  await store.createOrg({ orgId, slug: orgId, name: orgId });
  await store.createProject({ orgId, projectId: PROJECT, slug: PROJECT, name: "Web" });
  for (const l of limitsOf(orgId)) await store.setUsageLimit(l);
}

const fmt = (x, d = 2) => (!Number.isFinite(x) ? "-" : x >= 1000 ? Math.round(x).toLocaleString("en-US") : x >= 100 ? x.toFixed(0) : x.toFixed(d));

function printTable(header, lines) {
  const widths = header.map((h, c) => Math.max(h.length, ...lines.filter(Array.isArray).map((l) => String(l[c]).length)));
  const line = (cells) => cells.map((x, c) => (c > 2 ? String(x).padStart(widths[c]) : String(x).padEnd(widths[c]))).join("  ").trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  console.log(line(header));
  console.log(rule);
  for (const l of lines) console.log(Array.isArray(l) ? line(l) : rule);
}

const PLACEMENTS = [
  { key: "own", label: "an org each" },
  { key: "one", label: "one org" },
];

/**
 * Pins the addon for the whole run: the file binding.js would load from a clone
 * (CONTROL_PLANE_NATIVE_PATH, else control-plane-store.node at the root) is copied to the
 * temporary folder and CONTROL_PLANE_NATIVE_PATH set to the copy, for this process and
 * the replicas it forks. A build that finishes during the run (it rewrites that file)
 * then cannot mix two builds' figures, nor two builds' schemas on one database. Its path,
 * time and SHA-256, for the header; null when the addon comes from a platform package.
 */
function pinAddon() {
  const fs = require("node:fs");
  const path = require("node:path");
  const source = process.env.CONTROL_PLANE_NATIVE_PATH || path.join(__dirname, "..", "control-plane-store.node");
  if (!fs.existsSync(source)) return null;
  const bytes = fs.readFileSync(source);
  const copy = path.join(os.tmpdir(), `cp-replicas-${process.pid}.node`);
  fs.writeFileSync(copy, bytes);
  process.once("exit", () => fs.rmSync(copy, { force: true }));
  process.env.CONTROL_PLANE_NATIVE_PATH = copy;
  const sha = require("node:crypto").createHash("sha256").update(bytes).digest("hex").slice(0, 12);
  return { source: path.resolve(source), mtime: fs.statSync(source).mtime.toISOString(), sha };
}

async function parent() {
  const started = performance.now();
  const addon = pinAddon();
  const { ControlPlaneStore } = require("..");
  const load = () => os.loadavg().map((x) => x.toFixed(2)).join(", ");
  const pg = require("pg");
  let server = null;
  let url = process.env.BENCH_PG_URL;
  if (!url) {
    server = require("../__tests__/pg/server.js").startServer({ database: "cp_replicas" });
    url = server.freshDatabase("replicas");
  }
  const target = new URL(url);
  const proxy = await startProxy({ host: target.hostname, port: Number(target.port || 5432) }, DELAY_MS);
  const proxied = new URL(url);
  proxied.hostname = "127.0.0.1";
  proxied.port = String(proxy.port);
  const setup = await ControlPlaneStore.connect(url, { poolSize: 2 }); // direct: creates the schema
  const tag = Date.now().toString(36); // org ids unique to this run (BENCH_PG_URL may be reused)
  let seq = 0;
  try {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const show = async (name) => (await client.query(`SHOW ${name}`)).rows[0][name];
    const [{ version }] = (await client.query("SELECT version()")).rows;
    const settings = { fsync: await show("fsync"), synchronous_commit: await show("synchronous_commit"), full_page_writes: await show("full_page_writes") };
    await client.end();

    const runs = OPS.length * 2 * REPLICAS.reduce((a, n) => a + (n === 1 ? 1 : 2), 0);
    console.log(`replicas bench: Node ${process.version}, ${os.platform()}-${os.arch()}, ${os.cpus().length} cores; ${version.split(",")[0]}${server ? " (throwaway server from __tests__/pg/server.js)" : " (BENCH_PG_URL)"}; pg ${require("pg/package.json").version}`);
    console.log(addon ? `addon: ${addon.source} (built ${addon.mtime}, sha256 ${addon.sha}…), copied for the run` : "addon: the platform package's");
    console.log(`load average at the start: ${load()} (1, 5, 15 min)`);
    console.log(`server: fsync ${settings.fsync}, synchronous_commit ${settings.synchronous_commit}, full_page_writes ${settings.full_page_writes}`);
    console.log(`proxy: every chunk held ${DELAY_MS} ms each way (a round trip ≥ ${2 * DELAY_MS} ms); "held ms" is the mean hold measured (a timer fires late, never early)`);
    console.log(`runs: ${SECONDS} s each, replicas ${REPLICAS.join(", ")}, calls ${OPS.join(", ")}; ${runs} runs (ours and the documented statements); each replica a process with one connection (poolSize 1 / pg.Pool max 1), one call at a time, ${WARM} warm-up calls before a shared start instant`);
    console.log(`calls/s: all replicas' calls ÷ (last call's end − start); p50/p99: every call's latency; round trips/call: the proxy's turns in the measured loops ÷ calls; scaling: calls/s ÷ the same side's 1-replica calls/s`);
    console.log("");

    const figures = {}; // figures[op][placement][n][side]
    let run = 0;
    for (const op of OPS) {
      figures[op] = { own: {}, one: {} };
      for (const placement of PLACEMENTS) {
        for (const n of REPLICAS) {
          if (n === 1 && placement.key === "one" && REPLICAS.includes(1)) {
            figures[op].one[1] = figures[op].own[1]; // one replica on one org: the same run
            continue;
          }
          const got = {};
          const order = run++ % 2 === 0 ? ["ours", "documented"] : ["documented", "ours"];
          for (const side of order) {
            const base = `${tag}-${seq++}`;
            const orgs = placement.key === "own" ? Array.from({ length: n }, (_, r) => `o${base}-${r}`) : [`o${base}`];
            for (const o of orgs) await seedOrg(setup, o);
            got[side] = await runReplicas(proxy, proxied.href, side, op, (r) => orgs[placement.key === "own" ? r : 0], n);
            // Our rollups take in the events the documented side wrote (and the last few of
            // ours) now, untimed, on the direct connection: a check folds every event past
            // the watermark. Left to the next run, the first write of ours would fold them
            // under the write lock from across the proxy, a round trip for every few events
            // (1,000 events: 162 round trips, 0.9 s), and the other replicas' writes would
            // wait for it, up to lockTimeoutMs.
            await setup.checkUsageLimit({ orgId: orgs[0], projectId: PROJECT, metric: METRIC, unit: UNIT, period: "daily" });
          }
          figures[op][placement.key][n] = got;
          console.error(`  ${op}, ${placement.label}, ${n} replica(s) done (${((performance.now() - started) / 1000).toFixed(0)} s)`);
        }
      }
      printOp(op, figures[op]);
    }

    console.log("Targets, for context (printed, not asserted):");
    const f = (op, placement, n, side = "ours") => figures[op]?.[placement]?.[n]?.[side];
    const top = Math.max(...REPLICAS);
    for (const op of OPS) {
      const one = f(op, "own", 1);
      const many = f(op, "own", 8);
      const ratio = one && many ? `${(many.perSec / one.perSec).toFixed(2)}x (${fmt(many.perSec, 0)} against ${fmt(one.perSec, 0)} calls/s)` : "not measured (needs BENCH_REPLICAS with 1 and 8)";
      console.log(`- 8 replicas on 8 orgs ≥ 6x one replica: ${op} ${ratio}`);
    }
    for (const [op, target] of [["consumeUsage", 150], ["recordUsage", 200]]) {
      const one = f(op, "own", 1);
      console.log(`- one replica ${op} ≥ ${target}/s: ${one ? `${fmt(one.perSec, 0)}/s` : "not measured"}`);
    }
    if (top < 8) console.log(`(largest replica count measured: ${top})`);
    console.log(`load average at the end: ${load()}`);
    console.log(`(${((performance.now() - started) / 1000).toFixed(0)} s)`);
  } finally {
    await setup.close();
    await proxy.close();
    if (server) server.stop();
  }
}

function printOp(op, byPlacement) {
  console.log(`${op}:`);
  const lines = [];
  const failures = [];
  for (const placement of PLACEMENTS) {
    const rows = byPlacement[placement.key];
    if (lines.length) lines.push(null);
    for (const n of REPLICAS) {
      const got = rows[n];
      if (!got) continue;
      for (const side of ["ours", "documented"]) {
        const x = got[side];
        const base = rows[1]?.[side];
        lines.push([
          side === "ours" ? placement.label : "",
          side === "ours" ? String(n) + (n === 1 && placement.key === "one" ? " (=)" : "") : "",
          side,
          fmt(x.perSec, 0),
          fmt(x.p50, 2),
          fmt(x.p99, 2),
          fmt(x.max, 2),
          fmt(x.turnsPerCall, 2),
          base ? `${(x.perSec / base.perSec).toFixed(2)}x` : "-",
          x.calls.toLocaleString("en-US"),
          x.failures.toLocaleString("en-US"),
          fmt(x.heldMs, 2),
        ]);
        if (x.failures > 0 && !(n === 1 && placement.key === "one")) {
          for (const [key, [count, ms]] of Object.entries(x.failed)) {
            failures.push(`${placement.label}, ${n} replica(s), ${side}: ${count} × ${key} (after ${fmt(ms / count, 0)} ms on average)`);
          }
        }
      }
    }
  }
  printTable(["placement", "replicas", "side", "calls/s", "p50 ms", "p99 ms", "max ms", "round trips/call", "scaling vs 1", "calls", "failed", "held ms"], lines);
  for (const f of failures) console.log(`failed: ${f}`);
  if (REPLICAS.includes(1)) console.log(`(=): one replica on one org is the "an org each" run, shown again. The documented side's round trips/call are its statements a call (${STATEMENTS[op]}).`);
  console.log("");
}

if (require.main !== module) {
  module.exports = { startProxy }; // for a look at one call's round trips elsewhere
} else if (process.argv[2] === "replica") {
  replica();
} else {
  parent().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
