"use strict";
// Peak memory of verifying an org's audit chain as it grows: builds a file with N chained
// audit events (in a child, so that building does not count), then verifies it in a
// fresh child, synchronously and off the JS thread, and prints its time and peak RSS.
// `node bench/verify-rss.js [events]` (default 1,000,000). Prints figures; asserts nothing.

const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const [, , mode, file, arg] = process.argv;
if (mode === "build") {
  const { ControlPlaneStore } = require("..");
  const store = new ControlPlaneStore(file);
  store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
  for (let i = 0; i < Number(arg); i++) store.recordAuditEvent({ orgId: "acme", actorId: `user-${i % 97}`, action: "run.start", targetType: "run", targetId: `run-${i}`, occurredAtMs: 1_000 + i, metadata: { tokens: i } });
  store.close();
} else if (mode === "verify") {
  const { ControlPlaneStore } = require("..");
  const store = new ControlPlaneStore(file);
  const start = process.hrtime.bigint();
  const done = (report) => {
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    console.log(JSON.stringify({ report, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
    store.close();
  };
  if (arg === "async") store.verifyAuditChainAsync({ orgId: "acme" }).then(done);
  else done(store.verifyAuditChain({ orgId: "acme" }));
} else {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cp-verify-"));
  const rows = [];
  for (const events of (mode ? [Number(mode)] : [100_000, 1_000_000])) {
    const db = path.join(dir, `chain-${events}.db`);
    execFileSync(process.execPath, [__filename, "build", db, String(events)]);
    for (const how of ["sync", "async"]) {
      const out = JSON.parse(execFileSync(process.execPath, [__filename, "verify", db, how]).toString());
      rows.push({ events, how, ok: out.report.ok, checked: out.report.checked, seconds: out.seconds.toFixed(2), "peak RSS (MiB)": out.peakRssMiB.toFixed(1) });
    }
  }
  console.table(rows);
  fs.rmSync(dir, { recursive: true, force: true });
}
