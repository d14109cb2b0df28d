"use strict";
// What a call costs at the boundary between JS and Rust: µs per call of `recordUsage` and
// `checkUsageLimit` on `new ControlPlaneStore(":memory:")`, the request path of a gateway.
// Runs under Node and Bun: `node bench/marshal.js`, `bun bench/marshal.js`.
//
//   BASE=/path/to/other.node node bench/marshal.js
//
// also loads another build of the addon (an older commit's `control-plane-store.node`)
// in the same process and alternates the two, round by round, so that the machine's noise
// falls on both alike: the figures are medians over the rounds, in CPU time. Then, for this build, the
// reader alone (a JS input to the typed request, no store) and each result shape alone
// (the same result as JSON text parsed by the realm's `JSON.parse`, and built by the
// realm's factory), through the addon's bench-only `marshalProbe`. Prints figures;
// asserts nothing.

const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const ROUNDS = Number(process.env.ROUNDS || 15);
const CALLS = Number(process.env.CALLS || 4_000);

/** The package as `index.js` loads it, on the given addon file (or the default one). */
function load(native) {
  if (native) process.env.CONTROL_PLANE_NATIVE_PATH = path.resolve(native);
  else delete process.env.CONTROL_PLANE_NATIVE_PATH;
  for (const key of Object.keys(require.cache)) {
    if (key === path.join(ROOT, "index.js") || key === path.join(ROOT, "binding.js")) delete require.cache[key];
  }
  const pkg = require(path.join(ROOT, "index.js"));
  delete process.env.CONTROL_PLANE_NATIVE_PATH;
  return pkg;
}

// CPU time, not wall time: on a machine shared with others, time spent waiting for a core
// is not the call's.
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
const sides = [["this build", load(undefined)]];
if (process.env.BASE) sides.push([`BASE (${path.basename(process.env.BASE)})`, load(process.env.BASE)]);
// The last realm registered is the one results are built in: each side registers its own
// (its addon keeps its own), so loading order does not matter here.

const ops = {
  recordUsage: (store) => perCall(CALLS, (i) => store.recordUsage(usage(i))),
  checkUsageLimit: (store) => perCall(CALLS, () => store.checkUsageLimit(check)),
};
const figures = {};
for (const [name, pkg] of sides) {
  const store = seeded(pkg);
  for (let i = 0; i < 2_000; i++) store.recordUsage(usage(i)), store.checkUsageLimit(check); // warm up
  figures[name] = { store, rounds: Object.fromEntries(Object.keys(ops).map((op) => [op, []])) };
}
for (let round = 0; round < ROUNDS; round++) {
  for (const op of Object.keys(ops)) {
    // Alternate which side goes first.
    const order = round % 2 ? [...sides].reverse() : sides;
    for (const [name] of order) figures[name].rounds[op].push(ops[op](figures[name].store));
  }
}
console.log(`${runtime}: µs of CPU per call, median of ${ROUNDS} alternating rounds of ${CALLS} calls, in memory`);
for (const op of Object.keys(ops)) {
  const row = sides.map(([name]) => `${name} ${median(figures[name].rounds[op]).toFixed(2)}`);
  console.log(`  ${op.padEnd(16)} ${row.join("   ")}`);
}
for (const [name] of sides) figures[name].store.close();

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
    console.log(`    read ${label.padEnd(26)} before (whole object to a JSON value, then typed) ${piece(`${what}:json`, input).toFixed(2)}   one pass ${piece(what, input).toFixed(2)}`);
  }
  for (const shape of native.marshalProbe("shapes", null, 0)) {
    const n = shape === "usageEvents" || shape === "usageIds" ? 50 : 2_000;
    const each = shape === "usageEvents" ? " (100 events)" : shape === "usageIds" ? " (1,000 ids)" : "";
    console.log(`    result ${(shape + each).padEnd(28)} JSON text + JSON.parse ${piece(`json:${shape}`, null, n).toFixed(2)}   factory ${piece(`factory:${shape}`, null, n).toFixed(2)}`);
  }
}
