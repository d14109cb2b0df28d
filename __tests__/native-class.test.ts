// The napi-rs classes themselves: inputs read from JS values in Rust (strict where JSON
// was silent), errors built in Rust as ControlPlaneError instances (promise rejections
// too), and worker threads loading and using the addon.
import path from "node:path";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { ControlPlaneError, ControlPlaneStore, Database } from "../index.js";
import { expectError, seededStore, tempDir } from "./helpers";

describe("inputs read in Rust", () => {
  it("a BigInt gets the field's own message", () => {
    const { store } = seededStore();
    expectError(() => store.createOrg({ slug: "a", name: "A", createdAtMs: 10n as any }), "INVALID_INPUT", "createdAtMs must be a non-negative finite number.", { field: "createdAtMs" });
    expectError(() => store.recordUsage({ orgId: "acme", metric: "m", quantity: 1n as any }), "INVALID_INPUT", "quantity must be a non-negative finite number.", { field: "quantity" });
    expectError(() => store.getOrg(5n as any), "INVALID_INPUT", /^orgId must match/);
  });

  it("NaN or ±Infinity anywhere in metadata is refused with its path, never stored as null", () => {
    const { db, store } = seededStore();
    expectError(() => store.createProject({ orgId: "acme", slug: "p", name: "P", metadata: { cost: NaN } }), "INVALID_INPUT", "metadata.cost must be a finite number.", { field: "metadata.cost" });
    expectError(() => store.recordUsage({ orgId: "acme", metric: "m", quantity: 1, metadata: { a: [1, { b: Infinity }] } }), "INVALID_INPUT", "metadata.a[1].b must be a finite number.");
    expectError(() => store.recordAuditEvent({ orgId: "acme", action: "a", targetType: "t", metadata: { x: -Infinity } }), "INVALID_INPUT", "metadata.x must be a finite number.");
    expectError(
      () => store.recordUsageBatch([{ orgId: "acme", metric: "m", quantity: 1 }, { orgId: "acme", metric: "m", quantity: 1, metadata: { cost: NaN } }]),
      "INVALID_INPUT",
      "events[1].metadata.cost must be a finite number.",
    );
    expect(db.query("SELECT COUNT(*) AS n FROM _smithers_cp_projects WHERE slug = 'p'").get()).toEqual({ n: 0 });
    expect(db.query("SELECT COUNT(*) AS n FROM _smithers_cp_usage_events").get()).toEqual({ n: 0 });
  });

  it("a Date, a function, a symbol, a BigInt, binary data, a cycle or over-deep nesting in metadata is refused with its path", () => {
    const { store } = seededStore();
    const record = (metadata: unknown) => () => store.recordUsage({ orgId: "acme", metric: "m", quantity: 1, metadata: metadata as any });
    expectError(record({ when: new Date(0) }), "INVALID_INPUT", "metadata.when must be JSON-serialisable: a Date is not (use its getTime()).", { field: "metadata.when" });
    expectError(record({ f: () => 1 }), "INVALID_INPUT", "metadata.f must be JSON-serialisable: a function is not.");
    expectError(record({ s: Symbol("s") }), "INVALID_INPUT", "metadata.s must be JSON-serialisable: a symbol is not.");
    expectError(record({ n: { big: 10n } }), "INVALID_INPUT", "metadata.n.big must be JSON-serialisable: a BigInt is not (use a number).");
    expectError(record({ bytes: new Uint8Array(2) }), "INVALID_INPUT", "metadata.bytes must be JSON-serialisable: binary data is not.");
    const cyclic: Record<string, unknown> = { list: [] };
    (cyclic.list as unknown[]).push(cyclic);
    expectError(record(cyclic), "INVALID_INPUT", "metadata.list[0] must be JSON-serialisable: it refers back to an object that contains it.");
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = { d: deep };
    expectError(record(deep), "INVALID_INPUT", "metadata must nest at most 16 levels.");
    // Shared, not cyclic: the same object twice is fine.
    const shared = { k: 1 };
    expect(store.recordUsage({ orgId: "acme", metric: "m", quantity: 1, metadata: { a: shared, b: shared } }).metadata).toEqual({ a: { k: 1 }, b: { k: 1 } });
  });

  it("only own enumerable keys are read, undefined is absent, and an inherited field does not count", () => {
    const { store } = seededStore();
    const input = Object.create({ name: "Inherited" });
    input.slug = "own";
    expectError(() => store.createOrg(input), "INVALID_INPUT", "name is required.");
    expect(store.createOrg({ slug: "ok", name: "Ok", orgId: undefined }).slug).toBe("ok");
    expect(store.createProject({ orgId: "acme", slug: "p", name: "P", metadata: { gone: undefined, kept: 1 } }).metadata).toEqual({ kept: 1 });
  });
});

describe("errors built in Rust", () => {
  it("are ControlPlaneError instances with code, summary, message and details, with no JSON in any message", async () => {
    const { store } = seededStore();
    const failures: unknown[] = [];
    for (const fail of [
      () => store.createOrg({ orgId: "acme", slug: "dup", name: "D" }),
      () => store.createProject({ orgId: "nope", slug: "p", name: "P" }),
      () => store.getOrg({} as any),
      () => store.createOrg(null as any),
      () => new ControlPlaneStore(42 as any),
      () => new Database(5 as any),
      () => new Database(":memory:").query("SELEKT").all(),
    ]) {
      try {
        fail();
      } catch (error) {
        failures.push(error);
      }
    }
    await store.exportOrgAuditAsync({ orgId: "nope" }).catch((error) => failures.push(error));
    expect(failures).toHaveLength(8);
    for (const error of failures as ControlPlaneError[]) {
      expect(error).toBeInstanceOf(ControlPlaneError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe("ControlPlaneError");
      expect(typeof error.code).toBe("string");
      expect(error.message).toBe(error.summary);
      expect(error.message).not.toMatch(/^\s*[{[]/);
      expect(error.message).not.toContain('"code"');
    }
    expect((failures[7] as ControlPlaneError).code).toBe("INVALID_INPUT");
    expect((failures[7] as ControlPlaneError).details).toEqual({ orgId: "nope" });
  });
});

describe("worker threads", () => {
  it("load the addon, use and close stores, and throw their own environment's ControlPlaneError", async () => {
    const file = path.join(tempDir(), "workers.db");
    new ControlPlaneStore(file).close();
    const results = await Promise.all(
      [0, 1, 2, 3].map(
        (index) =>
          new Promise<any>((resolve, reject) => {
            const worker = new Worker(path.join(__dirname, "workers/native-worker.js"), { workerData: { file, index } });
            worker.once("message", resolve);
            worker.once("error", reject);
          }),
      ),
    );
    for (const r of results) {
      expect(r.usage).toBe(200);
      expect(r.errors).toEqual([{ isControlPlaneError: true, isError: true, code: "DUPLICATE_ID", message: "Duplicate control-plane org id: acme" }]);
      expect(r.asyncExport).toEqual({ isControlPlaneError: true, code: "INVALID_INPUT" });
      expect(r.orgs).toBeGreaterThanOrEqual(1);
    }
    // The main thread's addon still works, and its errors are still its own class.
    const { store } = seededStore();
    expectError(() => store.createOrg({ orgId: "acme", slug: "x", name: "X" }), "DUPLICATE_ID");
    const db = new Database(file);
    expect(db.query("SELECT COUNT(*) AS n FROM _smithers_cp_orgs").get()).toEqual({ n: 4 });
    db.close();
  });
});

describe("verifyAuditChainAsync", () => {
  it("runs off the JS thread on a file and reports what the synchronous check reports, tampering included", async () => {
    const file = path.join(tempDir(), "chain.db");
    const store = new ControlPlaneStore(file);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    for (let i = 0; i < 500; i++) store.recordAuditEvent({ orgId: "acme", action: "run.start", targetType: "run", targetId: `r${i}` });
    expect(await store.verifyAuditChainAsync({ orgId: "acme" })).toEqual({ ok: true, checked: 501, unchained: 0, redacted: 0 });
    const db = new Database(file);
    const victim = db.query("SELECT id FROM _smithers_cp_audit_events ORDER BY id LIMIT 1 OFFSET 250").get()!.id;
    db.query("UPDATE _smithers_cp_audit_events SET actor_id = 'mallory' WHERE id = ?").run(victim);
    const report = await store.verifyAuditChainAsync({ orgId: "acme" });
    expect(report).toEqual(store.verifyAuditChain({ orgId: "acme" }));
    expect(report).toMatchObject({ ok: false, firstBadId: victim });
    await expect(store.verifyAuditChainAsync({ orgId: "bad id" })).rejects.toBeInstanceOf(ControlPlaneError);
    db.close();
    store.close();
  });
});
