// A worker process for the races on the async store (`ControlPlaneStore.connect`): opens
// the store at `url`, waits at the start barrier (workers/barrier.js), then makes `count`
// calls one after another, and prints what each call was told and its interval on the
// shared clock.
//   consume: consumeUsage of 1 `runs` on acme/web, a key per call;
//   balance: the same with `requireBalance`;
//   project: createProject acme/<worker>-<i>, its result or error code;
//   loops: 4 loops at once (a pool of 4), each `count` consumeUsage of 1 `runs`, two on
//     acme and two on beta; each call's result or error, with the loop's interval;
//   teams: createTeam acme/<worker>-<i> until killed (no barrier, nothing printed).
const { ControlPlaneStore } = require("../..");
const { now, race, startTime, waitUntil } = require("./barrier");

const [url, mode, count, worker] = [process.argv[2], process.argv[3], Number(process.argv[4]), process.argv[5]];

async function main() {
  const store = await ControlPlaneStore.connect(url, { poolSize: mode === "loops" ? 4 : 1 });
  if (mode === "teams") {
    process.stdout.write("ready\n");
    for (let i = 0; ; i++) await store.createTeam({ orgId: "acme", teamId: `${worker}-${i}`, slug: `${worker}-${i}`, name: "T" });
  }
  // A first call opens the pool's connection before the barrier.
  await store.getOrg("acme");
  if (mode === "loops") {
    const startAt = await startTime();
    waitUntil(startAt);
    const loop = async (l) => {
      const started = now();
      const results = [];
      for (let i = 0; i < count; i++) {
        try {
          const out = await store.consumeUsage({ orgId: l % 2 ? "beta" : "acme", metric: "runs", quantity: 1 });
          results.push({ allowed: out.allowed, error: null });
        } catch (error) {
          results.push({ allowed: false, error: `${error.code}: ${error.message}` });
        }
      }
      return { results, interval: [started, now()] };
    };
    const loops = await Promise.all([0, 1, 2, 3].map(loop));
    await store.close();
    process.stdout.write(JSON.stringify({ results: loops.flatMap((l) => l.results), intervals: loops.map((l) => l.interval) }));
    return;
  }
  const { intervals, results } = await race(count, async (i) => {
    if (mode === "consume" || mode === "balance") {
      const options = mode === "balance" ? { requireBalance: true } : undefined;
      const out = await store.consumeUsage({ orgId: "acme", projectId: "web", metric: "runs", quantity: 1, idempotencyKey: `${worker}-${i}` }, options);
      return { allowed: out.allowed, id: out.event ? out.event.id : null };
    }
    const projectId = `${worker}-${i}`;
    try {
      await store.createProject({ orgId: "acme", projectId, slug: projectId, name: projectId });
      return { created: true, code: null };
    } catch (error) {
      return { created: false, code: error.code };
    }
  });
  await store.close();
  process.stdout.write(JSON.stringify({ results, intervals }));
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
