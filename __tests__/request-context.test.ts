// Request context in the audit log: ipAddress, userAgent and requestId on every audit
// event a call writes (from the input, or an org-scoped handle's context), covered by the
// hash chain, filterable with an index each, and carried by the exports.
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ControlPlaneStore, Database } from "../index.js";
import { expectError, seededStore, tempDir } from "./helpers";

const origin = { ipAddress: "203.0.113.7", userAgent: "gateway/1.2", requestId: "req-42" };

describe("request context in the audit log", () => {
  it("recordAuditEvent and every audited write record it; the scoped handle's context fills it in", () => {
    const { db, store } = seededStore();
    const event = store.recordAuditEvent({ orgId: "acme", action: "run.start", targetType: "run", ...origin } as any);
    expect(event).toMatchObject(origin);
    store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core", actorId: "ada", ...origin } as any);
    const scoped = store.forOrg("acme", { actorId: "grace", ipAddress: "198.51.100.1", requestId: "req-7" });
    scoped.createProject({ projectId: "api", slug: "api", name: "API" });
    scoped.deleteTeam({ teamId: "core", requestId: "req-8" }); // an explicit field wins
    const rows = db.query("SELECT action, actor_id, ip_address, user_agent, request_id FROM _smithers_cp_audit_events ORDER BY id").all();
    expect(rows.slice(-4)).toEqual([
      { action: "run.start", actor_id: null, ip_address: "203.0.113.7", user_agent: "gateway/1.2", request_id: "req-42" },
      { action: "team.create", actor_id: "ada", ip_address: "203.0.113.7", user_agent: "gateway/1.2", request_id: "req-42" },
      { action: "project.create", actor_id: "grace", ip_address: "198.51.100.1", user_agent: null, request_id: "req-7" },
      { action: "team.delete", actor_id: "grace", ip_address: "198.51.100.1", user_agent: null, request_id: "req-8" },
    ]);
    // Events written without a context read back as before: no such fields.
    expect(Object.keys(store.recordAuditEvent({ orgId: "acme", action: "plain", targetType: "t" }))).not.toContain("ipAddress");
    expect(store.verifyAuditChain({ orgId: "acme" })).toMatchObject({ ok: true, unchained: 0 });
  });

  it("is covered by the hash chain: changing, adding or removing it is caught", () => {
    for (const tamper of [
      "UPDATE _smithers_cp_audit_events SET ip_address = '192.0.2.1' WHERE ip_address IS NOT NULL",
      "UPDATE _smithers_cp_audit_events SET ip_address = NULL, user_agent = NULL, request_id = NULL WHERE ip_address IS NOT NULL",
      "UPDATE _smithers_cp_audit_events SET request_id = 'forged' WHERE action = 'org.create'",
    ]) {
      const { db, store } = seededStore();
      store.recordAuditEvent({ orgId: "acme", action: "run.start", targetType: "run", ...origin } as any);
      expect(store.verifyAuditChain({ orgId: "acme" }).ok).toBe(true);
      db.exec(tamper);
      expect([tamper, store.verifyAuditChain({ orgId: "acme" }).ok]).toEqual([tamper, false]);
    }
  });

  it("queryAuditLog filters by ipAddress and requestId, each through its own index", () => {
    const { store } = seededStore();
    for (let i = 0; i < 30; i++) {
      store.recordAuditEvent({ orgId: "acme", action: "run.start", targetType: "run", ipAddress: `10.0.0.${i % 3}`, requestId: `req-${i % 5}`, occurredAtMs: 1_000 + i } as any);
    }
    const byIp = store.queryAuditLog({ orgId: "acme", ipAddress: "10.0.0.1", limit: 100 } as any).items;
    expect(byIp.map((e) => (e as any).ipAddress)).toEqual(Array(10).fill("10.0.0.1"));
    const byRequest = store.queryAuditLog({ orgId: "acme", requestId: "req-2", limit: 100 } as any).items;
    expect(byRequest).toHaveLength(6);
    const plan = (query: object) => store.explainAuditQuery({ orgId: "acme", ...query } as any).join("\n");
    expect(plan({ ipAddress: "10.0.0.1" })).toMatch(/_smithers_cp_audit_org_ip_idx/);
    expect(plan({ requestId: "req-2" })).toMatch(/_smithers_cp_audit_org_request_idx/);
    expect(plan({ requestId: "req-2" })).not.toMatch(/SCAN|TEMP B-TREE/);
  });

  it("exports carry it (json, ndjson, csv), and the documented store's inserts still work", async () => {
    const dir = tempDir();
    const file = path.join(dir, "cp.db");
    const store = new ControlPlaneStore(file);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
    store.recordAuditEvent({ orgId: "acme", action: "run.start", targetType: "run", occurredAtMs: 2, ...origin } as any);
    const db = new Database(file);
    db.exec("INSERT INTO _smithers_cp_audit_events (org_id, action, target_type, occurred_at_ms) VALUES ('acme', 'documented', 't', 3)");
    db.close();
    const exported = store.exportOrgAudit({ orgId: "acme" });
    expect(exported.auditEvents.map((e: any) => [e.action, e.ipAddress ?? null])).toEqual([["org.create", null], ["run.start", "203.0.113.7"], ["documented", null]]);
    await store.exportOrgAuditToFile({ orgId: "acme", path: path.join(dir, "a.ndjson"), format: "ndjson" });
    const line = fs.readFileSync(path.join(dir, "a.ndjson"), "utf8").split("\n").map((l) => (l ? JSON.parse(l) : null)).find((l) => l?.action === "run.start");
    expect(line).toMatchObject({ type: "auditEvent", ...origin });
    await store.exportOrgAuditToFile({ orgId: "acme", path: path.join(dir, "a.csv"), format: "csv" });
    expect(fs.readFileSync(path.join(dir, "a.csv"), "utf8")).toContain(",203.0.113.7,gateway/1.2,req-42\n");
    store.close();
  });

  it("is validated like any field", () => {
    const { store } = seededStore();
    expectError(() => store.recordAuditEvent({ orgId: "acme", action: "a", targetType: "t", ipAddress: 5 } as any), "INVALID_INPUT", "ipAddress is required.", { field: "ipAddress" });
    expectError(() => store.forOrg("acme", { requestId: "x".repeat(5_000) }), "INVALID_INPUT", "requestId must be at most 4096 characters.");
  });
});
