"use strict";
// The CommonJS entry: loads the native addon and re-exports it. The one thing defined
// here is the error class. Every load of this file hands the addon this realm's
// `ControlPlaneError` and `JSON.parse` (`useRealm`), and the addon builds its errors and
// results in the last realm that loaded it: a test runner that gives each test file a
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

native.useRealm(ControlPlaneError, JSON.parse);

// The async store (`ControlPlaneStore.connect(url, options?)`, src/binding/async_store.rs):
// the sync store's method names, each returning a Promise. The native handle runs every
// call on libuv's thread pool; these classes give it the methods, from the addon's list
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
