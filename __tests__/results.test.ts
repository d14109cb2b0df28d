// The results of the request path are built by factories of the caller's realm (index.js)
// rather than parsed from JSON text: the same values either way. Each shape's samples (edge
// values included: -0, integers past 2^53, infinities, escapes, `__proto__` in metadata,
// fields left out) are handed back both ways by the addon's probe and compared key by
// key, in order; and the store's own results have their keys in the documented order.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ControlPlaneStore } from "../index.js";

const require = createRequire(import.meta.url);
const native = require(path.join(__dirname, "..", "binding.js"));

/** A value as text: key order, -0, undefined and each object's prototype included. */
function describeValue(v: unknown): string {
  if (v === undefined) return "undefined";
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v !== "object" || v === null) return String(v);
  const proto = Object.getPrototypeOf(v);
  const kind = proto === Array.prototype ? "Array" : proto === Object.prototype ? "Object" : "other";
  if (Array.isArray(v)) return `${kind}[${v.map(describeValue).join(",")}]`;
  return `${kind}{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${describeValue((v as any)[k])}`).join(",")}}`;
}

describe("results built by the realm's factories", () => {
  const shapes: string[] = native.marshalProbe("shapes", null, 0);

  it("has every shape of the request path", () => {
    expect(shapes).toEqual(["usageEvent", "usageLimitCheck", "consumption", "org", "usageEvents", "usageIds"]);
  });

  for (const shape of ["usageEvent", "usageLimitCheck", "consumption", "org", "usageEvents", "usageIds"]) {
    it(`${shape}: the same as its JSON text parsed, for every sample`, () => {
      const parsed: unknown[] = native.marshalProbe(`samples:${shape}:json`, null, 0);
      const built: unknown[] = native.marshalProbe(`samples:${shape}:factory`, null, 0);
      expect(built.length).toBeGreaterThan(1);
      expect(built.map(describeValue)).toEqual(parsed.map(describeValue));
      // Each object is a fresh one.
      for (let i = 0; i < built.length; i++) if (built[i] !== null) expect(built[i]).not.toBe(parsed[i]);
    });
  }

  it("the samples hold the edge values they are for", () => {
    const [, keyed, odd, unkeyedDuplicate] = native.marshalProbe("samples:usageEvent:factory", null, 0);
    expect(Object.keys(keyed)).toEqual(["id", "orgId", "projectId", "runId", "metric", "quantity", "unit", "observedAtMs", "metadata", "idempotencyKey", "duplicate"]);
    expect(Object.is(odd.quantity, -0)).toBe(true);
    expect(odd.id).toBe(2 ** 53);
    expect(Object.keys(odd.metadata)).toEqual(["__proto__", "", "a"]);
    expect(Object.getPrototypeOf(odd.metadata)).toBe(Object.prototype);
    expect(Object.keys(unkeyedDuplicate).slice(-1)).toEqual(["duplicate"]);
    const [, none, infinite] = native.marshalProbe("samples:usageLimitCheck:factory", null, 0);
    expect(none).toBe(null);
    expect(infinite.usedQuantity).toBe(null);
    const [, , big] = native.marshalProbe("samples:usageIds:factory", null, 0);
    expect(big.ids).toHaveLength(2_500);
  });

  it("the store's results have their keys in order", () => {
    const store = new ControlPlaneStore(":memory:");
    expect(Object.keys(store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" }))).toEqual(["orgId", "slug", "name", "createdAtMs", "status", "suspendedAtMs", "suspendReason", "deletedAtMs"]);
    store.setUsageLimit({ orgId: "acme", metric: "m", limitQuantity: 5 });
    const event = store.recordUsage({ orgId: "acme", metric: "m", quantity: 1, idempotencyKey: "k" });
    expect(Object.keys(event)).toEqual(["id", "orgId", "projectId", "runId", "metric", "quantity", "unit", "observedAtMs", "metadata", "idempotencyKey", "duplicate"]);
    const check = store.checkUsageLimit({ orgId: "acme", metric: "m" })!;
    expect(Object.keys(check)).toEqual(["orgId", "projectId", "metric", "unit", "period", "limitQuantity", "updatedAtMs", "usedQuantity", "remainingQuantity", "exceeded"]);
    const consumed = store.consumeUsage({ orgId: "acme", metric: "m", quantity: 1 });
    expect(Object.keys(consumed)).toEqual(["allowed", "event", "checks"]);
    expect(Object.keys(consumed.checks[0])).toEqual([...Object.keys(check), "sinceMs", "untilMs", "laterQuantity", "allowed"]);
    expect(Object.keys(consumed.event!)).toEqual(["id", "orgId", "projectId", "runId", "metric", "quantity", "unit", "observedAtMs", "metadata"]);
    // More events than one call of the factory takes.
    const many = store.recordUsageBatch(Array.from({ length: 150 }, (_, i) => ({ orgId: "acme", metric: "b", quantity: i, observedAtMs: i, metadata: i % 2 ? { i } : undefined })));
    expect(many).toHaveLength(150);
    expect(many.map((e) => [e.quantity, e.metadata])).toEqual(Array.from({ length: 150 }, (_, i) => [i, i % 2 ? { i } : {}]));
    expect(new Set(many.map((e) => e.metadata)).size).toBe(150);
    const ids = store.recordUsageBatch(Array.from({ length: 1_500 }, () => ({ orgId: "acme", metric: "b", quantity: 1 })), { returning: "ids" });
    expect(ids.count).toBe(1_500);
    expect(ids.ids).toEqual(Array.from({ length: 1_500 }, (_, i) => many[149].id + 1 + i));
    store.close();
  });
});

describe("results in a process that forbids code from strings", () => {
  // The factories are generated code (lib/results.js); a process run with
  // --disallow-code-generation-from-strings gets them built field by field instead.
  const script = `
    const { ControlPlaneStore } = require(${JSON.stringify(path.join(__dirname, "..", "index.js"))});
    let codegen = "codegen";
    try { new Function("return 1"); } catch { codegen = "no codegen"; }
    const s = new ControlPlaneStore(":memory:");
    const out = [codegen];
    out.push(s.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1000 }));
    s.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web", createdAtMs: 1000 });
    out.push(s.recordUsage({ orgId: "acme", projectId: "web", metric: "tokens", quantity: 3, observedAtMs: 2000, metadata: { model: "m" } }));
    out.push(s.recordUsage({ orgId: "acme", metric: "tokens", quantity: 1, observedAtMs: 2001, idempotencyKey: "k" }));
    out.push(s.recordUsage({ orgId: "acme", metric: "tokens", quantity: 1, observedAtMs: 2001, idempotencyKey: "k" }));
    s.setUsageLimit({ orgId: "acme", metric: "tokens", period: "daily", limitQuantity: 10, updatedAtMs: 1500 });
    out.push(s.checkUsageLimit({ orgId: "acme", metric: "tokens", period: "daily", sinceMs: 0, untilMs: 5000 }));
    out.push(s.consumeUsage({ orgId: "acme", metric: "tokens", quantity: 2, observedAtMs: 3000 }));
    out.push(s.consumeUsage({ orgId: "acme", metric: "tokens", quantity: 50, observedAtMs: 3001 }));
    out.push(s.recordUsageBatch([{ orgId: "acme", metric: "a", quantity: 1, observedAtMs: 4000 }, { orgId: "acme", metric: "b", quantity: 2, observedAtMs: 4001, metadata: { x: [1] } }]));
    out.push(s.recordUsageBatch([{ orgId: "acme", metric: "c", quantity: 1, observedAtMs: 4002 }], { returning: "ids" }));
    console.log(JSON.stringify(out));
  `;
  const run = (flags: string[]) => {
    const child = spawnSync(process.execPath, [...flags, "-e", script], { encoding: "utf8" });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    return JSON.parse(child.stdout) as unknown[];
  };

  it("are the same results, built without generated code", () => {
    const generated = run([]);
    const forbidden = run(["--disallow-code-generation-from-strings"]);
    expect(generated[0]).toBe("codegen");
    expect(forbidden[0]).toBe("no codegen");
    expect(forbidden.slice(1)).toEqual(generated.slice(1));
    // Key order too, as the JSON text shows it.
    expect(JSON.stringify(forbidden.slice(1))).toBe(JSON.stringify(generated.slice(1)));
    expect(generated.length).toBe(10);
  });
});
