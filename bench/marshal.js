"use strict";
// What a call costs at the boundary between JS and Rust: µs per call of `recordUsage` and
// `checkUsageLimit` (and per event of a 100-event `recordUsageBatch`) on
// `new ControlPlaneStore(":memory:")`, the request path of a gateway.
// Runs under Node and Bun: `node bench/marshal.js`, `bun bench/marshal.js`.
//
//   BASE=before.node,after-reader.node node bench/marshal.js
//
// Each side is a build of the addon loaded in this one process: this build; this build
// with its inputs read by the addon rather than by index.js (a copy of it, its `gathered`
// table left out); and each file of BASE (other commits' `control-plane-store.node`,
// loaded with this index.js, which older builds ignore the new parts of). The sides
// alternate, round by round, so that the machine's noise falls on all alike; the figures
// are medians over the rounds, in CPU time (time spent waiting for a core is not the
// call's). Then, on this build, through its bench-only `marshalProbe`: the reader alone
// (a JS input to its typed request, no store), as the addon reads it in one pass and as it
// was read before (the whole object into a JSON value, then the request from that); and
// each result shape alone, as JSON text parsed by the realm's `JSON.parse` and as built by
// the realm's factory. Prints figures; asserts nothing.

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const ROUNDS = Number(process.env.ROUNDS || 15);
const CALLS = Number(process.env.CALLS || 4_000);

/** The package as `index.js` loads it, on the given addon file (or the default one). */
function load(native, { gathered = true } = {}) {
  if (native) process.env.CONTROL_PLANE_NATIVE_PATH = path.resolve(native);
  else delete process.env.CONTROL_PLANE_NATIVE_PATH;
  for (const key of [path.join(ROOT, "index.js"), path.join(ROOT, "binding.js")]) delete require.cache[key];
  if (!gathered) delete require(path.join(ROOT, "binding.js")).gathered;
  const pkg = require(path.join(ROOT, "index.js"));
  delete process.env.CONTROL_PLANE_NATIVE_PATH;
  return pkg;
}

const cpu = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
/** Microseconds of CPU per call of `fn(i)` over `n` calls. */
function perCall(n, fn) {
  const start = cpu();
  for (let i = 0; i < n; i++) fn(i);
  return (cpu() - start) / n;
}

// A gateway's event: seven fields, one of them metadata.
const usage = (i) => ({
  orgId: "acme",
  projectId: "web",
  metric: "tokens",
  quantity: 12,
  unit: "count",
  observedAtMs: 1_700_000_000_000 + i,
  metadata: { model: "small" },
});
const check = { orgId: "acme", projectId: "web", metric: "tokens", unit: "count", period: "monthly" };

function seeded(pkg) {
  const store = new pkg.ControlPlaneStore(":memory:");
  store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 0 });
  store.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web", createdAtMs: 0 });
  store.setUsageLimit({ orgId: "acme", projectId: "web", metric: "tokens", unit: "count", period: "monthly", limitQuantity: 1e15 });
  return store;
}

const runtime = typeof Bun !== "undefined" ? `Bun ${Bun.version}` : `Node ${process.versions.node}`;
// The same file loaded twice is one addon: the second side is a copy of it.
const thisBuild = path.join(ROOT, "control-plane-store.node");
const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cp-marshal-")), "control-plane-store.node");
const sides = [];
for (const file of (process.env.BASE || "").split(",").filter(Boolean)) sides.push([path.basename(file, ".node"), load(file)]);
if (fs.existsSync(thisBuild)) {
  fs.copyFileSync(thisBuild, copy);
  sides.push(["this build, inputs read by the addon", load(copy, { gathered: false })]);
}
sides.push(["this build", load(undefined)]);

// A batch of 100 such events: µs per event.
const batch = (i) => Array.from({ length: 100 }, (_, k) => usage(i * 100 + k));
const ops = {
  recordUsage: (store) => perCall(CALLS, (i) => store.recordUsage(usage(i))),
  checkUsageLimit: (store) => perCall(CALLS, () => store.checkUsageLimit(check)),
  recordUsageBatch: (store) => perCall(CALLS / 100, (i) => store.recordUsageBatch(batch(i))) / 100,
};
const stores = new Map(sides.map(([name, pkg]) => [name, seeded(pkg)]));
const rounds = new Map(sides.map(([name]) => [name, Object.fromEntries(Object.keys(ops).map((op) => [op, []]))]));
for (const store of stores.values()) {
  for (let i = 0; i < 2_000; i++) store.recordUsage(usage(i)), store.checkUsageLimit(check); // warm up
}
for (let round = 0; round < ROUNDS; round++) {
  for (const op of Object.keys(ops)) {
    // Each round starts with another side.
    const order = sides.map((_, i) => sides[(i + round) % sides.length]);
    for (const [name] of order) rounds.get(name)[op].push(ops[op](stores.get(name)));
  }
}
console.log(`${runtime}: µs of CPU per call over ${ROUNDS} alternating rounds of ${CALLS} calls, in memory: median (fastest round)`);
const width = Math.max(...sides.map(([name]) => name.length));
console.log(`  ${"".padEnd(width)}  ${"recordUsage".padStart(15)}  ${"checkUsageLimit".padStart(15)}  ${"recordUsageBatch, per event".padStart(27)}`);
const figure = (xs, width = 15) => `${median(xs).toFixed(2)} (${Math.min(...xs).toFixed(2)})`.padStart(width);
for (const [name] of sides) {
  const r = rounds.get(name);
  console.log(`  ${name.padEnd(width)}  ${figure(r.recordUsage)}  ${figure(r.checkUsageLimit)}  ${figure(r.recordUsageBatch, 27)}`);
}
for (const store of stores.values()) store.close();
fs.rmSync(path.dirname(copy), { recursive: true, force: true });

// The pieces alone, on this build.
const native = require(path.join(ROOT, "binding.js"));
if (typeof native.marshalProbe === "function") {
  load(undefined); // this build's realm registered last
  const piece = (what, input, n = 2_000) => {
    native.marshalProbe(what, input, n);
    const xs = [];
    for (let r = 0; r < ROUNDS; r++) xs.push(perCall(1, () => native.marshalProbe(what, input, n)) / n);
    return median(xs);
  };
  console.log(`  the pieces alone (marshalProbe), µs:`);
  const readers = [
    ["recordUsage's input", "readUsage", usage(0)],
    ["checkUsageLimit's input", "readCheck", check],
  ];
  for (const [label, what, input] of readers) {
    console.log(`    read ${label.padEnd(26)} whole object to a JSON value, then typed ${piece(`${what}:json`, input).toFixed(2)}   one pass ${piece(what, input).toFixed(2)}`);
  }
  for (const shape of native.marshalProbe("shapes", null, 0)) {
    const n = shape === "usageEvents" || shape === "usageIds" ? 50 : 2_000;
    const each = shape === "usageEvents" ? " (100 events)" : shape === "usageIds" ? " (1,000 ids)" : "";
    console.log(`    result ${(shape + each).padEnd(28)} JSON text + JSON.parse ${piece(`json:${shape}`, null, n).toFixed(2)}   factory ${piece(`factory:${shape}`, null, n).toFixed(2)}`);
  }
}
