// Loads the addon under Jest (the Vitest suites cover behaviour): the same module, the
// same classes and errors, the same results.
const { ControlPlaneError, ControlPlaneStore, Database, ensureControlPlaneTables } = require("..");

describe("under Jest", () => {
  test("the addon loads and a store round-trips an org, usage and a limit check", () => {
    const db = new Database(":memory:");
    ensureControlPlaneTables(db);
    const store = new ControlPlaneStore(db);
    const org = store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
    expect(org).toMatchObject({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1, status: "active" });
    store.setUsageLimit({ orgId: "acme", metric: "tokens", limitQuantity: 10 });
    store.recordUsage({ orgId: "acme", metric: "tokens", quantity: 11, observedAtMs: Date.now() - 1000 });
    expect(store.checkUsageLimit({ orgId: "acme", metric: "tokens" })).toMatchObject({ usedQuantity: 11, remainingQuantity: 0, exceeded: true });
    expect(db.query("SELECT COUNT(*) AS n FROM _smithers_cp_audit_events").get()).toEqual({ n: 2 });
  });

  test("errors are ControlPlaneErrors with code, summary and details", () => {
    const store = new ControlPlaneStore(":memory:");
    let caught;
    try {
      store.createTeam({ orgId: "ghost", slug: "t", name: "T" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ControlPlaneError);
    expect(caught).toBeInstanceOf(Error);
    expect(caught.code).toBe("INVALID_INPUT");
    expect(caught.message).toBe("Control-plane org not found: ghost");
    expect(caught.summary).toBe(caught.message);
    expect(caught.details).toEqual({ orgId: "ghost" });
    store.close();
  });
});
