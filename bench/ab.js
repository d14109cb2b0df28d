#!/usr/bin/env node
"use strict";
// `npm run bench:ab -- <ref> [<ref2>]`: the request path of two builds, A against B.
//
//   A: <ref> (any git commit-ish), checked out in a git worktree under
//      .scratch/ab/<full sha>/ and built there by that commit's own `npm run build`, with
//      CONTROL_PLANE_ZIG=0 (plain cargo) and CARGO_TARGET_DIR=.scratch/ab/target (one
//      target dir for every sha: the dependencies are compiled once). Its binary stays at
//      .scratch/ab/<sha>/control-plane-store.node; a second run for the same sha builds
//      nothing.
//   B: <ref2>, built the same way; without it, the current checkout: its index.js with its
//      root control-plane-store.node (built by `npm run build --silent`, with
//      CONTROL_PLANE_ZIG=0, only when that file is missing). A root binary built with zig
//      is not compared with a plain one: then B is this checkout's HEAD (plus its
//      uncommitted changes to tracked files, through `git stash create`) built plain
//      under .scratch/ab/ like A. The output says which.
//
// Each side is measured as it was: a worker process (bench/ab-worker.js) requires that
// side's own index.js with CONTROL_PLANE_NATIVE_PATH set to that side's binary (an index.js
// older than binding.js loads ./control-plane-store.node, the same file), and reports which
// control-plane-store binary the process mapped. better-sqlite3 and Bun are this
// checkout's, for both sides.
//
// Order: one calibration process per side and runtime (how many calls give each row about
// AB_ROW_SECONDS of the clock on the faster side, at most AB_MAX_SLOW_SECONDS elapsed on
// the slower), then AB_PAIRS pairs (default 5): in each, for every row, a process of A and
// then one of B (Node's rows, then Bun's), every process with the same counts and the same
// inputs; each times its calls in 10 slices and reports the median slice. The clock: the
// CPU time of the JS thread (Linux schedstat), or elapsed time with AB_CLOCK=wall. Prints
// per row the median µs per call of each side over the pairs, the median of the per-pair
// ratios B ÷ A and their range, and names the rows where B was slower in every pair (and
// by 3% or more at the median). `--build-only` builds A and B and says what they are.
//
// Env: AB_PAIRS (5), AB_ROW_SECONDS (0.4), AB_MAX_SLOW_SECONDS (3), AB_ONLY=node|bun,
// AB_FILTER=<regex> (only the rows whose "path: call" matches it), AB_CLOCK=wall,
// AB_SLICES (10), AB_HANDLE_SYNC (a `PRAGMA synchronous` value for the handles' WAL
// files; unset: the handle's default), AB_JSON=<file> (every figure, as JSON).

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const SCRATCH = path.join(ROOT, ".scratch", "ab");
const TARGET = path.join(SCRATCH, "target");
const BINARY = "control-plane-store.node";
const WORKER = path.join(__dirname, "ab-worker.js");
const BUN = path.join(ROOT, "node_modules", ".bin", process.platform === "win32" ? "bun.exe" : "bun");

const PAIRS = Number(process.env.AB_PAIRS ?? 5);
const ROW_SECONDS = Number(process.env.AB_ROW_SECONDS ?? 0.4);
const MAX_SLOW_SECONDS = Number(process.env.AB_MAX_SLOW_SECONDS ?? 3);
const CALIBRATE_SECONDS = 0.1;
const CLOCK = process.env.AB_CLOCK === "wall" ? "wall" : "cpu";
const FILTER = process.env.AB_FILTER ? new RegExp(process.env.AB_FILTER, "i") : null;

const log = (...args) => console.error("ab:", ...args);

function git(args, { cwd = ROOT, allowFail = false } = {}) {
  const r = spawnSync("git", args, { cwd, encoding: "utf8" });
  if (r.status !== 0) {
    if (allowFail) return null;
    throw new Error(`git ${args.join(" ")}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r.stdout.trim();
}

function resolveRef(ref) {
  const sha = git(["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], { allowFail: true });
  if (!sha) throw new Error(`not a commit: ${ref}`);
  return sha;
}

const subjectOf = (sha) => {
  const s = git(["log", "-1", "--format=%s", sha]);
  return s.length > 72 ? `${s.slice(0, 71)}…` : s;
};
const short = (sha) => sha.slice(0, 10);

// ---------------------------------------------------------------------------------------
// Builds.

const sleepMs = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** One build at a time in the shared target dir (napi copies the library cargo wrote). */
function withBuildLock(fn) {
  fs.mkdirSync(SCRATCH, { recursive: true });
  const lock = path.join(SCRATCH, "build.lock");
  let said = false;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      const holder = Number(fs.readFileSync(lock, "utf8"));
      let alive = false;
      try {
        process.kill(holder, 0);
        alive = true;
      } catch {}
      if (!alive) {
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (!said) log(`waiting for the build of process ${holder} (${lock})`);
      said = true;
      sleepMs(2_000);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** `cmd args` under nice (where there is nice), its output to `logFile`; throws on failure. */
function runLogged(cmd, args, { cwd, env, logFile }) {
  const fd = fs.openSync(logFile, "w");
  const niced = process.platform !== "win32" && spawnSync("nice", ["true"]).status === 0;
  const started = Date.now();
  const r = niced
    ? spawnSync("nice", ["-n", "10", cmd, ...args], { cwd, env, stdio: ["ignore", fd, fd] })
    : spawnSync(cmd, args, { cwd, env, stdio: ["ignore", fd, fd] });
  fs.closeSync(fd);
  const seconds = (Date.now() - started) / 1000;
  if (r.status !== 0) {
    const tail = fs.readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n");
    throw new Error(`${cmd} ${args.join(" ")} failed in ${cwd} (exit ${r.status ?? r.signal}); the end of ${logFile}:\n${tail}`);
  }
  return seconds;
}

const buildEnv = (extra = {}) => ({ ...process.env, CONTROL_PLANE_ZIG: "0", CONTROL_PLANE_NATIVE_PATH: "", ...extra });

/**
 * The commit `sha` built as its own `npm run build` builds it (plain cargo), in its worktree
 * under .scratch/ab/; cached: a worktree with its binary and build record is used as is.
 */
function buildCommit(sha) {
  const dir = path.join(SCRATCH, sha);
  const binary = path.join(dir, BINARY);
  const record = path.join(dir, ".ab-build.json");
  if (fs.existsSync(binary) && fs.existsSync(record)) {
    const info = JSON.parse(fs.readFileSync(record, "utf8"));
    if (info.sha === sha && git(["rev-parse", "HEAD"], { cwd: dir, allowFail: true }) === sha) {
      return { dir, binary, how: `cached: built ${info.builtAt.slice(0, 16).replace("T", " ")} in ${Math.round(info.seconds)} s` };
    }
  }
  return withBuildLock(() => {
    fs.mkdirSync(SCRATCH, { recursive: true });
    if (fs.existsSync(dir) && git(["rev-parse", "HEAD"], { cwd: dir, allowFail: true }) !== sha) {
      git(["worktree", "remove", "--force", dir], { allowFail: true });
      fs.rmSync(dir, { recursive: true, force: true });
    }
    if (!fs.existsSync(dir)) {
      git(["worktree", "prune"]);
      git(["worktree", "add", "--detach", dir, sha]);
    }
    // Its package's build needs the napi CLI: this checkout's node_modules (never the
    // worktree's files outside it).
    const modules = path.join(dir, "node_modules");
    if (!fs.existsSync(modules)) fs.symlinkSync(fs.realpathSync(path.join(ROOT, "node_modules")), modules, "junction");
    // Cargo looks for a workspace in the directories above a package: a commit whose
    // Cargo.toml has no [workspace] of its own would be taken for a member of this
    // checkout's workspace and refused. An empty [workspace] makes it its own root, as it
    // is in a clone of its own (no other change to its files).
    const manifest = path.join(dir, "Cargo.toml");
    const toml = fs.readFileSync(manifest, "utf8");
    if (!/^\[workspace\]/m.test(toml)) fs.writeFileSync(manifest, `${toml.replace(/\n*$/, "\n")}\n# bench/ab.js: its own workspace root under .scratch/ab/\n[workspace]\n`);
    fs.rmSync(binary, { force: true });
    const logFile = path.join(SCRATCH, `build-${sha}.log`);
    log(`building ${short(sha)} in ${path.relative(ROOT, dir)} (its npm run build, plain cargo, CARGO_TARGET_DIR=${path.relative(ROOT, TARGET)}; log ${path.relative(ROOT, logFile)}); several minutes`);
    const seconds = runLogged("npm", ["run", "build", "--silent"], { cwd: dir, env: buildEnv({ CARGO_TARGET_DIR: TARGET }), logFile });
    if (!fs.existsSync(binary)) throw new Error(`the build of ${sha} wrote no ${binary} (see ${logFile})`);
    fs.writeFileSync(record, `${JSON.stringify({ sha, mode: "cargo", seconds, builtAt: new Date().toISOString() }, null, 2)}\n`);
    log(`built ${short(sha)} in ${seconds.toFixed(0)} s`);
    return { dir, binary, how: `built now (${seconds.toFixed(0)} s)` };
  });
}

/** The mode of the root build as scripts/build.js records it (native-build.json), or null. */
function rootBuildMode() {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, "native-build.json"), "utf8")).mode ?? null;
  } catch {
    return null;
  }
}

/** Tracked files newer than the root binary among the sources of the addon. */
function staleSources(binary) {
  const built = fs.statSync(binary).mtimeMs;
  const files = git(["ls-files", "--", "src", "core", "Cargo.toml", "Cargo.lock", "build.rs", ".cargo"]).split("\n").filter(Boolean);
  return files.filter((f) => {
    try {
      return fs.statSync(path.join(ROOT, f)).mtimeMs > built;
    } catch {
      return false;
    }
  });
}

/** Side B without a second ref: the current checkout, as described at the top. */
function currentSide() {
  const head = git(["rev-parse", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--untracked-files=no"]) !== "";
  const binary = path.join(ROOT, BINARY);
  let built = "";
  if (!fs.existsSync(binary)) {
    const logFile = path.join(SCRATCH, "build-current.log");
    fs.mkdirSync(SCRATCH, { recursive: true });
    log(`no ${BINARY} at the root: npm run build --silent (plain cargo; log ${path.relative(ROOT, logFile)}); several minutes`);
    const seconds = runLogged("npm", ["run", "build", "--silent"], { cwd: ROOT, env: buildEnv(), logFile });
    built = `, built now by npm run build (${seconds.toFixed(0)} s)`;
  }
  const mode = rootBuildMode();
  if (mode === null || mode === "cargo") {
    const stale = built ? [] : staleSources(binary);
    return {
      label: "the current checkout",
      sha: head,
      describe: `${ROOT} at ${short(head)}${dirty ? " with uncommitted changes" : ""}: its index.js and its root ${BINARY} (${mode ?? "plain napi build, no native-build.json"}${built || `, built ${new Date(fs.statSync(binary).mtimeMs).toISOString().slice(0, 16).replace("T", " ")}`})`,
      dir: ROOT,
      binary,
      warnings: stale.length ? [`B's root binary is older than ${stale.length} source file(s) (${stale.slice(0, 3).join(", ")}${stale.length > 3 ? ", ..." : ""}): run npm run build first if they changed the addon`] : [],
    };
  }
  // A zig build (other compiler for the bundled SQLite, other glibc): build this
  // checkout's state plain, like A.
  const sha = dirty ? git(["stash", "create"]) || head : head;
  const untracked = git(["status", "--porcelain"]).split("\n").filter((l) => l.startsWith("??"));
  const side = buildCommit(sha);
  return {
    label: "the current checkout",
    sha,
    describe: `${ROOT} at ${short(head)}${dirty ? ` with its uncommitted changes (git stash create: ${short(sha)})` : ""}, built plain in ${path.relative(ROOT, side.dir)} (${side.how}), since the root ${BINARY} is a ${mode} build`,
    dir: side.dir,
    binary: side.binary,
    warnings: untracked.length ? [`B leaves out ${untracked.length} untracked file(s) of the checkout (git stash create takes tracked files only)`] : [],
  };
}

let host;
const hostTriple = () => (host ??= /host: (\S+)/.exec(spawnSync("rustc", ["-vV"], { encoding: "utf8" }).stdout ?? "")?.[1]);

/** A cargo config file's tables, each its text without comments and blank lines. */
function configTables(file) {
  const tables = new Map();
  let name = "";
  for (const raw of fs.readFileSync(file, "utf8").split("\n")) {
    const line = raw.replace(/#.*$/, "").trim();
    if (!line) continue;
    if (/^\[.*\]$/.test(line)) name = line;
    else tables.set(name, `${tables.get(name) ?? ""}${line}\n`);
  }
  return tables;
}

/**
 * Cargo also reads the .cargo/config.toml of every directory above a worktree (this
 * checkout's among them), merged under the commit's own: the tables of those that the
 * commit's own config does not have alike, which its build saw too.
 */
function inheritedConfig(dir) {
  const own = ["config.toml", "config"].map((f) => path.join(dir, ".cargo", f)).find((f) => fs.existsSync(f));
  const ownTables = own ? configTables(own) : new Map();
  const found = [];
  for (let up = path.dirname(dir); ; up = path.dirname(up)) {
    const file = ["config.toml", "config"].map((f) => path.join(up, ".cargo", f)).find((f) => fs.existsSync(f));
    if (file && path.dirname(path.dirname(file)) !== os.homedir()) {
      for (const [table, body] of configTables(file)) {
        const target = /^\[target\.([^.\]'"]+)/.exec(table);
        if (target && !target[1].startsWith("cfg(") && target[1] !== hostTriple()) continue; // another target's
        if (ownTables.get(table) !== body) found.push(`${table || "(top level)"} of ${file}`);
      }
    }
    if (path.dirname(up) === up) break;
  }
  return found;
}

function commitSide(ref) {
  const sha = resolveRef(ref);
  const side = buildCommit(sha);
  const inherited = inheritedConfig(side.dir);
  return {
    label: ref,
    sha,
    describe: `${ref} = ${sha} "${subjectOf(sha)}", built plain in ${path.relative(ROOT, side.dir)} (${side.how})`,
    dir: side.dir,
    binary: side.binary,
    warnings: inherited.length ? [`the build of ${short(sha)} also read cargo config it does not have itself: ${inherited.join("; ")}`] : [],
  };
}

// ---------------------------------------------------------------------------------------
// Runs.

const RUNTIMES = [
  { name: "node", cmd: process.execPath },
  { name: "bun", cmd: BUN },
].filter((r) => !process.env.AB_ONLY || process.env.AB_ONLY === r.name);

/** One worker process: `side`'s package and binary under `runtime`; its JSON report. */
function runWorker(runtime, side, mode, counts, rows) {
  const out = path.join(os.tmpdir(), `cp-ab-${process.pid}-${Date.now()}.json`);
  const env = {
    ...process.env,
    CONTROL_PLANE_NATIVE_PATH: side.binary,
    AB_PACKAGE: side.dir,
    AB_MODE: mode,
    AB_OUT: out,
    AB_CALIBRATE_SECONDS: String(CALIBRATE_SECONDS),
    AB_COUNTS: counts ? JSON.stringify(counts) : "",
    AB_ROWS: rows ? JSON.stringify(rows) : "",
  };
  const args = runtime.name === "node" ? ["--expose-gc", WORKER] : [WORKER];
  const r = spawnSync(runtime.cmd, args, { cwd: ROOT, env, stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0 || !fs.existsSync(out)) throw new Error(`the ${runtime.name} worker for ${side.label} failed (exit ${r.status ?? r.signal})`);
  const report = JSON.parse(fs.readFileSync(out, "utf8"));
  fs.rmSync(out, { force: true });
  const want = fs.realpathSync(side.binary);
  if (report.loaded && !report.loaded.includes(want)) throw new Error(`the ${runtime.name} worker for ${side.label} loaded ${report.loaded.join(", ") || "no control-plane-store binary"}, not ${want}`);
  return report;
}

/**
 * Calls per row: about ROW_SECONDS of the clock on the faster side, at most
 * MAX_SLOW_SECONDS elapsed on the slower.
 */
function countsFrom(calA, calB) {
  const counts = {};
  for (const row of calA.rows) {
    const other = calB.rows.find((r) => r.key === row.key);
    const ok = [row, other].filter((r) => r && !r.skipped && !r.error && r.us > 0);
    if (!ok.length) continue;
    const fast = Math.min(...ok.map((r) => (CLOCK === "cpu" && r.cpuUs > 0 ? r.cpuUs : r.us)));
    const slow = Math.max(...ok.map((r) => r.us));
    const n = Math.min(Math.ceil((ROW_SECONDS * 1e6) / fast), Math.ceil((MAX_SLOW_SECONDS * 1e6) / slow));
    counts[row.key] = Math.max(row.minCalls ?? 5, Math.min(n, 500_000));
  }
  return counts;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtMicros = (x) => (x >= 1_000 ? Math.round(x).toLocaleString("en-US") : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtRatio = (x) => x.toFixed(2);

function printTable(header, lines, right) {
  const widths = header.map((h, c) => Math.max(h.length, ...lines.filter(Array.isArray).map((l) => String(l[c]).length)));
  const line = (cells) => cells.map((x, c) => (right[c] ? String(x).padStart(widths[c]) : String(x).padEnd(widths[c]))).join("  ").trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const l of lines) console.log(Array.isArray(l) ? line(l) : "");
}

function main() {
  const refs = process.argv.slice(2).filter((a) => !a.startsWith("-"));
  if (refs.length < 1 || refs.length > 2 || process.argv.includes("--help")) {
    console.error("usage: npm run bench:ab -- <ref> [<ref2>]   (A = <ref>; B = <ref2>, or the current checkout)");
    process.exit(2);
  }
  const started = Date.now();
  const A = commitSide(refs[0]);
  const B = refs[1] ? commitSide(refs[1]) : currentSide();
  if (process.argv.includes("--build-only")) {
    console.log(`A = ${A.describe}\nB = ${B.describe}`);
    for (const w of [...A.warnings, ...B.warnings]) console.log(`warning: ${w}`);
    return;
  }
  if (!fs.existsSync(BUN) && RUNTIMES.some((r) => r.name === "bun")) throw new Error(`no ${BUN}: npm install`);

  const reports = {}; // runtime -> side -> [report per pair]
  const calibrations = {};
  const counts = {};
  const calibrationNotes = [];
  const benchStarted = Date.now();
  const loadBefore = os.loadavg()[0];
  for (const runtime of RUNTIMES) {
    log(`${runtime.name}: calibrating (one process per side)`);
    const only = FILTER ? runWorker(runtime, B, "list").rows.map((r) => r.key).filter((k) => FILTER.test(k.replace("|", ": "))) : null;
    if (only && !only.length) continue;
    const calA = runWorker(runtime, A, "calibrate", null, only);
    const calB = runWorker(runtime, B, "calibrate", null, only);
    calibrations[runtime.name] = { A: calA, B: calB };
    for (const [side, cal] of [["A", calA], ["B", calB]]) {
      for (const row of cal.rows) if (row.error) calibrationNotes.push(`${row.path}, ${row.call}: ${side} failed in calibration: ${row.error}`);
    }
    counts[runtime.name] = countsFrom(calA, calB);
    reports[runtime.name] = { A: [], B: [] };
  }
  // Each pair: for every row, a process of A, then one of B, so that the two figures of a
  // pair are taken seconds apart (the load of a shared machine changes over minutes).
  for (let p = 0; p < PAIRS; p++) {
    for (const runtime of RUNTIMES.filter((r) => calibrations[r.name])) {
      log(`pair ${p + 1}/${PAIRS}: ${runtime.name}, A then B for each row`);
      const { A: calA, B: calB } = calibrations[runtime.name];
      const pair = { A: { ...calA, rows: [] }, B: { ...calB, rows: [] } };
      for (const row of calB.rows) {
        if (FILTER && !FILTER.test(`${row.path}: ${row.call}`)) continue;
        if (counts[runtime.name][row.key] === undefined) {
          // Neither side could run it: what each said in calibration.
          pair.A.rows.push(calA.rows.find((r) => r.key === row.key) ?? { ...row, skipped: "no such row" });
          pair.B.rows.push(row);
          continue;
        }
        for (const [key, side] of [["A", A], ["B", B]]) {
          const report = runWorker(runtime, side, "measure", counts[runtime.name], [row.key]);
          pair[key].runtime = report.runtime;
          pair[key].environment = report.environment;
          pair[key].rows.push(...report.rows);
        }
      }
      reports[runtime.name].A.push(pair.A);
      reports[runtime.name].B.push(pair.B);
    }
  }
  const benchSeconds = (Date.now() - benchStarted) / 1000;
  const loadAfter = os.loadavg()[0];

  // The clock: the JS thread's CPU time unless AB_CLOCK=wall or a worker could not read it.
  const all = Object.values(reports).flatMap((r) => [...r.A, ...r.B]);
  const clock = CLOCK === "cpu" && all.every((rep) => rep.rows.every((r) => r.us === undefined || r.cpuUs !== null)) ? "cpu" : "wall";
  for (const rep of all) for (const r of rep.rows) if (r.us !== undefined) r.us = clock === "cpu" ? r.cpuUs : r.us;

  // The table.
  console.log(`A/B of the request path: A = ${A.describe}`);
  console.log(`                         B = ${B.describe}`);
  for (const w of [...A.warnings, ...B.warnings]) console.log(`warning: ${w}`);
  for (const runtime of RUNTIMES.filter((r) => reports[r.name])) {
    const first = reports[runtime.name].B[0];
    console.log(`${runtime.name}: ${first.runtime}; ${first.environment}`);
  }
  console.log(`${os.platform()}-${os.arch()}, ${os.cpus().length} cores (load average ${loadBefore.toFixed(1)} at the start, ${loadAfter.toFixed(1)} at the end); ${PAIRS} pairs: in each, a process of A then one of B for every row (${RUNTIMES.map((r) => r.name).join(" rows, then ")} rows), after one calibration process per side and runtime; both sides the same calls on the same inputs`);
  console.log(
    clock === "cpu"
      ? "µs: CPU time of the JS thread (Linux schedstat), not time spent waiting for a core or for a disk's fsync, nor other threads' work (our own connection's background checkpoints); AB_CLOCK=wall for elapsed time"
      : `µs: elapsed time (wall clock)${CLOCK === "cpu" ? ", since a worker could not read its thread's CPU time" : ""}`,
  );
  console.log(`µs per call (per batch of 1,000 for recordUsageBatch; per open+createOrg+close for fresh stores): each process times a row's calls in ${process.env.AB_SLICES ?? 10} slices and takes the median slice; the table, the median over the pairs; B÷A: the median of the pairs' ratios (lower: B faster), range: their min–max`);
  console.log("");

  const lines = [];
  const results = [];
  const notes = new Set(calibrationNotes);
  for (const runtime of RUNTIMES.filter((r) => reports[r.name])) {
    const { A: ra, B: rb } = reports[runtime.name];
    let lastPath = null;
    for (const row of rb[0].rows) {
      const aRows = ra.map((r) => r.rows.find((x) => x.key === row.key));
      const bRows = rb.map((r) => r.rows.find((x) => x.key === row.key));
      if (row.path !== lastPath && lastPath !== null) lines.push(null);
      const pathCell = row.path !== lastPath ? row.path : "";
      lastPath = row.path;
      const bad = (r) => !r || r.skipped || r.error;
      const aBad = aRows.find(bad);
      const bBad = bRows.find(bad);
      if (aRows.some(bad) || bRows.some(bad)) {
        for (const [side, r] of [["A", aBad], ["B", bBad]]) {
          if (r !== undefined || (side === "A" ? aRows : bRows).some(bad)) notes.add(`${row.path}, ${row.call}: ${side} ${r?.skipped ? `skipped it: ${r.skipped}` : `failed: ${r?.error ?? "no such row"}`}`);
        }
        const cell = (rs) => (rs.some(bad) ? (rs.find(bad)?.skipped ? "n/a" : "error") : fmtMicros(median(rs.map((r) => r.us))));
        lines.push([pathCell, row.call, cell(aRows), cell(bRows), "-", "-", aBad && bBad ? "" : `${aBad ? "A" : "B"} ${(aBad ?? bBad)?.skipped ? "lacks it" : "failed"}`]);
        continue;
      }
      const a = median(aRows.map((r) => r.us));
      const b = median(bRows.map((r) => r.us));
      const ratios = aRows.map((r, i) => bRows[i].us / r.us);
      const ratio = median(ratios);
      const lo = Math.min(...ratios);
      const hi = Math.max(...ratios);
      const verdict = lo > 1 && ratio >= 1.03 ? "B slower" : hi < 1 && ratio <= 0.97 ? "B faster" : "";
      const disagree = aRows.some((r, i) => r.check !== bRows[i].check);
      if (disagree) notes.add(`${row.path}, ${row.call}: the sides' results differ (A ${aRows[0].check}; B ${bRows[0].check})`);
      const span = (r) => (clock === "cpu" ? (r.us * r.n) / 1_000 : r.spanMs);
      const short = Math.min(...aRows.map(span), ...bRows.map(span));
      if (short < (ROW_SECONDS * 1_000) / 2) notes.add(`${row.path}, ${row.call}: a timed span of ${short.toFixed(0)} ms ${clock === "cpu" ? "of CPU " : ""}only (${bRows[0].n} calls${Math.max(...aRows.map((r) => r.spanMs), ...bRows.map((r) => r.spanMs)) > MAX_SLOW_SECONDS * 900 ? `, as many as the slower side does in AB_MAX_SLOW_SECONDS=${MAX_SLOW_SECONDS}` : ""})`);
      results.push({ runtime: runtime.name, path: row.path, call: row.call, calls: bRows[0].n, a, b, ratio, lo, hi, verdict, aUs: aRows.map((r) => r.us), bUs: bRows.map((r) => r.us) });
      lines.push([pathCell, row.call, fmtMicros(a), fmtMicros(b), fmtRatio(ratio), `${fmtRatio(lo)}–${fmtRatio(hi)}`, `${verdict}${disagree ? " (results differ!)" : ""}`]);
    }
    lines.push(null);
  }
  while (lines.length && lines[lines.length - 1] === null) lines.pop();
  printTable(["path", "call", "A µs", "B µs", "B÷A", "range", ""], lines, [false, false, true, true, true, true, false]);

  console.log("");
  const slower = results.filter((r) => r.verdict === "B slower");
  const faster = results.filter((r) => r.verdict === "B faster");
  console.log(`B slower in every pair (and by 3% or more at the median): ${slower.length ? slower.map((r) => `${r.path}: ${r.call} (${fmtRatio(r.ratio)})`).join("; ") : "none"}`);
  console.log(`B faster in every pair (and by 3% or more): ${faster.length} of ${results.length} rows`);
  for (const note of notes) console.log(`note: ${note}`);
  const total = (Date.now() - started) / 1000;
  console.log(`(measuring ${Math.round(benchSeconds)} s, in all ${Math.round(total)} s)`);
  if (process.env.AB_JSON) {
    fs.writeFileSync(process.env.AB_JSON, `${JSON.stringify({ A: { ...A, warnings: undefined }, B: { ...B, warnings: undefined }, pairs: PAIRS, counts, results }, null, 2)}\n`);
  }
}

try {
  main();
} catch (error) {
  console.error(`ab: ${error.message}`);
  process.exit(1);
}
