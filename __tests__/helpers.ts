import { expect } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { ControlPlaneError, ControlPlaneStore, Database } from "../index.js";

export function memoryStore() {
  const db = new Database(":memory:");
  const store = new ControlPlaneStore(db);
  return { db, store };
}

/** A store with one org `acme` and one project `web`, at fixed times. */
export function seededStore() {
  const { db, store } = memoryStore();
  store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1_000 });
  store.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web", createdAtMs: 2_000 });
  return { db, store };
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "cp-store-"));
}

/** Runs `fn`, expects a ControlPlaneError with this code (and message / details when given). */
export function expectError(
  fn: () => unknown,
  code: string,
  message?: string | RegExp,
  details?: Record<string, unknown>,
): ControlPlaneError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ControlPlaneError);
  const error = caught as ControlPlaneError;
  expect(error).toBeInstanceOf(Error);
  expect(error.code).toBe(code);
  expect(error.message).toBe(error.summary);
  if (typeof message === "string") expect(error.message).toBe(message);
  if (message instanceof RegExp) expect(error.message).toMatch(message);
  if (details) expect(error.details).toEqual(details);
  return error;
}

export function count(db: Database, table: string): number {
  return Number(db.query(`SELECT COUNT(*) AS n FROM ${table}`).get()!.n);
}

/** An active org as the store returns it. */
export function activeOrg(fields: { orgId: string; slug: string; name: string; createdAtMs: number }) {
  return { ...fields, status: "active", suspendedAtMs: null, suspendReason: null, deletedAtMs: null };
}

/** Every `_smithers_cp_` table in the file. */
export function controlPlaneTables(db: Database): string[] {
  return db.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '\\_smithers\\_cp\\_%' ESCAPE '\\' ORDER BY name").all().map((r) => String(r.name));
}

/** The tables that hold rows of one org (all but the store's own single-row bookkeeping). */
export function orgTables(db: Database): string[] {
  const bookkeeping = ["_smithers_cp_native_meta", "_smithers_cp_usage_rollup_state", "_smithers_cp_usage_purging"];
  return controlPlaneTables(db).filter((t) => !bookkeeping.includes(t));
}

/** How many rows of `table` belong to the org (rollups through their series). */
export function orgRows(db: Database, table: string, orgId: string): number {
  const where =
    table === "_smithers_cp_usage_rollups" ? "series IN (SELECT id FROM _smithers_cp_usage_series WHERE org_id = ?)" : "org_id = ?";
  return Number(db.query(`SELECT COUNT(*) AS n FROM ${table} WHERE ${where}`).get(orgId)!.n);
}

/**
 * How many pairs of calls of different workers overlapped in time: a race test proves
 * nothing unless this is well above zero.
 */
export function overlappingPairs(workers: [number, number][][]): number {
  let pairs = 0;
  for (let a = 0; a < workers.length; a++) {
    for (let b = a + 1; b < workers.length; b++) {
      for (const [s1, e1] of workers[a]) {
        for (const [s2, e2] of workers[b]) if (s1 < e2 && s2 < e1) pairs++;
      }
    }
  }
  return pairs;
}

/** What a race worker prints: each call's result and its [start, end] on the shared clock. */
export type Raced<R> = { results: R[]; intervals: [number, number][] };

/**
 * Starts one worker process per argument list (`node ...args`) and races them: each opens
 * its store, says "ready" and waits; once every worker is ready, all are sent the same
 * instant a little ahead (`workers/barrier.js`), spin until it, make their calls and print
 * what they were told. Only then is the start set, so a worker slow to load on a busy
 * machine cannot miss it.
 */
function raceOnce(workers: string[][]): Promise<string[]> {
  const ready: (() => void)[] = [];
  const allReady = Promise.all(workers.map(() => new Promise<void>((resolve) => ready.push(resolve))));
  const children = workers.map((args) => spawn(process.execPath, args, { stdio: ["pipe", "pipe", "pipe"] }));
  const outputs = children.map(
    (child, w) =>
      new Promise<string>((resolve, reject) => {
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (chunk) => {
          stdout += chunk;
          if (stdout.startsWith("ready\n")) ready[w]();
        });
        child.stderr!.on("data", (chunk) => (stderr += chunk));
        child.on("error", reject);
        child.on("close", (code) => {
          ready[w](); // a worker that died before it was ready must not hold up the others
          if (code === 0 && stdout.startsWith("ready\n")) resolve(stdout.slice("ready\n".length));
          else reject(new Error(`race worker ${args(workers[w])} exited ${code}: ${stderr}${stdout}`));
        });
      }),
  );
  void allReady.then(() => {
    const startAt = performance.timeOrigin + performance.now() + 100;
    for (const child of children) child.stdin!.end(`${startAt}\n`);
  });
  return Promise.all(outputs);
}

const args = (list: string[]) => list.map((a) => path.basename(a)).join(" ");

/**
 * A race of worker processes that really overlapped: `round()` prepares a fresh database
 * and returns the workers' argument lists; the race is run, and when fewer than `minPairs`
 * pairs of calls of different workers overlapped in time (a busy machine ran one worker
 * after the other), it is prepared and run again, `attempts` times at most. Returns each
 * worker's output and the overlapping pairs of the race kept.
 */
export async function overlappingRace<R>(
  label: string,
  minPairs: number,
  round: () => string[][] | Promise<string[][]>,
  attempts = 4,
): Promise<{ parsed: Raced<R>[]; overlaps: number }> {
  let overlaps = 0;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const parsed = (await raceOnce(await round())).map((out) => JSON.parse(out) as Raced<R>);
    overlaps = overlappingPairs(parsed.map((p) => p.intervals));
    console.log(`${label}: ${overlaps} overlapping pairs of calls (race ${attempt} of at most ${attempts})`);
    if (overlaps > minPairs) return { parsed, overlaps };
  }
  throw new Error(`${label}: the workers never overlapped more than ${minPairs} pairs of calls in ${attempts} races (last: ${overlaps})`);
}
