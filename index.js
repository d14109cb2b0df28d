"use strict";
// The CommonJS entry: loads the native addon (binding.js) and exports the package. Every
// load of this file hands the addon this realm's `ControlPlaneError`, `JSON.parse` and
// result factories (`useRealm`; lib/results.js builds them from the addon's shapes), and the addon builds its
// errors and results in the last realm that loaded it: a test runner that gives each test
// file a realm of its own (Jest, Vitest's vm pools) loads this file again in each file, so
// every file sees errors that are instances of its own `Error` and of the class it
// imported. It also puts the request path's input readers (lib/readers.js) on the addon's
// classes and gives the async store its methods (lib/async.js).

const native = require("./binding.js");
const results = require("./lib/results.js");
const { installReaders } = require("./lib/readers.js");
const { AsyncControlPlaneStore, AsyncOrgScope, installAsyncMethods, startMigrationOn } = require("./lib/async.js");

// The error class is defined here, in the entry: each load of the package's entry (each
// realm, each copy of the package) has its own, and `instanceof` holds across them (its
// brand).
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

native.useRealm(ControlPlaneError, JSON.parse, results.factories(JSON.parse(native.resultShapes())));
installReaders(native);
installAsyncMethods(native);

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
exports.startMigration = startMigrationOn(native, ControlPlaneError);
