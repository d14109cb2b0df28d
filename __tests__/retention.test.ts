// Retention: audit events past an org's retention and soft-deleted orgs past their grace
// period are purged in short batches; nothing that should stay is lost, the chain still
// verifies, other orgs are untouched, and a purge killed midway leaves a consistent file
// that a second purge finishes.
import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ControlPlaneStore, Database } from "../index.js";
import { expectError, tempDir } from "./helpers";

const run = promisify(execFile);
const DAY = 86_400_000;
const NOW = 400 * DAY;

function seed(file: string, events: number) {
  const store = new ControlPlaneStore(file);
  for (const orgId of ["acme", "keep"]) {
    store.createOrg({ orgId, slug: orgId, name: orgId, createdAtMs: 0 });
    store.recordUsage({ orgId, metric: "tok", quantity: 5, observedAtMs: 10 * DAY });
    for (let i = 0; i < events; i++) store.recordAuditEvent({ orgId, action: "run.start", targetType: "run", targetId: `r${i}`, occurredAtMs: Math.floor((i * NOW) / events) });
  }
  store.setRetention({ orgId: "acme", auditDays: 90, usageDays: 200, updatedAtMs: NOW });
  return store;
}

describe("retention", () => {
  it("purges what is past retention and keeps everything else: other orgs, recent events, usage sums (the purged events' too), the chain", async () => {
    const file = path.join(tempDir(), "retention.db");
    const store = seed(file, 400);
    expect(store.getRetention({ orgId: "acme" })).toEqual({ orgId: "acme", auditDays: 90, usageDays: 200, updatedAtMs: NOW });
    expect(store.getRetention({ orgId: "keep" })).toEqual({ orgId: "keep", auditDays: null, usageDays: null, updatedAtMs: null });
    const checks = [5 * DAY, 10 * DAY, 150 * DAY].map((untilMs) => store.summarizeUsage({ orgId: "acme", sinceMs: 0, untilMs }));
    const before = { keep: store.exportOrgAudit({ orgId: "keep", exportedAtMs: 1 }), usage: store.summarizeUsage({ orgId: "acme" }) };
    const recent = store.queryAuditLog({ orgId: "acme", sinceMs: NOW - 90 * DAY, limit: 1_000 }).items;
    const dry = store.purgeExpired({ nowMs: NOW, dryRun: true });
    const due = Number(new Database(file).query("SELECT COUNT(*) AS n FROM _smithers_cp_audit_events WHERE org_id = 'acme' AND occurred_at_ms < ?").get(NOW - 90 * DAY)!.n);
    expect(dry.deleted._smithers_cp_audit_events).toBe(due);
    expect(due).toBeGreaterThan(250);

    // The CLI: a dry run counts, the purge removes, in batches.
    const cli = path.join(__dirname, "../bin/control-plane.js");
    const counted = JSON.parse((await run(process.execPath, [cli, "--db", file, "--json", "purge", "--dry-run"])).stdout);
    expect(counted).toMatchObject({ dryRun: true });
    const purged = store.purgeExpired({ nowMs: NOW, batchSize: 50 });
    expect(purged).toMatchObject({ dryRun: false, done: true, orgs: [] });
    expect(purged.deleted._smithers_cp_audit_events).toBe(due);
    expect(purged.deleted._smithers_cp_usage_events).toBe(1); // the one usage event, on day 10
    expect(purged.batches).toBe(Math.ceil((due + 1) / 50) + 1);
    expect([5 * DAY, 10 * DAY, 150 * DAY].map((untilMs) => store.summarizeUsage({ orgId: "acme", sinceMs: 0, untilMs }))).toEqual(checks);
    expect(store.checkRollups()).toEqual({ consistent: true, repaired: false });

    expect(store.queryAuditLog({ orgId: "acme", limit: 1_000 }).items).toEqual(recent);
    expect(store.verifyAuditChain({ orgId: "acme" })).toMatchObject({ ok: true, redacted: due });
    expect(store.exportOrgAudit({ orgId: "keep", exportedAtMs: 1 })).toEqual(before.keep);
    expect(store.summarizeUsage({ orgId: "acme" })).toEqual(before.usage);
    expect(store.purgeExpired({ nowMs: NOW }).deleted).toEqual({ _smithers_cp_audit_events: 0, _smithers_cp_usage_events: 0 });
    store.close();
  });

  it("removes soft-deleted orgs past their grace period, as a hard delete does", () => {
    const store = new ControlPlaneStore(":memory:");
    store.createOrg({ orgId: "old", slug: "old", name: "Old" });
    store.createProject({ orgId: "old", slug: "p", name: "P" });
    store.createOrg({ orgId: "new", slug: "new", name: "New" });
    store.deleteOrg({ orgId: "old", atMs: NOW - 31 * DAY });
    store.deleteOrg({ orgId: "new", atMs: NOW - 29 * DAY });
    const purge = store.purgeExpired({ nowMs: NOW });
    expect(purge.orgs).toEqual(["old"]);
    expect(purge.deleted).toMatchObject({ _smithers_cp_orgs: 1, _smithers_cp_projects: 1 });
    expect(store.getOrg("old")).toBeNull();
    expect(store.getOrg("new")!.status).toBe("deleted");
  });

  it("refuses what it cannot do, and bad numbers, with the field's message", () => {
    const store = new ControlPlaneStore(":memory:");
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    expectError(() => store.setRetention({ orgId: "acme", usageDays: 1.5 }), "INVALID_INPUT", "usageDays must be a whole number of days >= 1, or null to keep for ever.", { field: "usageDays" });
    expectError(() => store.setRetention({ orgId: "acme", auditDays: 0 }), "INVALID_INPUT", "auditDays must be a whole number of days >= 1, or null to keep for ever.");
    expectError(() => store.purgeExpired({ batchSize: 0 }), "INVALID_INPUT", /^batchSize must be/);
    expect(store.setRetention({ orgId: "acme", auditDays: null }).auditDays).toBeNull();
  });

  it("a purge killed midway by SIGKILL leaves the file consistent, and running it again finishes", async () => {
    const file = path.join(tempDir(), "kill.db");
    seed(file, 2_000).close();
    const child = spawn(process.execPath, [path.join(__dirname, "workers/purge.js"), file, String(NOW)], { stdio: ["ignore", "pipe", "inherit"] });
    const killAt = 3 + Math.floor(Math.random() * 20); // a random moment among the batches
    const closed = new Promise<NodeJS.Signals | null>((resolve) => child.once("close", (_code, signal) => resolve(signal)));
    let steps = 0;
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) if (line.startsWith("purged")) steps++;
      // Killed after a few acknowledged batches, in the middle of the rest.
      if (steps >= killAt && !child.killed) child.kill("SIGKILL");
    });
    expect(await closed).toBe("SIGKILL");
    expect(steps).toBeGreaterThanOrEqual(killAt);

    const db = new Database(file);
    expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    const left = () => Number(db.query("SELECT COUNT(*) AS n FROM _smithers_cp_audit_events WHERE org_id = 'acme' AND occurred_at_ms < ?").get(NOW - 90 * DAY)!.n);
    expect(left()).toBeGreaterThan(0); // interrupted before the end
    const store = new ControlPlaneStore(file);
    expect(store.verifyAuditChain({ orgId: "acme" }).ok).toBe(true);
    expect(store.purgeExpired({ nowMs: NOW }).done).toBe(true);
    expect(left()).toBe(0);
    expect(store.verifyAuditChain({ orgId: "acme" }).ok).toBe(true);
    expect(store.verifyAuditChain({ orgId: "keep" })).toMatchObject({ ok: true, redacted: 0 });
    expect(Number(db.query("SELECT COUNT(*) AS n FROM _smithers_cp_audit_events WHERE org_id = 'keep'").get()!.n)).toBe(2_001);
    db.close();
    store.close();
  });
});
