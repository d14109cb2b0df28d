// A purge for the kill test: runs purgeExpired in small batches on a file, acknowledging
// each step's rows synchronously, until it is killed. A short pause between batches (a
// gateway's purge yields to its requests) keeps the run long enough to be killed midway.
const fs = require("node:fs");
const { ControlPlaneStore } = require("../..");

const [file, nowMs] = [process.argv[2], Number(process.argv[3])];
const store = new ControlPlaneStore(file);
fs.writeSync(1, "start\n");
for (;;) {
  const step = store.purgeExpired({ nowMs, batchSize: 25, maxBatches: 1 });
  fs.writeSync(1, `purged ${step.deleted._smithers_cp_audit_events ?? 0}\n`);
  if (step.done) break;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 3);
}
fs.writeSync(1, "done\n");
