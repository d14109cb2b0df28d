// A worker process for the quota race: tries to create `count` projects in org "acme" on
// a file and prints how many it was allowed.
const { ControlPlaneStore } = require("../..");

const [file, count, worker] = [process.argv[2], Number(process.argv[3]), process.argv[4]];
const store = new ControlPlaneStore(file);
let created = 0;
let refused = 0;
for (let i = 0; i < count; i++) {
  try {
    store.createProject({ orgId: "acme", slug: `${worker}-${i}`, name: "P" });
    created++;
  } catch (error) {
    if (error.code !== "QUOTA_EXCEEDED") throw error;
    refused++;
  }
}
store.close();
process.stdout.write(JSON.stringify({ created, refused }));
