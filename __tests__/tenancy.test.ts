import path from "node:path";
import { describe, expect, it } from "vitest";
import { ControlPlaneStore, Database } from "../index.js";
import { count, expectError, memoryStore, orgRows, orgTables, overlappingRace, seededStore, tempDir } from "./helpers";


describe("org lifecycle", () => {
  it("suspends and unsuspends, audited, with the org's new fields everywhere", () => {
    const { db, store } = seededStore();
    const suspended = store.suspendOrg({ orgId: "acme", reason: "unpaid invoice", actorId: "ops", atMs: 5_000 });
    expect(suspended).toMatchObject({ orgId: "acme", status: "suspended", suspendedAtMs: 5_000, suspendReason: "unpaid invoice", deletedAtMs: null });
    expect(store.getOrg("acme")).toEqual(suspended);
    expect(store.exportOrgAudit({ orgId: "acme" }).org.status).toBe("suspended");
    const back = store.unsuspendOrg({ orgId: "acme", actorId: "ops", atMs: 6_000 });
    expect(back).toMatchObject({ status: "active", suspendedAtMs: null, suspendReason: null });
    const events = db.query("SELECT action, actor_id, metadata_json FROM _smithers_cp_audit_events WHERE target_type = 'org' ORDER BY id").all();
    expect(events).toEqual([
      { action: "org.create", actor_id: "system", metadata_json: "{}" },
      { action: "org.suspend", actor_id: "ops", metadata_json: '{"reason":"unpaid invoice"}' },
      { action: "org.unsuspend", actor_id: "ops", metadata_json: "{}" },
    ]);
    expectError(() => store.suspendOrg({ orgId: "acme" } as any), "INVALID_INPUT", "reason is required.");
    expectError(() => store.suspendOrg({ orgId: "ghost", reason: "x" }), "INVALID_INPUT", "Control-plane org not found: ghost");
  });

  it("a suspended org refuses new resources but keeps metering, audit, billing and reads", () => {
    const { store } = seededStore();
    store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core" });
    store.suspendOrg({ orgId: "acme", reason: "abuse review" });
    const details = { orgId: "acme", reason: "abuse review" };
    const refused: [string, () => unknown][] = [
      ["createTeam", () => store.createTeam({ orgId: "acme", slug: "t2", name: "T" })],
      ["createProject", () => store.createProject({ orgId: "acme", slug: "p2", name: "P" })],
      ["addTeamMember", () => store.addTeamMember({ orgId: "acme", teamId: "core", userId: "u1" })],
      ["addProjectTeam", () => store.addProjectTeam({ orgId: "acme", projectId: "web", teamId: "core" })],
      ["upsertIdentityProvider", () => store.upsertIdentityProvider({ orgId: "acme", type: "saml", issuer: "i" })],
      ["setUsageLimit", () => store.setUsageLimit({ orgId: "acme", metric: "m", limitQuantity: 1 })],
      ["putSecretRef", () => store.putSecretRef({ orgId: "acme", name: "K", provider: "vault", ref: "vault://k" })],
    ];
    for (const [, call] of refused) expectError(call, "ORG_SUSPENDED", "Control-plane org is suspended: acme", details);
    expect(store.recordUsage({ orgId: "acme", projectId: "web", metric: "m", quantity: 1 }).quantity).toBe(1);
    expect(store.consumeUsage({ orgId: "acme", metric: "m", quantity: 1 }).allowed).toBe(true);
    expect(store.recordAuditEvent({ orgId: "acme", action: "a", targetType: "t" }).orgId).toBe("acme");
    expect(store.upsertBillingAccount({ orgId: "acme", plan: "pro" }).plan).toBe("pro");
    expect(store.listProjects({ orgId: "acme" }).items).toHaveLength(1);
  });

  it("soft delete hides the org from listings, refuses every write, and getOrg still returns it", () => {
    const { store } = seededStore();
    store.createOrg({ orgId: "beta", slug: "beta", name: "Beta" });
    const out = store.deleteOrg({ orgId: "acme", actorId: "ops", atMs: 9_000 });
    expect(out).toMatchObject({ mode: "soft", org: { orgId: "acme", status: "deleted", deletedAtMs: 9_000 } });
    expect(store.getOrg("acme")).toMatchObject({ status: "deleted" });
    expect(store.getOrgBySlug("acme")).toMatchObject({ status: "deleted" });
    expect(store.listOrgs().items.map((o) => o.orgId)).toEqual(["beta"]);
    expect(store.listOrgs({ status: "deleted" }).items.map((o) => o.orgId)).toEqual(["acme"]);
    for (const call of [
      () => store.recordUsage({ orgId: "acme", metric: "m", quantity: 1 }),
      () => store.recordAuditEvent({ orgId: "acme", action: "a", targetType: "t" }),
      () => store.upsertBillingAccount({ orgId: "acme", plan: "pro" }),
      () => store.createTeam({ orgId: "acme", slug: "t", name: "T" }),
      () => store.unsuspendOrg({ orgId: "acme" }),
      () => store.deleteProject({ orgId: "acme", projectId: "web" }),
      () => store.deleteOrg({ orgId: "acme" }),
    ]) {
      expectError(call, "ORG_DELETED", "Control-plane org is deleted: acme", { orgId: "acme" });
    }
  });

  it("hard delete removes every row of the org and counts them per table", () => {
    const { db, store } = seededStore();
    store.createOrg({ orgId: "keep", slug: "keep", name: "Keep" });
    store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core" });
    store.addTeamMember({ orgId: "acme", teamId: "core", userId: "u1" });
    store.addProjectTeam({ orgId: "acme", projectId: "web", teamId: "core" });
    store.recordUsage({ orgId: "acme", projectId: "web", metric: "m", quantity: 1, observedAtMs: 1 });
    store.setOrgQuota({ orgId: "acme", maxTeams: 5 });
    store.recordUsage({ orgId: "keep", metric: "m", quantity: 1, observedAtMs: 1 });
    store.checkRollups(); // folds the usage into the rollups, so they have rows to remove
    const rollups = orgRows(db, "_smithers_cp_usage_rollups", "acme");
    expect(rollups).toBe(6); // minute, hour and day (a sparse minute keeps no finer levels), for the org and for its project
    const audits = Number(db.query("SELECT COUNT(*) AS n FROM _smithers_cp_audit_events WHERE org_id = 'acme'").get()!.n);
    const out = store.deleteOrg({ orgId: "acme", mode: "hard" });
    expect(out).toMatchObject({ mode: "hard", orgId: "acme" });
    expect(out.deleted).toMatchObject({
      _smithers_cp_orgs: 1,
      _smithers_cp_projects: 1,
      _smithers_cp_teams: 1,
      _smithers_cp_team_members: 1,
      _smithers_cp_project_teams: 1,
      _smithers_cp_usage_events: 1,
      _smithers_cp_usage_rollups: rollups,
      _smithers_cp_usage_series: 2,
      _smithers_cp_org_quotas: 1,
      _smithers_cp_audit_events: audits,
    });
    expect(store.getOrg("acme")).toBeNull();
    for (const name of orgTables(db)) {
      expect([name, orgRows(db, name, "acme")]).toEqual([name, 0]);
    }
    expect(store.summarizeUsage({ orgId: "keep" })[0].quantity).toBe(1);
    expectError(() => store.deleteOrg({ orgId: "acme", mode: "hard" }), "INVALID_INPUT", "Control-plane org not found: acme");
    expectError(() => store.deleteOrg({ orgId: "keep", mode: "purge" as any }), "INVALID_INPUT", "mode must be one of: soft, hard.");
  });
});

describe("listings", () => {
  it("page through every kind of listing with stable cursors", () => {
    const { store } = memoryStore();
    for (let i = 0; i < 7; i++) store.createOrg({ orgId: `org-${i}`, slug: `org-${i}`, name: "O" });
    for (let i = 0; i < 5; i++) {
      store.createTeam({ orgId: "org-0", teamId: `t${i}`, slug: `t${i}`, name: "T" });
      store.createProject({ orgId: "org-0", projectId: `p${i}`, slug: `p${i}`, name: "P" });
      store.addTeamMember({ orgId: "org-0", teamId: "t0", userId: `u${i}` });
      store.addProjectTeam({ orgId: "org-0", projectId: "p0", teamId: `t${i}` });
      store.setUsageLimit({ orgId: "org-0", projectId: i % 2 ? `p${i}` : null, metric: `m${i}`, limitQuantity: i });
    }
    const all = <T>(fetch: (cursor?: string) => { items: T[]; nextCursor: string | null }) => {
      const out: T[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 20; pages++) {
        const page = fetch(cursor);
        out.push(...page.items);
        if (!page.nextCursor) return out;
        cursor = page.nextCursor;
      }
      throw new Error("too many pages");
    };
    expect(all((cursor) => store.listOrgs({ cursor, limit: 3 })).map((o) => o.orgId)).toEqual(["org-0", "org-1", "org-2", "org-3", "org-4", "org-5", "org-6"]);
    expect(all((cursor) => store.listTeams({ orgId: "org-0", cursor, limit: 2 })).map((t) => t.teamId)).toEqual(["t0", "t1", "t2", "t3", "t4"]);
    expect(all((cursor) => store.listProjects({ orgId: "org-0", cursor, limit: 2 })).map((p) => p.projectId)).toEqual(["p0", "p1", "p2", "p3", "p4"]);
    expect(all((cursor) => store.listTeamMembers({ orgId: "org-0", teamId: "t0", cursor, limit: 4 })).map((m) => [m.userId, m.role])).toEqual([
      ["u0", "member"], ["u1", "member"], ["u2", "member"], ["u3", "member"], ["u4", "member"],
    ]);
    expect(all((cursor) => store.listProjectTeams({ orgId: "org-0", projectId: "p0", cursor, limit: 1 })).map((g) => [g.teamId, g.role])).toEqual([
      ["t0", "viewer"], ["t1", "viewer"], ["t2", "viewer"], ["t3", "viewer"], ["t4", "viewer"],
    ]);
    expect(all((cursor) => store.listUsageLimits({ orgId: "org-0", cursor, limit: 2 })).map((l) => [l.projectId, l.metric])).toEqual([
      [null, "m0"], [null, "m2"], [null, "m4"], ["p1", "m1"], ["p3", "m3"],
    ]);
    expect(store.listUsageLimits({ orgId: "org-0", projectId: null }).items).toHaveLength(3);
    expect(store.listUsageLimits({ orgId: "org-0", projectId: "p3" }).items.map((l) => l.metric)).toEqual(["m3"]);
    expect(store.listOrgs({ limit: 1000 }).items).toHaveLength(7);
    expect(store.listOrgs().nextCursor).toBeNull();
    expectError(() => store.listOrgs({ limit: 1001 }), "INVALID_INPUT", "limit must be a whole number from 1 to 1000.");
    expectError(() => store.listOrgs({ limit: 0 }), "INVALID_INPUT");
    expectError(() => store.listOrgs({ cursor: "not-a-cursor" }), "INVALID_INPUT", "cursor is not one this store issued.");
    expectError(() => store.listOrgs({ status: "gone" as any }), "INVALID_INPUT", "status must be one of: active, suspended, deleted.");
  });

  it("gets single rows by key, null when absent", () => {
    const { store } = seededStore();
    store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core" });
    expect(store.getOrgBySlug("acme")?.orgId).toBe("acme");
    expect(store.getOrgBySlug("nobody")).toBeNull();
    expect(store.getTeam({ orgId: "acme", teamId: "core" })).toMatchObject({ slug: "core" });
    expect(store.getTeam({ orgId: "acme", teamId: "nope" })).toBeNull();
    expect(store.getProject({ orgId: "acme", projectId: "web" })).toMatchObject({ slug: "web", metadata: {} });
    expect(store.getProject({ orgId: "acme", projectId: "nope" })).toBeNull();
    expect(store.getBillingAccount({ orgId: "acme" })).toBeNull();
    store.upsertBillingAccount({ orgId: "acme", plan: "pro", updatedAtMs: 1 });
    expect(store.getBillingAccount({ orgId: "acme" })).toMatchObject({ plan: "pro" });
  });

  it("no row is skipped or repeated across pages while rows are being added", () => {
    const { store } = memoryStore();
    store.createOrg({ orgId: "acme", slug: "acme", name: "A" });
    for (let i = 0; i < 50; i++) store.createProject({ orgId: "acme", projectId: `p${String(i * 2).padStart(3, "0")}`, slug: `s${i * 2}`, name: "P" });
    const seen: string[] = [];
    let cursor: string | undefined;
    let added = 0;
    do {
      const page = store.listProjects({ orgId: "acme", cursor, limit: 7 });
      seen.push(...page.items.map((p) => p.projectId));
      cursor = page.nextCursor ?? undefined;
      // Rows land before and after the cursor between pages.
      for (const id of [added * 2 + 1, 150 + added]) {
        store.createProject({ orgId: "acme", projectId: `p${String(id).padStart(3, "0")}`, slug: `s${id}`, name: "P" });
      }
      added++;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
    for (let i = 0; i < 50; i++) expect(seen).toContain(`p${String(i * 2).padStart(3, "0")}`);
  });
});

describe("removals", () => {
  it("removes members, grants, teams, projects, providers, limits and secret refs, audited; NOT_FOUND when absent", () => {
    const { db, store } = seededStore();
    store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core" });
    store.addTeamMember({ orgId: "acme", teamId: "core", userId: "u1" });
    store.addProjectTeam({ orgId: "acme", projectId: "web", teamId: "core" });
    store.upsertIdentityProvider({ orgId: "acme", providerId: "okta", type: "saml", issuer: "i" });
    store.setUsageLimit({ orgId: "acme", metric: "m", limitQuantity: 1 });
    store.putSecretRef({ orgId: "acme", name: "K", provider: "vault", ref: "vault://k" });

    expect(store.removeTeamMember({ orgId: "acme", teamId: "core", userId: "u1", actorId: "admin" })).toBeUndefined();
    store.removeProjectTeam({ orgId: "acme", projectId: "web", teamId: "core" });
    store.deleteIdentityProvider({ orgId: "acme", providerId: "okta" });
    store.deleteUsageLimit({ orgId: "acme", metric: "m" });
    store.deleteSecretRef({ orgId: "acme", name: "K" });
    store.deleteTeam({ orgId: "acme", teamId: "core" });
    for (const table of ["team_members", "project_teams", "identity_providers", "usage_limits", "secret_refs", "teams"]) {
      expect([table, count(db, `_smithers_cp_${table}`)]).toEqual([table, 0]);
    }
    const actions = db.query("SELECT action FROM _smithers_cp_audit_events WHERE action LIKE '%.remove' OR action LIKE '%.delete' ORDER BY id").all().map((r) => r.action);
    expect(actions).toEqual(["team.member.remove", "project.team.remove", "identity_provider.delete", "usage_limit.delete", "secret_ref.delete", "team.delete"]);

    const missing: [() => unknown, string][] = [
      [() => store.removeTeamMember({ orgId: "acme", teamId: "core", userId: "u1" }), "Control-plane team member not found."],
      [() => store.removeProjectTeam({ orgId: "acme", projectId: "web", teamId: "core" }), "Control-plane project team not found."],
      [() => store.deleteTeam({ orgId: "acme", teamId: "core" }), "Control-plane team not found."],
      [() => store.deleteProject({ orgId: "acme", projectId: "nope" }), "Control-plane project not found."],
      [() => store.deleteIdentityProvider({ orgId: "acme", providerId: "okta" }), "Control-plane identity provider not found."],
      [() => store.deleteUsageLimit({ orgId: "acme", metric: "m" }), "Control-plane usage limit not found."],
      [() => store.deleteSecretRef({ orgId: "acme", name: "K" }), "Control-plane secret ref not found."],
    ];
    for (const [call, message] of missing) expectError(call, "NOT_FOUND", message);
  });

  it("deleteProject cascades its usage, limits, secret refs and grants; the deletion event stays", () => {
    const { db, store } = seededStore();
    store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core" });
    store.addProjectTeam({ orgId: "acme", projectId: "web", teamId: "core" });
    store.recordUsage({ orgId: "acme", projectId: "web", metric: "m", quantity: 3, observedAtMs: 10 });
    store.recordUsage({ orgId: "acme", metric: "m", quantity: 4, observedAtMs: 10 });
    store.setUsageLimit({ orgId: "acme", projectId: "web", metric: "m", limitQuantity: 1 });
    store.putSecretRef({ orgId: "acme", projectId: "web", name: "K", provider: "vault", ref: "vault://k" });
    store.deleteProject({ orgId: "acme", projectId: "web", actorId: "admin" });
    expect(store.getProject({ orgId: "acme", projectId: "web" })).toBeNull();
    for (const table of ["project_teams", "usage_limits", "secret_refs"]) expect(count(db, `_smithers_cp_${table}`)).toBe(0);
    expect(store.summarizeUsage({ orgId: "acme" })).toEqual([{ orgId: "acme", metric: "m", unit: "count", quantity: 4 }]);
    expect(store.queryAuditLog({ orgId: "acme", action: "project.delete" }).items).toMatchObject([{ projectId: null, targetId: "web", actorId: "admin" }]);
  });
});

describe("access resolution", () => {
  it("lists the projects a user reaches through team grants, with the roles", () => {
    const { store } = seededStore();
    store.createProject({ orgId: "acme", projectId: "api", slug: "api", name: "API" });
    store.createProject({ orgId: "acme", projectId: "ops", slug: "ops", name: "Ops" });
    store.createTeam({ orgId: "acme", teamId: "devs", slug: "devs", name: "Devs" });
    store.createTeam({ orgId: "acme", teamId: "leads", slug: "leads", name: "Leads" });
    store.addTeamMember({ orgId: "acme", teamId: "devs", userId: "ann" });
    store.addTeamMember({ orgId: "acme", teamId: "leads", userId: "ann", role: "lead" });
    store.addTeamMember({ orgId: "acme", teamId: "devs", userId: "bob" });
    store.addProjectTeam({ orgId: "acme", projectId: "web", teamId: "devs", role: "editor" });
    store.addProjectTeam({ orgId: "acme", projectId: "web", teamId: "leads", role: "admin" });
    store.addProjectTeam({ orgId: "acme", projectId: "api", teamId: "leads" });

    expect(store.listProjectAccess({ orgId: "acme", userId: "ann" })).toEqual([
      { orgId: "acme", projectId: "api", userId: "ann", roles: ["viewer"], grants: [{ teamId: "leads", role: "viewer", memberRole: "lead" }] },
      {
        orgId: "acme",
        projectId: "web",
        userId: "ann",
        roles: ["admin", "editor"],
        grants: [
          { teamId: "devs", role: "editor", memberRole: "member" },
          { teamId: "leads", role: "admin", memberRole: "lead" },
        ],
      },
    ]);
    expect(store.listProjectAccess({ orgId: "acme", userId: "bob" }).map((a) => a.projectId)).toEqual(["web"]);
    expect(store.getProjectAccess({ orgId: "acme", projectId: "web", userId: "bob" }).roles).toEqual(["editor"]);
    expect(store.getProjectAccess({ orgId: "acme", projectId: "ops", userId: "ann" })).toEqual({ orgId: "acme", projectId: "ops", userId: "ann", roles: [], grants: [] });
    store.removeTeamMember({ orgId: "acme", teamId: "leads", userId: "ann" });
    expect(store.getProjectAccess({ orgId: "acme", projectId: "api", userId: "ann" }).grants).toEqual([]);
  });
});

describe("org quotas", () => {
  it("limits creates per resource with QUOTA_EXCEEDED, and reports limits and counts", () => {
    const { store } = seededStore();
    store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core" });
    const quota = store.setOrgQuota({ orgId: "acme", maxProjects: 2, maxTeams: 1, maxMembersPerTeam: 1, maxSecretRefs: 1, maxIdentityProviders: 1 });
    expect(quota).toEqual({
      orgId: "acme",
      limits: { maxProjects: 2, maxTeams: 1, maxMembersPerTeam: 1, maxSecretRefs: 1, maxIdentityProviders: 1 },
      used: { projects: 1, teams: 1, membersInFullestTeam: 0, secretRefs: 0, identityProviders: 0 },
    });
    store.createProject({ orgId: "acme", slug: "second", name: "2" });
    expectError(() => store.createProject({ orgId: "acme", slug: "third", name: "3" }), "QUOTA_EXCEEDED", /maxProjects/, { orgId: "acme", resource: "maxProjects", limit: 2, used: 2 });
    expectError(() => store.createTeam({ orgId: "acme", slug: "t2", name: "T" }), "QUOTA_EXCEEDED", undefined, { orgId: "acme", resource: "maxTeams", limit: 1, used: 1 });
    store.addTeamMember({ orgId: "acme", teamId: "core", userId: "u1" });
    store.addTeamMember({ orgId: "acme", teamId: "core", userId: "u1", role: "admin" }); // an update is not a new member
    expectError(() => store.addTeamMember({ orgId: "acme", teamId: "core", userId: "u2" }), "QUOTA_EXCEEDED", undefined, { orgId: "acme", resource: "maxMembersPerTeam", limit: 1, used: 1 });
    store.putSecretRef({ orgId: "acme", name: "K", provider: "vault", ref: "vault://k" });
    store.putSecretRef({ orgId: "acme", name: "K", provider: "vault", ref: "vault://k2" }); // a rotation is not a new ref
    expectError(() => store.putSecretRef({ orgId: "acme", name: "J", provider: "vault", ref: "vault://j" }), "QUOTA_EXCEEDED");
    store.upsertIdentityProvider({ orgId: "acme", providerId: "okta", type: "saml", issuer: "i" });
    store.upsertIdentityProvider({ orgId: "acme", providerId: "okta", type: "saml", issuer: "i2" });
    expectError(() => store.upsertIdentityProvider({ orgId: "acme", type: "oidc", issuer: "i" }), "QUOTA_EXCEEDED");
    expect(store.getOrgQuota({ orgId: "acme" }).used).toEqual({ projects: 2, teams: 1, membersInFullestTeam: 1, secretRefs: 1, identityProviders: 1 });

    // null lifts a limit; the others stay.
    store.setOrgQuota({ orgId: "acme", maxProjects: null });
    store.createProject({ orgId: "acme", slug: "third", name: "3" });
    expect(store.getOrgQuota({ orgId: "acme" }).limits).toMatchObject({ maxProjects: null, maxTeams: 1 });
    expectError(() => store.setOrgQuota({ orgId: "acme", maxTeams: -1 }), "INVALID_INPUT", "maxTeams must be a whole number >= 0, or null for no limit.");
    expectError(() => store.getOrgQuota({ orgId: "ghost" }), "INVALID_INPUT", "Control-plane org not found: ghost");
  });

  it("two processes racing from one start barrier for the last slots on one file never both pass", async () => {
    let file = "";
    const { parsed } = await overlappingRace<"created" | "refused">("createProject quota race", 10, () => {
      file = path.join(tempDir(), "quota.db");
      const setup = new ControlPlaneStore(file);
      setup.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
      setup.setOrgQuota({ orgId: "acme", maxProjects: 25 });
      setup.close();
      return ["a", "b"].map((w) => [path.join(__dirname, "workers/quota.js"), file, "40", w]);
    });
    const results = parsed.flatMap((p) => p.results);
    expect(results.filter((r) => r === "created")).toHaveLength(25);
    expect(results.filter((r) => r === "refused")).toHaveLength(55);
    const db = new Database(file);
    expect(db.query("SELECT COUNT(*) AS n FROM _smithers_cp_projects").get()).toEqual({ n: 25 });
    db.close();
  });
});

describe("audit queries", () => {
  function auditStore() {
    const { db, store } = seededStore();
    const actions = ["run.start", "run.stop", "secret.read"];
    for (let i = 0; i < 60; i++) {
      store.recordAuditEvent({ orgId: "acme", projectId: i % 3 === 0 ? "web" : null, actorId: `user-${i % 4}`, action: actions[i % 3], targetType: i % 2 ? "run" : "secret", targetId: `t${i % 5}`, occurredAtMs: 10_000 + Math.floor(i / 2) });
    }
    return { db, store };
  }

  it("filters by every field and window, in both orders, a page at a time", () => {
    const { store } = auditStore();
    const everything = (input: Parameters<typeof store.queryAuditLog>[0]) => {
      const out = [];
      let cursor: string | undefined;
      do {
        const page = store.queryAuditLog({ ...input, cursor, limit: 7 });
        out.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return out;
    };
    const asc = everything({ orgId: "acme", sinceMs: 10_000 });
    expect(asc).toHaveLength(60);
    expect(asc.map((e) => [e.occurredAtMs, e.id])).toEqual([...asc].map((e) => [e.occurredAtMs, e.id]).sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    const desc = everything({ orgId: "acme", sinceMs: 10_000, order: "desc" });
    expect(desc.map((e) => e.id)).toEqual(asc.map((e) => e.id).reverse());
    expect(everything({ orgId: "acme", actorId: "user-1" }).every((e) => e.actorId === "user-1")).toBe(true);
    expect(everything({ orgId: "acme", actorId: "user-1" })).toHaveLength(15);
    expect(everything({ orgId: "acme", action: "run.stop", targetType: "run" }).every((e) => e.action === "run.stop" && e.targetType === "run")).toBe(true);
    expect(everything({ orgId: "acme", targetType: "secret", targetId: "t0" }).every((e) => e.targetId === "t0")).toBe(true);
    expect(everything({ orgId: "acme", projectId: "web", sinceMs: 10_000 })).toHaveLength(20);
    expect(everything({ orgId: "acme", sinceMs: 10_010, untilMs: 10_011 }).map((e) => e.occurredAtMs)).toEqual([10_010, 10_010, 10_011, 10_011]);
    expectError(() => store.queryAuditLog({ orgId: "acme", order: "sideways" as any }), "INVALID_INPUT", "order must be one of: asc, desc.");
  });

  it("is served by indexes: no full scan for org + time, org + actor, org + action", () => {
    const { store } = auditStore();
    const plans = {
      time: store.explainAuditQuery({ orgId: "acme", sinceMs: 1, untilMs: 2 }),
      actor: store.explainAuditQuery({ orgId: "acme", actorId: "user-1" }),
      action: store.explainAuditQuery({ orgId: "acme", action: "run.start", order: "desc" }),
      target: store.explainAuditQuery({ orgId: "acme", targetType: "run", targetId: "t1" }),
    };
    expect(plans.time.join(" ")).toMatch(/SEARCH _smithers_cp_audit_events USING INDEX _smithers_cp_audit_org_time_idx/);
    expect(plans.actor.join(" ")).toMatch(/USING INDEX _smithers_cp_audit_org_actor_idx/);
    expect(plans.action.join(" ")).toMatch(/USING INDEX _smithers_cp_audit_org_action_idx/);
    expect(plans.target.join(" ")).toMatch(/USING INDEX _smithers_cp_audit_org_target_idx/);
    for (const plan of Object.values(plans)) {
      expect(plan.join(" ")).not.toMatch(/\bSCAN\b/);
      expect(plan.join(" ")).not.toMatch(/TEMP B-TREE/);
    }
  });
});

describe("isolation", () => {
  it("randomized: no read of one org ever returns another org's rows", () => {
    const { store } = memoryStore();
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 48271) % 2147483647), seed % n);
    const orgs = ["o1", "o2", "o3", "o4"];
    for (const orgId of orgs) store.createOrg({ orgId, slug: orgId, name: orgId });
    // The same ids in every org, to catch a read that keys on them alone.
    for (let i = 0; i < 200; i++) {
      const orgId = orgs[rand(4)];
      const n = rand(3);
      switch (rand(7)) {
        case 0: try { store.createProject({ orgId, projectId: `p${n}`, slug: `p${n}`, name: "P" }); } catch {} break;
        case 1: try { store.createTeam({ orgId, teamId: `t${n}`, slug: `t${n}`, name: "T" }); } catch {} break;
        case 2: try { store.addTeamMember({ orgId, teamId: `t${n}`, userId: `u${rand(3)}` }); } catch {} break;
        case 3: try { store.addProjectTeam({ orgId, projectId: `p${n}`, teamId: `t${rand(3)}` }); } catch {} break;
        case 4: store.recordUsage({ orgId, metric: `m${n}`, quantity: 1, observedAtMs: i }); break;
        case 5: store.putSecretRef({ orgId, name: `K${n}`, provider: "vault", ref: "vault://x" }); break;
        case 6: store.setUsageLimit({ orgId, metric: `m${n}`, limitQuantity: 1 }); store.upsertIdentityProvider({ orgId, providerId: `idp${n}`, type: "saml", issuer: "i" }); break;
      }
    }
    for (const orgId of orgs) {
      const rows: { orgId: string }[] = [
        ...store.listTeams({ orgId, limit: 1000 }).items,
        ...store.listProjects({ orgId, limit: 1000 }).items,
        ...store.listUsageLimits({ orgId, limit: 1000 }).items,
        ...store.listSecretRefs({ orgId }),
        ...store.listIdentityProviders({ orgId }),
        ...store.summarizeUsage({ orgId }),
        ...store.summarizeUsage({ orgId, groupBy: ["projectId"], bucket: "day" }),
        ...store.queryAuditLog({ orgId, limit: 1000 }).items,
        ...store.listProjectAccess({ orgId, userId: "u1" }),
        ...["t0", "t1", "t2"].flatMap((teamId) => store.listTeamMembers({ orgId, teamId }).items),
        ...["p0", "p1", "p2"].flatMap((projectId) => store.listProjectTeams({ orgId, projectId }).items),
      ];
      const exported = store.exportOrgAudit({ orgId });
      rows.push(exported.org, ...exported.projects, ...exported.teams, ...exported.identityProviders, ...exported.usage, ...exported.usageLimits, ...exported.secretRefs, ...exported.auditEvents);
      expect(rows.length).toBeGreaterThan(5);
      expect(rows.filter((r) => r.orgId !== orgId)).toEqual([]);
    }
  });
});

describe("isolation from an independent oracle", () => {
  it("every read and export of one org equals raw SQL over that org's rows, and holds nothing of the other's", () => {
    const { db, store } = memoryStore();
    // Two orgs with the same child ids, and data that tells them apart: names carry the
    // org, quantities differ by orders of magnitude.
    const seed = (orgId: string, scale: number) => {
      store.createOrg({ orgId, slug: orgId, name: `${orgId} Inc`, createdAtMs: 1 });
      for (const p of ["p1", "p2"]) store.createProject({ orgId, projectId: p, slug: p, name: `${orgId} ${p}`, createdAtMs: 2 });
      for (const t of ["t1", "t2"]) store.createTeam({ orgId, teamId: t, slug: t, name: `${orgId} ${t}`, createdAtMs: 3 });
      store.addTeamMember({ orgId, teamId: "t1", userId: "u1", role: orgId === "alpha" ? "admin" : "member" });
      store.addProjectTeam({ orgId, projectId: orgId === "alpha" ? "p1" : "p2", teamId: "t1", role: "editor" });
      for (let i = 0; i < 30; i++) {
        store.recordUsage({ orgId, projectId: i % 3 ? "p1" : null, metric: i % 2 ? "tok" : "calls", quantity: scale * (1 + (i % 5)), observedAtMs: 1_000 * i });
      }
      store.setUsageLimit({ orgId, projectId: "p1", metric: "tok", limitQuantity: scale * 100, updatedAtMs: 4 });
      store.putSecretRef({ orgId, name: "KEY", provider: "vault", ref: `vault://${orgId}/key`, createdAtMs: 5 });
      store.upsertIdentityProvider({ orgId, providerId: "idp", type: "saml", issuer: `https://${orgId}.example`, createdAtMs: 6 });
      store.upsertBillingAccount({ orgId, plan: `${orgId}-plan`, updatedAtMs: 7 });
      store.recordAuditEvent({ orgId, actorId: `${orgId}-actor`, action: "run.start", targetType: "run", occurredAtMs: 8 });
    };
    seed("alpha", 1);
    seed("beta", 1_000);
    const raw = (sql: string, ...params: unknown[]) => db.query(sql).all(...(params as any[]));

    for (const [orgId, other] of [["alpha", "beta"], ["beta", "alpha"]]) {
      const usageOracle = raw(
        "SELECT metric, unit, TOTAL(quantity) AS quantity FROM _smithers_cp_usage_events WHERE org_id = ? GROUP BY metric, unit ORDER BY metric, unit",
        orgId,
      );
      const summary = store.summarizeUsage({ orgId });
      expect(summary.map(({ metric, unit, quantity }) => ({ metric, unit, quantity }))).toEqual(usageOracle);
      const byProject = raw(
        "SELECT project_id AS projectId, metric, TOTAL(quantity) AS quantity FROM _smithers_cp_usage_events WHERE org_id = ? GROUP BY project_id, metric ORDER BY project_id IS NOT NULL, project_id, metric",
        orgId,
      );
      expect(
        store.summarizeUsage({ orgId, groupBy: ["projectId", "metric"] }).map((r: any) => ({ projectId: r.projectId ?? null, metric: r.metric, quantity: r.quantity })),
      ).toEqual(byProject);
      const check = store.checkUsageLimit({ orgId, projectId: "p1", metric: "tok", untilMs: 100_000 })!;
      expect(check.usedQuantity).toBe(
        raw("SELECT TOTAL(quantity) AS q FROM _smithers_cp_usage_events WHERE org_id = ? AND project_id = 'p1' AND metric = 'tok' AND observed_at_ms <= 100000", orgId)[0].q,
      );
      const ids = (sql: string) => raw(sql, orgId).map((r: any) => Object.values(r).join("/"));
      expect(store.listProjects({ orgId }).items.map((p) => `${p.projectId}/${p.name}`)).toEqual(ids("SELECT project_id, name FROM _smithers_cp_projects WHERE org_id = ? ORDER BY project_id"));
      expect(store.listTeams({ orgId }).items.map((t) => `${t.teamId}/${t.name}`)).toEqual(ids("SELECT team_id, name FROM _smithers_cp_teams WHERE org_id = ? ORDER BY team_id"));
      expect(store.listSecretRefs({ orgId }).map((r) => `${r.name}/${r.ref}`)).toEqual(ids("SELECT name, ref FROM _smithers_cp_secret_refs WHERE org_id = ? ORDER BY name"));
      expect(store.listIdentityProviders({ orgId }).map((p) => `${p.providerId}/${p.issuer}`)).toEqual(ids("SELECT provider_id, issuer FROM _smithers_cp_identity_providers WHERE org_id = ? ORDER BY provider_id"));
      expect(store.listUsageLimits({ orgId }).items.map((l) => `${l.metric}/${l.limitQuantity}`)).toEqual(ids("SELECT metric, limit_quantity FROM _smithers_cp_usage_limits WHERE org_id = ? ORDER BY project_key, metric"));
      expect(store.queryAuditLog({ orgId, limit: 1_000 }).items.map((e) => `${e.id}/${e.action}`)).toEqual(ids("SELECT id, action FROM _smithers_cp_audit_events WHERE org_id = ? ORDER BY occurred_at_ms, id"));
      expect(store.listProjectAccess({ orgId, userId: "u1" }).map((a) => `${a.projectId}/${a.roles.join(",")}`)).toEqual(
        ids("SELECT pt.project_id, pt.role FROM _smithers_cp_team_members m JOIN _smithers_cp_project_teams pt ON pt.org_id = m.org_id AND pt.team_id = m.team_id WHERE m.org_id = ? AND m.user_id = 'u1' ORDER BY pt.project_id"),
      );
      const exported = store.exportOrgAudit({ orgId });
      expect(exported.usage.map(({ metric, unit, quantity }) => ({ metric, unit, quantity }))).toEqual(usageOracle);
      expect(exported.billing!.plan).toBe(`${orgId}-plan`);
      expect(exported.auditEvents.map((e) => e.id)).toEqual(raw("SELECT id FROM _smithers_cp_audit_events WHERE org_id = ? ORDER BY occurred_at_ms, id", orgId).map((r: any) => r.id));
      // Nothing of the other org anywhere in what this org's reads return.
      const everything = JSON.stringify([
        summary,
        check,
        store.listProjects({ orgId }),
        store.listTeams({ orgId }),
        store.listTeamMembers({ orgId, teamId: "t1" }),
        store.listProjectTeams({ orgId, projectId: "p1" }),
        store.listProjectTeams({ orgId, projectId: "p2" }),
        store.listSecretRefs({ orgId }),
        store.listIdentityProviders({ orgId }),
        store.listUsageLimits({ orgId }),
        store.queryAuditLog({ orgId, limit: 1_000 }),
        store.listProjectAccess({ orgId, userId: "u1" }),
        store.getBillingAccount({ orgId }),
        exported,
      ]);
      for (const mark of [`${other} Inc`, `${other} p1`, `${other} t1`, `vault://${other}/`, `https://${other}.example`, `${other}-plan`, `${other}-actor`]) {
        expect(everything.includes(mark)).toBe(false);
      }
      expect(everything.includes(`${orgId}-plan`)).toBe(true);
    }
  });
});
