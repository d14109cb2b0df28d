"use strict";
// The JavaScript face of the native store. Everything of substance (validation, SQL,
// transactions) happens in Rust; this file only resolves the handle a caller passes,
// serialises inputs to JSON, parses results, and rethrows native errors as
// ControlPlaneError.

const path = require("node:path");

const native = require(path.join(__dirname, "control-plane-store.node"));

class ControlPlaneError extends Error {
  /**
   * @param {string} code
   * @param {string} summary
   * @param {Record<string, unknown> | undefined} [details]
   */
  constructor(code, summary, details) {
    super(summary);
    this.name = "ControlPlaneError";
    this.code = code;
    this.summary = summary;
    this.details = details;
  }
}

/** Native errors carry their ControlPlaneError fields as JSON in the message. */
function toControlPlaneError(error) {
  if (error instanceof ControlPlaneError) return error;
  const message = error && typeof error.message === "string" ? error.message : String(error);
  try {
    const parsed = JSON.parse(message);
    if (parsed && typeof parsed.code === "string") {
      return new ControlPlaneError(parsed.code, parsed.summary, parsed.details ?? undefined);
    }
  } catch {
    // Not one of ours: fall through.
  }
  return new ControlPlaneError("INTERNAL", message);
}

function invalid(summary, details) {
  return new ControlPlaneError("INVALID_INPUT", summary, details);
}

/**
 * JSON has no NaN or Infinity (JSON.stringify writes null, which would read as "absent"
 * and take a default). A non-finite value of an input's own field is sent as a
 * one-element array instead, which every field's validation rejects with that field's
 * own message. Returns the input itself when it has none.
 */
function markNonFinite(input) {
  let fixed;
  for (const key in input) {
    const value = input[key];
    if (typeof value === "number" && !Number.isFinite(value)) {
      if (!fixed) fixed = { ...input };
      fixed[key] = [String(value)];
    }
  }
  return fixed ?? input;
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function stringify(value) {
  try {
    return JSON.stringify(value);
  } catch (error) {
    throw invalid(`input must be JSON-serialisable: ${error.message}`, { field: "input" });
  }
}

function encodeInput(input) {
  if (!isObject(input)) throw invalid("input must be an object.", { field: "input" });
  return stringify(markNonFinite(input));
}

const kNative = Symbol("native");

let warnedNoOfdLocks = false;

function openNative(filename) {
  if (!warnedNoOfdLocks && !isMemoryName(filename) && !native.ofdLocksAvailable()) {
    // Never silently unsafe: without OFD locks our SQLite's locks and another SQLite copy's
    // in this process (bun:sqlite, better-sqlite3) do not exclude each other.
    warnedNoOfdLocks = true;
    process.emitWarning(
      "This platform has no open-file-description locks: a database file opened by path is not protected from another SQLite binding (bun:sqlite, better-sqlite3) that has the same file open in this process. Pass that binding's handle to ControlPlaneStore instead.",
      { code: "CONTROL_PLANE_NO_OFD_LOCKS" },
    );
  }
  try {
    return new native.NativeConnection(filename);
  } catch (error) {
    throw toControlPlaneError(error);
  }
}

function isMemoryName(name) {
  return name === "" || name === ":memory:" || name.startsWith("file::memory:");
}

/**
 * The store on the caller's own handle of another SQLite binding (bun:sqlite,
 * better-sqlite3, node:sqlite) or any object with exec() and query()/prepare(): every
 * statement runs on that handle's connection, so nothing opens the file a second time.
 */
function openHost(handle) {
  try {
    return new native.HostConnection(handle);
  } catch (error) {
    throw toControlPlaneError(error);
  }
}

/**
 * Resolves the constructor argument to a connection, and whether the store should close
 * it: a connection it opened by path, or its hold on a foreign handle (never the handle).
 */
function resolveConnection(sqlite) {
  if (sqlite instanceof Database) return { conn: sqlite[kNative], owned: false };
  if (typeof sqlite === "string") return { conn: openNative(sqlite), owned: true };
  if (sqlite && typeof sqlite === "object") return { conn: openHost(sqlite), owned: true };
  throw invalid("sqlite must be a Database, a file path, ':memory:', or a SQLite database handle.", {
    field: "sqlite",
  });
}

// ---------------------------------------------------------------------------------------
// Database: a small bun:sqlite-shaped handle on a native connection.

function encodeParam(value) {
  if (value === undefined) return null;
  if (typeof value === "bigint") return { $int: value.toString() };
  if (value instanceof Uint8Array) return { $blob: Buffer.from(value).toString("hex") };
  return value;
}

function encodeParams(params) {
  if (params.length === 1) {
    const only = params[0];
    if (only && typeof only === "object" && !(only instanceof Uint8Array) && !Array.isArray(only)) {
      const named = {};
      for (const key of Object.keys(only)) named[key] = encodeParam(only[key]);
      return JSON.stringify(named);
    }
    if (Array.isArray(only)) return JSON.stringify(only.map(encodeParam));
  }
  return JSON.stringify(params.map(encodeParam));
}

function reviveBlob(_key, value) {
  if (value && typeof value === "object" && typeof value.$blob === "string" && Object.keys(value).length === 1) {
    return new Uint8Array(Buffer.from(value.$blob, "hex"));
  }
  return value;
}

function parseRows(text) {
  return text.includes('"$blob"') ? JSON.parse(text, reviveBlob) : JSON.parse(text);
}

class Statement {
  /** @param {Database} db @param {string} sql */
  constructor(db, sql) {
    this.database = db;
    this.sql = sql;
  }

  run(...params) {
    try {
      return JSON.parse(this.database[kNative].run(this.sql, encodeParams(params)));
    } catch (error) {
      throw toControlPlaneError(error);
    }
  }

  get(...params) {
    try {
      const rows = parseRows(this.database[kNative].query(this.sql, encodeParams(params), 1));
      return rows.length ? rows[0] : null;
    } catch (error) {
      throw toControlPlaneError(error);
    }
  }

  all(...params) {
    try {
      return parseRows(this.database[kNative].query(this.sql, encodeParams(params)));
    } catch (error) {
      throw toControlPlaneError(error);
    }
  }
}

class Database {
  /** @param {string} [filename] a file path, or ":memory:" (the default) */
  constructor(filename = ":memory:") {
    if (typeof filename !== "string") throw invalid("filename must be a string.", { field: "filename" });
    this.filename = filename;
    this[kNative] = openNative(filename);
    this._queries = new Map();
  }

  exec(sql) {
    try {
      this[kNative].exec(sql);
    } catch (error) {
      throw toControlPlaneError(error);
    }
  }

  /** Like bun:sqlite, `query` returns the same statement for the same SQL. */
  query(sql) {
    let statement = this._queries.get(sql);
    if (!statement) {
      statement = new Statement(this, sql);
      this._queries.set(sql, statement);
    }
    return statement;
  }

  prepare(sql) {
    return new Statement(this, sql);
  }

  get open() {
    return this[kNative].isOpen;
  }

  close() {
    this[kNative].close();
  }
}

// ---------------------------------------------------------------------------------------
// The store.

function ensureControlPlaneTables(sqlite) {
  const { conn, owned } = resolveConnection(sqlite);
  try {
    conn.ensureTables();
  } catch (error) {
    throw toControlPlaneError(error);
  } finally {
    if (owned) conn.close();
  }
}

class ControlPlaneStore {
  /** @param {Database | string | object} sqlite */
  constructor(sqlite) {
    const { conn, owned } = resolveConnection(sqlite);
    this[kNative] = conn;
    this._owned = owned;
    try {
      conn.ensureTables();
    } catch (error) {
      if (owned) conn.close();
      throw toControlPlaneError(error);
    }
  }

  _call(method, input) {
    const json = encodeInput(input);
    let out;
    try {
      out = this[kNative].call(method, json);
    } catch (error) {
      throw toControlPlaneError(error);
    }
    return JSON.parse(out);
  }

  /**
   * Closes the connection if the store opened it (a path). On a foreign handle it lets go
   * of the handle; the handle itself stays open for its owner.
   */
  close() {
    if (this._owned) this[kNative].close();
  }

  createOrg(input) {
    return this._call("createOrg", input);
  }

  getOrg(orgId) {
    return this._call("getOrg", { orgId });
  }

  getOrgBySlug(slug) {
    return this._call("getOrgBySlug", { slug });
  }

  createTeam(input) {
    return this._call("createTeam", input);
  }

  addTeamMember(input) {
    this._call("addTeamMember", input);
  }

  createProject(input) {
    return this._call("createProject", input);
  }

  addProjectTeam(input) {
    this._call("addProjectTeam", input);
  }

  upsertBillingAccount(input) {
    return this._call("upsertBillingAccount", input);
  }

  upsertIdentityProvider(input) {
    return this._call("upsertIdentityProvider", input);
  }

  listIdentityProviders(input) {
    return this._call("listIdentityProviders", input);
  }

  recordUsage(input) {
    return this._call("recordUsage", input);
  }

  summarizeUsage(input) {
    return this._call("summarizeUsage", input);
  }

  setUsageLimit(input) {
    return this._call("setUsageLimit", input);
  }

  checkUsageLimit(input) {
    return this._call("checkUsageLimit", input);
  }

  putSecretRef(input) {
    return this._call("putSecretRef", input);
  }

  listSecretRefs(input) {
    return this._call("listSecretRefs", input);
  }

  recordAuditEvent(input) {
    return this._call("recordAuditEvent", input);
  }

  exportOrgAudit(input) {
    return this._call("exportOrgAudit", input);
  }

  /** Records every event or none; `returning: "ids"` skips building the event objects. */
  recordUsageBatch(events, options) {
    if (!Array.isArray(events)) throw invalid("events must be an array.", { field: "events" });
    const returning = options?.returning ?? "events";
    const marked = events.map((event) => (isObject(event) ? markNonFinite(event) : event));
    let out;
    try {
      out = this[kNative].call("recordUsageBatch", stringify({ events: marked, returning }));
    } catch (error) {
      throw toControlPlaneError(error);
    }
    return JSON.parse(out);
  }

  consumeUsage(input) {
    return this._call("consumeUsage", input);
  }

  /** Runs a long method on the thread pool: the event loop keeps turning meanwhile. */
  async _callAsync(method, input) {
    const json = encodeInput(input);
    let out;
    try {
      out = await this[kNative].callAsync(method, json);
    } catch (error) {
      throw toControlPlaneError(error);
    }
    return JSON.parse(out);
  }

  /** `exportOrgAudit`, off the JS thread. */
  exportOrgAuditAsync(input) {
    return this._callAsync("exportOrgAudit", input);
  }

  /** Streams the export to a file (json, ndjson or csv) off the JS thread, atomically. */
  exportOrgAuditToFile(input) {
    return this._callAsync("exportOrgAuditToFile", input);
  }
}

// Methods beyond the documented store that take one input object: those returning a value,
// and those returning nothing.
const VALUE_METHODS = [
  "suspendOrg",
  "unsuspendOrg",
  "deleteOrg",
  "listOrgs",
  "listTeams",
  "getTeam",
  "listTeamMembers",
  "listProjects",
  "getProject",
  "listProjectTeams",
  "getBillingAccount",
  "listUsageLimits",
  "listProjectAccess",
  "getProjectAccess",
  "setOrgQuota",
  "getOrgQuota",
  "queryAuditLog",
  "explainAuditQuery",
  "verifyAuditChain",
];
const VOID_METHODS = [
  "removeTeamMember",
  "removeProjectTeam",
  "deleteTeam",
  "deleteProject",
  "deleteIdentityProvider",
  "deleteUsageLimit",
  "deleteSecretRef",
];
for (const name of VALUE_METHODS) {
  ControlPlaneStore.prototype[name] = function (input) {
    return this._call(name, input ?? {});
  };
}
for (const name of VOID_METHODS) {
  ControlPlaneStore.prototype[name] = function (input) {
    this._call(name, input);
  };
}

module.exports = { ControlPlaneStore, ControlPlaneError, Database, Statement, ensureControlPlaneTables };
