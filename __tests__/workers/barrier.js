// The start barrier of the race workers: every worker opens its store, says "ready" on
// stdout and waits for a start time on stdin. The parent (overlappingRace in
// __tests__/helpers.ts) sends it once every worker is ready, the same wall-clock instant to
// all, and each spins until that instant, so that their calls really overlap. Each call's
// interval is recorded on that shared clock, for the parent to check overlap.
const { performance } = require("node:perf_hooks");

/** Milliseconds on a clock every process on the machine shares (with sub-ms precision). */
const now = () => performance.timeOrigin + performance.now();

/** Says "ready" and resolves to the start time the parent sends, one line on stdin. */
function startTime() {
  process.stdout.write("ready\n");
  return new Promise((resolve, reject) => {
    let text = "";
    process.stdin.setEncoding("utf8");
    process.stdin.on("data", (chunk) => (text += chunk));
    process.stdin.on("end", () => (Number.isFinite(Number(text)) && text.trim() ? resolve(Number(text)) : reject(new Error(`no start time on stdin: ${JSON.stringify(text)}`))));
  });
}

function waitUntil(startAt) {
  while (now() < startAt) {
    // spin: a timer would wake each worker at a different moment
  }
}

/** Waits for the start, then runs `call(i)` `count` times, recording each call's [start, end]. */
async function race(count, call) {
  waitUntil(await startTime());
  const intervals = [];
  const results = [];
  for (let i = 0; i < count; i++) {
    const start = now();
    results.push(await call(i));
    intervals.push([start, now()]);
  }
  return { intervals, results };
}

module.exports = { now, race, startTime, waitUntil };
