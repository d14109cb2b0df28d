// store.forOrg(orgId, context?): a handle scoped to one org.
import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { ControlPlaneStore, OrgScope } from "../index.js";
import { controlPlaneTables, expectError, seededStore } from "./helpers";

describe("forOrg", () => {
  it("has the org-level methods without orgId, giving what the plain calls give", () => {
    const { store } = seededStore();
    store.createOrg({ orgId: "other", slug: "other", name: "Other" });
    const acme = store.forOrg("acme");
    expect(acme).toBeInstanceOf(OrgScope);
    expect(acme.orgId).toBe("acme");
    expect(acme.getOrg()).toEqual(store.getOrg("acme"));
    const team = acme.createTeam({ teamId: "core", slug: "core", name: "Core", createdAtMs: 5 });
    expect(team).toEqual({ orgId: "acme", teamId: "core", slug: "core", name: "Core", createdAtMs: 5 });
    acme.recordUsage({ projectId: "web", metric: "tok", quantity: 3, observedAtMs: 10 });
    expect(acme.recordUsageBatch([{ metric: "tok", quantity: 1, observedAtMs: 11 }], { returning: "ids" }).count).toBe(1);
    expect(acme.summarizeUsage({})).toEqual(store.summarizeUsage({ orgId: "acme" }));
    expect(acme.listTeams().items.map((t) => t.teamId)).toEqual(["core"]);
    expect(acme.exportOrgAudit({ exportedAtMs: 1 })).toEqual(store.exportOrgAudit({ orgId: "acme", exportedAtMs: 1 }));
    // The same org named explicitly is fine.
    expect(acme.getProject({ orgId: "acme", projectId: "web" })!.slug).toBe("web");
    // Nothing of the other org through this handle.
    expect(store.forOrg("other").listTeams().items).toEqual([]);
  });

  it("an input naming another org throws TENANT_MISMATCH and writes nothing", () => {
    const { db, store } = seededStore();
    store.createOrg({ orgId: "other", slug: "other", name: "Other" });
    const acme = store.forOrg("acme");
    const snapshot = () => controlPlaneTables(db).map((t) => JSON.stringify(db.query(`SELECT * FROM ${t}`).all())).join("\n");
    const before = snapshot();
    const message = "This handle is scoped to org acme; the input names org other.";
    expectError(() => acme.createTeam({ orgId: "other", slug: "t", name: "T" } as any), "TENANT_MISMATCH", message, { expected: "acme", got: "other" });
    expectError(() => acme.recordUsage({ orgId: "other", metric: "m", quantity: 1 } as any), "TENANT_MISMATCH", message);
    expectError(() => acme.listProjects({ orgId: "other" } as any), "TENANT_MISMATCH", message);
    expectError(() => acme.deleteOrg({ orgId: "other", mode: "hard" } as any), "TENANT_MISMATCH", message);
    expectError(
      () => acme.recordUsageBatch([{ metric: "m", quantity: 1 }, { orgId: "other", metric: "m", quantity: 1 } as any]),
      "TENANT_MISMATCH",
      message,
    );
    expectError(() => acme.recordUsage({ orgId: 7, metric: "m", quantity: 1 } as any), "TENANT_MISMATCH", "This handle is scoped to org acme; the input names org 7.", { expected: "acme", got: 7 });
    expect(snapshot()).toBe(before);
  });

  it("has no cross-tenant method", () => {
    const acme = seededStore().store.forOrg("acme") as any;
    for (const name of ["createOrg", "listOrgs", "getOrgBySlug", "checkRollups", "purgeExpired", "forOrg", "close"]) expect([name, typeof acme[name]]).toEqual([name, "undefined"]);
  });

  it("context.actorId is the default actor of the audited writes that take an actor; an explicit actorId wins", () => {
    const { store } = seededStore();
    const acme = store.forOrg("acme", { actorId: "ada", ipAddress: "203.0.113.7", requestId: "req-1" });
    expect(acme.context).toEqual({ actorId: "ada", ipAddress: "203.0.113.7", requestId: "req-1" });
    acme.suspendOrg({ reason: "review" });
    acme.unsuspendOrg({ actorId: "grace" });
    acme.recordAuditEvent({ action: "run.start", targetType: "run" });
    acme.setOrgQuota({ maxProjects: 5 });
    const actors = store.queryAuditLog({ orgId: "acme", limit: 100 }).items.slice(-4).map((e) => [e.action, e.actorId]);
    expect(actors).toEqual([
      ["org.suspend", "ada"],
      ["org.unsuspend", "grace"],
      ["run.start", "ada"],
      ["org_quota.upsert", "ada"],
    ]);
  });

  it("refuses a bad org id or context with the field's own message", () => {
    const { store } = seededStore();
    expectError(() => store.forOrg("bad id"), "INVALID_INPUT", /^orgId must match/, { field: "orgId" });
    expectError(() => store.forOrg("acme", { actorId: "bad id" }), "INVALID_INPUT", /^actorId must match/);
    expectError(() => store.forOrg("acme", 5 as any), "INVALID_INPUT", "context must be an object.");
    expectError(() => store.forOrg("acme").createTeam(5 as any), "INVALID_INPUT", "input must be an object.");
  });

  it("works on the gateway's own handle too", () => {
    const db = new BetterSqlite3(":memory:");
    const store = new ControlPlaneStore(db);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    const acme = store.forOrg("acme");
    acme.createProject({ projectId: "web", slug: "web", name: "Web" });
    expect(db.prepare("SELECT org_id, project_id FROM _smithers_cp_projects").all()).toEqual([{ org_id: "acme", project_id: "web" }]);
    expectError(() => acme.createProject({ orgId: "x", slug: "x", name: "X" } as any), "TENANT_MISMATCH");
  });
});
