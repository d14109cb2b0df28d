// The async store (`ControlPlaneStore.connect`), one suite run on each engine it opens:
// SQLite in memory, a SQLite file, and a real PostgreSQL server (`pg/server.js`, started
// here; without PostgreSQL the suite fails, it never skips). The same calls give the same
// results as the sync store, and the races on PostgreSQL are exact.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import { Worker } from "node:worker_threads";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { AsyncControlPlaneStore, ControlPlaneError, ControlPlaneStore } from "../index.js";
import { overlappingRace, tempDir } from "./helpers";
import { startServer } from "./pg/server.js";

type Server = ReturnType<typeof startServer>;
let server: Server;
let throughPooler: (database: string) => string;

beforeAll(() => {
  server = startServer();
  throughPooler = server.pooler();
});
afterAll(() => server?.stop());

/** A database of its own on the test server. */
const freshPostgres = (): string => server.freshDatabase("t");
/** A database of its own, reached through PgBouncer in transaction mode (`pgbouncer=true`). */
const freshThroughPooler = (): string => throughPooler(new URL(freshPostgres()).pathname.slice(1));

const TARGETS: [string, () => string][] = [
  ["sqlite::memory:", () => "sqlite::memory:"],
  ["sqlite:<file>", () => `sqlite:${path.join(tempDir(), "async.db")}`],
  ["postgres://", freshPostgres],
  ["postgres:// through PgBouncer in transaction mode", freshThroughPooler],
];

async function rejection(promise: Promise<unknown>, code: string, message?: string): Promise<ControlPlaneError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ControlPlaneError);
  const error = caught as ControlPlaneError;
  expect(error.code).toBe(code);
  if (message) expect(error.message).toBe(message);
  return error;
}

/**
 * Calls run on the sync store and on each async one, every result (or error) recorded:
 * they must all be the same. Explicit ids and times, so nothing depends on the clock.
 */
const SCRIPT: [string, ...unknown[]][] = [
  ["createOrg", { orgId: "acme", slug: "acme", name: " Acme ", createdAtMs: 1_000 }],
  ["createOrg", { orgId: "beta", slug: "beta", name: "Beta", createdAtMs: 1_001 }],
  ["createOrg", { orgId: "dup", slug: "acme", name: "Dup" }],
  ["getOrg", "acme"],
  ["getOrg", "nope"],
  ["getOrgBySlug", "beta"],
  ["listOrgs", { limit: 1 }],
  ["createProject", { orgId: "acme", projectId: "web", slug: "web", name: "Web", createdAtMs: 2_000 }],
  ["createProject", { orgId: "acme", projectId: "api", slug: "api", name: "API", createdAtMs: 2_001 }],
  ["createProject", { orgId: "acme", projectId: "web", slug: "w2", name: "W" }],
  ["listProjects", { orgId: "acme" }],
  ["createTeam", { orgId: "acme", teamId: "core", slug: "core", name: "Core", createdAtMs: 3_000 }],
  ["addTeamMember", { orgId: "acme", teamId: "core", userId: "ann", role: "admin", createdAtMs: 3_001 }],
  ["addProjectTeam", { orgId: "acme", projectId: "web", teamId: "core", role: "write", createdAtMs: 3_002 }],
  ["listTeamMembers", { orgId: "acme", teamId: "core" }],
  ["listProjectAccess", { orgId: "acme", userId: "ann" }],
  ["getProjectAccess", { orgId: "acme", userId: "ann", projectId: "web" }],
  ["setOrgQuota", { orgId: "acme", maxTeams: 1, updatedAtMs: 4_000 }],
  ["createTeam", { orgId: "acme", teamId: "two", slug: "two", name: "Two" }],
  ["getOrgQuota", { orgId: "acme" }],
  ["recordUsage", { orgId: "acme", projectId: "web", metric: "tok", quantity: 2.5, observedAtMs: 86_400_000 }],
  ["recordUsage", { orgId: "acme", metric: "tok", quantity: 1, observedAtMs: 86_400_001, idempotencyKey: "k1" }],
  ["recordUsage", { orgId: "acme", metric: "tok", quantity: 1, observedAtMs: 86_400_001, idempotencyKey: "k1" }],
  ["recordUsage", { orgId: "acme", metric: "tok", quantity: 2, observedAtMs: 86_400_001, idempotencyKey: "k1" }],
  ["recordUsage", { orgId: "acme", projectId: "nope", metric: "tok", quantity: 1 }],
  [
    "recordUsageBatch",
    Array.from({ length: 40 }, (_, i) => ({ orgId: "acme", projectId: i % 2 ? "api" : null, metric: "tok", quantity: i, observedAtMs: 86_400_000 + i * 997 })),
    { returning: "ids" },
  ],
  ["setUsageLimit", { orgId: "acme", metric: "tok", period: "daily", limitQuantity: 800, updatedAtMs: 5_000 }],
  ["checkUsageLimit", { orgId: "acme", metric: "tok", period: "daily", untilMs: 172_799_999 }],
  ["consumeUsage", { orgId: "acme", projectId: "web", metric: "tok", quantity: 10, observedAtMs: 86_500_000, idempotencyKey: "c1" }],
  ["consumeUsage", { orgId: "acme", metric: "tok", quantity: 100, observedAtMs: 86_500_001 }],
  // Credits: grants, balances, admission against them, corrections.
  ["grantCredits", { orgId: "acme", grantId: "plan", metric: "tok", amount: 100, effectiveAtMs: 0, recurrence: { period: "daily", anchorMs: 0 }, rollover: { maxAmount: 20, minAmount: 5 } }],
  ["grantCredits", { orgId: "acme", grantId: "topup", projectId: "web", metric: "tok", amount: 30, priority: 1, effectiveAtMs: 86_000_000, expiresAtMs: 200_000_000, idempotencyKey: "g1" }],
  ["grantCredits", { orgId: "acme", grantId: "other", projectId: "web", metric: "tok", amount: 31, idempotencyKey: "g1" }],
  ["grantCredits", { orgId: "acme", grantId: "plan", metric: "tok", amount: 1 }],
  ["getBalance", { orgId: "acme", projectId: "web", metric: "tok", atMs: 86_600_000 }],
  ["getBalance", { orgId: "acme", metric: "tok", atMs: 172_800_000 }],
  ["consumeUsage", { orgId: "acme", projectId: "web", metric: "tok", quantity: 5, observedAtMs: 86_600_000 }, { requireBalance: true }],
  ["consumeUsage", { orgId: "acme", metric: "tok", quantity: 500, observedAtMs: 86_600_001 }, { requireBalance: true }],
  ["consumeUsage", { orgId: "acme", metric: "tok", quantity: 1, observedAtMs: 86_600_002 }, "no"],
  ["amendUsage", { orgId: "acme", idempotencyKey: "k1", quantity: 0.5, reason: "recount" }],
  ["voidUsage", { orgId: "acme", idempotencyKey: "c1", reason: "refund" }],
  ["voidUsage", { orgId: "acme", eventId: 99_999, reason: "none" }],
  ["getBalance", { orgId: "acme", projectId: "web", metric: "tok", atMs: 86_600_000 }],
  ["listGrants", { orgId: "acme", activeAtMs: 86_600_000 }],
  ["voidGrant", { orgId: "acme", grantId: "topup", reason: "mistake", voidedAtMs: 90_000_000 }],
  ["voidGrant", { orgId: "acme", grantId: "nope", reason: "x" }],
  ["getBalance", { orgId: "acme", projectId: "web", metric: "tok", atMs: 100_000_000 }],
  ["listUsageLimits", { orgId: "acme" }],
  ["summarizeUsage", { orgId: "acme" }],
  ["summarizeUsage", { orgId: "acme", groupBy: ["project", "metric", "unit"] }],
  ["summarizeUsage", { orgId: "acme", metric: "tok", bucket: "hour", sinceMs: 86_400_000, untilMs: 86_500_000 }],
  ["checkRollups", {}],
  ["deleteUsageLimit", { orgId: "acme", metric: "tok", period: "daily" }],
  ["recordAuditEvent", { orgId: "acme", action: "key.rotate", targetType: "key", targetId: "k", occurredAtMs: 6_000, metadata: { b: 1, a: [2] } }],
  ["queryAuditLog", { orgId: "acme", limit: 3 }],
  ["queryAuditLog", { orgId: "acme", action: "key.rotate" }],
  ["verifyAuditChain", { orgId: "acme" }],
  ["setRetention", { orgId: "beta", auditDays: 30, updatedAtMs: 7_000 }],
  ["getRetention", { orgId: "beta" }],
  ["upsertBillingAccount", { orgId: "acme", provider: "stripe", customerRef: "cus_1", plan: "pro", status: "active", updatedAtMs: 8_000 }],
  ["getBillingAccount", { orgId: "acme" }],
  ["upsertIdentityProvider", { orgId: "acme", providerId: "okta", kind: "oidc", displayName: "Okta", config: { issuer: "x" }, updatedAtMs: 8_001 }],
  ["listIdentityProviders", { orgId: "acme" }],
  ["putSecretRef", { orgId: "acme", projectId: "web", name: "B", provider: "vault", ref: "vault://b", createdAtMs: 9_000 }],
  ["putSecretRef", { orgId: "acme", name: "A", provider: "vault", ref: "vault://a", createdAtMs: 9_001 }],
  ["listSecretRefs", { orgId: "acme" }],
  ["deleteSecretRef", { orgId: "acme", name: "A" }],
  ["exportOrgAudit", { orgId: "acme", exportedAtMs: 10_000 }],
  ["suspendOrg", { orgId: "beta", reason: "unpaid", suspendedAtMs: 11_000 }],
  ["createProject", { orgId: "beta", projectId: "p", slug: "p", name: "P" }],
  ["unsuspendOrg", { orgId: "beta" }],
  ["deleteProject", { orgId: "acme", projectId: "api" }],
  ["summarizeUsage", { orgId: "acme", groupBy: ["project", "metric", "unit"] }],
  ["verifyAuditChain", { orgId: "acme" }],
  ["deleteOrg", { orgId: "beta", deletedAtMs: 12_000 }],
  ["listOrgs", {}],
  // Retention: audit events and usage of acme older than a day before "now" go, their
  // usage kept as sums (every window's total the same), the chain still verifying.
  ["setRetention", { orgId: "acme", auditDays: 1, usageDays: 1, updatedAtMs: 13_000 }],
  ["purgeExpired", { nowMs: 86_400_000 + 86_400_000 + 30_000, batchSize: 7, dryRun: true }],
  ["purgeExpired", { nowMs: 86_400_000 + 86_400_000 + 30_000, batchSize: 7 }],
  ["summarizeUsage", { orgId: "acme", groupBy: ["project", "metric", "unit"] }],
  ["summarizeUsage", { orgId: "acme", metric: "tok", bucket: "minute", sinceMs: 86_400_000, untilMs: 86_440_000 }],
  ["checkUsageLimit", { orgId: "acme", metric: "tok", period: "daily", untilMs: 86_440_000 }],
  ["getBalance", { orgId: "acme", projectId: "web", metric: "tok", atMs: 172_800_000 }],
  ["queryAuditLog", { orgId: "acme" }],
  ["verifyAuditChain", { orgId: "acme" }],
  ["checkRollups", { repair: false }],
  ["getOrg", 42],
  ["createOrg", "not an object"],
];

type Outcome = { ok: unknown } | { error: { code: string; message: string; details: unknown } };

/** A time the store read from the clock (the methods that take none), as "now". */
function clockFree(value: unknown): unknown {
  if (typeof value === "number" && value > 1.5e12) return "now";
  if (Array.isArray(value)) return value.map(clockFree);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, clockFree(v)]));
  return value;
}

function outcome(result: unknown): Outcome {
  return { ok: result === undefined ? "undefined" : clockFree(result) };
}
function failure(error: unknown): Outcome {
  const e = error as ControlPlaneError;
  if (!(e instanceof ControlPlaneError)) throw error;
  return { error: { code: e.code, message: e.message, details: e.details } };
}

function syncOutcomes(): Outcome[] {
  const store = new ControlPlaneStore(":memory:") as unknown as Record<string, (...args: unknown[]) => unknown>;
  return SCRIPT.map(([method, ...args]) => {
    try {
      return outcome(store[method]!(...args));
    } catch (error) {
      return failure(error);
    }
  });
}

/** Where a call's outcome holds usage event ids: recordUsage's event, a batch's ids, consumeUsage's event, a correction's events. */
function usageIds(call: string, o: Outcome, renumber?: (id: number) => number): number[] {
  if (!("ok" in o)) return [];
  const ok = o.ok as { id?: number; ids?: number[]; event?: { id: number } | null; eventId?: number; compensatingEventId?: number };
  const correction = call === "voidUsage" || call === "amendUsage";
  const ids =
    call === "recordUsage" ? [ok.id!]
    : call === "recordUsageBatch" ? ok.ids!
    : call === "consumeUsage" && ok.event ? [ok.event.id]
    : correction ? [ok.eventId!, ok.compensatingEventId!]
    : [];
  // A correction names its events, and so do its audit event and the export's list.
  if (renumber) renumberAudited(ok, renumber);
  if (renumber) {
    if (call === "recordUsage") ok.id = renumber(ok.id!);
    if (call === "recordUsageBatch") ok.ids = ok.ids!.map(renumber);
    if (call === "consumeUsage" && ok.event) ok.event.id = renumber(ok.event.id);
  }
  return ids;
}

function renumberAudited(value: unknown, renumber: (id: number) => number): void {
  if (Array.isArray(value)) return value.forEach((v) => renumberAudited(v, renumber));
  if (!value || typeof value !== "object") return;
  const event = value as { targetType?: string; targetId?: string; metadata?: { compensatingEventId?: number }; eventId?: number; compensatingEventId?: number };
  if (typeof event.compensatingEventId === "number" && typeof event.eventId === "number") {
    event.eventId = renumber(event.eventId);
    event.compensatingEventId = renumber(event.compensatingEventId);
    return;
  }
  if (event.targetType === "usage_event") {
    event.targetId = String(renumber(Number(event.targetId)));
    if (event.metadata?.compensatingEventId) event.metadata.compensatingEventId = renumber(event.metadata.compensatingEventId);
    return;
  }
  Object.values(value).forEach((v) => renumberAudited(v, renumber));
}

/**
 * PostgreSQL numbers usage events by a sequence, which a rolled-back insert uses up: its
 * ids may have gaps where SQLite's have none, never another order. Checks that, then gives
 * `got` SQLite's numbers so the rest compares as it is.
 */
function sameNumbering(expected: Outcome[], got: Outcome[]): Outcome[] {
  const theirs = SCRIPT.flatMap(([call], i) => usageIds(call, expected[i]!));
  const ours = SCRIPT.flatMap(([call], i) => usageIds(call, got[i]!));
  expect(ours).toHaveLength(theirs.length);
  const map = new Map(ours.map((id, k) => [id, theirs[k]!]));
  expect(new Set(map.values()).size).toBe(map.size); // one to one
  for (let k = 1; k < ours.length; k++) expect(Math.sign(ours[k]! - ours[k - 1]!)).toBe(Math.sign(theirs[k]! - theirs[k - 1]!));
  const renumbered = structuredClone(got);
  SCRIPT.forEach(([call], i) => usageIds(call, renumbered[i]!, (id) => map.get(id)!));
  return renumbered;
}

async function asyncOutcomes(store: AsyncControlPlaneStore): Promise<Outcome[]> {
  const methods = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const out: Outcome[] = [];
  for (const [method, ...args] of SCRIPT) {
    const promise = methods[method]!(...args);
    expect(promise).toBeInstanceOf(Promise);
    try {
      out.push(outcome(await promise));
    } catch (error) {
      out.push(failure(error));
    }
  }
  return out;
}

describe.each(TARGETS)("the async store on %s", (name, url) => {
  it("gives every call of the script the sync store's result or error", async () => {
    const store = await ControlPlaneStore.connect(url());
    expect(store).toBeInstanceOf(AsyncControlPlaneStore);
    expect(store.dialect).toBe(name.startsWith("postgres") ? "postgres" : "sqlite");
    const expected = syncOutcomes();
    let got = await asyncOutcomes(store);
    if (store.dialect === "postgres") got = sameNumbering(expected, got);
    for (let i = 0; i < SCRIPT.length; i++) {
      expect({ call: SCRIPT[i]![0], i, out: got[i] }).toEqual({ call: SCRIPT[i]![0], i, out: expected[i] });
    }
    // The script did reach its errors: it is not all successes.
    expect(got.filter((o) => "error" in o).length).toBeGreaterThan(5);
    await store.close();
  });

  it("has the sync store's method names, each returning a promise; forOrg's handle has the org's", async () => {
    const store = await ControlPlaneStore.connect(url());
    const names = (proto: object) =>
      Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor" && typeof Object.getOwnPropertyDescriptor(proto, n)!.value === "function");
    const syncNames = names(ControlPlaneStore.prototype).sort();
    expect(names(Object.getPrototypeOf(store)).sort()).toEqual(syncNames);
    const sync = new ControlPlaneStore(":memory:");
    sync.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    const syncScope = sync.forOrg("acme");
    await store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    const scope = store.forOrg(" acme ", { actorId: "ann", requestId: "r1" });
    expect(names(Object.getPrototypeOf(scope)).sort()).toEqual(names(Object.getPrototypeOf(syncScope)).sort());
    expect(scope.orgId).toBe("acme");
    expect(scope.context).toEqual({ requestId: "r1", actorId: "ann" });
    const team = await scope.createTeam({ teamId: "t", slug: "t", name: "T", createdAtMs: 1 });
    expect(team.orgId).toBe("acme");
    expect((await scope.getOrg())?.orgId).toBe("acme");
    await rejection(scope.createTeam({ orgId: "other", slug: "x", name: "X" }), "TENANT_MISMATCH");
    const events = await scope.queryAuditLog({ action: "team.create" });
    expect(events.items[0]).toMatchObject({ actorId: "ann", requestId: "r1" });
    expect(await scope.addTeamMember({ teamId: "t", userId: "u" })).toBeUndefined();
    const batch = await scope.recordUsageBatch([{ metric: "m", quantity: 1 }, { metric: "m", quantity: 2 }], { returning: "ids" });
    expect(batch.ids).toHaveLength(2);
    await store.close();
  });

  it("rejects a bad input rather than throwing; a closed store rejects with CLOSED", async () => {
    const store = await ControlPlaneStore.connect(url());
    const promise = store.createOrg({ slug: "bad slug!", name: "X" });
    expect(promise).toBeInstanceOf(Promise);
    await rejection(promise, "INVALID_INPUT");
    await rejection(store.getOrg({} as unknown as string), "INVALID_INPUT");
    expect((await store.stats()).tables.length).toBeGreaterThan(10);
    expect(await store.checkIntegrity()).toEqual({ integrity: "ok" });
    await store.close();
    await rejection(store.getOrg("acme"), "CLOSED");
  });

  it("runs calls concurrently off the JS thread, each with its own result", async () => {
    const store = await ControlPlaneStore.connect(url(), { poolSize: 4 });
    await store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    const recorded = await Promise.all(Array.from({ length: 50 }, (_, i) => store.recordUsage({ orgId: "acme", metric: "m", quantity: i, observedAtMs: 1_000 + i })));
    expect(new Set(recorded.map((e) => e.id)).size).toBe(50);
    expect(await store.summarizeUsage({ orgId: "acme" })).toEqual([{ orgId: "acme", metric: "m", unit: "count", quantity: (49 * 50) / 2 }]);
    await store.close();
  });
});

describe("connect", () => {
  it("refuses a URL it cannot open, and bad options, with INVALID_INPUT", async () => {
    await rejection(ControlPlaneStore.connect("mysql://x"), "INVALID_INPUT");
    await rejection(ControlPlaneStore.connect(server.url, { poolSize: 0 }), "INVALID_INPUT");
    await rejection(ControlPlaneStore.connect(server.url, { statementTimeoutMs: -1 }), "INVALID_INPUT");
  });

  it("a server that is not there is UNAVAILABLE", async () => {
    const down = await rejection(ControlPlaneStore.connect("postgres://postgres@127.0.0.1:1/none", { connectTimeoutMs: 2_000 }), "UNAVAILABLE");
    expect(down.details).toEqual({ pgCode: null, transient: true });
    // A database that does not exist: configuration, which no retry fixes.
    const missing = await rejection(ControlPlaneStore.connect(freshPostgres().replace(/\/[^/]+$/, "/no_such_database")), "UNAVAILABLE");
    expect(missing.details).toMatchObject({ pgCode: "3D000", transient: false });
  });
});

describe("on PostgreSQL, calls run on threads of the pool's own, as many as poolSize", () => {
  // engine::postgres::WRITE_LOCK: held whole by another session, every org's writer waits.
  const WRITE_LOCK = BigInt("0x636f6e74726f6c01").toString();
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  /** A session of `pg`'s holding the store's lock whole until `release()`. */
  async function holdWriteLock(url: string) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`SELECT pg_advisory_lock(${WRITE_LOCK})`);
    let held = true;
    const waiting = async (): Promise<number> => {
      const sql = "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
      return (await client.query(sql)).rows[0].n;
    };
    return {
      /** Backends of the database waiting for an advisory lock. */
      waiting,
      /** Polls `waiting()` until it is `count` or `ms` passed; the last count. */
      async waitFor(count: number, ms = 5_000): Promise<number> {
        const deadline = Date.now() + ms;
        let seen = await waiting();
        while (seen < count && Date.now() < deadline) {
          await sleep(20);
          seen = await waiting();
        }
        return seen;
      },
      /** Lets go of the lock and ends the session; again, does nothing. */
      async release() {
        if (!held) return;
        held = false;
        await client.query(`SELECT pg_advisory_unlock(${WRITE_LOCK})`);
        await client.end();
      },
    };
  }
  async function orgsOn(store: AsyncControlPlaneStore, count: number): Promise<string[]> {
    const orgs = Array.from({ length: count }, (_, i) => `o${i}`);
    for (const orgId of orgs) await store.createOrg({ orgId, slug: orgId, name: orgId });
    return orgs;
  }

  it("behind PgBouncer, a write of one statement waits for its org's lock no longer than lockTimeoutMs, then BUSY", async () => {
    // The pooler's server connections keep no client's settings: each of these calls is
    // one statement outside a transaction, and sets its own lock_timeout.
    const direct = freshPostgres();
    const url = throughPooler(new URL(direct).pathname.slice(1));
    const store = await ControlPlaneStore.connect(url, { poolSize: 4, lockTimeoutMs: 300 });
    const [orgId] = await orgsOn(store, 1);
    const held = await holdWriteLock(direct);
    try {
      const calls: [string, () => Promise<unknown>][] = [
        ["recordUsage", () => store.recordUsage({ orgId, metric: "tok", quantity: 1 })],
        ["consumeUsage", () => store.consumeUsage({ orgId, metric: "tok", quantity: 1 })],
        ["recordAuditEvent", () => store.recordAuditEvent({ orgId, action: "a", targetType: "t" })],
        ["createTeam", () => store.createTeam({ orgId, slug: "t", name: "T" })],
        ["createProject", () => store.createProject({ orgId, slug: "p", name: "P" })],
      ];
      for (const [name, call] of calls) {
        const started = Date.now();
        const error = await rejection(call(), "BUSY");
        const waited = Date.now() - started;
        expect([name, waited >= 250 && waited < 5_000], `${name} waited ${waited} ms: ${error.message}`).toEqual([name, true]);
      }
    } finally {
      await held.release();
    }
    // Nothing was written, and with the lock free they go through.
    expect(await store.summarizeUsage({ orgId })).toEqual([]);
    expect((await store.consumeUsage({ orgId, metric: "tok", quantity: 1 })).allowed).toBe(true);
    await store.close();
  });

  it("poolSize 8: 8 calls wait on a lock at once (no more), and libuv's threads stay free for file and crypto work", async () => {
    const url = freshPostgres();
    const store = await ControlPlaneStore.connect(url, { poolSize: 8, lockTimeoutMs: 30_000 });
    const orgs = await orgsOn(store, 10);
    const lock = await holdWriteLock(url);
    let calls: Promise<{ orgId: string; id: number }>[] = [];
    try {
      calls = orgs.map((orgId) => store.recordUsage({ orgId, metric: "m", quantity: 1 }));
      // On libuv's thread pool (UV_THREADPOOL_SIZE 4) only 4 ever waited.
      expect(await lock.waitFor(8)).toBe(8);
      await sleep(300);
      expect(await lock.waiting()).toBe(8);
      // libuv's threads are free: a file read and key derivations finish while they wait.
      const libuvWork = Promise.all([
        fs.promises.readFile(__filename),
        ...Array.from({ length: 4 }, () => promisify(crypto.pbkdf2)("secret", "salt", 1_000, 32, "sha256")),
      ]).then(() => "done");
      expect(await Promise.race([libuvWork, sleep(3_000).then(() => "still waiting after 3 s")])).toBe("done");
    } finally {
      await lock.release();
    }
    const events = await Promise.all(calls);
    expect(events.map((e) => e.orgId)).toEqual(orgs);
    expect(new Set(events.map((e) => e.id)).size).toBe(10);
    await store.close();
  });

  it("close() with calls in flight settles each, resolved or CLOSED, and a later call rejects with CLOSED", async () => {
    const url = freshPostgres();
    const store = await ControlPlaneStore.connect(url, { poolSize: 2, lockTimeoutMs: 30_000 });
    const orgs = await orgsOn(store, 6);
    const lock = await holdWriteLock(url);
    let outcomes: PromiseSettledResult<unknown>[];
    try {
      const settled = Promise.allSettled(orgs.map((orgId) => store.recordUsage({ orgId, metric: "m", quantity: 1 })));
      expect(await lock.waitFor(2)).toBe(2);
      await store.close();
      await lock.release();
      outcomes = await settled;
    } finally {
      await lock.release();
    }
    // The two with a connection finish; the four waiting for one are CLOSED.
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(2);
    const rejected = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason] : []));
    expect(rejected).toHaveLength(4);
    for (const error of rejected) {
      expect(error).toBeInstanceOf(ControlPlaneError);
      expect(error.code).toBe("CLOSED");
    }
    await rejection(store.recordUsage({ orgId: "o0", metric: "m", quantity: 1 }), "CLOSED");
    // What was resolved was written, and nothing else.
    const check = await ControlPlaneStore.connect(url);
    expect((await Promise.all(orgs.map((orgId) => check.summarizeUsage({ orgId })))).flat()).toHaveLength(2);
    await check.close();
  });

  it("a worker thread ended while its call waits on a lock: the call still ends, and nothing crashes", async () => {
    const url = freshPostgres();
    const store = await ControlPlaneStore.connect(url);
    await orgsOn(store, 1);
    const lock = await holdWriteLock(url);
    try {
      const code = `
        const { parentPort, workerData } = require("node:worker_threads");
        const { ControlPlaneStore } = require(workerData.index);
        ControlPlaneStore.connect(workerData.url, { lockTimeoutMs: 30000 }).then((store) => {
          store.recordUsage({ orgId: "o0", metric: "m", quantity: 1 });
          parentPort.postMessage("calling");
        });`;
      const worker = new Worker(code, { eval: true, workerData: { url, index: path.join(__dirname, "../index.js") } });
      await new Promise((resolve, reject) => {
        worker.once("message", resolve);
        worker.once("error", reject);
      });
      expect(await lock.waitFor(1)).toBe(1);
      // The worker's loop has no call of ours to wait for (on libuv's threads it waited for
      // the call, here until its lock timeout).
      const ending = performance.now();
      await worker.terminate();
      expect(performance.now() - ending).toBeLessThan(5_000);
      await lock.release();
      // The call commits on its thread, with nobody left to tell.
      for (let i = 0; i < 250 && (await store.summarizeUsage({ orgId: "o0" })).length === 0; i++) await sleep(20);
      expect(await store.summarizeUsage({ orgId: "o0" })).toEqual([{ orgId: "o0", metric: "m", unit: "count", quantity: 1 }]);
    } finally {
      await lock.release();
    }
    await store.close();
  });
});

/** The arguments of a race worker on the async store (workers/async-race.js). */
const raceWorker = (url: string, mode: string, count: number, worker: string) => [path.join(__dirname, "workers/async-race.js"), url, mode, String(count), worker];

describe("worker threads", () => {
  it("4 worker threads each use the async store on PostgreSQL, with their own pools and errors", async () => {
    const url = freshPostgres();
    const outs = await Promise.all(
      [0, 1, 2, 3].map(
        (index) =>
          new Promise<Record<string, unknown>>((resolve, reject) => {
            const worker = new Worker(path.join(__dirname, "workers/async-worker.js"), { workerData: { url, index } });
            worker.once("message", resolve);
            worker.once("error", reject);
          }),
      ),
    );
    for (const out of outs) {
      expect(out).toEqual({ usage: 100, error: { isControlPlaneError: true, isError: true, code: "DUPLICATE_ID" } });
    }
    const store = await ControlPlaneStore.connect(url);
    expect((await store.listOrgs({})).items.map((o) => o.orgId)).toEqual(["w0", "w1", "w2", "w3"]);
    await store.close();
  });
});

describe("the server restarted under load", () => {
  it("calls fail with UNAVAILABLE while it is down, then all succeed on new connections, with nothing lost that was acknowledged", async () => {
    const own = startServer();
    try {
      const store = await ControlPlaneStore.connect(own.url, { poolSize: 2, connectTimeoutMs: 1_000 });
      await store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
      const codes = new Map<string, number>();
      let acknowledged = 0;
      let phase = "up";
      const after: boolean[] = [];
      const load = async () => {
        for (let i = 0; phase !== "done"; i++) {
          // A call counts as made after the server came back when it started after.
          const madeIn = phase;
          try {
            await store.recordUsage({ orgId: "acme", metric: "m", quantity: 1 });
            acknowledged++;
            if (madeIn === "again") after.push(true);
          } catch (error) {
            const { code, details } = error as ControlPlaneError;
            // A server down or restarting is worth a retry: the code and details say so.
            const key = code === "UNAVAILABLE" ? `${code} transient=${details?.transient}` : code;
            codes.set(key, (codes.get(key) ?? 0) + 1);
            if (madeIn === "again") after.push(false);
          }
          if (i % 10 === 0) await new Promise((r) => setImmediate(r));
        }
      };
      const loads = [load(), load()];
      await new Promise((r) => setTimeout(r, 200));
      own.halt();
      phase = "down";
      await new Promise((r) => setTimeout(r, 300));
      own.resume();
      phase = "again";
      await new Promise((r) => setTimeout(r, 500));
      phase = "done";
      await Promise.all(loads);
      console.log(`restart under load: ${acknowledged} acknowledged, errors ${JSON.stringify([...codes])}`);
      expect([...codes.keys()]).toEqual(["UNAVAILABLE transient=true"]);
      expect(codes.get("UNAVAILABLE transient=true")).toBeGreaterThan(0);
      // Once back, every call succeeds: a pooled connection that died while the server was
      // down is replaced, and the call run again on a new one, before it fails anyone.
      expect(after.filter((ok) => ok).length).toBeGreaterThan(20);
      expect(after.every((ok) => ok)).toBe(true);
      const summary = await store.summarizeUsage({ orgId: "acme" });
      expect(summary[0]!.quantity).toBeGreaterThanOrEqual(acknowledged);
      await store.close();
    } finally {
      own.stop();
    }
  });
});

describe("a client SIGKILLed in the middle of its writes, on PostgreSQL", () => {
  it("leaves every write whole (a team with its audit event), the chain verifying, and the write lock free", async () => {
    const url = freshPostgres();
    const store = await ControlPlaneStore.connect(url);
    await store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    for (let round = 0; round < 3; round++) {
      const child = spawn(process.execPath, [path.join(__dirname, "workers/async-race.js"), url, "teams", "0", `k${round}`], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
      // Writing for a while, then killed wherever it is: often inside a write transaction.
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 300));
      const exited = new Promise((r) => child.on("exit", r));
      child.kill("SIGKILL");
      await exited;
      // The server ended its transaction with its connection: the next write gets the
      // lock (well within the 5 s lock timeout).
      const started = performance.now();
      await store.createTeam({ orgId: "acme", teamId: `after-${round}`, slug: `after-${round}`, name: "After" });
      expect(performance.now() - started).toBeLessThan(4_000);
    }
    // Every page: the killed clients may have written more than one holds.
    const all = async <T>(page: (cursor: string | null) => Promise<{ items: T[]; nextCursor?: string | null }>) => {
      const items: T[] = [];
      for (let cursor: string | null = null; ; ) {
        const p = await page(cursor);
        items.push(...p.items);
        if (!p.nextCursor) return items;
        cursor = p.nextCursor;
      }
    };
    const teams = await all((cursor) => store.listTeams({ orgId: "acme", limit: 1_000, cursor }));
    const created = await all((cursor) => store.queryAuditLog({ orgId: "acme", action: "team.create", limit: 1_000, cursor }));
    expect(teams.length).toBeGreaterThan(3 + 3);
    expect(created.map((e) => e.targetId).sort()).toEqual(teams.map((t) => t.teamId).sort());
    expect(await store.verifyAuditChain({ orgId: "acme" })).toMatchObject({ ok: true, checked: teams.length + 1 });
    await store.close();
  });
});

describe.each([
  ["directly", () => freshPostgres()],
  ["through PgBouncer in transaction mode", () => freshThroughPooler()],
])("races on PostgreSQL %s, processes started at one barrier", (how, fresh) => {
  it("4 processes, 240 consumeUsage calls for a limit of 150: exactly 150 recorded", async () => {
    let setup!: AsyncControlPlaneStore;
    const workers = 4;
    const { parsed } = await overlappingRace<{ allowed: boolean; id: number | null }>(`consumeUsage race on PostgreSQL ${how}`, 50, async () => {
      await setup?.close();
      const url = fresh();
      setup = await ControlPlaneStore.connect(url);
      await setup.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
      await setup.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web" });
      await setup.setUsageLimit({ orgId: "acme", projectId: "web", metric: "runs", period: "daily", limitQuantity: 150 });
      return Array.from({ length: workers }, (_, w) => raceWorker(url, "consume", 60, `w${w}`));
    });
    const results = parsed.flatMap((p) => p.results);
    expect(results).toHaveLength(240);
    const allowed = results.filter((r) => r.allowed);
    expect(allowed).toHaveLength(150);
    expect(new Set(allowed.map((r) => r.id)).size).toBe(150);
    const summary = await setup.summarizeUsage({ orgId: "acme", metric: "runs" });
    expect(summary).toEqual([{ orgId: "acme", metric: "runs", unit: "count", quantity: 150 }]);
    expect((await setup.checkUsageLimit({ orgId: "acme", projectId: "web", metric: "runs", period: "daily" }))!.usedQuantity).toBe(150);
    expect(await setup.checkRollups({ repair: false })).toEqual({ consistent: true, repaired: false });
    await setup.close();
  });

  it("4 processes, 400 consumeUsage calls with requireBalance against a balance of 150: exactly 150 recorded", async () => {
    let setup!: AsyncControlPlaneStore;
    const { parsed } = await overlappingRace<{ allowed: boolean; id: number | null }>(`requireBalance race on PostgreSQL ${how}`, 50, async () => {
      await setup?.close();
      const url = fresh();
      setup = await ControlPlaneStore.connect(url);
      await setup.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
      await setup.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web" });
      await setup.grantCredits({ orgId: "acme", projectId: "web", metric: "runs", amount: 100, effectiveAtMs: 0 });
      await setup.grantCredits({ orgId: "acme", metric: "runs", amount: 50, effectiveAtMs: 0 });
      return Array.from({ length: 4 }, (_, w) => raceWorker(url, "balance", 100, `w${w}`));
    });
    const results = parsed.flatMap((p) => p.results);
    expect(results).toHaveLength(400);
    const allowed = results.filter((r) => r.allowed);
    expect(allowed).toHaveLength(150);
    expect(new Set(allowed.map((r) => r.id)).size).toBe(150);
    expect(await setup.getBalance({ orgId: "acme", projectId: "web", metric: "runs" })).toMatchObject({ balance: 0, overage: 0 });
    await setup.close();
  });

  it("8 processes on one org, 160 consumeUsage calls for a limit of 50: exactly 50 recorded", async () => {
    let setup!: AsyncControlPlaneStore;
    const { parsed } = await overlappingRace<{ allowed: boolean; id: number | null }>(`8-process consumeUsage race on PostgreSQL ${how}`, 40, async () => {
      await setup?.close();
      const url = fresh();
      setup = await ControlPlaneStore.connect(url);
      await setup.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
      await setup.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web" });
      await setup.setUsageLimit({ orgId: "acme", metric: "runs", period: "daily", limitQuantity: 50 });
      return Array.from({ length: 8 }, (_, w) => raceWorker(url, "consume", 20, `w${w}`));
    });
    const results = parsed.flatMap((p) => p.results);
    expect(results).toHaveLength(160);
    const allowed = results.filter((r) => r.allowed);
    expect(allowed).toHaveLength(50);
    expect(new Set(allowed.map((r) => r.id)).size).toBe(50);
    expect((await setup.checkUsageLimit({ orgId: "acme", metric: "runs", period: "daily" }))!.usedQuantity).toBe(50);
    await setup.close();
  });

  it("2 processes racing createProject against maxProjects get exactly the quota", async () => {
    let setup!: AsyncControlPlaneStore;
    const { parsed } = await overlappingRace<{ created: boolean; code: string | null }>(`createProject race on PostgreSQL ${how}`, 5, async () => {
      await setup?.close();
      const url = fresh();
      setup = await ControlPlaneStore.connect(url);
      await setup.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
      await setup.setOrgQuota({ orgId: "acme", maxProjects: 25 });
      return [0, 1].map((w) => raceWorker(url, "project", 30, `w${w}`));
    });
    const results = parsed.flatMap((p) => p.results);
    expect(results.filter((r) => r.created)).toHaveLength(25);
    expect(new Set(results.filter((r) => !r.created).map((r) => r.code))).toEqual(new Set(["QUOTA_EXCEEDED"]));
    expect((await setup.listProjects({ orgId: "acme", limit: 100 })).items).toHaveLength(25);
    await setup.close();
  });

  it("2 processes, each 4 loops of 200 consumeUsage at once: no error, and exactly 1,600 recorded", async () => {
    let setup!: AsyncControlPlaneStore;
    const { parsed } = await overlappingRace<{ allowed: boolean; error: string | null }>(`consumeUsage loops on PostgreSQL ${how}`, 8, async () => {
      await setup?.close();
      const url = fresh();
      setup = await ControlPlaneStore.connect(url);
      for (const org of ["acme", "beta"]) {
        await setup.createOrg({ orgId: org, slug: org, name: org });
        await setup.setUsageLimit({ orgId: org, metric: "runs", period: "daily", limitQuantity: 1e9 });
      }
      return [0, 1].map((w) => raceWorker(url, "loops", 200, `w${w}`));
    });
    const results = parsed.flatMap((p) => p.results);
    expect(results.filter((r) => r.error)).toEqual([]);
    expect(results.filter((r) => r.allowed)).toHaveLength(1_600);
    const used = async (orgId: string) => (await setup.summarizeUsage({ orgId, metric: "runs" }))[0]?.quantity ?? 0;
    expect((await used("acme")) + (await used("beta"))).toBe(1_600);
    expect(await setup.checkRollups({ repair: false })).toEqual({ consistent: true, repaired: false });
    await setup.close();
  });
});
