// A worker thread that loads the addon, uses stores (in memory and on a file), checks that
// its errors are ControlPlaneErrors of its own environment, closes them, and reports.
const { parentPort, workerData } = require("node:worker_threads");
const { ControlPlaneStore, ControlPlaneError, Database } = require("../..");

const out = { errors: [], orgs: 0, usage: 0, asyncExport: null };
const memory = new ControlPlaneStore(":memory:");
memory.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
for (let i = 0; i < 200; i++) memory.recordUsage({ orgId: "acme", metric: "tok", quantity: 1, observedAtMs: i });
out.usage = memory.summarizeUsage({ orgId: "acme" })[0].quantity;
try {
  memory.createOrg({ orgId: "acme", slug: "other", name: "Dup" });
} catch (error) {
  out.errors.push({ isControlPlaneError: error instanceof ControlPlaneError, isError: error instanceof Error, code: error.code, message: error.message });
}
const file = new ControlPlaneStore(workerData.file);
file.createOrg({ slug: `w${workerData.index}`, name: "W" });
const db = new Database(workerData.file);
out.orgs = db.query("SELECT COUNT(*) AS n FROM _smithers_cp_orgs").get().n;
db.close();
memory
  .exportOrgAuditAsync({ orgId: "nope" })
  .catch((error) => {
    out.asyncExport = { isControlPlaneError: error instanceof ControlPlaneError, code: error.code };
  })
  .then(() => {
    memory.close();
    file.close();
    parentPort.postMessage(out);
  });
