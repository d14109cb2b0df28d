// How the request path's methods read their input object: whichever way it is read (by
// index.js in the caller's realm, or by the addon through napi), only own enumerable
// string keys count, each getter runs once, in key order, nested values included, proxy
// traps run as they always have, and the errors are the ones a field's validation gives.
import { describe, expect, it } from "vitest";
import { ControlPlaneError, ControlPlaneStore } from "../index.js";
import { expectError } from "./helpers";

declare const Bun: unknown;

function store() {
  const s = new ControlPlaneStore(":memory:");
  s.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
  return s;
}

const event = (fields: Record<string, unknown>) => ({ id: 1, orgId: "acme", projectId: null, runId: null, metric: "m", quantity: 1, unit: "count", observedAtMs: 5, metadata: {}, ...fields });

describe("reading a request path's input", () => {
  it("a proxy's traps run as napi reads an object: its keys (symbols' descriptors too), then each value in order", () => {
    const log: string[] = [];
    const target = { orgId: "acme", metric: "m", quantity: 1, observedAtMs: 5, [Symbol("s")]: 1 };
    const proxy = new Proxy(target, {
      ownKeys: (t) => (log.push("ownKeys"), Reflect.ownKeys(t)),
      getOwnPropertyDescriptor: (t, k) => (log.push(`gopd ${String(k)}`), Reflect.getOwnPropertyDescriptor(t, k)),
      get: (t, k, r) => (log.push(`get ${String(k)}`), Reflect.get(t, k, r)),
    });
    expect(store().recordUsage(proxy)).toStrictEqual(event({}));
    expect(log).toEqual([
      "ownKeys", "gopd orgId", "gopd metric", "gopd quantity", "gopd observedAtMs", "gopd Symbol(s)",
      "get orgId", "get metric", "get quantity", "get observedAtMs",
    ]);
  });

  it("a proxy as metadata has only the traps napi runs", () => {
    const log: string[] = [];
    const metadata = new Proxy({ a: 1 }, {
      getPrototypeOf: (t) => (log.push("getPrototypeOf"), Reflect.getPrototypeOf(t)),
      ownKeys: (t) => (log.push("ownKeys"), Reflect.ownKeys(t)),
      getOwnPropertyDescriptor: (t, k) => (log.push(`gopd ${String(k)}`), Reflect.getOwnPropertyDescriptor(t, k)),
      get: (t, k, r) => (log.push(`get ${String(k)}`), Reflect.get(t, k, r)),
    });
    expect(store().recordUsage({ orgId: "acme", metric: "m", quantity: 1, observedAtMs: 5, metadata }).metadata).toStrictEqual({ a: 1 });
    expect(log).toEqual(["ownKeys", "gopd a", "get a"]);
  });

  it("a getter runs once; getters inside two values run in the object's key order", () => {
    const log: string[] = [];
    const input = { orgId: "acme", metric: "m", quantity: 1, observedAtMs: 5 };
    Object.defineProperty(input, "metric", { enumerable: true, get: () => (log.push("metric"), "m") });
    expect(store().recordUsage(input)).toStrictEqual(event({}));
    expect(log).toEqual(["metric"]);
    const nested = (tag: string) => Object.defineProperty({}, "x", { enumerable: true, get: () => (log.push(tag), 1) });
    log.length = 0;
    expectError(() => store().recordUsage({ orgId: "acme", metric: "m", quantity: 1, unit: nested("unit"), metadata: nested("metadata") }), "INVALID_INPUT", "unit is required.");
    expect(log).toEqual(["unit", "metadata"]);
    log.length = 0;
    expectError(() => store().recordUsage({ metadata: nested("metadata"), orgId: "acme", metric: "m", quantity: 1, unit: nested("unit") }), "INVALID_INPUT", "unit is required.");
    expect(log).toEqual(["metadata", "unit"]);
  });

  it("a getter that throws runs once, and stops the call before anything is written", () => {
    const s = store();
    let runs = 0;
    const input = { orgId: "acme", metric: "m", quantity: 1 };
    Object.defineProperty(input, "quantity", { enumerable: true, get: () => { runs++; throw new Error("no"); } });
    expect(() => s.recordUsage(input)).toThrow();
    expect(runs).toBe(1);
    expect(s.summarizeUsage({ orgId: "acme" })).toEqual([]);
  });

  it("inherited and non-enumerable fields are absent; symbol keys are not fields", () => {
    const hidden = Object.defineProperty(Object.create({ metric: "m" }), "orgId", { value: "acme", enumerable: false });
    expectError(() => store().recordUsage(hidden), "INVALID_INPUT", "orgId is required.", { field: "orgId" });
    const inherited = Object.assign(Object.create({ unit: "tokens" }), { orgId: "acme", metric: "m", quantity: 1, observedAtMs: 5, [Symbol("unit")]: "x" });
    expect(store().recordUsage(inherited)).toStrictEqual(event({}));
  });

  it("what is not a plain object is not an input, whatever fields it holds", () => {
    for (const input of [Object.assign(new Date(0), { orgId: "acme", metric: "m", quantity: 1 }), Object.assign(new Uint8Array(0), { orgId: "acme" }), [{ orgId: "acme" }]]) {
      expectError(() => store().recordUsage(input as never), "INVALID_INPUT", "input must be an object.", { field: "input" });
    }
    expectError(() => store().recordUsage(new String("") as never), "INVALID_INPUT", "orgId is required.");
  });

  it("strange values are refused by their field, in the field's words", () => {
    expectError(() => store().recordUsage({ orgId: "acme", metric: "m", quantity: Number.NaN }), "INVALID_INPUT", "quantity must be a non-negative finite number.", { field: "quantity" });
    expectError(() => store().checkUsageLimit({ orgId: "acme", metric: "m", period: 10n as never }), "INVALID_INPUT", "period is required.", { field: "period" });
    expectError(() => store().recordUsage({ orgId: "acme", metric: "m", quantity: 1, runId: "\ud800" }), "INVALID_INPUT", "runId must be valid Unicode text (it holds a lone surrogate).", { field: "runId" });
    expectError(() => store().recordUsage({ orgId: "acme", metric: "m", quantity: 1, metadata: { a: Number.NaN } }), "INVALID_INPUT", "metadata.a must be a finite number.", { field: "metadata.a" });
    // A key with a lone surrogate is named by the path before it (the last key read).
    expectError(() => store().recordUsage({ orgId: "acme", metric: undefined, "\ud800": 1 } as never), "INVALID_INPUT", "orgId must be valid Unicode text (it holds a lone surrogate).", { field: "orgId" });
    expectError(() => store().forOrg("acme").recordUsage({ orgId: 10n as never, metric: "m", quantity: 1 }), "TENANT_MISMATCH", 'This handle is scoped to org acme; the input names org ["a BigInt is not (use a number)"].', { expected: "acme", got: ["a BigInt is not (use a number)"] });
  });

  it("metadata reads alike however it is handed over: a getter in it runs once, its numbers keep their JSON", () => {
    const s = store();
    let runs = 0;
    const withGetter = Object.defineProperty({ a: 1 }, "b", { enumerable: true, get: () => (runs++, 2) });
    expect(s.recordUsage({ orgId: "acme", metric: "m", quantity: 1, observedAtMs: 5, metadata: withGetter }).metadata).toEqual({ a: 1, b: 2 });
    expect(runs).toBe(1);
    const metadata = { big: 2 ** 60, tenth: 0.1, zero: -0, e: 1e21, s: "é", n: null, t: true, u: undefined };
    const first = s.recordUsage({ orgId: "acme", metric: "m", quantity: 1, observedAtMs: 6, idempotencyKey: "k", metadata });
    // The same event again, its metadata read by the addon (a proxy is not read in JS): the
    // values compare equal, so it is the same event, not a conflict.
    const again = s.recordUsage({ orgId: "acme", metric: "m", quantity: 1, observedAtMs: 6, idempotencyKey: "k", metadata: new Proxy({ ...metadata }, {}) });
    expect([first.duplicate, again.duplicate, again.id]).toEqual([false, true, first.id]);
    expect(again.metadata).toEqual({ big: 2 ** 60, tenth: 0.1, zero: 0, e: 1e21, s: "é", n: null, t: true });
    expect(Object.keys(first.metadata)).toEqual(["big", "tenth", "zero", "e", "s", "n", "t"]);
    expectError(() => s.recordUsage({ orgId: "acme", metric: "m", quantity: 1, metadata: { a: Infinity } }), "INVALID_INPUT", "metadata.a must be a finite number.", { field: "metadata.a" });
  });

  it("-0 reads as 0, as its JSON would", () => {
    const out = store().recordUsage({ orgId: "acme", metric: "m", quantity: -0, observedAtMs: -0 });
    expect(Object.is(out.quantity, 0) && Object.is(out.observedAtMs, 0)).toBe(true);
  });

  it("a method called on something not of its class throws as the napi-rs method does", () => {
    const s = store();
    for (const [method, input] of [["recordUsage", { orgId: "acme", metric: "m", quantity: 1 }], ["createOrg", { slug: "b", name: "B" }]] as const) {
      const call = (ControlPlaneStore.prototype as any)[method];
      // Node's "Illegal invocation" TypeError; Bun's napi-rs error.
      for (const wrong of [{}, s.forOrg("acme")]) {
        expect(() => call.call(wrong, input)).toThrow(typeof Bun === "undefined" ? TypeError : Error);
        expect(() => call.call(wrong, input)).not.toThrow(ControlPlaneError);
      }
    }
    expect(s.summarizeUsage({ orgId: "acme" })).toEqual([]);
  });

  it("every field of a request reads the same from a plain object as from a proxy of it (read by the addon)", () => {
    const inputs: Record<string, unknown>[] = [
      { orgId: "acme", projectId: "", runId: "r", metric: " m ", quantity: 2.5, unit: "u", observedAtMs: 9.9, metadata: { a: [1] }, idempotencyKey: "k", actorId: "a", ipAddress: "i", userAgent: "ua", requestId: "q" },
      { orgId: " acme ", metric: "m", quantity: 1, observedAtMs: 3, projectId: null, runId: 0, unit: false },
      { orgId: "acme", metric: "m", quantity: "1" },
      { orgId: "acme", metric: "m", quantity: 1, idempotencyKey: "k".repeat(256) },
    ];
    for (const input of inputs) {
      const [a, b] = [store(), store()];
      const outcome = (f: () => unknown) => {
        try {
          return JSON.stringify(f());
        } catch (error) {
          return `${(error as ControlPlaneError).code} ${(error as Error).message}`;
        }
      };
      expect(outcome(() => a.recordUsage({ ...input }))).toBe(outcome(() => b.recordUsage(new Proxy({ ...input }, {}))));
      expect(outcome(() => a.checkUsageLimit({ ...input, sinceMs: 0, untilMs: 10 }))).toBe(outcome(() => b.checkUsageLimit(new Proxy({ ...input, sinceMs: 0, untilMs: 10 }, {}))));
    }
  });
});
