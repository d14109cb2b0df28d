import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ControlPlaneStore, Database } from "../index.js";
import { tempDir } from "./helpers";

const run = promisify(execFile);

function scenario(file: string) {
  const store = new ControlPlaneStore(file);
  store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
  store.createOrg({ orgId: "other", slug: "other", name: "Other", createdAtMs: 1 });
  store.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web", createdAtMs: 2 });
  store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core", createdAtMs: 3 });
  store.upsertBillingAccount({ orgId: "acme", plan: "pro", updatedAtMs: 4 });
  store.recordUsage({ orgId: "acme", metric: "tokens", quantity: 5, observedAtMs: 5 });
  store.putSecretRef({ orgId: "acme", name: "K", provider: "vault", ref: "vault://k", createdAtMs: 6 });
  store.recordAuditEvent({ orgId: "acme", action: "note,with \"quotes\"", targetType: "t", occurredAtMs: 7, metadata: { line: "a\nb" } });
  store.recordAuditEvent({ orgId: "other", action: "foreign", targetType: "t", occurredAtMs: 7 });
  return store;
}

describe("exportOrgAuditToFile", () => {
  it("writes json equal to exportOrgAudit, ndjson with a record per line, and csv of the audit events", async () => {
    const dir = tempDir();
    const store = scenario(path.join(dir, "cp.db"));
    const expected = store.exportOrgAudit({ orgId: "acme", exportedAtMs: 99 });

    const json = await store.exportOrgAuditToFile({ orgId: "acme", path: path.join(dir, "out.json"), format: "json", exportedAtMs: 99 });
    expect(json).toMatchObject({ format: "json", auditEvents: expected.auditEvents.length, projects: 1, teams: 1, secretRefs: 1 });
    expect(json.bytes).toBe(fs.statSync(path.join(dir, "out.json")).size);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "out.json"), "utf8"))).toEqual(expected);

    const ndjson = await store.exportOrgAuditToFile({ orgId: "acme", path: path.join(dir, "out.ndjson"), format: "ndjson", exportedAtMs: 99 });
    const lines = fs.readFileSync(path.join(dir, "out.ndjson"), "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ type: "export", exportedAtMs: 99, orgId: "acme" });
    const { type: _org, ...org } = lines.find((l) => l.type === "org");
    expect(org).toEqual(expected.org);
    const events = lines.filter((l) => l.type === "auditEvent").map(({ type: _t, ...e }) => e);
    expect(events).toEqual(expected.auditEvents);
    expect(lines.map((l) => l.type)).toEqual(["export", "org", "project", "team", "billing", "usage", "secretRef", ...events.map(() => "auditEvent")]);
    expect(ndjson.auditEvents).toBe(events.length);

    await store.exportOrgAuditToFile({ orgId: "acme", path: path.join(dir, "out.csv"), format: "csv", sinceMs: 7 });
    const csv = fs.readFileSync(path.join(dir, "out.csv"), "utf8");
    expect(csv).toBe(
      "id,orgId,projectId,actorId,action,targetType,targetId,occurredAtMs,metadata,ipAddress,userAgent,requestId\n" +
        `${expected.auditEvents.at(-1)!.id},acme,,,"note,with ""quotes""",t,,7,"{""line"":""a\\nb""}",,,\n`,
    );
    // Exports hold actor ids and metadata: owner-only, like the database.
    for (const name of ["out.json", "out.ndjson", "out.csv"]) {
      expect([name, fs.statSync(path.join(dir, name)).mode & 0o777]).toEqual([name, 0o600]);
    }
    store.close();
  });

  it("holds the org's credit grants and its corrections of usage in json and ndjson, and their audit events in csv", async () => {
    const dir = tempDir();
    const store = scenario(path.join(dir, "cp.db"));
    store.grantCredits({ orgId: "acme", grantId: "plan", metric: "tokens", amount: 10, effectiveAtMs: 0 });
    store.grantCredits({ orgId: "other", grantId: "theirs", metric: "tokens", amount: 10, effectiveAtMs: 0 });
    const event = store.recordUsage({ orgId: "acme", metric: "tokens", quantity: 4, observedAtMs: 8, idempotencyKey: "e" });
    store.amendUsage({ orgId: "acme", idempotencyKey: "e", quantity: 1, reason: "recount" });
    const expected = store.exportOrgAudit({ orgId: "acme", exportedAtMs: 99 });
    expect(expected.creditGrants.map((g) => g.grantId)).toEqual(["plan"]);
    expect(expected.usageCorrections).toMatchObject([{ eventId: event.id, kind: "amend", previousQuantity: 4, quantity: 1, observedAtMs: 8, reason: "recount" }]);
    const json = await store.exportOrgAuditToFile({ orgId: "acme", path: path.join(dir, "c.json"), format: "json", exportedAtMs: 99 });
    expect(json).toMatchObject({ creditGrants: 1, usageCorrections: 1 });
    expect(JSON.parse(fs.readFileSync(path.join(dir, "c.json"), "utf8"))).toEqual(expected);
    await store.exportOrgAuditToFile({ orgId: "acme", path: path.join(dir, "c.ndjson"), format: "ndjson", exportedAtMs: 99 });
    const lines = fs.readFileSync(path.join(dir, "c.ndjson"), "utf8").trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(lines.filter((l) => l.type === "creditGrant").map(({ type: _t, ...g }) => g)).toEqual(expected.creditGrants);
    expect(lines.filter((l) => l.type === "usageCorrection").map(({ type: _t, ...k }) => k)).toEqual(expected.usageCorrections);
    await store.exportOrgAuditToFile({ orgId: "acme", path: path.join(dir, "c.csv"), format: "csv" });
    const csv = fs.readFileSync(path.join(dir, "c.csv"), "utf8");
    expect(csv).toContain(",credit_grant.create,credit_grant,plan,");
    expect(csv).toContain(`,usage.amend,usage_event,${event.id},`);
    store.close();
  });

  it("is atomic: a failed export leaves no file and an earlier file untouched", async () => {
    const dir = tempDir();
    const store = scenario(path.join(dir, "cp.db"));
    const target = path.join(dir, "keep.json");
    fs.writeFileSync(target, "earlier");
    await expect(store.exportOrgAuditToFile({ orgId: "ghost", path: target, format: "json" })).rejects.toMatchObject({ code: "INVALID_INPUT", message: "Control-plane org not found: ghost" });
    await expect(store.exportOrgAuditToFile({ orgId: "acme", path: target, format: "xml" as any })).rejects.toMatchObject({ code: "INVALID_INPUT", message: "format must be one of: json, ndjson, csv." });
    await expect(store.exportOrgAuditToFile({ orgId: "acme", path: path.join(dir, "no/such/dir/x.json"), format: "json" })).rejects.toMatchObject({ code: "STORAGE_ERROR" });
    expect(fs.readFileSync(target, "utf8")).toBe("earlier");
    expect(fs.readdirSync(dir).filter((f) => f.includes(".tmp-"))).toEqual([]);
    store.close();
  });

  it("works on an in-memory store too, and exportOrgAuditAsync resolves to the export", async () => {
    const store = new ControlPlaneStore(":memory:");
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
    const dir = tempDir();
    const report = await store.exportOrgAuditToFile({ orgId: "acme", path: path.join(dir, "m.ndjson"), format: "ndjson" });
    expect(report.auditEvents).toBe(1);
    expect(await store.exportOrgAuditAsync({ orgId: "acme", exportedAtMs: 5 })).toEqual(store.exportOrgAudit({ orgId: "acme", exportedAtMs: 5 }));
  });

  it("streams 1,000,000 audit events in constant memory (peak RSS under 100 MB) without stalling the event loop", async () => {
    const dir = tempDir();
    const file = path.join(dir, "big.db");
    new ControlPlaneStore(file).createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 0 });
    const db = new Database(file);
    db.exec(`
      WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
      INSERT INTO _smithers_cp_audit_events (org_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json)
      SELECT 'acme', 'user-' || (i % 97), 'run.start', 'run', 'run-' || i, 1000 + i, '{"model":"large","tokens":1234}' FROM n`);
    db.close();
    const out = path.join(dir, "big.ndjson");
    const { stdout } = await run(process.execPath, [path.join(__dirname, "workers/export-rss.js"), file, out, "ndjson"], { maxBuffer: 1 << 20 });
    const result = JSON.parse(stdout) as { report: { auditEvents: number; bytes: number }; peakRssBytes: number; ticks: number };
    expect(result.report.auditEvents).toBe(1_000_001);
    expect(result.report.bytes).toBeGreaterThan(150_000_000);
    expect(result.peakRssBytes).toBeLessThan(100 * 1024 * 1024);
    expect(result.ticks).toBeGreaterThan(10); // timers fired while the export ran
    console.log(`1,000,001 audit events, ${(result.report.bytes / 1e6).toFixed(0)} MB of ndjson, peak RSS ${(result.peakRssBytes / 1048576).toFixed(1)} MiB, ${result.ticks} timer ticks meanwhile`);
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
