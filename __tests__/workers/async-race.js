// A worker process for the races on the async store (`ControlPlaneStore.connect`): opens
// the store at `url`, waits at the start barrier (workers/barrier.js), then makes `count`
// calls one after another, and prints what each call was told and its interval on the
// shared clock.
//   consume: consumeUsage of 1 `runs` on acme/web, a key per call;
//   project: createProject acme/<worker>-<i>, its result or error code;
//   teams: createTeam acme/<worker>-<i> until killed (no barrier, nothing printed).
const { ControlPlaneStore } = require("../..");
const { race } = require("./barrier");

const [url, mode, count, worker] = [process.argv[2], process.argv[3], Number(process.argv[4]), process.argv[5]];

async function main() {
  const store = await ControlPlaneStore.connect(url, { poolSize: 1 });
  if (mode === "teams") {
    process.stdout.write("ready\n");
    for (let i = 0; ; i++) await store.createTeam({ orgId: "acme", teamId: `${worker}-${i}`, slug: `${worker}-${i}`, name: "T" });
  }
  // A first call opens the pool's connection before the barrier.
  await store.getOrg("acme");
  const { intervals, results } = await race(count, async (i) => {
    if (mode === "consume") {
      const out = await store.consumeUsage({ orgId: "acme", projectId: "web", metric: "runs", quantity: 1, idempotencyKey: `${worker}-${i}` });
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
