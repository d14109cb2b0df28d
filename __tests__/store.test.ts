import { describe, expect, it } from "vitest";
import { ControlPlaneStore, Database } from "../index.js";
import { activeOrg, count, expectError, memoryStore, orgRows, orgTables, seededStore } from "./helpers";

function auditRows(db: Database) {
  return db
    .query(
      "SELECT org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json FROM _smithers_cp_audit_events ORDER BY id",
    )
    .all();
}

describe("orgs", () => {
  it("creates an org, audits it, and reads it back", () => {
    const { db, store } = memoryStore();
    const org = store.createOrg({ orgId: " acme ", slug: "acme", name: " Acme Inc ", createdAtMs: 12.9 });
    expect(org).toEqual(activeOrg({ orgId: "acme", slug: "acme", name: "Acme Inc", createdAtMs: 12 }));
    expect(store.getOrg("acme")).toEqual(org);
    expect(store.getOrg("missing")).toBeNull();
    expect(auditRows(db)).toEqual([
      {
        org_id: "acme",
        project_id: null,
        actor_id: "system",
        action: "org.create",
        target_type: "org",
        target_id: "acme",
        occurred_at_ms: 12,
        metadata_json: "{}",
      },
    ]);
  });

  it("generates a UUID when orgId is missing or blank and stamps the current time", () => {
    const { store } = memoryStore();
    const before = Date.now();
    const a = store.createOrg({ slug: "a", name: "A" });
    const b = store.createOrg({ orgId: "   ", slug: "b", name: "B" });
    expect(a.orgId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b.orgId).not.toBe(a.orgId);
    expect(a.createdAtMs).toBeGreaterThanOrEqual(before);
    expect(a.createdAtMs).toBeLessThanOrEqual(Date.now());
  });

  it("rejects a duplicate slug and a duplicate id with DUPLICATE_ID, writing nothing", () => {
    const { db, store } = memoryStore();
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    expectError(() => store.createOrg({ orgId: "other", slug: "acme", name: "X" }), "DUPLICATE_ID", "Duplicate control-plane org slug: acme", {
      kind: "control-plane.org",
      id: "acme",
      slug: "acme",
    });
    expectError(() => store.createOrg({ orgId: "acme", slug: "fresh", name: "X" }), "DUPLICATE_ID", "Duplicate control-plane org id: acme", {
      kind: "control-plane.org",
      id: "acme",
    });
    expect(count(db, "_smithers_cp_orgs")).toBe(1);
    expect(count(db, "_smithers_cp_audit_events")).toBe(1);
  });
});

describe("teams and members", () => {
  it("creates a team with an audit event and returns it", () => {
    const { db, store } = seededStore();
    const team = store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core", createdAtMs: 3_000 });
    expect(team).toEqual({ orgId: "acme", teamId: "core", slug: "core", name: "Core", createdAtMs: 3_000 });
    expect(auditRows(db).at(-1)).toMatchObject({ action: "team.create", target_type: "team", target_id: "core", actor_id: null });
  });

  it("rejects duplicate team slugs and ids within an org, but not across orgs", () => {
    const { store } = seededStore();
    store.createOrg({ orgId: "beta", slug: "beta", name: "Beta" });
    store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core" });
    store.createTeam({ orgId: "beta", teamId: "core", slug: "core", name: "Core" });
    expectError(() => store.createTeam({ orgId: "acme", slug: "core", name: "Again" }), "DUPLICATE_ID", "Duplicate control-plane team slug: core", {
      kind: "control-plane.team",
      id: "core",
      slug: "core",
      orgId: "acme",
    });
    expectError(() => store.createTeam({ orgId: "acme", teamId: "core", slug: "other", name: "Again" }), "DUPLICATE_ID", "Duplicate control-plane team id: core");
  });

  it("refuses a team in an org that does not exist", () => {
    const { db, store } = memoryStore();
    expectError(() => store.createTeam({ orgId: "ghost", slug: "t", name: "T" }), "INVALID_INPUT", "Control-plane org not found: ghost", {
      orgId: "ghost",
    });
    expect(count(db, "_smithers_cp_teams")).toBe(0);
    expect(count(db, "_smithers_cp_audit_events")).toBe(0);
  });

  it("upserts a member's role, defaulting to member, audited with the user as actor", () => {
    const { db, store } = seededStore();
    store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core" });
    expect(store.addTeamMember({ orgId: "acme", teamId: "core", userId: "u1", createdAtMs: 5 })).toBeUndefined();
    store.addTeamMember({ orgId: "acme", teamId: "core", userId: "u1", role: "admin", createdAtMs: 6 });
    expect(db.query("SELECT user_id, role, created_at_ms FROM _smithers_cp_team_members").all()).toEqual([
      { user_id: "u1", role: "admin", created_at_ms: 5 },
    ]);
    const events = auditRows(db).filter((e) => e.action === "team.member.upsert");
    expect(events.map((e) => [e.actor_id, e.target_id, e.metadata_json])).toEqual([
      ["u1", "core", '{"role":"member"}'],
      ["u1", "core", '{"role":"admin"}'],
    ]);
  });

  it("refuses a member of a team that does not exist", () => {
    const { store } = seededStore();
    expectError(() => store.addTeamMember({ orgId: "acme", teamId: "nope", userId: "u1" }), "INVALID_INPUT", "Control-plane team not found: nope", {
      orgId: "acme",
      teamId: "nope",
    });
    expectError(() => store.addTeamMember({ orgId: "ghost", teamId: "nope", userId: "u1" }), "INVALID_INPUT", "Control-plane org not found: ghost");
  });
});

describe("projects and grants", () => {
  it("creates a project with metadata and a project-scoped audit event", () => {
    const { db, store } = seededStore();
    const project = store.createProject({ orgId: "acme", projectId: "api", slug: "api", name: "API", metadata: { tier: "gold", n: [1, 2] }, createdAtMs: 7 });
    expect(project).toEqual({ orgId: "acme", projectId: "api", slug: "api", name: "API", metadata: { tier: "gold", n: [1, 2] }, createdAtMs: 7 });
    expect(auditRows(db).at(-1)).toMatchObject({ project_id: "api", action: "project.create", target_type: "project", target_id: "api" });
    expect(db.query("SELECT metadata_json FROM _smithers_cp_projects WHERE project_id = 'api'").get()).toEqual({
      metadata_json: '{"tier":"gold","n":[1,2]}',
    });
  });

  it("defaults metadata to {} and rejects duplicates and missing orgs", () => {
    const { store } = seededStore();
    expect(store.createProject({ orgId: "acme", slug: "bare", name: "Bare" }).metadata).toEqual({});
    expectError(() => store.createProject({ orgId: "acme", slug: "web", name: "W" }), "DUPLICATE_ID", "Duplicate control-plane project slug: web", {
      kind: "control-plane.project",
      id: "web",
      slug: "web",
      orgId: "acme",
    });
    expectError(() => store.createProject({ orgId: "acme", projectId: "web", slug: "web2", name: "W" }), "DUPLICATE_ID", "Duplicate control-plane project id: web");
    expectError(() => store.createProject({ orgId: "ghost", slug: "x", name: "X" }), "INVALID_INPUT", "Control-plane org not found: ghost");
  });

  it("grants a team a role on a project, defaulting to viewer", () => {
    const { db, store } = seededStore();
    store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core" });
    store.addProjectTeam({ orgId: "acme", projectId: "web", teamId: "core", createdAtMs: 9 });
    store.addProjectTeam({ orgId: "acme", projectId: "web", teamId: "core", role: "editor" });
    expect(db.query("SELECT project_id, team_id, role, created_at_ms FROM _smithers_cp_project_teams").all()).toEqual([
      { project_id: "web", team_id: "core", role: "editor", created_at_ms: 9 },
    ]);
    const events = auditRows(db).filter((e) => e.action === "project.team.upsert");
    expect(events.map((e) => [e.project_id, e.target_type, e.target_id, e.metadata_json])).toEqual([
      ["web", "team", "core", '{"role":"viewer"}'],
      ["web", "team", "core", '{"role":"editor"}'],
    ]);
    expectError(() => store.addProjectTeam({ orgId: "acme", projectId: "nope", teamId: "core" }), "INVALID_INPUT", "Control-plane project not found: nope");
    expectError(() => store.addProjectTeam({ orgId: "acme", projectId: "web", teamId: "nope" }), "INVALID_INPUT", "Control-plane team not found: nope");
  });
});

describe("billing", () => {
  it("upserts the org's account with defaults and audits plan and status", () => {
    const { db, store } = seededStore();
    expect(store.upsertBillingAccount({ orgId: "acme", plan: "pro", updatedAtMs: 10 })).toEqual({
      orgId: "acme",
      plan: "pro",
      billingCustomerId: null,
      status: "active",
      updatedAtMs: 10,
    });
    expect(store.upsertBillingAccount({ orgId: "acme", plan: "enterprise", billingCustomerId: "cus_1", status: "past_due", updatedAtMs: 11 })).toEqual({
      orgId: "acme",
      plan: "enterprise",
      billingCustomerId: "cus_1",
      status: "past_due",
      updatedAtMs: 11,
    });
    expect(count(db, "_smithers_cp_billing_accounts")).toBe(1);
    expect(auditRows(db).at(-1)).toMatchObject({
      action: "billing.account.upsert",
      target_type: "billing_account",
      target_id: "acme",
      metadata_json: '{"plan":"enterprise","status":"past_due"}',
    });
    expectError(() => store.upsertBillingAccount({ orgId: "ghost", plan: "pro" }), "INVALID_INPUT", "Control-plane org not found: ghost");
  });
});

describe("identity providers", () => {
  it("inserts, updates keeping the first createdAtMs, and lists by providerId with a status filter", () => {
    const { db, store } = seededStore();
    const first = store.upsertIdentityProvider({
      orgId: "acme",
      providerId: "okta",
      type: "saml",
      issuer: "https://okta.example/acme",
      ssoUrl: "https://okta.example/sso",
      certificateRef: "vault://idp/okta-cert",
      metadata: { entityId: "urn:acme" },
      updatedAtMs: 100,
    });
    expect(first).toEqual({
      orgId: "acme",
      providerId: "okta",
      type: "saml",
      issuer: "https://okta.example/acme",
      ssoUrl: "https://okta.example/sso",
      certificateRef: "vault://idp/okta-cert",
      status: "active",
      metadata: { entityId: "urn:acme" },
      createdAtMs: 100,
      updatedAtMs: 100,
    });
    const updated = store.upsertIdentityProvider({ orgId: "acme", providerId: "okta", type: "saml", issuer: "https://okta.example/v2", status: "disabled", createdAtMs: 500, updatedAtMs: 600 });
    expect(updated).toMatchObject({ issuer: "https://okta.example/v2", ssoUrl: null, certificateRef: null, status: "disabled", metadata: {}, createdAtMs: 100, updatedAtMs: 600 });
    store.upsertIdentityProvider({ orgId: "acme", providerId: "azure", type: "oidc", issuer: "https://login.example" });
    expect(store.listIdentityProviders({ orgId: "acme" }).map((p) => p.providerId)).toEqual(["azure", "okta"]);
    expect(store.listIdentityProviders({ orgId: "acme", status: "disabled" }).map((p) => p.providerId)).toEqual(["okta"]);
    expect(store.listIdentityProviders({ orgId: "acme", status: "" })).toHaveLength(2);
    expect(store.listIdentityProviders({ orgId: "other" })).toEqual([]);
    expect(auditRows(db).filter((e) => e.action === "identity_provider.upsert").map((e) => e.metadata_json)).toEqual([
      '{"type":"saml","status":"active"}',
      '{"type":"saml","status":"disabled"}',
      '{"type":"oidc","status":"active"}',
    ]);
  });

  it("generates a providerId when none is given", () => {
    const { store } = seededStore();
    const p = store.upsertIdentityProvider({ orgId: "acme", type: "oidc", issuer: "https://i" });
    expect(p.providerId).toHaveLength(36);
    expect(p.createdAtMs).toBe(p.updatedAtMs);
  });
});

describe("secret refs", () => {
  it("stores references per scope, replaces on the same name, and lists by scope", () => {
    const { db, store } = seededStore();
    const orgWide = store.putSecretRef({ orgId: "acme", name: "OPENAI_KEY", provider: "vault", ref: "vault://kv/openai", createdBy: "alice", createdAtMs: 1 });
    expect(orgWide).toEqual({
      orgId: "acme",
      projectId: null,
      name: "OPENAI_KEY",
      provider: "vault",
      ref: "vault://kv/openai",
      createdBy: "alice",
      createdAtMs: 1,
      rotatedAtMs: null,
    });
    store.putSecretRef({ orgId: "acme", projectId: "web", name: "OPENAI_KEY", provider: "aws", ref: "arn:aws:secretsmanager:web", createdAtMs: 2 });
    store.putSecretRef({ orgId: "acme", projectId: "web", name: "ANTHROPIC_KEY", provider: "aws", ref: "arn:aws:secretsmanager:a", createdAtMs: 3 });
    const rotated = store.putSecretRef({ orgId: "acme", name: "OPENAI_KEY", provider: "vault", ref: "vault://kv/openai-v2", createdAtMs: 4, rotatedAtMs: 40 });
    expect(rotated.rotatedAtMs).toBe(40);

    expect(store.listSecretRefs({ orgId: "acme" }).map((s) => [s.name, s.projectId])).toEqual([
      ["ANTHROPIC_KEY", "web"],
      ["OPENAI_KEY", null], // same name: org-wide ("__org__") before the project's
      ["OPENAI_KEY", "web"],
    ]);
    expect(store.listSecretRefs({ orgId: "acme", projectId: null }).map((s) => s.ref)).toEqual(["vault://kv/openai-v2"]);
    expect(store.listSecretRefs({ orgId: "acme", projectId: "web" }).map((s) => s.name)).toEqual(["ANTHROPIC_KEY", "OPENAI_KEY"]);
    expect(count(db, "_smithers_cp_secret_refs")).toBe(3);

    const events = auditRows(db).filter((e) => e.action === "secret_ref.upsert");
    expect(events.map((e) => [e.actor_id, e.project_id, e.target_id, e.occurred_at_ms, e.metadata_json])).toEqual([
      ["alice", null, "OPENAI_KEY", 1, '{"provider":"vault"}'],
      [null, "web", "OPENAI_KEY", 2, '{"provider":"aws"}'],
      [null, "web", "ANTHROPIC_KEY", 3, '{"provider":"aws"}'],
      [null, null, "OPENAI_KEY", 40, '{"provider":"vault"}'],
    ]);
  });

  it("refuses a secret ref of a project that does not exist", () => {
    const { db, store } = seededStore();
    expectError(() => store.putSecretRef({ orgId: "acme", projectId: "nope", name: "K", provider: "vault", ref: "vault://k" }), "INVALID_INPUT", "Control-plane project not found: nope", {
      orgId: "acme",
      projectId: "nope",
    });
    expect(count(db, "_smithers_cp_secret_refs")).toBe(0);
  });
});

describe("audit events", () => {
  it("records a caller's event and returns it", () => {
    const { store } = seededStore();
    const ev = store.recordAuditEvent({ orgId: "acme", projectId: "web", actorId: "bob", action: "run.start", targetType: "run", targetId: "r1", occurredAtMs: 50, metadata: { a: 1 } });
    expect(ev).toEqual({ id: expect.any(Number), orgId: "acme", projectId: "web", actorId: "bob", action: "run.start", targetType: "run", targetId: "r1", occurredAtMs: 50, metadata: { a: 1 } });
    const bare = store.recordAuditEvent({ orgId: "acme", action: "x", targetType: "y" });
    expect(bare).toMatchObject({ projectId: null, actorId: null, targetId: null, metadata: {} });
    expect(bare.id).toBeGreaterThan(ev.id);
    expectError(() => store.recordAuditEvent({ orgId: "acme", projectId: "nope", action: "x", targetType: "y" }), "INVALID_INPUT", "Control-plane project not found: nope");
    expectError(() => store.recordAuditEvent({ orgId: "ghost", action: "x", targetType: "y" }), "INVALID_INPUT", "Control-plane org not found: ghost");
  });
});

describe("exportOrgAudit", () => {
  it("exports everything of one org, ordered as documented, within the window", () => {
    const { store } = seededStore();
    store.createOrg({ orgId: "other", slug: "other", name: "Other", createdAtMs: 1 });
    store.createProject({ orgId: "acme", projectId: "api", slug: "api", name: "API", createdAtMs: 3_000 });
    store.createTeam({ orgId: "acme", teamId: "t-z", slug: "zeta", name: "Z", createdAtMs: 4_000 });
    store.createTeam({ orgId: "acme", teamId: "t-a", slug: "alpha", name: "A", createdAtMs: 4_000 });
    store.upsertBillingAccount({ orgId: "acme", plan: "pro", updatedAtMs: 5_000 });
    store.upsertIdentityProvider({ orgId: "acme", providerId: "p2", type: "oidc", issuer: "i", updatedAtMs: 6_000 });
    store.upsertIdentityProvider({ orgId: "acme", providerId: "p1", type: "saml", issuer: "i", updatedAtMs: 6_000 });
    store.recordUsage({ orgId: "acme", metric: "tokens", quantity: 5, observedAtMs: 7_000 });
    store.recordUsage({ orgId: "acme", projectId: "web", metric: "tokens", quantity: 7, observedAtMs: 8_000 });
    store.recordUsage({ orgId: "other", metric: "tokens", quantity: 100, observedAtMs: 7_000 });
    store.setUsageLimit({ orgId: "acme", projectId: "web", metric: "tokens", limitQuantity: 10, updatedAtMs: 9_000 });
    store.setUsageLimit({ orgId: "acme", metric: "tokens", limitQuantity: 100, updatedAtMs: 9_000 });
    store.putSecretRef({ orgId: "acme", name: "B", provider: "vault", ref: "vault://b", createdAtMs: 9_500 });
    store.putSecretRef({ orgId: "acme", projectId: "web", name: "A", provider: "vault", ref: "vault://a", createdAtMs: 9_500 });
    store.recordAuditEvent({ orgId: "acme", action: "same.time.first", targetType: "x", occurredAtMs: 4_000 });

    const all = store.exportOrgAudit({ orgId: "acme", exportedAtMs: 123 });
    expect(all.exportedAtMs).toBe(123);
    expect(all.org).toEqual(activeOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1_000 }));
    expect(all.projects.map((p) => p.slug)).toEqual(["api", "web"]);
    expect(all.teams.map((t) => t.slug)).toEqual(["alpha", "zeta"]);
    expect(all.billing).toMatchObject({ plan: "pro" });
    expect(all.identityProviders.map((p) => p.providerId)).toEqual(["p1", "p2"]);
    expect(all.usage).toEqual([{ orgId: "acme", metric: "tokens", unit: "count", quantity: 12 }]);
    expect(all.usageLimits.map((l) => l.projectId)).toEqual([null, "web"]); // "__org__" sorts before "web"
    expect(all.secretRefs.map((s) => s.name)).toEqual(["A", "B"]);
    expect(all.auditEvents.every((e) => e.orgId === "acme")).toBe(true);
    const times = all.auditEvents.map((e) => [e.occurredAtMs, e.id]);
    expect(times).toEqual([...times].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    const at4000 = all.auditEvents.filter((e) => e.occurredAtMs === 4_000).map((e) => e.action);
    expect(at4000).toEqual(["team.create", "team.create", "same.time.first"]);

    const windowed = store.exportOrgAudit({ orgId: "acme", sinceMs: 4_000, untilMs: 7_000 });
    expect(windowed.usage).toEqual([{ orgId: "acme", metric: "tokens", unit: "count", quantity: 5 }]);
    expect(windowed.auditEvents.map((e) => e.occurredAtMs)).toEqual([4_000, 4_000, 4_000, 5_000, 6_000, 6_000]);
    expect(windowed.exportedAtMs).toBeGreaterThan(1_000_000);
  });

  it("throws for an unknown org", () => {
    const { store } = memoryStore();
    expectError(() => store.exportOrgAudit({ orgId: "ghost" }), "INVALID_INPUT", "Control-plane org not found: ghost", { orgId: "ghost" });
  });
});

describe("cascades", () => {
  it("deleting an org row removes every child row", () => {
    const { db, store } = seededStore();
    store.createOrg({ orgId: "keep", slug: "keep", name: "Keep" });
    store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core" });
    store.addTeamMember({ orgId: "acme", teamId: "core", userId: "u1" });
    store.addProjectTeam({ orgId: "acme", projectId: "web", teamId: "core" });
    store.upsertBillingAccount({ orgId: "acme", plan: "pro" });
    store.upsertIdentityProvider({ orgId: "acme", type: "saml", issuer: "i" });
    store.recordUsage({ orgId: "acme", projectId: "web", metric: "m", quantity: 1 });
    store.setUsageLimit({ orgId: "acme", metric: "m", limitQuantity: 1 });
    store.putSecretRef({ orgId: "acme", projectId: "web", name: "K", provider: "vault", ref: "vault://k" });
    store.recordAuditEvent({ orgId: "acme", action: "a", targetType: "t" });

    db.prepare("DELETE FROM _smithers_cp_orgs WHERE org_id = ?").run("acme");
    const tables = orgTables(db);
    expect(tables.length).toBe(21); // the documented 11 + usage rollups, series and dense minutes, org quotas, audit chain heads and redactions, retention, credit grants, usage corrections, credit ledger
    for (const name of tables) {
      expect([name, orgRows(db, name, "acme")]).toEqual([name, 0]);
    }
    expect(store.getOrg("keep")).not.toBeNull();
    expect(count(db, "_smithers_cp_audit_events")).toBe(1);
  });
});

describe("ensureControlPlaneTables", () => {
  it("is idempotent and leaves the data alone", async () => {
    const { ensureControlPlaneTables } = await import("../index.js");
    const { db, store } = seededStore();
    const schema = () => db.query("SELECT type, name, sql FROM sqlite_master ORDER BY name").all();
    const before = schema();
    ensureControlPlaneTables(db);
    ensureControlPlaneTables(db);
    new ControlPlaneStore(db);
    expect(schema()).toEqual(before);
    expect(store.getOrg("acme")).not.toBeNull();
    expect(db.query("SELECT value FROM _smithers_cp_native_meta WHERE key = 'schema_version'").get()).toEqual({ value: "8" });
    expect(db.query("PRAGMA user_version").get()).toEqual({ user_version: 0 });
    expect(db.query("PRAGMA foreign_keys").get()).toEqual({ foreign_keys: 1 });
  });
});
