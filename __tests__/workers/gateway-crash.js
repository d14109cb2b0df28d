// A gateway process for the shared-file crash scenarios, under Node (better-sqlite3) or
// Bun (bun:sqlite): the gateway writes its own table on its handle while the store works
// on the same file, either on that very handle (`handle`) or on a connection of its own
// opened by path (`path`). Every write is acknowledged with a line written synchronously
// once it has returned; the parent kills this process with SIGKILL and checks the file.
//   argv: form (handle | path), scenario, file
const fs = require("node:fs");
const { spawnSync } = require("node:child_process");
const { ControlPlaneStore } = require("../..");

const [form, scenario, file] = process.argv.slice(2);
const isBun = typeof Bun !== "undefined";
const openGateway = () => {
  const db = isBun ? new (require("bun:sqlite").Database)(file) : new (require("better-sqlite3"))(file);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000");
  db.exec("CREATE TABLE IF NOT EXISTS gateway_rows (id INTEGER PRIMARY KEY, note TEXT NOT NULL)");
  return db;
};
const say = (line) => fs.writeSync(1, `${line}\n`);

const gateway = openGateway();
const insert = gateway.prepare("INSERT INTO gateway_rows (note) VALUES (?)");
const gatewayWrite = () => say(`g ${Number(insert.run("row").lastInsertRowid)}`);
const store = new ControlPlaneStore(form === "handle" ? gateway : file);
store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
say("o acme");
const storeWrite = () => say(`s ${store.recordUsage({ orgId: "acme", metric: "tokens", quantity: 1 }).id}`);

/** Another process opens the file and closes it: the last-close path of SQLite. */
const otherProcessOpensAndCloses = () => {
  const code = isBun
    ? `const db = new (require("bun:sqlite").Database)(${JSON.stringify(file)}); db.query("SELECT COUNT(*) FROM gateway_rows").get(); db.close();`
    : `const db = new (require("better-sqlite3"))(${JSON.stringify(file)}); db.prepare("SELECT COUNT(*) FROM gateway_rows").get(); db.close();`;
  const done = spawnSync(process.execPath, ["-e", code], { cwd: __dirname, stdio: "inherit" });
  if (done.status !== 0) throw new Error("the other process failed");
};

switch (scenario) {
  case "interleaved":
    for (;;) {
      gatewayWrite();
      storeWrite();
    }
  case "store-closes-first":
    for (let i = 0; i < 50; i++) storeWrite();
    store.close();
    say("phase");
    for (;;) gatewayWrite();
  case "gateway-closes-first":
    for (let i = 0; i < 50; i++) gatewayWrite();
    gateway.close();
    say("phase");
    for (;;) storeWrite();
  case "other-process-after-store-close":
    for (let i = 0; i < 50; i++) {
      gatewayWrite();
      storeWrite();
    }
    store.close();
    otherProcessOpensAndCloses();
    say("phase");
    for (;;) gatewayWrite();
  case "store-call-in-gateway-transaction": {
    gateway.exec("BEGIN IMMEDIATE");
    const row = Number(insert.run("in transaction").lastInsertRowid);
    const started = Date.now();
    let outcome;
    try {
      store.createOrg({ orgId: "inside", slug: "inside", name: "Inside" });
      outcome = "joined";
    } catch (error) {
      outcome = `refused ${error.code}`;
    }
    say(`t ${Date.now() - started} ${outcome}`);
    gateway.exec("COMMIT");
    say(`g ${row}`);
    if (outcome === "joined") say("o inside");
    say("phase");
    for (;;) {
      gatewayWrite();
      storeWrite();
    }
  }
  default:
    throw new Error(`unknown scenario ${scenario}`);
}
