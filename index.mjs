// The ES module entry: the same classes and functions as the CommonJS entry.
import store from "./index.js";

export const { ControlPlaneStore, ControlPlaneError, Database, OrgScope, Statement, ensureControlPlaneTables } = store;
export default store;
