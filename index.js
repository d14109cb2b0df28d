"use strict";
// The CommonJS entry: loads the native addon and re-exports it. Defined here: the error
// class, and the factories of the request path's results. Every load of this file hands
// the addon this realm's `ControlPlaneError`, `JSON.parse` and factories (`useRealm`), and
// the addon builds its errors and results in the last realm that loaded it: a test runner that gives each test file a
// realm of its own (Jest, Vitest's vm pools) loads this file again in each file, so every
// file sees errors that are instances of its own `Error` and of the class it imported.

const native = require("./binding.js");

/** Where each code is explained: docs/errors.md, one heading per code. */
const DOCS = "https://github.com/smithers-control-plane/smithers-control-plane/blob/main/docs/errors.md";
// The same symbol in every realm and every copy of this file: `instanceof` checks it, so
// an error thrown for one copy of the package is an instance of another copy's class.
const BRAND = Symbol.for("smithers-control-plane.ControlPlaneError");

/** Every error the store throws: `code`, `summary` (also `message`), `details`, `docsUrl`, `cause`. */
class ControlPlaneError extends Error {
  constructor(code, summary, details, options) {
    super(summary, options);
    this.name = "ControlPlaneError";
    this.code = code;
    this.summary = summary;
    this.details = details;
    this.docsUrl = `${DOCS}#${String(code).toLowerCase()}`;
    // Set even where `Error` ignores its options (older runtimes), and always present.
    if (options && "cause" in options) this.cause = options.cause;
  }

  static [Symbol.hasInstance](value) {
    // Subclasses keep the ordinary prototype check.
    if (this !== ControlPlaneError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === "object" && value !== null && value[BRAND] === true;
  }
}
Object.defineProperty(ControlPlaneError.prototype, BRAND, { value: true });

// The results of the request path, built here from their fields (the addon calls these
// with the fields as arguments, in the order the result has its keys): objects of this
// realm, made at the cost of a call rather than of JSON text and its parse. A field the
// result leaves out when it has none is `undefined` here, and left out.
const parse = JSON.parse;
/** `metadata`'s JSON text as a fresh object. */
const metadataOf = (text) => (text === "{}" ? {} : parse(text));

// Object literals only (no assignment, which a setter on Object.prototype would see), as
// JSON.parse defines its keys; arrays filled by index, not by a `push` one could replace.
function usageEvent(id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata, idempotencyKey, duplicate) {
  return event(id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadataOf(metadata), idempotencyKey, duplicate);
}

function event(id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, m, idempotencyKey, duplicate) {
  if (idempotencyKey === undefined && duplicate === undefined) return { id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata: m };
  if (duplicate === undefined) return { id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata: m, idempotencyKey };
  if (idempotencyKey === undefined) return { id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata: m, duplicate };
  return { id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata: m, idempotencyKey, duplicate };
}

function usageLimitCheck(orgId, projectId, metric, unit, period, limitQuantity, updatedAtMs, usedQuantity, remainingQuantity, exceeded) {
  return { orgId, projectId, metric, unit, period, limitQuantity, updatedAtMs, usedQuantity, remainingQuantity, exceeded };
}

/** `consumption(allowed, ...event (11, its id null when none), ...checks (14 each))`. */
function consumption(allowed, id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata, idempotencyKey, duplicate, ...checks) {
  const recorded = id === null ? null : usageEvent(id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata, idempotencyKey, duplicate);
  const made = [];
  for (let i = 0; i < checks.length; i += 14) {
    const c = checks;
    made[made.length] = {
      orgId: c[i], projectId: c[i + 1], metric: c[i + 2], unit: c[i + 3], period: c[i + 4], limitQuantity: c[i + 5], updatedAtMs: c[i + 6],
      usedQuantity: c[i + 7], remainingQuantity: c[i + 8], exceeded: c[i + 9], sinceMs: c[i + 10], untilMs: c[i + 11], laterQuantity: c[i + 12], allowed: c[i + 13],
    };
  }
  return { allowed, event: recorded, checks: made };
}

function org(orgId, slug, name, createdAtMs, status, suspendedAtMs, suspendReason, deletedAtMs) {
  return { orgId, slug, name, createdAtMs, status, suspendedAtMs, suspendReason, deletedAtMs };
}

/**
 * `usageEvents(into, metadata, ...events (10 each, no metadata))`: adds to `into`, a new
 * array at first; `metadata` is the JSON text of the events' metadata, an array, or
 * `undefined` when each is `{}`.
 */
function usageEvents(into, metadata, ...fields) {
  const events = into === undefined ? [] : into;
  const all = metadata === undefined ? undefined : parse(metadata);
  for (let i = 0, k = 0; i < fields.length; i += 10, k++) {
    const f = fields;
    events[events.length] = event(f[i], f[i + 1], f[i + 2], f[i + 3], f[i + 4], f[i + 5], f[i + 6], f[i + 7], all === undefined ? {} : all[k], f[i + 8], f[i + 9]);
  }
  return events;
}

/** `usageIds(into, count, ...ids)`: adds to `into`'s ids, a new result at first. */
function usageIds(into, count, ...ids) {
  if (into === undefined) return { count, ids };
  const all = into.ids;
  for (let i = 0; i < ids.length; i++) all[all.length] = ids[i];
  return into;
}

native.useRealm(ControlPlaneError, JSON.parse, { usageEvent, usageLimitCheck, consumption, org, usageEvents, usageIds });

// The request path's methods read their input here, in JS, where reading an object is
// cheap, and hand its fields to the addon as arguments (src/binding/gathered.rs): only an
// input read here exactly as the addon would read it (not a proxy; its own enumerable
// keys all among the method's fields and all data properties, so no getter runs; its
// strings well-formed; at most one of its values an object, which the addon reads).
// Anything else goes to the addon's own method as given. Each load of this file puts its
// methods on the classes' prototypes, in place of the last load's.
const { types } = require("node:util");
const { isProxy, isDate, isTypedArray, isArrayBuffer } = types;
const prototypeOf = Object.getPrototypeOf;
const ObjectPrototype = Object.prototype;
const keysOf = Object.keys;
const ownDescriptor = Object.getOwnPropertyDescriptor;
const hasOwn = Object.hasOwn;
const isArray = Array.isArray;
const apply = Reflect.apply;
// Node 18 has no isWellFormed: there the addon reads every input.
const wellFormed = typeof String.prototype.isWellFormed === "function" ? Function.prototype.call.bind(String.prototype.isWellFormed) : undefined;

/**
 * `[input, ...values]` for `call`, or `undefined` when the addon must read `input` itself.
 * Nothing here runs code of the caller's (no getter, no trap: a proxy is not read), and
 * whatever is not surely read alike goes to the addon.
 */
function gather(input, slots, count) {
  if (typeof input !== "object" || input === null || isArray(input) || isProxy(input)) return undefined;
  const args = new Array(count + 1);
  args[0] = input;
  for (let i = 1; i <= count; i++) args[i] = undefined;
  let objects = 0;
  try {
    const keys = keysOf(input);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const slot = slots[key];
      if (slot === undefined) return undefined;
      const own = ownDescriptor(input, key);
      if (own === undefined || !hasOwn(own, "value")) return undefined;
      const value = own.value;
      if (typeof value === "string") {
        if (!wellFormed(value)) return undefined;
      } else if (typeof value === "object" && value !== null && ++objects > 1) {
        return undefined;
      }
      args[slot + 1] = value;
    }
  } catch {
    return undefined; // an exotic object (a module namespace): read by the addon
  }
  const metadata = slots.metadata === undefined ? undefined : args[slots.metadata + 1];
  if (typeof metadata === "object" && metadata !== null) flatten(metadata, args);
  return args;
}

/**
 * A `metadata` that is a plain object of scalars (finite numbers, well-formed strings,
 * booleans, nulls, under well-formed keys): its keys and values, added after the fields.
 * Anything else is left for the addon to read.
 */
function flatten(metadata, args) {
  // A proxy first: asking for its prototype would run its trap.
  if (isProxy(metadata) || isArray(metadata) || isDate(metadata) || isTypedArray(metadata) || isArrayBuffer(metadata)) return;
  const proto = prototypeOf(metadata);
  if (proto !== ObjectPrototype && proto !== null) return;
  const count = args.length;
  try {
    const keys = keysOf(metadata);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const own = ownDescriptor(metadata, key);
      if (own === undefined || !hasOwn(own, "value") || !wellFormed(key)) return void (args.length = count);
      const value = own.value;
      const scalar =
        value === null || typeof value === "boolean" || typeof value === "undefined" ||
        (typeof value === "number" && value - value === 0) || (typeof value === "string" && wellFormed(value));
      if (!scalar) return void (args.length = count);
      args[args.length] = key;
      args[args.length] = value;
    }
  } catch {
    args.length = count;
  }
}

if (wellFormed !== undefined && typeof isProxy === "function" && Array.isArray(native.gathered)) {
  for (const { of, name, fields, call, original } of native.gathered) {
    const slots = Object.create(null);
    fields.forEach((field, i) => {
      slots[field] = i;
    });
    const count = fields.length;
    const method = {
      [name](input) {
        const args = gather(input, slots, count);
        if (args !== undefined) {
          const out = apply(call, this, args);
          if (out !== undefined) return out;
        }
        return apply(original, this, arguments);
      },
    }[name];
    Object.defineProperty(native[of].prototype, name, { value: method, writable: true, enumerable: true, configurable: true });
  }
}

// The async store (`ControlPlaneStore.connect(url, options?)`, src/binding/async_store.rs):
// the sync store's method names, each returning a Promise. The native handle runs every
// call off the JS thread (on PostgreSQL on the pool's own threads, on SQLite on libuv's
// thread pool); these classes give it the methods, from the addon's list
// (`asyncMethods()`: name, how its arguments go in, whether `forOrg`'s handle has it).
const HANDLE = Symbol("handle");

function callAsync(self, name, args) {
  try {
    return self[HANDLE].call(name, args[0], args[1]);
  } catch (error) {
    // An input refused on this thread rejects too: every method returns a Promise.
    return Promise.reject(error);
  }
}

/** A store whose every method returns a Promise; made by `ControlPlaneStore.connect`. */
class AsyncControlPlaneStore {
  constructor(handle) {
    Object.defineProperty(this, HANDLE, { value: handle });
  }

  /** `"postgres"` or `"sqlite"`; `null` once closed. */
  get dialect() {
    return this[HANDLE].dialect;
  }

  /** A handle scoped to one org, as the sync store's `forOrg`. */
  forOrg(orgId, context) {
    return new AsyncOrgScope(this[HANDLE].scoped(orgId, context));
  }

  /** Closes the pool (PostgreSQL) or the connection (SQLite). */
  async close() {
    this[HANDLE].close();
  }
}

/** `forOrg`'s handle on the async store: the org-level methods, each returning a Promise. */
class AsyncOrgScope {
  constructor(handle) {
    Object.defineProperty(this, HANDLE, { value: handle });
  }

  get orgId() {
    return this[HANDLE].orgId;
  }

  get context() {
    return this[HANDLE].context;
  }
}

for (const [name, args, scoped] of native.asyncMethods()) {
  const method =
    args === "void"
      ? function (...a) {
          return callAsync(this, name, a).then(() => undefined);
        }
      : function (...a) {
          return callAsync(this, name, a);
        };
  Object.defineProperty(method, "name", { value: name });
  const classes = scoped ? [AsyncControlPlaneStore, AsyncOrgScope] : [AsyncControlPlaneStore];
  for (const cls of classes) {
    Object.defineProperty(cls.prototype, name, { value: method, writable: true, configurable: true });
  }
}

/** `ControlPlaneStore.connect(url, options?)`: `postgres://`, `postgresql://`, `sqlite:path` or `sqlite::memory:`. */
native.ControlPlaneStore.connect = async function connect(url, options) {
  return new AsyncControlPlaneStore(await native.connectStore(url, options));
};

/** A move of a SQLite file's store into PostgreSQL, a step at a time (`startMigration`). */
class ControlPlaneMigration {
  constructor(handle) {
    Object.defineProperty(this, HANDLE, { value: handle });
  }

  /** Where the move stands. */
  async progress() {
    return JSON.parse(await this[HANDLE].progress());
  }

  /** Copies up to `rows` rows of the table under way, in one transaction on the target. */
  async step(rows) {
    if (!Number.isInteger(rows) || rows < 1 || rows > 4_294_967_295) {
      throw new ControlPlaneError("INVALID_INPUT", `rows must be a whole number from 1 to 4294967295; got ${rows}.`, { field: "rows" });
    }
    return JSON.parse(await this[HANDLE].step(rows));
  }

  /** Compares the two sides and checks the target. */
  async verify() {
    return JSON.parse(await this[HANDLE].verify());
  }

  /** Lets go of the file's snapshot and the target's connection. */
  close() {
    this[HANDLE].close();
  }
}

/**
 * `startMigration(from, to, { leaseSeconds })`: opens a move of the store in the SQLite file
 * `from` (`sqlite:<path>`) into the empty PostgreSQL database `to`, or goes on with one that
 * stopped (what `control-plane migrate` runs, docs/postgres.md).
 */
async function startMigration(from, to, options) {
  const leaseSeconds = options?.leaseSeconds;
  if (leaseSeconds !== undefined && !(typeof leaseSeconds === "number" && leaseSeconds >= 1 && leaseSeconds <= 86_400)) {
    throw new ControlPlaneError("INVALID_INPUT", `leaseSeconds must be a number of seconds from 1 to 86400; got ${leaseSeconds}.`, { field: "leaseSeconds" });
  }
  const leaseMs = leaseSeconds === undefined ? undefined : Math.round(leaseSeconds * 1000);
  return new ControlPlaneMigration(await native.startTransfer(String(from), String(to), leaseMs));
}

// One assignment per name: that is how Node's ES module loader finds the names an
// `import { ControlPlaneStore } from ...` of this file may take (so there is no second list
// in an .mjs file, and one copy of the module whichever way it is loaded).
exports.ControlPlaneStore = native.ControlPlaneStore;
exports.ControlPlaneError = ControlPlaneError;
exports.Database = native.Database;
exports.OrgScope = native.OrgScope;
exports.Statement = native.Statement;
exports.ensureControlPlaneTables = native.ensureControlPlaneTables;
exports.AsyncControlPlaneStore = AsyncControlPlaneStore;
exports.AsyncOrgScope = AsyncOrgScope;
exports.startMigration = startMigration;
