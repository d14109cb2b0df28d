// A worker process for the quota race: opens the file, waits at the start barrier, then
// tries to create `count` projects in org "acme", and prints how many it was allowed and
// the interval of each call.
const { ControlPlaneStore } = require("../..");
const { race } = require("./barrier");

const [file, count, worker] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
const store = new ControlPlaneStore(file);
race(count, (i) => {
  try {
    store.createProject({ orgId: "acme", slug: `${worker}-${i}`, name: "P" });
    return "created";
  } catch (error) {
    if (error.code !== "QUOTA_EXCEEDED") throw error;
    return "refused";
  }
}).then(({ intervals, results }) => {
  store.close();
  process.stdout.write(JSON.stringify({ results, intervals }));
});
