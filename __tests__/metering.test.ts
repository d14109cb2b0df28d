import path from "node:path";
import { describe, expect, it } from "vitest";
import BetterSqlite3 from "better-sqlite3";
import { ControlPlaneStore, Database } from "../index.js";
import { count, expectError, overlappingRace, seededStore, tempDir } from "./helpers";

const DAY = 86_400_000;

describe("idempotent recordUsage", () => {
  it("records a key once and returns the original for a repeat", () => {
    const { db, store } = seededStore();
    const first = store.recordUsage({ orgId: "acme", projectId: "web", metric: "tok", quantity: 5, idempotencyKey: "evt-1", metadata: { a: 1 } });
    expect(first).toMatchObject({ idempotencyKey: "evt-1", duplicate: false, quantity: 5 });
    const again = store.recordUsage({ orgId: "acme", projectId: "web", metric: "tok", quantity: 5, idempotencyKey: "evt-1", metadata: { a: 1 } });
    expect(again).toEqual({ ...first, duplicate: true });
    expect(count(db, "_smithers_cp_usage_events")).toBe(1);
    expect(store.summarizeUsage({ orgId: "acme" })).toEqual([{ orgId: "acme", metric: "tok", unit: "count", quantity: 5 }]);
    // Keys are per org.
    store.createOrg({ orgId: "beta", slug: "beta", name: "B" });
    expect(store.recordUsage({ orgId: "beta", metric: "tok", quantity: 5, idempotencyKey: "evt-1" }).duplicate).toBe(false);
  });

  it("a repeat with different content is IDEMPOTENCY_CONFLICT and writes nothing", () => {
    const { db, store } = seededStore();
    const first = store.recordUsage({ orgId: "acme", metric: "tok", quantity: 5, idempotencyKey: "k", observedAtMs: 10 });
    for (const changed of [{ quantity: 6 }, { metric: "cpu" }, { projectId: "web" }, { observedAtMs: 11 }, { metadata: { x: 1 } }, { unit: "usd" }]) {
      expectError(() => store.recordUsage({ orgId: "acme", metric: "tok", quantity: 5, idempotencyKey: "k", observedAtMs: 10, ...changed }), "IDEMPOTENCY_CONFLICT", "Usage event k was already recorded with different content.", {
        orgId: "acme",
        idempotencyKey: "k",
        existingId: first.id,
      });
    }
    // A retry that leaves observedAtMs to the store is the same event.
    expect(store.recordUsage({ orgId: "acme", metric: "tok", quantity: 5, idempotencyKey: "k" }).duplicate).toBe(true);
    expect(count(db, "_smithers_cp_usage_events")).toBe(1);
  });

  it("events without a key are never deduplicated, and carry no extra fields", () => {
    const { store } = seededStore();
    const a = store.recordUsage({ orgId: "acme", metric: "tok", quantity: 1, observedAtMs: 1 });
    const b = store.recordUsage({ orgId: "acme", metric: "tok", quantity: 1, observedAtMs: 1 });
    expect(a.id).not.toBe(b.id);
    expect(Object.keys(a)).toEqual(["id", "orgId", "projectId", "runId", "metric", "quantity", "unit", "observedAtMs", "metadata"]);
  });
});

describe("recordUsageBatch", () => {
  it("records every event in one transaction and returns them", () => {
    const { store } = seededStore();
    const events = store.recordUsageBatch([
      { orgId: "acme", metric: "tok", quantity: 1, observedAtMs: 1 },
      { orgId: "acme", projectId: "web", metric: "tok", quantity: 2, observedAtMs: 2, idempotencyKey: "b-1" },
      { orgId: "acme", projectId: "web", metric: "tok", quantity: 2, observedAtMs: 2, idempotencyKey: "b-1" },
    ]);
    expect(events.map((e) => [e.projectId, e.quantity, e.duplicate])).toEqual([
      [null, 1, undefined],
      ["web", 2, false],
      ["web", 2, true],
    ]);
    expect(events[2].id).toBe(events[1].id);
    expect(store.checkUsageLimit({ orgId: "acme", metric: "tok", untilMs: 10 })).toBeNull();
    store.setUsageLimit({ orgId: "acme", projectId: "web", metric: "tok", limitQuantity: 10 });
    expect(store.checkUsageLimit({ orgId: "acme", projectId: "web", metric: "tok", untilMs: 10 })!.usedQuantity).toBe(2);
  });

  it("returns ids and count when asked", () => {
    const { store } = seededStore();
    const out = store.recordUsageBatch(
      Array.from({ length: 100 }, (_, i) => ({ orgId: "acme", metric: "tok", quantity: i, observedAtMs: i })),
      { returning: "ids" },
    );
    expect(out.count).toBe(100);
    expect(new Set(out.ids).size).toBe(100);
    expect(store.summarizeUsage({ orgId: "acme" })[0].quantity).toBe(4950);
  });

  it("is all or nothing, and a bad event's error names its index", () => {
    const { db, store } = seededStore();
    const good = { orgId: "acme", metric: "tok", quantity: 1 };
    const error = expectError(() => store.recordUsageBatch([good, good, { ...good, quantity: NaN }]), "INVALID_INPUT", "events[2]: quantity must be a non-negative finite number.");
    expect(error.details).toEqual({ field: "quantity", index: 2 });
    expectError(() => store.recordUsageBatch([good, { ...good, projectId: "nope" }]), "INVALID_INPUT", "events[1]: Control-plane project not found: nope");
    expectError(() => store.recordUsageBatch([good, 5 as any]), "INVALID_INPUT", "events[1]: input must be an object.");
    expectError(() => store.recordUsageBatch("x" as any), "INVALID_INPUT", "events must be an array.");
    expectError(() => store.recordUsageBatch([good], { returning: "rows" as any }), "INVALID_INPUT", "returning must be one of: events, ids.");
    expect(count(db, "_smithers_cp_usage_events")).toBe(0);
    expect(count(db, "_smithers_cp_usage_rollups")).toBe(0);
    expect(store.recordUsageBatch([])).toEqual([]);
  });

  it("large batches (inserted many rows a statement) return each row's own id, in order, and name a bad event anywhere", () => {
    const { db, store } = seededStore();
    const batch = Array.from({ length: 150 }, (_, i) => ({
      orgId: "acme",
      projectId: i % 3 === 0 ? "web" : null,
      runId: `run-${i}`,
      metric: "tok",
      quantity: i,
      observedAtMs: 1_000 + i,
      metadata: { i },
      ...(i === 70 ? { idempotencyKey: "mid" } : {}),
    }));
    const events = store.recordUsageBatch(batch);
    expect(events.map((e) => e.runId)).toEqual(batch.map((e) => e.runId));
    const ids = events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    for (const event of events) {
      const row = db.query("SELECT run_id AS runId, project_id AS projectId, quantity, metadata_json AS m FROM _smithers_cp_usage_events WHERE id = ?").get(event.id)!;
      expect(row).toEqual({ runId: event.runId, projectId: event.projectId, quantity: event.quantity, m: JSON.stringify(event.metadata) });
    }
    expect(events[70]).toMatchObject({ idempotencyKey: "mid", duplicate: false });

    const before = count(db, "_smithers_cp_usage_events");
    const bad = batch.map((e, i) => ({ ...e, idempotencyKey: undefined, projectId: i === 45 ? "nope" : e.projectId }));
    const error = expectError(() => store.recordUsageBatch(bad, { returning: "ids" }), "INVALID_INPUT", "events[45]: Control-plane project not found: nope");
    expect(error.details).toMatchObject({ index: 45 });
    expect(count(db, "_smithers_cp_usage_events")).toBe(before);
  });
});

describe("consumeUsage", () => {
  it("never admits an event that leaves a window over the limit: later events count, a backdated event is weighed against them", () => {
    const { store } = seededStore();
    const t = 100 * DAY;
    store.setUsageLimit({ orgId: "acme", metric: "tok", period: "daily", limitQuantity: 3 });
    for (let i = 0; i < 3; i++) expect(store.consumeUsage({ orgId: "acme", metric: "tok", quantity: 1, observedAtMs: t + 5 }).allowed).toBe(true);
    // A caller whose clock read t before those three landed.
    const racing = store.consumeUsage({ orgId: "acme", metric: "tok", quantity: 1, observedAtMs: t });
    expect(racing.allowed).toBe(false);
    expect(racing.checks[0]).toMatchObject({ usedQuantity: 0, laterQuantity: 3, remainingQuantity: 0, exceeded: false, sinceMs: t - DAY, untilMs: t });
    expect(store.consumeUsage({ orgId: "acme", metric: "tok", quantity: 1, observedAtMs: t - 3_600_000 }).allowed).toBe(false);
    expect(store.checkUsageLimit({ orgId: "acme", metric: "tok", period: "daily", untilMs: t + 5 })!.usedQuantity).toBe(3);
    expect(store.consumeUsage({ orgId: "acme", metric: "tok", quantity: 1, observedAtMs: t + 5 + DAY + 1 }).allowed).toBe(true);
  });

  it("records only when every applicable limit has room, and reports each check", () => {
    const { store } = seededStore();
    const t = 100 * DAY;
    store.setUsageLimit({ orgId: "acme", projectId: "web", metric: "tok", period: "daily", limitQuantity: 10 });
    store.setUsageLimit({ orgId: "acme", metric: "tok", period: "monthly", limitQuantity: 15 });
    store.setUsageLimit({ orgId: "acme", metric: "other", limitQuantity: 0 }); // another metric: does not apply
    store.recordUsage({ orgId: "acme", metric: "tok", quantity: 4, observedAtMs: t - 2 * DAY }); // org-level, in the month only

    const ok = store.consumeUsage({ orgId: "acme", projectId: "web", metric: "tok", quantity: 8, observedAtMs: t });
    expect(ok.allowed).toBe(true);
    expect(ok.event).toMatchObject({ projectId: "web", quantity: 8, observedAtMs: t });
    expect(ok.checks.map((c) => [c.projectId, c.period, c.usedQuantity, c.remainingQuantity, c.allowed])).toEqual([
      ["web", "daily", 0, 10, true],
      [null, "monthly", 4, 11, true],
    ]);
    expect(ok.checks[0]).toMatchObject({ sinceMs: t - DAY, untilMs: t, exceeded: false, limitQuantity: 10 });

    const denied = store.consumeUsage({ orgId: "acme", projectId: "web", metric: "tok", quantity: 4, observedAtMs: t });
    expect(denied.allowed).toBe(false);
    expect(denied.event).toBeNull();
    expect(denied.checks.map((c) => [c.usedQuantity, c.allowed])).toEqual([
      [8, false], // 8 + 4 > 10
      [12, false], // 12 + 4 > 15
    ]);
    const exact = store.consumeUsage({ orgId: "acme", projectId: "web", metric: "tok", quantity: 2, observedAtMs: t });
    expect(exact.allowed).toBe(true); // 8 + 2 = 10 fits exactly
    expect(store.summarizeUsage({ orgId: "acme", metric: "tok", projectId: "web" })).toEqual([{ orgId: "acme", metric: "tok", unit: "count", quantity: 10 }]);
  });

  it("with no limit it records; with a key, a repeat returns the original", () => {
    const { store } = seededStore();
    const first = store.consumeUsage({ orgId: "acme", metric: "tok", quantity: 3, idempotencyKey: "c-1" });
    expect(first).toMatchObject({ allowed: true, checks: [], event: { quantity: 3, duplicate: false } });
    const again = store.consumeUsage({ orgId: "acme", metric: "tok", quantity: 3, idempotencyKey: "c-1" });
    expect(again.event).toEqual({ ...first.event, duplicate: true });
    expectError(() => store.consumeUsage({ orgId: "acme", projectId: "nope", metric: "tok", quantity: 1 }), "INVALID_INPUT", "Control-plane project not found: nope");
    // Also when a limit would refuse the event.
    store.setUsageLimit({ orgId: "acme", metric: "tok", limitQuantity: 0 });
    expectError(() => store.consumeUsage({ orgId: "acme", projectId: "nope", metric: "tok", quantity: 1 }), "INVALID_INPUT", "Control-plane project not found: nope");
    expect(store.consumeUsage({ orgId: "acme", projectId: "web", metric: "tok", quantity: 1 }).allowed).toBe(false);
  });

  it("4 processes racing from one start barrier with default times never pass a daily limit, and every allowed call is recorded once", async () => {
    const limit = 150;
    const workers = 4;
    const perWorker = 100; // 400 attempts for 150 slots
    let file = "";
    // The workers really raced: calls of different processes overlapped in time.
    const { parsed } = await overlappingRace<{ allowed: boolean; id: number | null }>("consumeUsage race", 50, () => {
      file = path.join(tempDir(), "race.db");
      const setup = new ControlPlaneStore(file);
      setup.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
      setup.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web" });
      setup.setUsageLimit({ orgId: "acme", projectId: "web", metric: "runs", period: "daily", limitQuantity: limit });
      setup.close();
      return Array.from({ length: workers }, (_, w) => [path.join(__dirname, "workers/consume.js"), file, String(perWorker), `w${w}`]);
    });
    const results = parsed.flatMap((p) => p.results);
    const allowed = results.filter((r) => r.allowed);
    expect(results).toHaveLength(workers * perWorker);
    expect(allowed).toHaveLength(limit);
    expect(new Set(allowed.map((r) => r.id)).size).toBe(limit);

    const db = new Database(file);
    expect(db.query("SELECT COUNT(*) AS n, TOTAL(quantity) AS q FROM _smithers_cp_usage_events").get()).toEqual({ n: limit, q: limit });
    const ids = db.query("SELECT id FROM _smithers_cp_usage_events ORDER BY id").all().map((r) => r.id);
    expect(ids).toEqual(allowed.map((r) => r.id).sort((a, b) => Number(a) - Number(b)));
    // No daily window, wherever it ends, holds more than the limit.
    const store = new ControlPlaneStore(db);
    for (const { t } of db.query("SELECT DISTINCT observed_at_ms AS t FROM _smithers_cp_usage_events").all()) {
      expect(store.checkUsageLimit({ orgId: "acme", projectId: "web", metric: "runs", period: "daily", untilMs: Number(t) })!.usedQuantity).toBeLessThanOrEqual(limit);
    }
    db.close();
  });
});

describe("summaries from rollups", () => {
  function store3() {
    const { db, store } = seededStore();
    store.createProject({ orgId: "acme", projectId: "api", slug: "api", name: "API" });
    const rec = (projectId: string | null, metric: string, unit: string, quantity: number, observedAtMs: number) =>
      store.recordUsage({ orgId: "acme", projectId, metric, unit, quantity, observedAtMs });
    rec("web", "tok", "t", 1, Date.UTC(2026, 0, 31, 23, 59, 59, 999));
    rec("api", "tok", "t", 2, Date.UTC(2026, 1, 1, 0, 0, 0, 0));
    rec(null, "tok", "t", 4, Date.UTC(2026, 1, 1, 0, 30));
    rec("web", "cpu", "ms", 8, Date.UTC(2026, 1, 2, 5));
    return { db, store };
  }

  it("the default output is unchanged; filters by project and metric", () => {
    const { store } = store3();
    expect(store.summarizeUsage({ orgId: "acme" })).toEqual([
      { orgId: "acme", metric: "cpu", unit: "ms", quantity: 8 },
      { orgId: "acme", metric: "tok", unit: "t", quantity: 7 },
    ]);
    expect(store.summarizeUsage({ orgId: "acme", projectId: "web" })).toEqual([
      { orgId: "acme", metric: "cpu", unit: "ms", quantity: 8 },
      { orgId: "acme", metric: "tok", unit: "t", quantity: 1 },
    ]);
    expect(store.summarizeUsage({ orgId: "acme", projectId: null })).toEqual([{ orgId: "acme", metric: "tok", unit: "t", quantity: 4 }]);
    expect(store.summarizeUsage({ orgId: "acme", metric: "tok" })).toEqual([{ orgId: "acme", metric: "tok", unit: "t", quantity: 7 }]);
  });

  it("groups by project, metric or unit", () => {
    const { store } = store3();
    expect(store.summarizeUsage({ orgId: "acme", groupBy: ["projectId"] })).toEqual([
      { orgId: "acme", projectId: null, quantity: 4 },
      { orgId: "acme", projectId: "api", quantity: 2 },
      { orgId: "acme", projectId: "web", quantity: 9 },
    ]);
    expect(store.summarizeUsage({ orgId: "acme", groupBy: ["unit", "projectId"], metric: "tok" })).toEqual([
      { orgId: "acme", projectId: null, unit: "t", quantity: 4 },
      { orgId: "acme", projectId: "api", unit: "t", quantity: 2 },
      { orgId: "acme", projectId: "web", unit: "t", quantity: 1 },
    ]);
    expect(store.summarizeUsage({ orgId: "acme", groupBy: [] })).toEqual([{ orgId: "acme", quantity: 15 }]);
    expectError(() => store.summarizeUsage({ orgId: "acme", groupBy: ["team" as any] }), "INVALID_INPUT", "groupBy must be an array of: projectId, metric, unit.");
  });

  it("buckets by hour, day and UTC calendar month", () => {
    const { store } = store3();
    const jan31 = Date.UTC(2026, 0, 31);
    const feb1 = Date.UTC(2026, 1, 1);
    expect(store.summarizeUsage({ orgId: "acme", metric: "tok", bucket: "month", groupBy: [] })).toEqual([
      { orgId: "acme", bucketStartMs: Date.UTC(2026, 0, 1), quantity: 1 },
      { orgId: "acme", bucketStartMs: feb1, quantity: 6 },
    ]);
    expect(store.summarizeUsage({ orgId: "acme", bucket: "day", groupBy: ["metric"] })).toEqual([
      { orgId: "acme", bucketStartMs: jan31, metric: "tok", quantity: 1 },
      { orgId: "acme", bucketStartMs: feb1, metric: "tok", quantity: 6 },
      { orgId: "acme", bucketStartMs: Date.UTC(2026, 1, 2), metric: "cpu", quantity: 8 },
    ]);
    expect(store.summarizeUsage({ orgId: "acme", bucket: "hour", groupBy: [], sinceMs: jan31, untilMs: feb1 + 3_600_000 })).toEqual([
      { orgId: "acme", bucketStartMs: feb1 - 3_600_000, quantity: 1 },
      { orgId: "acme", bucketStartMs: feb1, quantity: 6 },
    ]);
    expectError(() => store.summarizeUsage({ orgId: "acme", bucket: "week" as any }), "INVALID_INPUT", "bucket must be one of: hour, day, month.");
  });

  it("randomized: every summary and check equals the plain SUM over raw rows", () => {
    const { db, store } = seededStore();
    store.createProject({ orgId: "acme", projectId: "api", slug: "api", name: "API" });
    let seed = 42;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const span = 45 * DAY;
    const projects = [null, "web", "api"];
    for (let i = 0; i < 2_000; i++) {
      store.recordUsage({ orgId: "acme", projectId: projects[rand(3)], metric: ["a", "b"][rand(2)], quantity: i % 3 === 0 ? rand(100) / 7 : rand(100), observedAtMs: rand(span) });
    }
    store.setUsageLimit({ orgId: "acme", metric: "a", limitQuantity: 1 });
    store.setUsageLimit({ orgId: "acme", projectId: "web", metric: "a", limitQuantity: 1 });
    const raw = db.prepare(
      "SELECT metric, TOTAL(quantity) AS q FROM _smithers_cp_usage_events WHERE org_id = 'acme' AND observed_at_ms BETWEEN ? AND ? AND (? IS NULL OR project_id = ?) GROUP BY metric ORDER BY metric",
    );
    for (let i = 0; i < 200; i++) {
      const since = rand(span);
      const until = since + rand(span);
      const expected = raw.all(since, until, null, null).map((r) => [r.metric, r.q as number]);
      const got = store.summarizeUsage({ orgId: "acme", sinceMs: since, untilMs: until }).map((r) => [r.metric, r.quantity]);
      expect(got.map((g) => g[0])).toEqual(expected.map((e) => e[0]));
      got.forEach((g, k) => expect(g[1] as number).toBeCloseTo(expected[k][1] as number, 6));
      const webA = raw.all(since, until, "web", "web").find((r) => r.metric === "a");
      const check = store.checkUsageLimit({ orgId: "acme", projectId: "web", metric: "a", sinceMs: since, untilMs: until })!;
      expect(check.usedQuantity).toBeCloseTo((webA?.q as number) ?? 0, 6);
    }
  });

  /** The org's usage over its first whole day, read from the day bucket. */
  const store3Sum = (s: ControlPlaneStore) => s.summarizeUsage({ orgId: "acme", metric: "tok", sinceMs: 0, untilMs: 86_400_000 - 1 })[0].quantity;

  it("rows written by another writer count at once; missing rollups are built on open, wrong ones found and rebuilt by checkRollups", () => {
    const file = path.join(tempDir(), "rollups.db");
    const store = new ControlPlaneStore(file);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    store.setUsageLimit({ orgId: "acme", metric: "tok", limitQuantity: 100 });
    store.recordUsage({ orgId: "acme", metric: "tok", quantity: 1, observedAtMs: 1_000 });
    store.close();

    const other = new BetterSqlite3(file);
    other.prepare("INSERT INTO _smithers_cp_usage_events (org_id, metric, quantity, unit, observed_at_ms) VALUES ('acme', 'tok', 10, 'count', 2000)").run();
    const reopened = new ControlPlaneStore(file);
    expect(reopened.checkUsageLimit({ orgId: "acme", metric: "tok", untilMs: 5_000 })!.usedQuantity).toBe(11);
    reopened.close();

    // A file whose rollups are gone (say, copied without them) is rebuilt when opened.
    other.exec("DROP TABLE _smithers_cp_usage_rollups");
    other.prepare("INSERT INTO _smithers_cp_usage_events (org_id, metric, quantity, unit, observed_at_ms) VALUES ('acme', 'tok', 100, 'count', 3000)").run();
    other.close();
    const rebuilt = new ControlPlaneStore(file);
    expect(rebuilt.checkUsageLimit({ orgId: "acme", metric: "tok", untilMs: 5_000 })).toMatchObject({ usedQuantity: 111, exceeded: true });
    rebuilt.close();

    const tamper = new BetterSqlite3(file);
    tamper.exec("UPDATE _smithers_cp_usage_rollups SET quantity = quantity * 2");
    tamper.close();
    // Opening trusts the rollups; the check, on demand, finds and rebuilds them.
    const repaired = new ControlPlaneStore(file);
    expect(repaired.checkUsageLimit({ orgId: "acme", metric: "tok", untilMs: 5_000 })!.usedQuantity).toBe(222);
    expect(store3Sum(repaired)).toBe(222);
    expect(repaired.checkRollups({ repair: false })).toEqual({ consistent: false, repaired: false });
    expect(repaired.checkRollups()).toEqual({ consistent: false, repaired: true });
    expect(repaired.checkUsageLimit({ orgId: "acme", metric: "tok", untilMs: 5_000 })!.usedQuantity).toBe(111);
    expect(store3Sum(repaired)).toBe(111);
    expect(repaired.checkRollups()).toEqual({ consistent: true, repaired: false });
    repaired.close();
  });
});
