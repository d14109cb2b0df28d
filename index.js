"use strict";
// The CommonJS entry: loads the native addon and re-exports its classes. The one thing
// defined here is the error class, handed to the addon in each environment (the main
// thread and each worker thread), which then throws instances of it. The addon keeps the
// first class it is given and returns it, so every copy of this module exports the class
// of the errors it will see.

const native = require("./control-plane-store.node");

/** Every error the store throws: `code`, `summary` (also `message`) and `details`. */
const ControlPlaneError = native.errorClass(
  class ControlPlaneError extends Error {
    constructor(code, summary, details) {
      super(summary);
      this.name = "ControlPlaneError";
      this.code = code;
      this.summary = summary;
      this.details = details;
    }
  },
);

module.exports = {
  ControlPlaneStore: native.ControlPlaneStore,
  ControlPlaneError,
  Database: native.Database,
  OrgScope: native.OrgScope,
  Statement: native.Statement,
  ensureControlPlaneTables: native.ensureControlPlaneTables,
};
