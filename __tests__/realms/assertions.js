// The assertions a test file makes about errors and results, written once and run in
// every realm a test runner gives a file: many Jest files (one worker and several),
// Vitest's pools, `bun test`. Each file loads the package afresh in its own realm; these
// check that what the store throws and returns belongs to that file's realm.
"use strict";

/**
 * @param t the runner's `{ describe, it, expect }`
 * @param pkg the package as this file imported it
 * @param handles `[{ name, open() }]`: the SQLite handles to run the store on
 */
function defineRealmSuite(t, pkg, handles) {
  const { describe, it, expect } = t;
  const { ControlPlaneStore, ControlPlaneError } = pkg;

  for (const handle of handles) {
    describe(`a store on ${handle.name}`, () => {
      it("throws errors that are this file's Error and ControlPlaneError, with their code", () => {
        const store = new ControlPlaneStore(handle.open());
        const missingOrg = () => store.createTeam({ orgId: "ghost", slug: "t", name: "T" });
        expect(missingOrg).toThrow(ControlPlaneError);
        expect(missingOrg).toThrow(Error);
        expect(missingOrg).toThrow("Control-plane org not found: ghost");
        let caught;
        try {
          missingOrg();
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(Error);
        expect(caught).toBeInstanceOf(ControlPlaneError);
        expect(caught).toEqual(expect.any(Error));
        expect(caught).toEqual(expect.any(ControlPlaneError));
        expect(caught instanceof Error && caught instanceof ControlPlaneError).toBe(true);
        expect(Object.prototype.toString.call(caught)).toBe("[object Error]");
        expect(caught.name).toBe("ControlPlaneError");
        expect(caught.code).toBe("INVALID_INPUT");
        expect(caught.summary).toBe(caught.message);
        expect(caught.details).toEqual({ orgId: "ghost" });
        expect(caught.docsUrl).toMatch(/\/docs\/errors\.md#invalid_input$/);

        store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
        const duplicate = () => store.createOrg({ slug: "acme", name: "Again" });
        expect(duplicate).toThrow(ControlPlaneError);
        expect(duplicate).toThrow(expect.objectContaining({ code: "DUPLICATE_ID", details: { kind: "control-plane.org", id: "acme", slug: "acme" } }));
        const invalid = () => store.recordUsage({ orgId: "acme", metric: "tokens", quantity: Number.NaN });
        expect(invalid).toThrow(expect.objectContaining({ code: "INVALID_INPUT", details: { field: "quantity" } }));
        store.close();
      });

      it("returns objects and arrays of this file's realm", () => {
        const store = new ControlPlaneStore(handle.open());
        const org = store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
        expect(org).toBeInstanceOf(Object);
        expect(store.getOrg("acme")).toStrictEqual(org);
        expect(store.listIdentityProviders({ orgId: "acme" })).toBeInstanceOf(Array);
        expect(store.listIdentityProviders({ orgId: "acme" })).toStrictEqual([]);
        store.close();
      });

      it("returns the request path's results (built by this file's factories) as objects and arrays of this realm", () => {
        const store = new ControlPlaneStore(handle.open());
        const org = store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
        expect(org).toStrictEqual({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1, status: "active", suspendedAtMs: null, suspendReason: null, deletedAtMs: null });
        store.setUsageLimit({ orgId: "acme", metric: "tokens", limitQuantity: 10, updatedAtMs: 2 });
        const event = { id: 1, orgId: "acme", projectId: null, runId: "r", metric: "tokens", quantity: 2, unit: "count", observedAtMs: 5, metadata: { a: [1, { b: null }] } };
        const recorded = store.recordUsage({ orgId: "acme", runId: "r", metric: "tokens", quantity: 2, observedAtMs: 5, metadata: { a: [1, { b: null }] } });
        expect(recorded).toStrictEqual(event);
        expect(recorded.metadata.a).toBeInstanceOf(Array);
        const keyed = { orgId: "acme", metric: "tokens", quantity: 1, observedAtMs: 6, idempotencyKey: "k" };
        expect(store.recordUsage(keyed)).toStrictEqual({ ...event, id: 2, runId: null, quantity: 1, observedAtMs: 6, metadata: {}, idempotencyKey: "k", duplicate: false });
        const again = store.recordUsage(keyed);
        expect(again).toStrictEqual({ ...event, id: 2, runId: null, quantity: 1, observedAtMs: 6, metadata: {}, idempotencyKey: "k", duplicate: true });
        expect(again.metadata).not.toBe(store.recordUsage(keyed).metadata);
        const limit = { orgId: "acme", projectId: null, metric: "tokens", unit: "count", period: "monthly", limitQuantity: 10, updatedAtMs: 2 };
        expect(store.checkUsageLimit({ orgId: "acme", metric: "tokens", sinceMs: 0, untilMs: 10 })).toStrictEqual({ ...limit, usedQuantity: 3, remainingQuantity: 7, exceeded: false });
        expect(store.checkUsageLimit({ orgId: "acme", metric: "none" })).toBe(null);
        const consumed = store.consumeUsage({ orgId: "acme", metric: "tokens", quantity: 4, observedAtMs: 7 });
        expect(consumed).toStrictEqual({
          allowed: true,
          event: { ...event, id: 3, runId: null, quantity: 4, observedAtMs: 7, metadata: {} },
          checks: [{ ...limit, usedQuantity: 3, remainingQuantity: 7, exceeded: false, sinceMs: 0, untilMs: 7, laterQuantity: 0, allowed: true }],
        });
        expect(consumed.checks).toBeInstanceOf(Array);
        expect(store.consumeUsage({ orgId: "acme", metric: "tokens", quantity: 40, observedAtMs: 8 })).toStrictEqual({
          allowed: false,
          event: null,
          checks: [{ ...limit, usedQuantity: 7, remainingQuantity: 3, exceeded: false, sinceMs: 0, untilMs: 8, laterQuantity: 0, allowed: false }],
        });
        const batch = store.recordUsageBatch([{ orgId: "acme", metric: "m", quantity: 1, observedAtMs: 9, metadata: { n: 1 } }, { orgId: "acme", metric: "m", quantity: 2, observedAtMs: 9 }]);
        expect(batch).toStrictEqual([
          { ...event, id: 4, runId: null, metric: "m", quantity: 1, observedAtMs: 9, metadata: { n: 1 } },
          { ...event, id: 5, runId: null, metric: "m", quantity: 2, observedAtMs: 9, metadata: {} },
        ]);
        expect(batch).toBeInstanceOf(Array);
        const ids = store.recordUsageBatch([{ orgId: "acme", metric: "m", quantity: 1, observedAtMs: 9 }], { returning: "ids" });
        expect(ids).toStrictEqual({ count: 1, ids: [6] });
        expect(ids.ids).toBeInstanceOf(Array);
        expect(store.recordUsageBatch([], { returning: "ids" })).toStrictEqual({ count: 0, ids: [] });
        expect(store.recordUsageBatch([])).toStrictEqual([]);
        for (const made of [org, recorded, recorded.metadata, consumed, consumed.event, consumed.checks[0], batch[0], ids]) {
          expect(Object.getPrototypeOf(made)).toBe(Object.prototype);
        }
        store.close();
      });

      it("rejects promises with this file's errors", async () => {
        const store = new ControlPlaneStore(handle.open());
        await expect(store.exportOrgAuditAsync({ orgId: "ghost" })).rejects.toBeInstanceOf(Error);
        await expect(store.exportOrgAuditAsync({ orgId: "ghost" })).rejects.toThrow(ControlPlaneError);
        store.close();
      });
    });
  }

  it("a ControlPlaneError made by hand is one too, and subclasses keep their own instanceof", () => {
    const cause = new Error("underneath");
    const made = new ControlPlaneError("BUSY", "Busy.", { retry: true }, { cause });
    expect(made).toBeInstanceOf(Error);
    expect(made).toBeInstanceOf(ControlPlaneError);
    expect([made.code, made.summary, made.message, made.cause, made.docsUrl.endsWith("#busy")]).toEqual(["BUSY", "Busy.", "Busy.", cause, true]);
    class Narrower extends ControlPlaneError {}
    expect(made instanceof Narrower).toBe(false);
    expect(new Narrower("BUSY", "Busy.") instanceof Narrower).toBe(true);
    expect({ code: "BUSY" } instanceof ControlPlaneError).toBe(false);
  });
}

/** Heap in use now, after a full collection where the runtime lets us ask for one. */
function heapUsed() {
  if (typeof globalThis.gc === "function") globalThis.gc();
  return process.memoryUsage().heapUsed;
}

module.exports = { defineRealmSuite, heapUsed };
