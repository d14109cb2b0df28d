// Every mutation is one transaction with its audit event: when the audit insert fails,
// the row it describes is not written either.
import { describe, expect, it } from "vitest";
import { count, expectError, seededStore } from "./helpers";

function failAuditInserts(db: import("../index.js").Database) {
  db.exec(`
    CREATE TRIGGER fail_audit BEFORE INSERT ON _smithers_cp_audit_events
    BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END;
  `);
}

describe("atomic writes", () => {
  const cases: [string, string, (s: any) => unknown][] = [
    ["createOrg", "_smithers_cp_orgs", (s) => s.createOrg({ slug: "new", name: "New" })],
    ["createTeam", "_smithers_cp_teams", (s) => s.createTeam({ orgId: "acme", slug: "t", name: "T" })],
    ["addTeamMember", "_smithers_cp_team_members", (s) => s.addTeamMember({ orgId: "acme", teamId: "core", userId: "u9" })],
    ["createProject", "_smithers_cp_projects", (s) => s.createProject({ orgId: "acme", slug: "p", name: "P" })],
    ["addProjectTeam", "_smithers_cp_project_teams", (s) => s.addProjectTeam({ orgId: "acme", projectId: "web", teamId: "core" })],
    ["upsertBillingAccount", "_smithers_cp_billing_accounts", (s) => s.upsertBillingAccount({ orgId: "acme", plan: "pro" })],
    ["upsertIdentityProvider", "_smithers_cp_identity_providers", (s) => s.upsertIdentityProvider({ orgId: "acme", type: "saml", issuer: "i" })],
    ["setUsageLimit", "_smithers_cp_usage_limits", (s) => s.setUsageLimit({ orgId: "acme", metric: "m", limitQuantity: 1 })],
    ["putSecretRef", "_smithers_cp_secret_refs", (s) => s.putSecretRef({ orgId: "acme", name: "K", provider: "vault", ref: "vault://k" })],
  ];

  it.each(cases)("%s writes neither the row nor the event when the audit insert fails", (_name, table, call) => {
    const { db, store } = seededStore();
    store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core" });
    const rows = count(db, table);
    const events = count(db, "_smithers_cp_audit_events");
    failAuditInserts(db);
    const error = expectError(() => call(store), "STORAGE_ERROR", /audit store unavailable/);
    expect(error.details).toMatchObject({ sqliteCode: "ConstraintViolation" });
    expect(count(db, table)).toBe(rows);
    expect(count(db, "_smithers_cp_audit_events")).toBe(events);

    // The connection is usable afterwards and the same call succeeds once the fault is gone.
    db.exec("DROP TRIGGER fail_audit");
    call(store);
    expect(count(db, table)).toBe(rows + 1);
    expect(count(db, "_smithers_cp_audit_events")).toBe(events + 1);
  });

  it("an upsert that fails keeps the previous row unchanged", () => {
    const { db, store } = seededStore();
    store.upsertBillingAccount({ orgId: "acme", plan: "pro", updatedAtMs: 1 });
    failAuditInserts(db);
    expectError(() => store.upsertBillingAccount({ orgId: "acme", plan: "enterprise" }), "STORAGE_ERROR");
    expect(db.query("SELECT plan, updated_at_ms FROM _smithers_cp_billing_accounts").get()).toEqual({ plan: "pro", updated_at_ms: 1 });
  });

  it("inside a caller's transaction, our write joins it and a failure undoes only ours", () => {
    const { db, store } = seededStore();
    db.exec("BEGIN");
    db.exec("INSERT INTO _smithers_cp_orgs (org_id, slug, name, created_at_ms) VALUES ('callers', 'callers', 'C', 1)");
    store.createOrg({ orgId: "ours", slug: "ours", name: "Ours" });
    expectError(() => store.createOrg({ orgId: "dup", slug: "ours", name: "Dup" }), "DUPLICATE_ID");
    db.exec("ROLLBACK");
    expect(store.getOrg("callers")).toBeNull();
    expect(store.getOrg("ours")).toBeNull();

    db.exec("BEGIN");
    store.createOrg({ orgId: "kept", slug: "kept", name: "Kept" });
    db.exec("COMMIT");
    expect(store.getOrg("kept")).not.toBeNull();
  });
});
