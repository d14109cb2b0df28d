"use strict";
// The async store's classes (`ControlPlaneStore.connect`) and `startMigration`, over the
// addon's internal `NativeAsyncStore` and `NativeTransfer`.

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

/** Gives the async classes the addon's methods (`asyncMethods()`). */
function installAsyncMethods(native) {
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
}

/** A move of a SQLite file's store into PostgreSQL, a step at a time (`startMigration`). */
const ERROR = Symbol("error class");

class ControlPlaneMigration {
  constructor(handle, ControlPlaneError) {
    Object.defineProperty(this, HANDLE, { value: handle });
    Object.defineProperty(this, ERROR, { value: ControlPlaneError });
  }

  /** Where the move stands. */
  async progress() {
    return JSON.parse(await this[HANDLE].progress());
  }

  /** Copies up to `rows` rows of the table under way, in one transaction on the target. */
  async step(rows) {
    if (!Number.isInteger(rows) || rows < 1 || rows > 4_294_967_295) {
      throw new this[ERROR]("INVALID_INPUT", `rows must be a whole number from 1 to 4294967295; got ${rows}.`, { field: "rows" });
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
function startMigrationOn(native, ControlPlaneError) {
  return async function startMigration(from, to, options) {
    const leaseSeconds = options?.leaseSeconds;
    if (leaseSeconds !== undefined && !(typeof leaseSeconds === "number" && leaseSeconds >= 1 && leaseSeconds <= 86_400)) {
      throw new ControlPlaneError("INVALID_INPUT", `leaseSeconds must be a number of seconds from 1 to 86400; got ${leaseSeconds}.`, { field: "leaseSeconds" });
    }
    const leaseMs = leaseSeconds === undefined ? undefined : Math.round(leaseSeconds * 1000);
    return new ControlPlaneMigration(await native.startTransfer(String(from), String(to), leaseMs), ControlPlaneError);
  };
}

module.exports = { AsyncControlPlaneStore, AsyncOrgScope, installAsyncMethods, startMigrationOn };
