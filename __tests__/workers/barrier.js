// The start barrier of the race workers: every worker opens its store, then spins until
// the same wall-clock instant (given by the parent), so that their calls really overlap.
// Each call's interval is recorded on that shared clock, for the parent to check overlap.
const { performance } = require("node:perf_hooks");

/** Milliseconds on a clock every process on the machine shares (with sub-ms precision). */
const now = () => performance.timeOrigin + performance.now();

function waitUntil(startAt) {
  while (now() < startAt) {
    // spin: a timer would wake each worker at a different moment
  }
}

/** Runs `call(i)` `count` times from `startAt`, recording each call's [start, end]. */
function race(startAt, count, call) {
  waitUntil(startAt);
  const intervals = [];
  const results = [];
  for (let i = 0; i < count; i++) {
    const start = now();
    results.push(call(i));
    intervals.push([start, now()]);
  }
  return { intervals, results };
}

module.exports = { now, race };
