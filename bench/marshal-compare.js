"use strict";
// Two builds of the addon, the same calls: an old build (BASE) and this one, loaded in one
// process, each with a store seeded alike, are given the same hostile inputs (strange
// values in every field, getters that count or throw, proxies that log their traps,
// inherited and non-enumerable properties, symbol and integer keys, lone surrogates,
// cycles, hostile batches and scoped handles...). For each call it compares what came
// back: the error (class, code, message, details, docsUrl, cause) or the result (keys,
// key order, values, each object's prototype being this realm's), and the log of what
// the call did to the input (every trap and getter, in order). Prints the count compared
// and every difference (the first 20 in full); exits 1 on a difference.
//
//   BASE=/path/to/old/control-plane-store.node node bench/marshal-compare.js [cases] [seed]
//   BASE=... bun bench/marshal-compare.js

const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const CASES = Number(process.argv[2] || 20_000);
let seed = Number(process.argv[3] || 20_240_601);

if (!process.env.BASE) {
  console.error("BASE=<an older control-plane-store.node> is required");
  process.exit(2);
}

function load(native) {
  if (native) process.env.CONTROL_PLANE_NATIVE_PATH = path.resolve(native);
  else delete process.env.CONTROL_PLANE_NATIVE_PATH;
  for (const key of Object.keys(require.cache)) {
    if (key === path.join(ROOT, "index.js") || key === path.join(ROOT, "binding.js")) delete require.cache[key];
  }
  const pkg = require(path.join(ROOT, "index.js"));
  delete process.env.CONTROL_PLANE_NATIVE_PATH;
  return pkg;
}
const sides = [load(process.env.BASE), load(undefined)];

const rand = (n) => ((seed = (seed * 16807) % 2147483647), seed % n);
const pick = (xs) => xs[rand(xs.length)];

// ---------------------------------------------------------------------------------------
// Values. Each is made afresh per side (`make(log)`), so stateful ones start alike.

const cyclicObject = () => {
  const o = { a: 1 };
  o.self = o;
  return o;
};
const cyclicArray = () => {
  const a = [1];
  a.push(a);
  return a;
};
const deep = (n, leaf = 1) => {
  let d = leaf;
  for (let i = 0; i < n; i++) d = { d };
  return d;
};
const deepArray = (n) => {
  let d = 1;
  for (let i = 0; i < n; i++) d = [d];
  return d;
};
const holes = () => {
  const a = [1, , 3]; // eslint-disable-line no-sparse-arrays
  return a;
};

/** Plain values: the same in both calls. */
const SCALARS = [
  undefined, null, NaN, Infinity, -Infinity, -1, 0, -0, 0.5, 1, 12, 1.5, 1e21, 1e300, 2 ** 53, 2 ** 53 + 2, 2 ** 64, -(2 ** 63),
  1_700_000_000_000, 4.9e-324, "", " ", "  acme  ", "acme", "other", "web", "tokens", "count", "daily", "weekly", "monthly",
  "yearly", "events", "ids", "hour", "day", "month", "soft", "hard", "active", "suspended", "deleted", "member", "admin",
  "x".repeat(4_096), "x".repeat(4_097), "k".repeat(255), "k".repeat(256), "y".repeat(1 << 16), "'; DROP TABLE _smithers_cp_orgs; --",
  "\ud800", "a\udc00b", "\udbff\udfff", "\ufffd", "a\ufffdb", "a\u0000b", "__org__", "__proto__", "é", "日本語", "😀", "a b",
  "A", "a-", "-a", "a_b", "ab", "0", "1e3", "abc".repeat(50), "vault://r", true, false,
];

/** Values made per call (objects, some with state or a log). */
const MADE = [
  () => [], () => [1, 2], () => ["projectId"], () => ["metric", "unit"], () => ["projectId", "metric", "unit", "metric"], () => ["nope"],
  () => [NaN], () => [10n], () => [undefined], () => [null], () => ["\ud800"], () => holes(), () => ({}), () => ({ a: 1 }),
  () => ({ a: [1, { b: "c" }], n: null, t: true }), () => ({ x: NaN }), () => ({ x: Infinity }), () => ({ x: 10n }), () => ({ x: undefined }),
  () => ({ x: [undefined] }), () => ({ x: "\ud800" }), () => ({ "\ud800": 1 }), () => ({ x: () => 1 }), () => ({ x: Symbol("s") }),
  () => ({ x: new Date(0) }), () => ({ x: new Uint8Array(2) }), () => ({ x: { metadata: { y: NaN } } }), () => ({ metadata: { y: 10n } }),
  () => ({ __proto__: { polluted: true } }), () => JSON.parse('{"__proto__": {"x": 1}, "constructor": {"prototype": {}}}'),
  () => cyclicObject(), () => cyclicArray(), () => ({ a: cyclicObject() }), () => deep(15), () => deep(16), () => deep(17), () => deep(40),
  () => deep(70), () => deepArray(70), () => ({ s: "x".repeat(70_000) }), () => ({ s: "x".repeat(65_000) }),
  () => () => 1, () => Object.assign(() => 1, { orgId: "acme" }), () => Symbol("s"), () => 10n, () => new Date(0),
  () => new Uint8Array(3), () => new ArrayBuffer(2), () => new DataView(new ArrayBuffer(2)), () => ({ toJSON: () => { throw new Error("boom"); } }),
  () => Object.create(null), () => Object.assign(Object.create(null), { a: 1 }), () => new String("acme"), () => new Number(5),
  () => new Boolean(false), () => new Map([["a", 1]]), () => new Set([1]), () => /re/, () => new Error("e"), () => new (class Point { constructor() { this.x = 1; } })(),
  () => Object.freeze({ a: 1 }), () => ({ 0: "a", 1: "b", length: 2 }), () => ({ 2: "b", 1: "a", z: 1, a: 2 }),
];

const FIELDS = [
  "orgId", "projectId", "teamId", "userId", "runId", "metric", "quantity", "unit", "period", "observedAtMs", "createdAtMs", "updatedAtMs",
  "sinceMs", "untilMs", "atMs", "metadata", "idempotencyKey", "limit", "cursor", "groupBy", "bucket", "returning", "actorId", "ipAddress",
  "userAgent", "requestId", "slug", "name", "status", "reason", "limitQuantity", "plan", "mode", "extra", "0", "1", "constructor",
  "\ud800", "", "toString", "maxProjects", "action", "targetType", "events",
];

function value(log) {
  const r = rand(10);
  if (r < 6) return pick(SCALARS);
  if (r < 9) return pick(MADE)();
  return hostileObject(log, pick(MADE)());
}

// ---------------------------------------------------------------------------------------
// Hostile objects: the same fields, held strangely. Every trap and getter writes to `log`.

const name = (key) => (typeof key === "symbol" ? `sym(${key.description})` : JSON.stringify(key));

function loggingProxy(log, target, tag, mischief = {}) {
  return new Proxy(target, {
    ownKeys(t) {
      log.push(`${tag}.ownKeys`);
      if (mischief.ownKeys) throw new Error("ownKeys");
      return Reflect.ownKeys(t);
    },
    getOwnPropertyDescriptor(t, key) {
      log.push(`${tag}.gopd ${name(key)}`);
      if (mischief.gopd && (mischief.gopd === "all" || (mischief.gopd === "symbols" && typeof key === "symbol") || mischief.gopd === key)) throw new Error("gopd");
      return Reflect.getOwnPropertyDescriptor(t, key);
    },
    get(t, key, receiver) {
      log.push(`${tag}.get ${name(key)}`);
      if (mischief.get === key) throw new Error("get");
      return Reflect.get(t, key, receiver);
    },
    has(t, key) {
      log.push(`${tag}.has ${name(key)}`);
      return Reflect.has(t, key);
    },
    getPrototypeOf(t) {
      log.push(`${tag}.getPrototypeOf`);
      return Reflect.getPrototypeOf(t);
    },
  });
}

/** `base` (an input's fields) held in one of many strange ways. */
function hostileObject(log, base) {
  if (base === null || (typeof base !== "object" && typeof base !== "function")) return base;
  const keys = Object.keys(base);
  const key = keys.length ? pick(keys) : "orgId";
  const tag = `o${rand(1000)}`;
  switch (rand(16)) {
    case 0: { // a getter that counts
      const v = base[key];
      Object.defineProperty(base, key, { enumerable: true, configurable: true, get() { log.push(`${tag}.getter ${name(key)}`); return v; } });
      return base;
    }
    case 1: // a getter that throws
      Object.defineProperty(base, key, { enumerable: true, configurable: true, get() { log.push(`${tag}.throw ${name(key)}`); throw new Error("getter"); } });
      return base;
    case 2: // a getter that throws on an unknown key
      Object.defineProperty(base, pick(["zzz", "extra", "0"]), { enumerable: true, get() { log.push(`${tag}.throw extra`); throw new Error("getter"); } });
      return base;
    case 3: // a non-enumerable field
      Object.defineProperty(base, key, { enumerable: false, value: base[key] });
      return base;
    case 4: { // fields inherited
      const proto = { ...base };
      const own = Object.create(proto);
      for (const k of keys) if (rand(2)) own[k] = base[k];
      return own;
    }
    case 5: // a logging proxy
      return loggingProxy(log, base, tag);
    case 6:
      return loggingProxy(log, base, tag, { ownKeys: true });
    case 7:
      base[Symbol("sym")] = 1;
      return loggingProxy(log, base, tag, { gopd: "symbols" });
    case 8:
      return loggingProxy(log, base, tag, { gopd: key });
    case 9:
      return loggingProxy(log, base, tag, { get: key });
    case 10: { // enumerable symbol keys, one with a getter
      const s = Symbol("s");
      Object.defineProperty(base, s, { enumerable: true, get() { log.push(`${tag}.symbol getter`); return 1; } });
      base[Symbol.for("t")] = "x";
      return base;
    }
    case 11: // on a null prototype
      return Object.assign(Object.create(null), base);
    case 12: { // a class instance, with a prototype getter too
      class Input {
        get orgId() { log.push(`${tag}.proto getter`); return "acme"; }
      }
      return Object.assign(new Input(), base);
    }
    case 13:
      return Object.freeze(base);
    case 14: { // a getter that changes the object while it is read
      Object.defineProperty(base, "aaa", { enumerable: true, configurable: true, get() { log.push(`${tag}.mutate`); delete base[key]; base.added = 1; return 1; } });
      return base;
    }
    default: { // a getter on a nested value
      const inner = { v: 1 };
      Object.defineProperty(inner, "w", { enumerable: true, get() { log.push(`${tag}.inner getter`); return pick([1, NaN, "\ud800", undefined]); } });
      base[pick(["metadata", "extra", key])] = inner;
      return base;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Calls.

const STORE_METHODS = [
  ["createOrg", { slug: "s", name: "n" }],
  ["createTeam", { orgId: "acme", slug: "s", name: "n" }],
  ["addTeamMember", { orgId: "acme", teamId: "t", userId: "u" }],
  ["createProject", { orgId: "acme", slug: "s", name: "n" }],
  ["upsertBillingAccount", { orgId: "acme", plan: "p" }],
  ["upsertIdentityProvider", { orgId: "acme", type: "saml", issuer: "i" }],
  ["recordUsage", { orgId: "acme", metric: "tokens", quantity: 1 }],
  ["recordUsage", { orgId: "acme", projectId: "web", metric: "tokens", quantity: 1, unit: "count", observedAtMs: 5_000, metadata: { a: 1 } }],
  ["recordUsage", { orgId: "acme", metric: "tokens", quantity: 2, idempotencyKey: "k1", observedAtMs: 7_000 }],
  ["consumeUsage", { orgId: "acme", metric: "tokens", quantity: 1 }],
  ["consumeUsage", { orgId: "acme", projectId: "web", metric: "tokens", quantity: 3, observedAtMs: 9_000 }],
  ["checkUsageLimit", { orgId: "acme", metric: "tokens" }],
  ["checkUsageLimit", { orgId: "acme", projectId: "web", metric: "tokens", unit: "count", period: "monthly", sinceMs: 0, untilMs: 10_000 }],
  ["summarizeUsage", { orgId: "acme" }],
  ["setUsageLimit", { orgId: "acme", metric: "tokens", limitQuantity: 100 }],
  ["listUsageLimits", { orgId: "acme" }],
  ["putSecretRef", { orgId: "acme", name: "n", provider: "p", ref: "vault://r" }],
  ["recordAuditEvent", { orgId: "acme", action: "a", targetType: "t" }],
  ["suspendOrg", { orgId: "acme", reason: "r" }],
  ["listOrgs", {}],
  ["listProjects", { orgId: "acme" }],
  ["setOrgQuota", { orgId: "acme", maxProjects: 50 }],
  ["queryAuditLog", { orgId: "acme" }],
  ["getProjectAccess", { orgId: "acme", projectId: "web", userId: "u" }],
  ["deleteUsageLimit", { orgId: "acme", metric: "nothing" }],
];
const HOT = new Set(["createOrg", "recordUsage", "consumeUsage", "checkUsageLimit", "recordUsageBatch"]);

function mutateFields(log, valid) {
  const input = { ...valid };
  const changes = rand(4);
  for (let k = 0; k < changes; k++) input[pick([...Object.keys(valid), ...FIELDS])] = value(log);
  if (rand(3) === 0) delete input[pick(Object.keys(valid).concat("none"))];
  return rand(4) === 0 ? hostileObject(log, input) : input;
}

/** Inputs made to hit the reader's corners, each given to every hot method first. */
const CORNERS = [
  () => ({ "\ud800": 1 }),
  () => ({ orgId: "acme", "\ud800": 1 }),
  () => ({ orgId: "acme", metric: undefined, "\ud800": 1 }),
  () => ({ orgId: "acme", [Symbol("s")]: 1, "\ud800": 1 }),
  () => ({ a: { b: 1, "\udc00": 2 } }),
  () => ({ a: { b: undefined, "\udc00": 2 } }),
  () => ({ metadata: { b: 1, "\udc00": 2 } }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: undefined }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: null }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: NaN }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: 10n }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: "\ud800" }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: [NaN] }),
  () => ({ orgId: "acme", metric: "m", quantity: -0, observedAtMs: -0 }),
  () => ({ orgId: "acme", metric: "m", quantity: 2 ** 53, observedAtMs: 2 ** 53 + 2 }),
  () => ({ orgId: "acme", metric: "m\ufffd", quantity: 1, unit: "\ufffd" }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, extra: { metadata: { x: NaN } } }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, 7: "seven", 1: "one" }),
  () => Object.assign(Object.create({ orgId: "acme" }), { metric: "m", quantity: 1 }),
  () => Object.defineProperty({ metric: "m", quantity: 1 }, "orgId", { value: "acme", enumerable: false }),
  () => new Proxy({ orgId: "acme", metric: "m", quantity: 1 }, { ownKeys: () => ["orgId", "metric", "quantity", "ghost"] }),
  // Where index.js reads the input itself, and where it must not.
  () => ({ orgId: "acme", metric: "m", quantity: 1, constructor: 1 }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, toString: "x" }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, __proto__: { unit: "u" } }),
  () => JSON.parse('{"orgId": "acme", "metric": "m", "quantity": 1, "__proto__": 1}'),
  () => Object.assign(new Date(0), { orgId: "acme", metric: "m", quantity: 1 }),
  () => Object.assign(new Uint8Array(0), { orgId: "acme", metric: "m", quantity: 1 }),
  () => Object.assign(new ArrayBuffer(1), { orgId: "acme", metric: "m", quantity: 1 }),
  () => Object.assign(new SharedArrayBuffer(1), { orgId: "acme", metric: "m", quantity: 1 }),
  () => Object.assign(new DataView(new ArrayBuffer(1)), { orgId: "acme", metric: "m", quantity: 1 }),
  () => new String(""), () => new Number(1), () => new Boolean(true), () => Object.create(null),
  () => (function () { return arguments; })("acme"),
  () => Object.assign(Object.create(null), { orgId: "acme", metric: "m", quantity: 1, slug: "s", name: "n", metadata: { k: 1 } }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: new Proxy({ a: 1 }, {}) }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: { a: 1 }, runId: "\ud800" }),
  () => ({ orgId: { a: 1 }, metric: { b: NaN }, quantity: 1 }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: { a: NaN }, unit: { b: 10n } }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: { a: 1 }, unit: [1] }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, unit: "\ud800", runId: "\udc00" }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, projectId: "web", runId: "r", unit: "count", observedAtMs: 5, idempotencyKey: "k", actorId: "a", ipAddress: "i", userAgent: "u", requestId: "q" }),
  () => ({ orgId: "acme", slug: "s", name: "n", createdAtMs: 1, period: "daily", sinceMs: 0, untilMs: 5 }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: [1, 2] }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: () => 1 }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: new Date(0) }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, observedAtMs: 10n, unit: Symbol("u") }),
  // A metadata index.js may hand over flattened, and ones it must not.
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: { a: 1, b: "x", c: null, d: true, e: undefined, f: -0, g: 2 ** 60, h: 0.1, i: 1e21 } }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: { a: Number.NaN } }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: { a: Infinity, b: 10n } }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: { "\ud800": 1 } }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: { a: "\udc00" } }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: { a: undefined, "\ud800": 1 } }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: JSON.parse('{"__proto__": 1, "metadata": 2}') }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: Object.assign(Object.create(null), { z: 1, a: 2 }) }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: Object.setPrototypeOf(new Date(0), Object.prototype) }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: Object.setPrototypeOf(new Uint8Array(2), Object.prototype) }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: Object.setPrototypeOf([1, 2], Object.prototype) }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: Object.setPrototypeOf(new ArrayBuffer(2), Object.prototype) }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: Object.setPrototypeOf(new SharedArrayBuffer(2), Object.prototype) }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: (function () { return arguments; })(1, "a") }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: { 2: "b", 1: "a", z: 0 } }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: { s: "x".repeat(70_000) } }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: { a: { b: 1 } } }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: Object.freeze({ a: 1 }) }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: new (class M { constructor() { this.a = 1; } })() }),
  () => ({ orgId: "acme", metric: "m", quantity: 1, metadata: new Proxy({ a: 1 }, { getPrototypeOf() { throw new Error("asked"); } }) }),
];
const cornerCases = [];
// Batches: what is read of each event, and under which path.
const ev = (extra) => ({ orgId: "acme", metric: "m", quantity: 1, observedAtMs: 5, ...extra });
const BATCHES = [
  () => [ev({}), ev({ metadata: { a: Number.NaN } })],
  () => [ev({}), ev({ runId: "\ud800" }), ev({ unit: 10n })],
  () => [ev({}), { orgId: "acme", metric: undefined, "\ud800": 1 }],
  () => [ev({ a: { b: "\udc00" } })],
  () => [ev({}), 5, "x", null, undefined, [ev({})]],
  () => [ev({}), , ev({})], // eslint-disable-line no-sparse-arrays
  () => { const a = [ev({})]; a.push(a); return a; },
  () => { const e = ev({}); e.self = e; return [e]; },
  () => { const a = [ev({})]; Object.defineProperty(a, 1, { enumerable: true, get() { throw new Error("index"); } }); return a; },
  () => [new Proxy(ev({}), {}), Object.assign(new Date(0), ev({})), Object.create(ev({}))],
  () => [ev({ idempotencyKey: "k" }), ev({ idempotencyKey: "k", quantity: 2 })],
  () => [ev({ orgId: "other" }), ev({ orgId: "ghost" })],
  () => [ev({ metadata: { x: 1 } }), ev({ metadata: deep(20) })],
];
for (const batch of BATCHES) {
  for (const options of [undefined, { returning: "ids" }, { returning: 5 }]) {
    cornerCases.push({ label: "recordUsageBatch", call: (h) => h.store.recordUsageBatch(batch(), options) });
    cornerCases.push({ label: "scope.recordUsageBatch", call: (h) => h.scope.recordUsageBatch(batch(), options) });
  }
}
// A method called on something that is not of its class.
for (const method of HOT) {
  if (method === "recordUsageBatch") continue;
  const input = () => ({ orgId: "acme", metric: "m", quantity: 1, slug: "s", name: "n" });
  cornerCases.push({ label: `${method} on another this`, call: (h) => h.store[method].call({}, input()) });
  cornerCases.push({ label: `${method} on a scope's this`, call: (h) => h.store[method].call(h.scope, input()) });
  if (method !== "createOrg") cornerCases.push({ label: `scope.${method} on a store's this`, call: (h) => h.scope[method].call(h.store, input()) });
  cornerCases.push({ label: `${method} with no input`, call: (h) => h.store[method]() });
}
for (const method of HOT) {
  for (const corner of CORNERS) {
    cornerCases.push({ label: method, call: (h) => (method === "recordUsageBatch" ? h.store.recordUsageBatch([corner()]) : h.store[method](corner())) });
    if (method !== "createOrg") cornerCases.push({ label: `scope.${method}`, call: (h) => (method === "recordUsageBatch" ? h.scope.recordUsageBatch([corner()]) : h.scope[method](corner())) });
  }
}

/** One call: a function of (pkg, handles, log) that makes its arguments and calls. */
function makeCase() {
  if (cornerCases.length) return cornerCases.shift();
  const r = rand(100);
  if (r < 70) {
    // Mostly the hot methods.
    const [method, valid] = rand(3) ? pick(STORE_METHODS.filter(([m]) => HOT.has(m))) : pick(STORE_METHODS);
    const topLevel = rand(25) === 0;
    return { label: method, call: (h, log) => h.store[method](topLevel ? value(log) : mutateFields(log, valid)) };
  }
  if (r < 80) {
    const [method, valid] = pick(STORE_METHODS.filter(([m]) => !["createOrg", "listOrgs"].includes(m)));
    return {
      label: `scope.${method}`,
      call: (h, log) => {
        const input = mutateFields(log, valid);
        if (rand(2) && input && typeof input === "object" && !Object.isFrozen(input)) {
          try { delete input.orgId; } catch {}
        }
        return h.scope[method](input);
      },
    };
  }
  if (r < 92) {
    const onScope = rand(4) === 0;
    return {
      label: onScope ? "scope.recordUsageBatch" : "recordUsageBatch",
      call: (h, log) => {
        const n = rand(4);
        const events = [];
        for (let i = 0; i < n; i++) events.push(mutateFields(log, pick(STORE_METHODS.filter(([m]) => m === "recordUsage"))[1]));
        const arg = rand(10) === 0 ? value(log) : rand(6) === 0 ? hostileObject(log, events) : events;
        const options = rand(2) ? undefined : rand(2) ? { returning: pick(["ids", "events", null, undefined, 1, "x", "\ud800"]) } : value(log);
        return (onScope ? h.scope : h.store).recordUsageBatch(arg, options);
      },
    };
  }
  const which = rand(4);
  if (which === 0) return { label: "getOrg", call: (h, log) => h.store.getOrg(rand(3) ? pick(["acme", "other", " acme "]) : value(log)) };
  if (which === 1) return { label: "getOrgBySlug", call: (h, log) => h.store.getOrgBySlug(rand(3) ? "acme" : value(log)) };
  return {
    label: "forOrg",
    call: (h, log) => {
      const scope = h.store.forOrg(rand(2) ? "acme" : value(log), rand(2) ? mutateFields(log, { actorId: "u1", requestId: "r" }) : undefined);
      return { orgId: scope.orgId, context: scope.context };
    },
  };
}

// ---------------------------------------------------------------------------------------
// Outcomes, described as text: key order, -0, undefined and prototypes included; what
// differs by run (random ids, the time now, hashes over them) written as placeholders.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HASH = /^[0-9a-f]{64}$/;
let nowAtStart = Date.now();

function describe(v, seen = new Set()) {
  if (v === undefined) return "undefined";
  if (typeof v === "number") {
    if (Object.is(v, -0)) return "-0";
    // The time now, and times a period (at most 30 days) either side of it.
    if (Math.abs(v - nowAtStart) < 62 * 86_400_000) return "<now>";
    return String(v);
  }
  if (typeof v === "string") {
    if (UUID.test(v)) return "<uuid>";
    if (HASH.test(v)) return "<hash>";
    return JSON.stringify(v);
  }
  if (typeof v !== "object" || v === null) return String(v);
  if (seen.has(v)) return "<cycle>";
  seen.add(v);
  const proto = Object.getPrototypeOf(v);
  const realm = proto === Array.prototype ? "Array" : proto === Object.prototype ? "Object" : `other(${proto && proto.constructor && proto.constructor.name})`;
  if (Array.isArray(v)) return `${realm}[${v.map((x) => describe(x, seen)).join(",")}]`;
  return `${realm}{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${describe(v[k], seen)}`).join(",")}}`;
}

function outcome(pkg, run) {
  try {
    return `ok ${describe(run())}`;
  } catch (error) {
    if (!(error instanceof Error)) return `threw a non-error ${describe(error)}`;
    const cpe = error instanceof pkg.ControlPlaneError;
    const cause = "cause" in error ? ` cause=${error.cause && error.cause.message}` : "";
    return `threw ${cpe ? "ControlPlaneError" : error.constructor.name} ${error.code} ${JSON.stringify(error.message)} details=${describe(error.details)} docs=${error.docsUrl}${cause}`;
  }
}

function seeded(pkg) {
  const store = new pkg.ControlPlaneStore(":memory:");
  store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1_000 });
  store.createOrg({ orgId: "other", slug: "other", name: "Other", createdAtMs: 1_000 });
  store.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web", createdAtMs: 2_000 });
  store.createTeam({ orgId: "acme", teamId: "t", slug: "t", name: "T", createdAtMs: 2_000 });
  store.setUsageLimit({ orgId: "acme", metric: "tokens", limitQuantity: 1_000, updatedAtMs: 3_000 });
  store.setUsageLimit({ orgId: "acme", projectId: "web", metric: "tokens", limitQuantity: 500, updatedAtMs: 3_000 });
  return { store, scope: store.forOrg("acme", { actorId: "u1", requestId: "req" }) };
}

const differences = [];
const byLabel = {};
let compared = 0;
let refused = 0;
let logged = 0;
const messages = new Set();
for (let i = 0; i < CASES; i++) {
  const c = makeCase();
  // Fresh stores for every call: random ids and the time now cannot pile up differently.
  const handles = sides.map(seeded);
  const start = seed;
  const results = sides.map((pkg, s) => {
    seed = start; // the same random choices for both sides
    const log = [];
    const text = outcome(pkg, () => c.call(handles[s], log));
    return { text, log: log.join(" | ") };
  });
  compared++;
  if (results[0].text.startsWith("threw")) refused++, messages.add(results[0].text.replace(/ details=.*/, ""));
  if (results[0].log) logged++;
  byLabel[c.label] = (byLabel[c.label] || 0) + 1;
  if (results[0].text !== results[1].text || results[0].log !== results[1].log) {
    differences.push({ case: i, label: c.label, old: results[0], new: results[1] });
  }
  for (const h of handles) h.store.close();
}

const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.versions.node}`;
console.log(`${runtime}: ${compared} calls compared, old build against this one, ${differences.length} differences`);
console.log(`  ${refused} refused (${messages.size} distinct errors), ${compared - refused} succeeded; ${logged} with a log of traps or getters`);
console.log(`  by method: ${Object.entries(byLabel).sort().map(([k, v]) => `${k} ${v}`).join(", ")}`);
/** The two texts from a little before where they first differ. */
function around(a, b) {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 200);
  return [a.slice(from, i + 400), b.slice(from, i + 400)];
}
for (const d of differences.slice(0, 20)) {
  const [oldText, newText] = around(d.old.text, d.new.text);
  const [oldLog, newLog] = around(d.old.log, d.new.log);
  console.log(`\ncase ${d.case} (${d.label}):\n  old: ${oldText}\n       log: ${oldLog}\n  new: ${newText}\n       log: ${newLog}`);
}
process.exitCode = differences.length ? 1 : 0;
