// A worker thread using the async store on PostgreSQL: records usage under its own org
// through its own pool, checks its errors are ControlPlaneErrors of its own environment,
// and reports.
const { parentPort, workerData } = require("node:worker_threads");
const { ControlPlaneStore, ControlPlaneError } = require("../..");

(async () => {
  const store = await ControlPlaneStore.connect(workerData.url, { poolSize: 2 });
  const orgId = `w${workerData.index}`;
  await store.createOrg({ orgId, slug: orgId, name: "W" });
  const scope = store.forOrg(orgId);
  await Promise.all(Array.from({ length: 100 }, (_, i) => scope.recordUsage({ metric: "tok", quantity: 1, observedAtMs: i })));
  const usage = (await scope.summarizeUsage({}))[0].quantity;
  let error = null;
  try {
    await store.createOrg({ orgId, slug: "other", name: "Dup" });
  } catch (e) {
    error = { isControlPlaneError: e instanceof ControlPlaneError, isError: e instanceof Error, code: e.code };
  }
  await store.close();
  parentPort.postMessage({ usage, error });
})().catch((e) => parentPort.postMessage({ failed: String(e && e.stack) }));
