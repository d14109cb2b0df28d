// A worker process for the consumeUsage race: opens the file, waits at the start barrier,
// then calls consumeUsage `count` times with the default time (now), and prints what it
// was told and the interval of each call. With a fifth argument `balance`, each call asks
// for the balance to cover it (`requireBalance`).
const { ControlPlaneStore } = require("../..");
const { race } = require("./barrier");

const [file, count, worker, mode] = [process.argv[2], Number(process.argv[3]), process.argv[4], process.argv[5]];
const options = mode === "balance" ? { requireBalance: true } : undefined;
const store = new ControlPlaneStore(file);
race(count, (i) => {
  const out = store.consumeUsage({ orgId: "acme", projectId: "web", metric: "runs", quantity: 1, idempotencyKey: `${worker}-${i}` }, options);
  return { allowed: out.allowed, id: out.event ? out.event.id : null };
}).then(({ intervals, results }) => {
  store.close();
  process.stdout.write(JSON.stringify({ results, intervals }));
});
