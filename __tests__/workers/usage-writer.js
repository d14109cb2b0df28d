// A usage writer for the many-writers test, run as a process or as a worker thread:
// records usage on a file for `ms` milliseconds and reports how much was acknowledged.
const { isMainThread, parentPort, workerData } = require("node:worker_threads");
const { ControlPlaneStore } = require("../..");

const { file, ms, name } = isMainThread
  ? { file: process.argv[2], ms: Number(process.argv[3]), name: process.argv[4] }
  : workerData;
const store = new ControlPlaneStore(file);
let quantity = 0;
let events = 0;
const errors = [];
const end = Date.now() + ms;
while (Date.now() < end) {
  try {
    const q = 1 + (events % 5);
    store.recordUsage({ orgId: "acme", metric: "tokens", quantity: q, runId: `${name}-${events}` });
    quantity += q;
    events++;
  } catch (error) {
    errors.push(`${error.code}: ${error.message}`);
    break;
  }
}
store.close();
const result = JSON.stringify({ name, quantity, events, errors });
if (isMainThread) process.stdout.write(result);
else parentPort.postMessage(result);
