// A worker process for the quota race: waits at the start barrier, then tries to create
// `count` projects in org "acme" on a file, and prints how many it was allowed and the
// interval of each call.
const { ControlPlaneStore } = require("../..");
const { race } = require("./barrier");

const [file, count, worker, startAt] = [process.argv[2], Number(process.argv[3]), process.argv[4], Number(process.argv[5])];
const store = new ControlPlaneStore(file);
const { intervals, results } = race(startAt, count, (i) => {
  try {
    store.createProject({ orgId: "acme", slug: `${worker}-${i}`, name: "P" });
    return "created";
  } catch (error) {
    if (error.code !== "QUOTA_EXCEEDED") throw error;
    return "refused";
  }
});
store.close();
process.stdout.write(JSON.stringify({ created: results.filter((r) => r === "created").length, refused: results.filter((r) => r === "refused").length, intervals }));
