// Exports an org's audit log to a file and reports the process's peak resident memory,
// sampled while the export runs off the JS thread.
const { ControlPlaneStore } = require("../..");

const [file, out, format] = process.argv.slice(2);
const store = new ControlPlaneStore(file);
let peak = process.memoryUsage().rss;
const timer = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage().rss);
}, 5);
let ticks = 0;
const ticker = setInterval(() => ticks++, 10);
store.exportOrgAuditToFile({ orgId: "acme", path: out, format }).then((report) => {
  clearInterval(timer);
  clearInterval(ticker);
  peak = Math.max(peak, process.memoryUsage().rss);
  store.close();
  process.stdout.write(JSON.stringify({ report, peakRssBytes: peak, ticks }));
});
