"use strict";
// What a balance costs as history grows: getBalance and a balance-checked consumeUsage on
// files with 1k and 1M usage events over the same 10 days (so the grants change as often in
// both: a daily plan with a rollover, a project's top-up that expires), against a plain
// consumeUsage on the same file; getBalance before any balance-checked write (read from the
// beginning) and after them (from the account's ledger). Twice: with the grants anchored at midnight UTC (a
// billing cycle's boundary), and at an arbitrary millisecond (each interval's edges then
// fall inside the rollups' finest buckets, the costliest windows). `node bench/credits.js`
// (part of `npm run bench:history`). Prints figures and ratios; asserts nothing.

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { ControlPlaneStore } = require("..");

const DAY = 86_400_000;
// Midnight UTC, and an arbitrary millisecond.
const ANCHORS = { "midnight": 1_700_006_400_000, "any ms": 1_700_000_000_123 };
const SPAN = 10 * DAY;
const CALLS = 300;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cp-credits-"));
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const us = (fn) => {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e3;
};

function build(file, events, START) {
  const store = new ControlPlaneStore(file);
  store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
  store.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web" });
  store.grantCredits({ orgId: "acme", metric: "tokens", amount: 1e12, effectiveAtMs: START, recurrence: { period: "daily", anchorMs: START }, rollover: { maxAmount: 1e11 } });
  store.grantCredits({ orgId: "acme", projectId: "web", metric: "tokens", amount: 1e6, effectiveAtMs: START, expiresAtMs: START + 5 * DAY });
  const gap = SPAN / events;
  for (let at = 0; at < events; at += 10_000) {
    const batch = Array.from({ length: Math.min(10_000, events - at) }, (_, k) => {
      const i = at + k;
      return { orgId: "acme", projectId: i % 3 ? "web" : null, metric: "tokens", quantity: 1 + (i % 7), observedAtMs: Math.floor(START + i * gap) };
    });
    store.recordUsageBatch(batch, { returning: "ids" });
  }
  store.checkRollups(); // fold the tail, as a long-running gateway would have
  store.close();
}

const rows = [];
const figures = {};
for (const [anchor, START] of Object.entries(ANCHORS)) for (const events of [1_000, 1_000_000]) {
  const file = path.join(dir, `credits-${events}.db`);
  fs.rmSync(file, { force: true });
  build(file, events, START);
  const store = new ControlPlaneStore(file);
  let t = START + SPAN + 1;
  const event = () => ({ orgId: "acme", projectId: "web", metric: "tokens", quantity: 1, observedAtMs: t++ });
  // In this order: a balance before any balance-checked write (from the beginning), then
  // the writes (each keeps the account's ledger), then a balance read from the ledger.
  const balance = () => store.getBalance({ orgId: "acme", projectId: "web", metric: "tokens", atMs: t });
  const measures = {
    "getBalance, no ledger": balance,
    "consumeUsage, requireBalance": () => store.consumeUsage(event(), { requireBalance: true }),
    "getBalance, ledger": balance,
    "consumeUsage, no balance": () => store.consumeUsage(event()),
  };
  for (const [name, fn] of Object.entries(measures)) {
    for (let i = 0; i < 30; i++) fn(); // warm
    const m = median(Array.from({ length: CALLS }, () => us(fn)));
    figures[`${anchor}/${name}/${events}`] = m;
    rows.push({ anchor, events: events.toLocaleString("en-US"), call: name, "µs (median)": m.toFixed(1) });
  }
  store.close();
}
for (const anchor of Object.keys(ANCHORS)) {
  for (const name of ["getBalance, no ledger", "consumeUsage, requireBalance", "getBalance, ledger", "consumeUsage, no balance"]) {
    const ratio = figures[`${anchor}/${name}/1000000`] / figures[`${anchor}/${name}/1000`];
    rows.push({ anchor, events: "1M / 1k", call: name, "µs (median)": `${ratio.toFixed(2)}x` });
  }
}
console.table(rows);
fs.rmSync(dir, { recursive: true, force: true });
