// A throwaway PostgreSQL server for the JavaScript suites, as the core's Rust tests have
// (core/src/engine/postgres/testing.rs): `initdb` into a temporary folder, started with
// `pg_ctl` on a free port with its unix socket in that folder and fsync off, one database
// created; `stop()` (or the process's exit) stops it and deletes the folder. A missing
// PostgreSQL throws with what to install: the suites never skip (.ci/run installs it).
//
// initdb refuses to run as root: as root, the server's programs run as the `postgres` user
// (which Debian's package creates) through `runuser`, in a folder made theirs.
const { execFileSync, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

/** Our folders in the temporary directory: `cp-pg-<pid>-<n>`, as the Rust harness names its. */
const PREFIX = "cp-pg-";
let next = 0;
const running = new Set();

/**
 * The folder holding `initdb` and `pg_ctl`: on PATH, else the newest
 * /usr/lib/postgresql/<version>/bin; where the programs really are when PATH has links to
 * them (so psql, createdb and pg_isready are found beside them). Throws, saying what to
 * install, when there is none.
 * @param {{ searchPath?: string, roots?: string[] }} [where] where to look (tests)
 */
function findBin(where = {}) {
  const searchPath = where.searchPath ?? process.env.PATH ?? "";
  const roots = where.roots ?? ["/usr/lib/postgresql"];
  const hasBoth = (dir) => ["initdb", "pg_ctl"].every((p) => fs.existsSync(path.join(dir, p)));
  const onPath = searchPath.split(path.delimiter).find((dir) => dir && hasBoth(dir));
  if (onPath) return path.dirname(fs.realpathSync(path.join(onPath, "initdb")));
  const versions = roots
    .flatMap((root) => (fs.existsSync(root) ? fs.readdirSync(root).map((v) => [Number(v), path.join(root, v, "bin")]) : []))
    .filter(([version, bin]) => Number.isFinite(version) && hasBoth(bin))
    .sort((a, b) => a[0] - b[0]);
  if (versions.length > 0) return versions[versions.length - 1][1];
  throw new Error(
    "PostgreSQL's server programs (initdb, pg_ctl) are neither on PATH nor under /usr/lib/postgresql/*/bin. " +
      "Install them (Debian/Ubuntu: `apt-get install -y postgresql`; .ci/run does): the PostgreSQL tests need a " +
      "real server and do not skip.",
  );
}

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

/** Runs one of the server's programs (as `postgres` when we are root); throws with its output. */
function run(program, args, asPostgres, options = {}) {
  const [file, argv] = asPostgres ? ["runuser", ["-u", "postgres", "--", program, ...args]] : [program, args];
  const result = spawnSync(file, argv, { cwd: os.tmpdir(), encoding: "utf8", ...options });
  if (result.error) throw new Error(`cannot run ${program}: ${result.error.message}`);
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`${program} ${args.join(" ")} failed (${result.status}): ${`${result.stdout}${result.stderr}`.trim()}`);
  }
  return result;
}

/** A port nothing listens on now (another process may take it before the server does). */
function freePort() {
  const script =
    "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });";
  return Number(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }).trim());
}

function stopFolder(bin, dir, asPostgres) {
  const bouncer = path.join(dir, "pgbouncer.pid");
  if (fs.existsSync(bouncer)) {
    try {
      process.kill(Number(fs.readFileSync(bouncer, "utf8").trim()), "SIGTERM");
    } catch {
      // gone already
    }
  }
  const data = path.join(dir, "data");
  if (fs.existsSync(path.join(data, "postmaster.pid"))) {
    run(path.join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"], asPostgres, { allowFailure: true });
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Stops and deletes the servers of processes that ended without doing so (killed). */
function removeStale(bin) {
  for (const name of fs.readdirSync(os.tmpdir())) {
    if (!name.startsWith(PREFIX)) continue;
    const pid = Number(name.slice(PREFIX.length).split("-")[0]);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    try {
      process.kill(pid, 0);
      continue; // alive (or not ours to signal): its server is in use
    } catch (error) {
      if (error.code !== "ESRCH") continue;
    }
    stopFolder(bin, path.join(os.tmpdir(), name), isRoot());
  }
}

/**
 * Makes and starts a server with one database.
 * @param {{ database?: string }} [options]
 * @returns {{ url: string, port: number, dir: string, bin: string, database: string,
 *   timings: { initdbMs: number, startMs: number, createdbMs: number, totalMs: number },
 *   psql: (sql: string) => string, freshDatabase: (prefix?: string) => string, stop: () => void }}
 */
function startServer(options = {}) {
  const database = options.database ?? "cp_test";
  const began = performance.now();
  const bin = findBin();
  const asPostgres = isRoot();
  if (asPostgres && spawnSync("id", ["-u", "postgres"]).status !== 0) {
    throw new Error(
      "running as root, and initdb refuses to: the server must run as the `postgres` user, which does not exist " +
        "(Debian's postgresql package creates it)",
    );
  }
  removeStale(bin);
  const dir = path.join(os.tmpdir(), `${PREFIX}${process.pid}-node${next++}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { mode: 0o700 });
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    running.delete(stop);
    stopFolder(bin, dir, asPostgres);
  };
  running.add(stop);
  try {
    if (asPostgres) run("chown", ["postgres:", dir], false);
    const data = path.join(dir, "data");
    let at = performance.now();
    run(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"], asPostgres);
    const initdbMs = performance.now() - at;
    fs.appendFileSync(
      path.join(data, "postgresql.conf"),
      `\n# The tests' throwaway server.\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\n` +
        "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nshared_buffers = 32MB\n",
    );
    const log = path.join(dir, "server.log");
    at = performance.now();
    let port;
    for (let attempt = 0; ; attempt++) {
      port = freePort();
      const result = run(path.join(bin, "pg_ctl"), ["-D", data, "-l", log, "-w", "-t", "60", "-o", `-p ${port}`, "start"], asPostgres, {
        allowFailure: true,
      });
      if (result.status === 0) break;
      const logText = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
      const taken = /could not bind|already in use/.test(logText);
      if (!taken || attempt >= 4) {
        throw new Error(`pg_ctl start failed (${result.status}): ${`${result.stdout}${result.stderr}`.trim()}\n${logText}`);
      }
    }
    const startMs = performance.now() - at;
    at = performance.now();
    const createdb = fs.existsSync(path.join(bin, "createdb")) ? path.join(bin, "createdb") : "createdb";
    run(createdb, ["-h", dir, "-p", String(port), "-U", "postgres", database], false);
    const createdbMs = performance.now() - at;
    const psqlProgram = fs.existsSync(path.join(bin, "psql")) ? path.join(bin, "psql") : "psql";
    const psql = (sql) => run(psqlProgram, ["-h", dir, "-p", String(port), "-U", "postgres", "-d", database, "-XAtc", sql], false).stdout.trim();
    const url = `postgres://postgres@127.0.0.1:${port}/${database}`;
    let databases = 0;
    return {
      url,
      port,
      dir,
      bin,
      database,
      timings: { initdbMs, startMs, createdbMs, totalMs: performance.now() - began },
      /** Stops the server (fast: sessions are ended), keeping its data; `resume` starts it again. */
      halt: () => run(path.join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"], asPostgres),
      /** Starts the halted server again, on the same port. */
      resume: () => run(path.join(bin, "pg_ctl"), ["-D", data, "-l", log, "-w", "-t", "60", "-o", `-p ${port}`, "start"], asPostgres),
      /** Runs SQL through psql on the unix socket; its unaligned output. */
      psql,
      /** A new database of its own on this server (`<prefix><pid>_<n>`); its URL. */
      freshDatabase: (prefix = "t") => {
        const name = `${prefix}${process.pid}_${databases++}`;
        psql(`CREATE DATABASE ${name}`);
        return url.replace(/\/[^/]+$/, `/${name}`);
      },
      /**
       * Starts PgBouncer in transaction mode in front of this server (Debian's `pgbouncer`;
       * .ci/run installs it): every database of the server, reached through the pooler's
       * port. Stopped with the server. Returns the URL of a database through it, with
       * `pgbouncer=true` (the store's mode for such a pooler).
       */
      pooler: (poolSize = 4) => {
        const program = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].find((p) => fs.existsSync(p)) ?? "pgbouncer";
        const ini = path.join(dir, "pgbouncer.ini");
        const bouncerPort = freePort();
        fs.writeFileSync(
          ini,
          `[databases]\n* = host=127.0.0.1 port=${port}\n[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = ${bouncerPort}\n` +
            `unix_socket_dir =\nauth_type = trust\nauth_file = ${path.join(dir, "users.txt")}\npool_mode = transaction\n` +
            `default_pool_size = ${poolSize}\nmax_client_conn = 200\nlogfile = ${path.join(dir, "pgbouncer.log")}\n` +
            `pidfile = ${path.join(dir, "pgbouncer.pid")}\nignore_startup_parameters = extra_float_digits\n`,
        );
        fs.writeFileSync(path.join(dir, "users.txt"), '"postgres" ""\n');
        if (asPostgres) run("chown", ["postgres:", ini, path.join(dir, "users.txt")], false);
        // -d: daemonized; it writes its pid file and is stopped by it (stopFolder's kill).
        run(program, ["-d", ini], asPostgres);
        const started = Date.now();
        const isReady = fs.existsSync(path.join(bin, "pg_isready")) ? path.join(bin, "pg_isready") : "pg_isready";
        while (spawnSync(isReady, ["-h", "127.0.0.1", "-p", String(bouncerPort)]).status !== 0) {
          if (Date.now() - started > 10_000) throw new Error(`pgbouncer did not start: ${fs.readFileSync(path.join(dir, "pgbouncer.log"), "utf8")}`);
          spawnSync("sleep", ["0.05"]);
        }
        return (database) => `postgres://postgres@127.0.0.1:${bouncerPort}/${database}?pgbouncer=true`;
      },
      stop,
    };
  } catch (error) {
    stop();
    throw error;
  }
}

// `exit` handlers must be synchronous: the stops are.
process.once("exit", () => {
  for (const stop of [...running]) stop();
});

module.exports = { findBin, startServer };
