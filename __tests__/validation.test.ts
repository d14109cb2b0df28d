import { describe, expect, it } from "vitest";
import { ControlPlaneError } from "../index.js";
import { count, expectError, memoryStore, seededStore } from "./helpers";

const ID_MESSAGE = (field: string) => `${field} must match /^[A-Za-z0-9:_-]{1,128}$/.`;

describe("ids", () => {
  it.each([
    ["orgId", (s: any, v: unknown) => s.createTeam({ orgId: v, slug: "t", name: "T" })],
    ["teamId", (s: any, v: unknown) => s.createTeam({ orgId: "acme", teamId: v, slug: "t", name: "T" })],
    ["projectId", (s: any, v: unknown) => s.createProject({ orgId: "acme", projectId: v, slug: "p", name: "P" })],
    ["userId", (s: any, v: unknown) => s.addTeamMember({ orgId: "acme", teamId: "t", userId: v })],
    ["providerId", (s: any, v: unknown) => s.upsertIdentityProvider({ orgId: "acme", providerId: v, type: "saml", issuer: "i" })],
    ["runId", (s: any, v: unknown) => s.recordUsage({ orgId: "acme", runId: v, metric: "m", quantity: 1 })],
    ["actorId", (s: any, v: unknown) => s.recordAuditEvent({ orgId: "acme", actorId: v, action: "a", targetType: "t" })],
    ["targetId", (s: any, v: unknown) => s.recordAuditEvent({ orgId: "acme", targetId: v, action: "a", targetType: "t" })],
    ["createdBy", (s: any, v: unknown) => s.putSecretRef({ orgId: "acme", createdBy: v, name: "n", provider: "p", ref: "r" })],
  ])("%s must match the id pattern, with details naming the field", (field, call) => {
    const { db, store } = seededStore();
    const before = count(db, "_smithers_cp_audit_events");
    for (const bad of ["has space", "slash/y", "x".repeat(129), "ünïcode", 42, { a: 1 }]) {
      expectError(() => call(store, bad), "INVALID_INPUT", ID_MESSAGE(field), { field });
    }
    expectError(() => call(store, "__org__"), "INVALID_INPUT", `${field} must not be the reserved id __org__.`, { field });
    expect(count(db, "_smithers_cp_audit_events")).toBe(before);
  });

  it("required ids say they are required when missing or blank", () => {
    const { store } = seededStore();
    expectError(() => store.createTeam({ slug: "t", name: "T" } as any), "INVALID_INPUT", "orgId is required.", { field: "orgId" });
    expectError(() => store.addTeamMember({ orgId: "acme", teamId: "  ", userId: "u" }), "INVALID_INPUT", "teamId is required.");
    expectError(() => store.getOrg("bad id"), "INVALID_INPUT", ID_MESSAGE("orgId"));
  });

  it("accepts the full id alphabet at the maximum length, trimmed", () => {
    const { store } = memoryStore();
    const id = "aZ09:_-" + "x".repeat(121);
    expect(store.createOrg({ orgId: `  ${id}\n`, slug: "a", name: "A" }).orgId).toBe(id);
  });
});

describe("slugs", () => {
  it("must be lowercase slugs", () => {
    const { store } = seededStore();
    for (const bad of ["Acme", "-acme", "acme-", "a_b", "a.b", "a".repeat(65)]) {
      expectError(() => store.createOrg({ slug: bad, name: "X" }), "INVALID_INPUT", "slug must be a lowercase slug.", { field: "slug" });
      expectError(() => store.createTeam({ orgId: "acme", slug: bad, name: "X" }), "INVALID_INPUT", "slug must be a lowercase slug.");
      expectError(() => store.createProject({ orgId: "acme", slug: bad, name: "X" }), "INVALID_INPUT", "slug must be a lowercase slug.");
    }
    expectError(() => store.createOrg({ slug: "  ", name: "X" }), "INVALID_INPUT", "slug is required.");
    for (const ok of ["a", "9", "a-b-c", "a".repeat(64)]) expect(store.createOrg({ slug: ok, name: "X" }).slug).toBe(ok);
  });
});

describe("required strings", () => {
  it.each([
    ["name", (s: any, v: unknown) => s.createOrg({ slug: "x", name: v })],
    ["plan", (s: any, v: unknown) => s.upsertBillingAccount({ orgId: "acme", plan: v })],
    ["type", (s: any, v: unknown) => s.upsertIdentityProvider({ orgId: "acme", type: v, issuer: "i" })],
    ["issuer", (s: any, v: unknown) => s.upsertIdentityProvider({ orgId: "acme", type: "saml", issuer: v })],
    ["metric", (s: any, v: unknown) => s.recordUsage({ orgId: "acme", metric: v, quantity: 1 })],
    ["unit", (s: any, v: unknown) => s.recordUsage({ orgId: "acme", metric: "m", quantity: 1, unit: v })],
    ["provider", (s: any, v: unknown) => s.putSecretRef({ orgId: "acme", name: "n", provider: v, ref: "r" })],
    ["ref", (s: any, v: unknown) => s.putSecretRef({ orgId: "acme", name: "n", provider: "p", ref: v })],
    ["name", (s: any, v: unknown) => s.putSecretRef({ orgId: "acme", name: v, provider: "p", ref: "r" })],
    ["action", (s: any, v: unknown) => s.recordAuditEvent({ orgId: "acme", action: v, targetType: "t" })],
    ["targetType", (s: any, v: unknown) => s.recordAuditEvent({ orgId: "acme", action: "a", targetType: v })],
    ["role", (s: any, v: unknown) => s.addTeamMember({ orgId: "acme", teamId: "t", userId: "u", role: v })],
    ["status", (s: any, v: unknown) => s.upsertBillingAccount({ orgId: "acme", plan: "p", status: v })],
  ])("%s is required: blank or not a string is refused", (field, call) => {
    const { store } = seededStore();
    const values = ["", "   ", 5, {}, []];
    // Fields with a default (unit, role, status) take it when absent; the rest must be present.
    if (!["unit", "role", "status"].includes(field)) values.push(undefined, null);
    for (const bad of values) expectError(() => call(store, bad), "INVALID_INPUT", `${field} is required.`, { field });
  });

  it("trims required strings", () => {
    const { store } = seededStore();
    expect(store.recordUsage({ orgId: "acme", metric: "  tokens ", unit: " tok ", quantity: 1 })).toMatchObject({ metric: "tokens", unit: "tok" });
  });

  it("optional strings: ssoUrl and certificateRef may be absent, null or empty, but not blank", () => {
    const { store } = seededStore();
    expect(store.upsertIdentityProvider({ orgId: "acme", type: "saml", issuer: "i", ssoUrl: "", certificateRef: null }).ssoUrl).toBeNull();
    expectError(() => store.upsertIdentityProvider({ orgId: "acme", type: "saml", issuer: "i", ssoUrl: "  " }), "INVALID_INPUT", "ssoUrl is required.");
  });
});

describe("numbers", () => {
  it.each([
    ["createdAtMs", (s: any, v: unknown) => s.createOrg({ slug: "x", name: "X", createdAtMs: v })],
    ["observedAtMs", (s: any, v: unknown) => s.recordUsage({ orgId: "acme", metric: "m", quantity: 1, observedAtMs: v })],
    ["updatedAtMs", (s: any, v: unknown) => s.upsertBillingAccount({ orgId: "acme", plan: "p", updatedAtMs: v })],
    ["occurredAtMs", (s: any, v: unknown) => s.recordAuditEvent({ orgId: "acme", action: "a", targetType: "t", occurredAtMs: v })],
    ["rotatedAtMs", (s: any, v: unknown) => s.putSecretRef({ orgId: "acme", name: "n", provider: "p", ref: "r", rotatedAtMs: v })],
    ["sinceMs", (s: any, v: unknown) => s.summarizeUsage({ orgId: "acme", sinceMs: v })],
    ["untilMs", (s: any, v: unknown) => s.checkUsageLimit({ orgId: "acme", metric: "m", untilMs: v })],
    ["exportedAtMs", (s: any, v: unknown) => s.exportOrgAudit({ orgId: "acme", exportedAtMs: v })],
    ["quantity", (s: any, v: unknown) => s.recordUsage({ orgId: "acme", metric: "m", quantity: v })],
    ["limitQuantity", (s: any, v: unknown) => s.setUsageLimit({ orgId: "acme", metric: "m", limitQuantity: v })],
  ])("%s must be a non-negative finite number", (field, call) => {
    const { store } = seededStore();
    for (const bad of [-1, -0.5, NaN, Infinity, -Infinity, "12", true, {}, [1]]) {
      expectError(() => call(store, bad), "INVALID_INPUT", `${field} must be a non-negative finite number.`, { field });
    }
  });

  it("floors timestamps and keeps fractional quantities", () => {
    const { store } = seededStore();
    const ev = store.recordUsage({ orgId: "acme", metric: "m", quantity: 0.25, observedAtMs: 99.99 });
    expect(ev).toMatchObject({ quantity: 0.25, observedAtMs: 99 });
    expect(store.recordUsage({ orgId: "acme", metric: "m", quantity: 0 }).quantity).toBe(0);
  });

  it("a quantity is required", () => {
    const { store } = seededStore();
    expectError(() => store.recordUsage({ orgId: "acme", metric: "m" } as any), "INVALID_INPUT", "quantity must be a non-negative finite number.");
  });
});

describe("metadata", () => {
  it("must be a plain object; absent means {}", () => {
    const { store } = seededStore();
    for (const bad of [[1, 2], "text", 5, true]) {
      expectError(() => store.createProject({ orgId: "acme", slug: "p", name: "P", metadata: bad as any }), "INVALID_INPUT", "metadata must be a JSON object.", { field: "metadata" });
      expectError(() => store.recordUsage({ orgId: "acme", metric: "m", quantity: 1, metadata: bad as any }), "INVALID_INPUT", "metadata must be a JSON object.");
    }
    expect(store.recordAuditEvent({ orgId: "acme", action: "a", targetType: "t", metadata: { nested: { deep: [1, { x: null }] } } }).metadata).toEqual({
      nested: { deep: [1, { x: null }] },
    });
  });

  it("cyclic metadata is refused as INVALID_INPUT", () => {
    const { store } = seededStore();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expectError(() => store.recordUsage({ orgId: "acme", metric: "m", quantity: 1, metadata: cyclic }), "INVALID_INPUT", /JSON-serialisable/);
  });

  it("malformed stored JSON reads back as {}", () => {
    const { db, store } = seededStore();
    db.exec("UPDATE _smithers_cp_projects SET metadata_json = 'not json' WHERE project_id = 'web'");
    db.exec("INSERT INTO _smithers_cp_projects (org_id, project_id, slug, name, metadata_json, created_at_ms) VALUES ('acme', 'arr', 'arr', 'A', '[1,2]', 1)");
    expect(store.exportOrgAudit({ orgId: "acme" }).projects.map((p) => p.metadata)).toEqual([{}, {}]);
  });
});

describe("periods", () => {
  it("accepts daily, weekly and monthly only", () => {
    const { store } = seededStore();
    for (const period of ["daily", "weekly", "monthly"]) {
      expect(store.setUsageLimit({ orgId: "acme", metric: "m", period, limitQuantity: 1 }).period).toBe(period);
    }
    const error = expectError(() => store.setUsageLimit({ orgId: "acme", metric: "m", period: "yearly", limitQuantity: 1 }), "INVALID_INPUT", "period must be one of: daily, weekly, monthly.");
    expect(error.details).toMatchObject({ field: "period", period: "yearly" });
    expectError(() => store.checkUsageLimit({ orgId: "acme", metric: "m", period: "hourly" }), "INVALID_INPUT", "period must be one of: daily, weekly, monthly.");
  });
});

describe("whole inputs", () => {
  it("an input that is not an object is INVALID_INPUT, not a TypeError", () => {
    const { store } = seededStore();
    for (const bad of [undefined, null, 5, "x", [1]]) {
      const error = expectError(() => store.createOrg(bad as any), "INVALID_INPUT", "input must be an object.");
      expect(error).toBeInstanceOf(ControlPlaneError);
    }
  });

  it("SQL-looking strings are data", () => {
    const { store } = seededStore();
    const name = "x'); DROP TABLE _smithers_cp_orgs; --";
    expect(store.createOrg({ slug: "evil", name }).name).toBe(name);
    expect(store.getOrg("acme")).not.toBeNull();
  });
});
