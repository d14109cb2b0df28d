"use strict";
// What a file's history costs: the time to open a store on a file with 10k, 1M and 2M
// usage events; a CLI command on the 1M file against `control-plane --help`; and bytes per
// usage event on disk against the documented store's layout, at 1 event/s and 1,000
// events/s. `node bench/open.js` (part of `npm run bench:history`). Prints figures; asserts
// nothing.

const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const BetterSqlite3 = require("better-sqlite3");
const { ControlPlaneStore } = require("..");
const { DocumentedStore, DOCUMENTED_DDL } = require("./documented-store.js");

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cp-history-"));
const cli = path.join(__dirname, "..", "bin", "control-plane.js");
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ms = (fn) => {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
};
const event = (i, gapMs) => ({ orgId: "acme", projectId: "web", runId: `run-${i % 1000}`, metric: "llm.tokens", unit: "token", quantity: 1 + (i % 7), observedAtMs: 1_700_000_000_000 + i * gapMs, metadata: { model: "m" } });

function build(file, events, gapMs) {
  const store = new ControlPlaneStore(file);
  store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
  store.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web" });
  for (let at = 0; at < events; at += 10_000) {
    store.recordUsageBatch(Array.from({ length: Math.min(10_000, events - at) }, (_, k) => event(at + k, gapMs)), { returning: "ids" });
  }
  store.checkRollups(); // fold the tail, as a long-running gateway would have
  store.close();
}

const rows = [];
let file1m;
for (const events of [10_000, 1_000_000, 2_000_000]) {
  const file = path.join(dir, `usage-${events}.db`);
  build(file, events, 1_000);
  if (events === 1_000_000) file1m = file;
  const open = median(Array.from({ length: 7 }, () => ms(() => new ControlPlaneStore(file).close())));
  rows.push({ measure: `open a store, ${events.toLocaleString("en-US")} events`, value: `${open.toFixed(2)} ms` });
}
const run = (args) => ms(() => execFileSync(process.execPath, [cli, ...args], { stdio: "ignore" }));
const help = median(Array.from({ length: 5 }, () => run(["--help"])));
const list = median(Array.from({ length: 5 }, () => run(["--db", file1m, "orgs", "list"])));
rows.push({ measure: "control-plane --help", value: `${help.toFixed(0)} ms` });
rows.push({ measure: "control-plane --db <1M events> orgs list", value: `${list.toFixed(0)} ms (${(list / help).toFixed(2)}x --help)` });

// Bytes per event: the same 200,000 events in our file and in the documented layout.
for (const [label, gapMs] of [["1 event/s", 1_000], ["1,000 events/s", 1]]) {
  const ours = path.join(dir, `bytes-ours-${gapMs}.db`);
  build(ours, 200_000, gapMs);
  const theirsFile = path.join(dir, `bytes-theirs-${gapMs}.db`);
  const db = new BetterSqlite3(theirsFile);
  db.exec(DOCUMENTED_DDL);
  const theirs = new DocumentedStore(db);
  theirs.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
  theirs.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web" });
  db.transaction(() => { for (let i = 0; i < 200_000; i++) theirs.recordUsageId(event(i, gapMs)); })();
  db.exec("VACUUM");
  db.close();
  const vacuum = new BetterSqlite3(ours);
  vacuum.exec("VACUUM");
  vacuum.close();
  const a = fs.statSync(ours).size / 200_000;
  const b = fs.statSync(theirsFile).size / 200_000;
  rows.push({ measure: `bytes per usage event, ${label}`, value: `${a.toFixed(0)} ours vs ${b.toFixed(0)} documented layout (${(a / b).toFixed(2)}x)` });
}

console.table(rows);
fs.rmSync(dir, { recursive: true, force: true });
