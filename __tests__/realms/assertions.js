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
