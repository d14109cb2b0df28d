// Credits: the worked example of docs/credits.md run as written, grants and their
// errors, corrections, org scoping, retention, and the requireBalance race between
// processes on one file.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ControlPlaneStore, Database } from "../index.js";
import { count, expectError, overlappingRace, seededStore, tempDir } from "./helpers";

const DAY = 86_400_000;

describe("the docs' worked example", () => {
  it("runs as written in docs/credits.md, every assertion in it holding", () => {
    const doc = fs.readFileSync(path.join(__dirname, "../docs/credits.md"), "utf8");
    const example = doc.slice(doc.indexOf("## Worked example"));
    const code = example.slice(example.indexOf("```js") + 5, example.indexOf("```", example.indexOf("```js") + 5));
    expect(code).toContain("assert.equal");
    const asserted: unknown[] = [];
    // Counts the assertions, so an example that stopped asserting would fail here.
    const counting = new Proxy(assert, {
      get: (target, key) => (...args: unknown[]) => {
        asserted.push(key);
        return (target as any)[key](...args);
      },
    });
    new Function("ControlPlaneStore", "assert", code)(ControlPlaneStore, counting);
    expect(asserted.length).toBeGreaterThanOrEqual(7);
  });
});

describe("grants", () => {
  it("are audited, listed by id, idempotent by key, and refuse bad input by field", () => {
    const { db, store } = seededStore();
    const g = store.grantCredits({ orgId: "acme", grantId: "g1", metric: "tok", amount: 10, effectiveAtMs: 5, idempotencyKey: "k", actorId: "ann" });
    expect(g).toMatchObject({ grantId: "g1", projectId: null, unit: "count", amount: 10, priority: 0, effectiveAtMs: 5, expiresAtMs: null, recurrence: null, rollover: null, voidedAtMs: null, metadata: {} });
    expect(store.grantCredits({ orgId: "acme", metric: "tok", amount: 10, effectiveAtMs: 5, idempotencyKey: "k" })).toEqual(g);
    expectError(() => store.grantCredits({ orgId: "acme", metric: "tok", amount: 11, idempotencyKey: "k" }), "IDEMPOTENCY_CONFLICT");
    expectError(() => store.grantCredits({ orgId: "acme", grantId: "g1", metric: "tok", amount: 1 }), "DUPLICATE_ID", "Duplicate control-plane credit grant id: g1");
    const bad: [Record<string, unknown>, string][] = [
      [{ amount: -1 }, "amount"],
      [{ priority: 1.5 }, "priority"],
      [{ effectiveAtMs: 10, expiresAtMs: 10 }, "expiresAtMs"],
      [{ recurrence: { period: "hourly" } }, "recurrence.period"],
      [{ recurrence: { period: 10 } }, "recurrence.period"],
      [{ rollover: { maxAmount: 5 } }, "rollover"],
      [{ recurrence: { period: "daily" }, rollover: { maxAmount: 5, minAmount: 6 } }, "rollover.minAmount"],
      [{ recurrence: { period: "daily" }, rollover: { maxAmount: -5 } }, "rollover.maxAmount"],
      [{ projectId: "nope" }, ""],
    ];
    for (const [fields, field] of bad) {
      const err = expectError(() => store.grantCredits({ orgId: "acme", metric: "tok", amount: 1, ...fields } as any), "INVALID_INPUT");
      if (field) expect((err.details as any).field).toBe(field);
    }
    expect(count(db, "_smithers_cp_credit_grants")).toBe(1);
    store.grantCredits({ orgId: "acme", grantId: "g0", projectId: "web", metric: "tok", amount: 3, effectiveAtMs: 0, expiresAtMs: 100 });
    expect(store.listGrants({ orgId: "acme" }).items.map((x) => x.grantId)).toEqual(["g0", "g1"]);
    expect(store.listGrants({ orgId: "acme", projectId: null }).items.map((x) => x.grantId)).toEqual(["g1"]);
    expect(store.listGrants({ orgId: "acme", activeAtMs: 100 }).items.map((x) => x.grantId)).toEqual(["g1"]);
    expect(store.listGrants({ orgId: "acme", limit: 1 }).nextCursor).toBeTruthy();
    const voided = store.voidGrant({ orgId: "acme", grantId: "g1", reason: "mistake", voidedAtMs: 50 });
    expect(voided).toMatchObject({ voidedAtMs: 50, voidReason: "mistake" });
    expectError(() => store.voidGrant({ orgId: "acme", grantId: "nope", reason: "x" }), "NOT_FOUND");
    const actions = store.queryAuditLog({ orgId: "acme" }).items.map((e) => e.action);
    expect(actions.filter((a) => a.startsWith("credit_grant."))).toEqual(expect.arrayContaining(["credit_grant.create", "credit_grant.void"]));
    expect(store.verifyAuditChain({ orgId: "acme" }).ok).toBe(true);
  });

  it("a voided grant counts for the time it was active", () => {
    const { store } = seededStore();
    store.grantCredits({ orgId: "acme", grantId: "g", metric: "tok", amount: 10, effectiveAtMs: 0 });
    store.recordUsage({ orgId: "acme", metric: "tok", quantity: 4, observedAtMs: 10 });
    store.voidGrant({ orgId: "acme", grantId: "g", reason: "x", voidedAtMs: 20 });
    expect(store.getBalance({ orgId: "acme", metric: "tok", atMs: 15 })).toEqual({ balance: 6, overage: 0, atMs: 15, grants: [{ grantId: "g", projectId: null, remaining: 6, expiresAtMs: 20 }] });
    store.recordUsage({ orgId: "acme", metric: "tok", quantity: 3, observedAtMs: 25 });
    expect(store.getBalance({ orgId: "acme", metric: "tok", atMs: 30 })).toMatchObject({ balance: 0, overage: 3, grants: [] });
  });
});

describe("corrections", () => {
  it("void and amend keep the original, show at once in summaries, limits and balances, and are audited", () => {
    const { db, store } = seededStore();
    store.grantCredits({ orgId: "acme", metric: "tok", amount: 10, effectiveAtMs: 0 });
    store.setUsageLimit({ orgId: "acme", metric: "tok", period: "daily", limitQuantity: 10 });
    const e = store.recordUsage({ orgId: "acme", projectId: "web", metric: "tok", quantity: 8, observedAtMs: 1_000 });
    expect(store.consumeUsage({ orgId: "acme", metric: "tok", quantity: 5, observedAtMs: 2_000 }, { requireBalance: true }).allowed).toBe(false);
    const amended = store.amendUsage({ orgId: "acme", eventId: e.id, quantity: 3, reason: "recount", actorId: "ann" });
    expect(amended).toMatchObject({ eventId: e.id, kind: "amend", previousQuantity: 8, quantity: 3, observedAtMs: 1_000, reason: "recount", actorId: "ann" });
    expect(store.summarizeUsage({ orgId: "acme" })).toEqual([{ orgId: "acme", metric: "tok", unit: "count", quantity: 3 }]);
    expect(store.checkUsageLimit({ orgId: "acme", metric: "tok", period: "daily", untilMs: 5_000 })!.usedQuantity).toBe(3);
    expect(store.getBalance({ orgId: "acme", metric: "tok", atMs: 5_000 }).balance).toBe(7);
    const admitted = store.consumeUsage({ orgId: "acme", metric: "tok", quantity: 5, observedAtMs: 2_000 }, { requireBalance: true });
    expect([admitted.allowed, admitted.balance]).toEqual([true, { allowed: true, before: 7, after: 2 }]);
    const voided = store.voidUsage({ orgId: "acme", eventId: e.id, reason: "refund" });
    expect(voided).toMatchObject({ kind: "void", previousQuantity: 3, quantity: 0 });
    expect(store.getBalance({ orgId: "acme", metric: "tok", atMs: 5_000 }).balance).toBe(5);
    // The original row is kept; the amendment carries -5 (before the consumed 5), the void -3.
    expect(db.query("SELECT quantity FROM _smithers_cp_usage_events WHERE metric = 'tok' ORDER BY id").all().map((r) => r.quantity)).toEqual([8, -5, 5, -3]);
    expectError(() => store.amendUsage({ orgId: "acme", eventId: e.id, quantity: 1, reason: "x" }), "INVALID_INPUT");
    expectError(() => store.voidUsage({ orgId: "acme", reason: "x" } as any), "INVALID_INPUT", "eventId or idempotencyKey is required.");
    expectError(() => store.voidUsage({ orgId: "acme", eventId: 999, reason: "x" }), "NOT_FOUND");
    expect(store.queryAuditLog({ orgId: "acme", targetType: "usage_event" }).items.map((a) => a.action)).toEqual(["usage.amend", "usage.void"]);
  });
});

describe("scoping and retention", () => {
  it("forOrg's handle has the credit calls; another org's input is TENANT_MISMATCH", () => {
    const { store } = seededStore();
    const acme = store.forOrg("acme");
    acme.grantCredits({ metric: "tok", amount: 5, effectiveAtMs: 0 });
    expect(acme.getBalance({ metric: "tok", atMs: 1 }).balance).toBe(5);
    expect(acme.consumeUsage({ metric: "tok", quantity: 2, observedAtMs: 1 }, { requireBalance: true }).balance).toEqual({ allowed: true, before: 5, after: 3 });
    // An option cannot move the call to another org.
    expect(acme.consumeUsage({ metric: "tok", quantity: 1, observedAtMs: 1 }, { requireBalance: true, orgId: "other" } as any).event!.orgId).toBe("acme");
    expectError(() => acme.getBalance({ orgId: "other", metric: "tok" } as any), "TENANT_MISMATCH");
    expectError(() => acme.grantCredits({ orgId: "other", metric: "tok", amount: 1 } as any), "TENANT_MISMATCH");
    expectError(() => store.consumeUsage({ orgId: "acme", metric: "tok", quantity: 1 }, "yes" as any), "INVALID_INPUT", "options must be an object.");
  });

  it("purging events keeps balances exact", () => {
    const { store } = seededStore();
    const NOW = 400 * DAY;
    store.grantCredits({ orgId: "acme", metric: "tok", amount: 100, effectiveAtMs: 0, recurrence: { period: "monthly" }, rollover: { maxAmount: 40 } });
    for (let d = 0; d < 300; d += 7) store.recordUsage({ orgId: "acme", projectId: d % 2 ? "web" : null, metric: "tok", quantity: 3 + (d % 11), observedAtMs: d * DAY + 17 });
    const at = [10 * DAY, 95 * DAY, 200 * DAY, NOW];
    const before = at.map((atMs) => store.getBalance({ orgId: "acme", projectId: "web", metric: "tok", atMs }));
    store.setRetention({ orgId: "acme", usageDays: 30, updatedAtMs: NOW });
    expect(store.purgeExpired({ nowMs: NOW }).deleted._smithers_cp_usage_events).toBeGreaterThan(40);
    expect(at.map((atMs) => store.getBalance({ orgId: "acme", projectId: "web", metric: "tok", atMs }))).toEqual(before);
  });
});

describe("the requireBalance race on one file", () => {
  it("4 processes from one start barrier, 400 attempts of 1 against a balance of 150: exactly 150 admitted", async () => {
    const workers = 4;
    const perWorker = 100;
    let file = "";
    const { parsed } = await overlappingRace<{ allowed: boolean; id: number | null }>("requireBalance race", 50, () => {
      file = path.join(tempDir(), "race.db");
      const setup = new ControlPlaneStore(file);
      setup.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
      setup.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web" });
      // 100 for the project, 50 for the org: the project's events draw on both.
      setup.grantCredits({ orgId: "acme", projectId: "web", metric: "runs", amount: 100, effectiveAtMs: 0 });
      setup.grantCredits({ orgId: "acme", metric: "runs", amount: 50, effectiveAtMs: 0 });
      setup.close();
      return Array.from({ length: workers }, (_, w) => [path.join(__dirname, "workers/consume.js"), file, String(perWorker), `w${w}`, "balance"]);
    });
    const results = parsed.flatMap((p) => p.results);
    expect(results).toHaveLength(workers * perWorker);
    const allowed = results.filter((r) => r.allowed);
    expect(allowed).toHaveLength(150);
    expect(new Set(allowed.map((r) => r.id)).size).toBe(150);
    const db = new Database(file);
    expect(db.query("SELECT COUNT(*) AS n, TOTAL(quantity) AS q FROM _smithers_cp_usage_events").get()).toEqual({ n: 150, q: 150 });
    const store = new ControlPlaneStore(db);
    expect(store.getBalance({ orgId: "acme", projectId: "web", metric: "runs" })).toMatchObject({ balance: 0, overage: 0 });
    db.close();
  });
});
