import { describe, expect, it } from "vitest";
import { expectError, seededStore } from "./helpers";

const DAY = 86_400_000;

describe("recordUsage", () => {
  it("returns the stored event with defaults", () => {
    const { db, store } = seededStore();
    const ev = store.recordUsage({ orgId: "acme", projectId: "web", runId: "run-1", metric: "tokens", quantity: 3, observedAtMs: 10, metadata: { model: "m" } });
    expect(ev).toEqual({ id: expect.any(Number), orgId: "acme", projectId: "web", runId: "run-1", metric: "tokens", quantity: 3, unit: "count", observedAtMs: 10, metadata: { model: "m" } });
    const row = db.query("SELECT * FROM _smithers_cp_usage_events WHERE id = ?").get(ev.id);
    expect(row).toEqual({ id: ev.id, org_id: "acme", project_id: "web", run_id: "run-1", metric: "tokens", quantity: 3, unit: "count", observed_at_ms: 10, metadata_json: '{"model":"m"}', idempotency_key: null });
    expect(store.recordUsage({ orgId: "acme", projectId: "", runId: "", metric: "m", quantity: 1 })).toMatchObject({ projectId: null, runId: null });
  });

  it("writes no audit event, and refuses unknown projects and orgs", () => {
    const { db, store } = seededStore();
    const audits = db.query("SELECT COUNT(*) AS n FROM _smithers_cp_audit_events").get()!.n;
    store.recordUsage({ orgId: "acme", metric: "m", quantity: 1 });
    expect(db.query("SELECT COUNT(*) AS n FROM _smithers_cp_audit_events").get()!.n).toBe(audits);
    expectError(() => store.recordUsage({ orgId: "acme", projectId: "nope", metric: "m", quantity: 1 }), "INVALID_INPUT", "Control-plane project not found: nope", { orgId: "acme", projectId: "nope" });
    expectError(() => store.recordUsage({ orgId: "ghost", metric: "m", quantity: 1 }), "INVALID_INPUT", "Control-plane org not found: ghost");
  });
});

describe("summarizeUsage", () => {
  it("sums per metric and unit over an inclusive window, ordered by metric then unit", () => {
    const { store } = seededStore();
    store.createOrg({ orgId: "other", slug: "other", name: "O" });
    const rec = (metric: string, unit: string, quantity: number, observedAtMs: number) => store.recordUsage({ orgId: "acme", metric, unit, quantity, observedAtMs });
    rec("tokens", "tok", 1, 100);
    rec("tokens", "tok", 2, 200);
    rec("tokens", "req", 4, 200);
    rec("cpu", "ms", 8, 300);
    rec("tokens", "tok", 16, 301);
    store.recordUsage({ orgId: "other", metric: "tokens", unit: "tok", quantity: 1000, observedAtMs: 200 });

    expect(store.summarizeUsage({ orgId: "acme" })).toEqual([
      { orgId: "acme", metric: "cpu", unit: "ms", quantity: 8 },
      { orgId: "acme", metric: "tokens", unit: "req", quantity: 4 },
      { orgId: "acme", metric: "tokens", unit: "tok", quantity: 19 },
    ]);
    expect(store.summarizeUsage({ orgId: "acme", sinceMs: 200, untilMs: 300 })).toEqual([
      { orgId: "acme", metric: "cpu", unit: "ms", quantity: 8 },
      { orgId: "acme", metric: "tokens", unit: "req", quantity: 4 },
      { orgId: "acme", metric: "tokens", unit: "tok", quantity: 2 },
    ]);
    expect(store.summarizeUsage({ orgId: "acme", sinceMs: 301 })).toEqual([{ orgId: "acme", metric: "tokens", unit: "tok", quantity: 16 }]);
    expect(store.summarizeUsage({ orgId: "acme", untilMs: 100 })).toEqual([{ orgId: "acme", metric: "tokens", unit: "tok", quantity: 1 }]);
    expect(store.summarizeUsage({ orgId: "acme", sinceMs: 302 })).toEqual([]);
  });

  it("sums fractional quantities", () => {
    const { store } = seededStore();
    for (let i = 0; i < 10; i++) store.recordUsage({ orgId: "acme", metric: "usd", unit: "usd", quantity: 0.1, observedAtMs: i });
    expect(store.summarizeUsage({ orgId: "acme" })[0].quantity).toBeCloseTo(1, 12);
  });
});

describe("usage limits", () => {
  it("setUsageLimit upserts per scope, metric, unit and period, audited", () => {
    const { db, store } = seededStore();
    const limit = store.setUsageLimit({ orgId: "acme", metric: "tokens", limitQuantity: 100, updatedAtMs: 5 });
    expect(limit).toEqual({ orgId: "acme", projectId: null, metric: "tokens", unit: "count", period: "monthly", limitQuantity: 100, updatedAtMs: 5 });
    store.setUsageLimit({ orgId: "acme", metric: "tokens", limitQuantity: 200, updatedAtMs: 6 });
    store.setUsageLimit({ orgId: "acme", projectId: "web", metric: "tokens", period: "daily", limitQuantity: 10, updatedAtMs: 7 });
    expect(db.query("SELECT project_key, project_id, period, limit_quantity FROM _smithers_cp_usage_limits ORDER BY project_key").all()).toEqual([
      { project_key: "__org__", project_id: null, period: "monthly", limit_quantity: 200 },
      { project_key: "web", project_id: "web", period: "daily", limit_quantity: 10 },
    ]);
    const events = db.query("SELECT project_id, target_id, metadata_json FROM _smithers_cp_audit_events WHERE action = 'usage_limit.upsert' ORDER BY id").all();
    expect(events).toEqual([
      { project_id: null, target_id: "acme", metadata_json: '{"metric":"tokens","unit":"count","period":"monthly","limitQuantity":100}' },
      { project_id: null, target_id: "acme", metadata_json: '{"metric":"tokens","unit":"count","period":"monthly","limitQuantity":200}' },
      { project_id: "web", target_id: "web", metadata_json: '{"metric":"tokens","unit":"count","period":"daily","limitQuantity":10}' },
    ]);
    expectError(() => store.setUsageLimit({ orgId: "acme", projectId: "nope", metric: "m", limitQuantity: 1 }), "INVALID_INPUT", "Control-plane project not found: nope");
    expectError(() => store.setUsageLimit({ orgId: "ghost", metric: "m", limitQuantity: 1 }), "INVALID_INPUT", "Control-plane org not found: ghost");
  });

  it("checkUsageLimit is null without a limit for exactly that scope", () => {
    const { store } = seededStore();
    expect(store.checkUsageLimit({ orgId: "acme", metric: "tokens" })).toBeNull();
    store.setUsageLimit({ orgId: "acme", metric: "tokens", period: "daily", limitQuantity: 1 });
    expect(store.checkUsageLimit({ orgId: "acme", metric: "tokens" })).toBeNull(); // monthly asked
    expect(store.checkUsageLimit({ orgId: "acme", metric: "tokens", period: "daily", unit: "usd" })).toBeNull();
    expect(store.checkUsageLimit({ orgId: "acme", projectId: "web", metric: "tokens", period: "daily" })).toBeNull();
    expect(store.checkUsageLimit({ orgId: "acme", metric: "tokens", period: "daily" })).not.toBeNull();
  });

  it("org-wide checks sum every project; project checks sum only theirs", () => {
    const { store } = seededStore();
    store.createProject({ orgId: "acme", projectId: "api", slug: "api", name: "API" });
    store.setUsageLimit({ orgId: "acme", metric: "tokens", limitQuantity: 10 });
    store.setUsageLimit({ orgId: "acme", projectId: "web", metric: "tokens", limitQuantity: 4 });
    const now = 40 * DAY;
    store.recordUsage({ orgId: "acme", projectId: "web", metric: "tokens", quantity: 3, observedAtMs: now - 1 });
    store.recordUsage({ orgId: "acme", projectId: "api", metric: "tokens", quantity: 5, observedAtMs: now - 2 });
    store.recordUsage({ orgId: "acme", metric: "tokens", quantity: 1, observedAtMs: now - 3 });

    const org = store.checkUsageLimit({ orgId: "acme", metric: "tokens", untilMs: now })!;
    expect(org).toEqual({ orgId: "acme", projectId: null, metric: "tokens", unit: "count", period: "monthly", limitQuantity: 10, updatedAtMs: expect.any(Number), usedQuantity: 9, remainingQuantity: 1, exceeded: false });
    const web = store.checkUsageLimit({ orgId: "acme", projectId: "web", metric: "tokens", untilMs: now })!;
    expect(web).toMatchObject({ projectId: "web", usedQuantity: 3, remainingQuantity: 1, exceeded: false });

    store.recordUsage({ orgId: "acme", projectId: "web", metric: "tokens", quantity: 1, observedAtMs: now });
    expect(store.checkUsageLimit({ orgId: "acme", projectId: "web", metric: "tokens", untilMs: now })).toMatchObject({ usedQuantity: 4, remainingQuantity: 0, exceeded: false });
    store.recordUsage({ orgId: "acme", projectId: "web", metric: "tokens", quantity: 0.5, observedAtMs: now });
    expect(store.checkUsageLimit({ orgId: "acme", projectId: "web", metric: "tokens", untilMs: now })).toMatchObject({ usedQuantity: 4.5, remainingQuantity: 0, exceeded: true });
  });

  it("the default window is the period up to untilMs, both ends inclusive", () => {
    const { store } = seededStore();
    store.setUsageLimit({ orgId: "acme", metric: "m", period: "daily", limitQuantity: 100 });
    store.setUsageLimit({ orgId: "acme", metric: "m", period: "weekly", limitQuantity: 100 });
    const until = 10 * DAY;
    store.recordUsage({ orgId: "acme", metric: "m", quantity: 1, observedAtMs: until - DAY - 1 }); // just outside a day
    store.recordUsage({ orgId: "acme", metric: "m", quantity: 2, observedAtMs: until - DAY }); // first ms inside
    store.recordUsage({ orgId: "acme", metric: "m", quantity: 4, observedAtMs: until }); // last ms inside
    store.recordUsage({ orgId: "acme", metric: "m", quantity: 8, observedAtMs: until + 1 }); // after
    store.recordUsage({ orgId: "acme", metric: "m", quantity: 16, observedAtMs: until - 7 * DAY }); // first ms of the week

    expect(store.checkUsageLimit({ orgId: "acme", metric: "m", period: "daily", untilMs: until })!.usedQuantity).toBe(6);
    expect(store.checkUsageLimit({ orgId: "acme", metric: "m", period: "weekly", untilMs: until })!.usedQuantity).toBe(23);
    expect(store.checkUsageLimit({ orgId: "acme", metric: "m", period: "daily", sinceMs: 0, untilMs: until })!.usedQuantity).toBe(23);
    expect(store.checkUsageLimit({ orgId: "acme", metric: "m", period: "daily", sinceMs: until, untilMs: until + 1 })!.usedQuantity).toBe(12);
  });

  it("the default window ends now, and never starts before 0", () => {
    const { store } = seededStore();
    store.setUsageLimit({ orgId: "acme", metric: "m", period: "daily", limitQuantity: 100 });
    store.recordUsage({ orgId: "acme", metric: "m", quantity: 1, observedAtMs: Date.now() - 1_000 });
    store.recordUsage({ orgId: "acme", metric: "m", quantity: 2, observedAtMs: Date.now() - 2 * DAY });
    store.recordUsage({ orgId: "acme", metric: "m", quantity: 4, observedAtMs: Date.now() + 60_000 });
    expect(store.checkUsageLimit({ orgId: "acme", metric: "m", period: "daily" })!.usedQuantity).toBe(1);
    store.recordUsage({ orgId: "acme", metric: "m", quantity: 8, observedAtMs: 0 });
    expect(store.checkUsageLimit({ orgId: "acme", metric: "m", period: "daily", untilMs: 1_000 })!.usedQuantity).toBe(8);
  });
});
