// A worker process for the concurrency tests: calls consumeUsage `count` times on a file
// and prints one JSON line per call with what it was told.
const { ControlPlaneStore } = require("../..");

const [file, count, worker] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
const store = new ControlPlaneStore(file);
const results = [];
for (let i = 0; i < count; i++) {
  const out = store.consumeUsage({
    orgId: "acme",
    projectId: "web",
    metric: "runs",
    quantity: 1,
    idempotencyKey: `${worker}-${i}`,
    observedAtMs: 1_000_000,
  });
  results.push({ allowed: out.allowed, id: out.event ? out.event.id : null });
}
store.close();
process.stdout.write(JSON.stringify(results));
