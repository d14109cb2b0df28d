// `control-plane migrate --from sqlite:<file> --to postgres://...`, run as an operator runs
// it, against a real PostgreSQL server (`pg/server.js`; without PostgreSQL this fails, it
// never skips): every table across with a progress line, the audit chains verifying on the
// target, the same answers from both stores after; killed in the middle and run again, it
// goes on and ends with every row once; a target holding other data is refused. The same
// through PgBouncer in transaction mode (`pgbouncer=true`): the move holds the target by a
// lease recorded there, so a second move is BUSY while it holds it, and a killed one is
// taken over once its lease ran out.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile, spawn } from "node:child_process";
import path from "node:path";
import { ControlPlaneStore, Database } from "../index.js";
import { tempDir } from "./helpers";
import { startServer } from "./pg/server.js";

const BIN = path.join(__dirname, "..", "bin", "control-plane.js");
type Server = ReturnType<typeof startServer>;
let server: Server;
let throughPooler: (database: string) => string;

beforeAll(() => {
  server = startServer();
  throughPooler = server.pooler();
});
afterAll(() => server?.stop());

/** A database of its own on the test server. */
const freshPostgres = (): string => server.freshDatabase("m");
/** A database of its own, reached through PgBouncer in transaction mode (`pgbouncer=true`). */
const freshThroughPooler = (): string => throughPooler(new URL(freshPostgres()).pathname.slice(1));

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1);

/** A SQLite file with every concern in it, `events` usage events per org. */
function sourceFile(events: number): string {
  const file = path.join(tempDir(), "cp.db");
  const store = new ControlPlaneStore(file);
  for (const org of ["acme", "beta"]) {
    store.createOrg({ orgId: org, slug: org, name: org.toUpperCase(), createdAtMs: T0 });
    store.createProject({ orgId: org, projectId: "web", slug: "web", name: "Web", createdAtMs: T0 });
    store.createTeam({ orgId: org, teamId: "core", slug: "core", name: "Core", createdAtMs: T0 });
    store.addTeamMember({ orgId: org, teamId: "core", userId: "ann", role: "lead" });
    store.addProjectTeam({ orgId: org, projectId: "web", teamId: "core", role: "admin" });
    store.upsertBillingAccount({ orgId: org, plan: "team", status: "active" });
    store.putSecretRef({ orgId: org, name: "OPENAI", provider: "vault", ref: "vault://kv/openai" });
    store.setUsageLimit({ orgId: org, metric: "tokens", period: "monthly", limitQuantity: 1e12 });
    for (let i = 0; i < 20; i++) store.recordAuditEvent({ orgId: org, action: "thing.done", targetType: "thing", targetId: `t${i}`, occurredAtMs: T0 + i });
    for (let done = 0; done < events; done += 5_000) {
      const batch = Array.from({ length: Math.min(5_000, events - done) }, (_, i) => ({
        orgId: org,
        projectId: (done + i) % 2 ? "web" : undefined,
        metric: "tokens",
        quantity: ((done + i) % 13) + 0.5,
        observedAtMs: T0 + (done + i) * 1_000,
      }));
      store.recordUsageBatch(batch, { returning: "ids" });
    }
  }
  store.close();
  // A table of the gateway's own in the same file, which a move leaves behind.
  const db = new Database(file);
  db.exec("CREATE TABLE gateway_runs (id TEXT PRIMARY KEY); INSERT INTO gateway_runs VALUES ('run-1')");
  db.close();
  return file;
}

/** What both stores must answer alike after a move. */
/**
 * After a move: the moved store answers as the file does, and they go on alike (the next
 * ids and the chains continue from the copied heads).
 */
async function expectAnswersAlike(file: string, url: string) {
  const sqlite = new ControlPlaneStore(file);
  const pg = await ControlPlaneStore.connect(url);
  try {
    expect(await answers(pg as never)).toEqual(await answers(sqlite as never));
    const next = (s: { recordUsage: Function; recordAuditEvent: Function }) =>
      Promise.all([s.recordUsage({ orgId: "acme", metric: "tokens", quantity: 1, observedAtMs: T0 + DAY }), s.recordAuditEvent({ orgId: "beta", action: "after.move", targetType: "x", occurredAtMs: T0 + DAY })]);
    expect(await next(pg as never)).toEqual(await next(sqlite as never));
    expect(await pg.verifyAuditChain({ orgId: "beta" })).toMatchObject({ ok: true });
  } finally {
    sqlite.close();
    await pg.close();
  }
}

/**
 * After a move that was killed and resumed: every event once (the target's sums are the
 * source's), and every table of the file's (the rollups' aside: held to the rollups'
 * check) row for row, 30,000 events among them.
 */
async function expectEveryRowMoved(file: string, url: string) {
  const sqlite = new ControlPlaneStore(file);
  const pg = await ControlPlaneStore.connect(url);
  try {
    for (const org of ["acme", "beta"]) {
      const window = { orgId: org, sinceMs: 0, untilMs: T0 + 400 * DAY };
      expect(await pg.summarizeUsage(window)).toEqual(sqlite.summarizeUsage(window));
    }
    const fileTables = sqlite.stats().tables.filter((t) => !/rollup|series|dense|meta|purging/.test(t.table));
    const pgRows = new Map((await pg.stats()).tables.map((t) => [t.table, t.rows]));
    expect(fileTables.map((t) => [t.table, pgRows.get(t.table)])).toEqual(fileTables.map((t) => [t.table, t.rows]));
    expect(fileTables.find((t) => t.table === "_smithers_cp_usage_events")?.rows).toBe(30_000);
  } finally {
    sqlite.close();
    await pg.close();
  }
}

/**
 * Starts `migrate` in small steps (so it is well inside the usage events when it is killed)
 * and SIGKILLs it a little after it reached them: some steps of the events committed, and
 * one under way. Resolves once the child closed.
 */
async function killedInTheEvents(file: string, url: string, ...extra: string[]) {
  const child = spawn(process.execPath, [BIN, "migrate", "--from", `sqlite:${file}`, "--to", url, "--rows", "100", ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const closed = new Promise((resolve) => child.on("close", resolve));
  let stderr = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      if (stderr.includes("_smithers_cp_usage_events")) {
        setTimeout(() => {
          child.kill("SIGKILL");
          resolve();
        }, 150);
      }
    });
    child.on("exit", (code) => (code === 0 ? reject(new Error(`the move ended before it was killed: ${stderr}`)) : resolve()));
  });
  await closed;
  return { child, stderr };
}

async function answers(store: { [method: string]: (...args: unknown[]) => unknown }) {
  const out: unknown[] = [];
  for (const org of ["acme", "beta"]) {
    out.push(await store.getOrg(org));
    out.push(await store.listProjects({ orgId: org }));
    out.push(await store.listTeamMembers({ orgId: org, teamId: "core" }));
    out.push(await store.listSecretRefs({ orgId: org }));
    out.push(await store.getBillingAccount({ orgId: org }));
    out.push(await store.summarizeUsage({ orgId: org, groupBy: ["projectId"], sinceMs: 0, untilMs: T0 + 100 * DAY }));
    out.push(await store.checkUsageLimit({ orgId: org, metric: "tokens", period: "monthly", untilMs: T0 + 10 * DAY }));
    out.push(await store.queryAuditLog({ orgId: org, limit: 50 }));
    out.push(await store.verifyAuditChain({ orgId: org }));
  }
  return out;
}

describe("control-plane migrate", () => {
  it("moves every table with a progress line, and both stores answer alike after", async () => {
    const file = sourceFile(3_000);
    const url = freshPostgres();
    const moved = await cli("--json", "migrate", "--from", `sqlite:${file}`, "--to", url, "--rows", "700");
    expect(moved.code, moved.stderr).toBe(0);
    const report = JSON.parse(moved.stdout);
    expect(report).toMatchObject({ ok: true, orgs: 2, brokenAuditChains: [], rollupsConsistent: true, tables: 21 });
    // Piped: a progress line as each table begins, and a last one at 100%.
    const lines = moved.stderr.trim().split("\n");
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((l) => l.startsWith("migrating: "))).toBe(true);
    expect(lines.at(-1)).toMatch(new RegExp(`^migrating: ${report.rows}/${report.rows} rows \\(100%\\)`));
    expect(moved.stderr).toContain("_smithers_cp_usage_events");
    // The first table has its line too, before its first step.
    expect(lines[0]).toMatch(/^migrating: 0\/\d+ rows \(0%\), table 1\/21 _smithers_cp_orgs 0\/2,/);
    // Only the store's tables move: the gateway's own table in the file stays behind.
    const target = await ControlPlaneStore.connect(url);
    expect((await target.stats()).tables.map((t: { table: string }) => t.table)).not.toContain("gateway_runs");
    await target.close();

    // Run again once done: nothing to copy, verified again.
    const again = await cli("--json", "migrate", "--from", `sqlite:${file}`, "--to", url);
    expect([again.code, JSON.parse(again.stdout).ok, again.stderr]).toEqual([0, true, "this move was done already: checking the target again\n"]);

    await expectAnswersAlike(file, url);

    // The CLI works on the target as on the file.
    const listed = await cli("--url", url, "orgs", "list");
    expect(listed.stdout).toMatch(/acme\s+acme\s+ACME\s+active/);
    expect(JSON.parse((await cli("--url", url, "--json", "doctor")).stdout)).toEqual({ integrity: "ok", rollupsConsistent: true, rollupsRepaired: false, orgs: 2, brokenAuditChains: [] });

    // The source written to since: a move from it now is refused.
    const changed = await cli("migrate", "--from", `sqlite:${file}`, "--to", url);
    expect([changed.code, changed.stderr]).toEqual([1, expect.stringMatching(/^INVALID_INPUT: The target holds a move from another source, or from this one before it changed/)]);
  });

  it("killed in the middle, it goes on where it stopped when run again", async () => {
    const file = sourceFile(15_000);
    const url = freshPostgres();
    const { child } = await killedInTheEvents(file, url);
    expect(child.signalCode).toBe("SIGKILL");

    const resumed = await cli("--json", "migrate", "--from", `sqlite:${file}`, "--to", url, "--rows", "5000");
    expect(resumed.code, resumed.stderr).toBe(0);
    const [, before, total] = resumed.stderr.match(/^going on with the interrupted move: (\d+) of (\d+) rows were copied/) ?? [];
    expect(Number(before)).toBeGreaterThan(0);
    expect(Number(before)).toBeLessThan(Number(total));
    const report = JSON.parse(resumed.stdout);
    expect(report).toMatchObject({ ok: true, orgs: 2, brokenAuditChains: [], rollupsConsistent: true });
    await expectEveryRowMoved(file, url);
  });

  it("refuses a target that holds other data, and a source that is not a file", async () => {
    const url = freshPostgres();
    const other = await ControlPlaneStore.connect(url);
    await other.createOrg({ orgId: "other", slug: "other", name: "Other" });
    await other.close();
    const file = sourceFile(10);
    const refused = await cli("migrate", "--from", `sqlite:${file}`, "--to", url);
    expect([refused.code, refused.stderr.trim()]).toEqual([
      1,
      "INVALID_INPUT: The target already holds data (_smithers_cp_orgs has rows): a move copies into an empty database only.",
    ]);
    const missing = await cli("migrate", "--from", "sqlite:/nonexistent/cp.db", "--to", url);
    expect([missing.code, missing.stderr.trim()]).toEqual([1, "INVALID_INPUT: from must be sqlite:<path> of an existing file; there is no file at /nonexistent/cp.db."]);
    const notPg = await cli("migrate", "--from", `sqlite:${file}`, "--to", "mysql://x");
    expect([notPg.code, notPg.stderr.trim()]).toEqual([1, "INVALID_INPUT: to must be a postgres:// or postgresql:// URL; got mysql://x."]);
    const noLease = await cli("migrate", "--from", `sqlite:${file}`, "--to", url, "--lease", "0");
    expect([noLease.code, noLease.stderr.trim()]).toEqual([2, "error: option '--lease <seconds>' argument '0' is invalid. Between 1 and 86400 seconds."]);
  });

  it("through PgBouncer in transaction mode: moves every table, and the store answers as the source did", async () => {
    const file = sourceFile(3_000);
    const url = freshThroughPooler();
    const moved = await cli("--json", "migrate", "--from", `sqlite:${file}`, "--to", url, "--rows", "700");
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ ok: true, orgs: 2, brokenAuditChains: [], rollupsConsistent: true, tables: 21 });
    expect(moved.stderr.trim().split("\n").at(-1)).toMatch(/^migrating: (\d+)\/\1 rows \(100%\)/);
    // Its lease let go at its end: run again, it only checks.
    const again = await cli("--json", "migrate", "--from", `sqlite:${file}`, "--to", url);
    expect([again.code, JSON.parse(again.stdout).ok, again.stderr]).toEqual([0, true, "this move was done already: checking the target again\n"]);

    await expectAnswersAlike(file, url);
  });

  it("through PgBouncer, killed in the middle: another move is BUSY until its lease ran out, then goes on where it stopped", async () => {
    const file = sourceFile(15_000);
    const url = freshThroughPooler();
    const LEASE_S = 4;
    const { child, stderr } = await killedInTheEvents(file, url, "--lease", String(LEASE_S));
    const killedAt = Date.now();
    expect(child.signalCode, stderr).toBe("SIGKILL");

    // Behind the pooler its server connection lives on: only its lease's end says it stopped.
    const busy = await cli("migrate", "--from", `sqlite:${file}`, "--to", url);
    expect([busy.code, busy.stderr]).toEqual([1, expect.stringMatching(/^BUSY: Another move into this database is running; its hold on it ends in \d s unless it takes another step\.\n$/)]);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, LEASE_S * 1000 + 300 - (Date.now() - killedAt))));
    const resumed = await cli("--json", "migrate", "--from", `sqlite:${file}`, "--to", url, "--rows", "5000");
    expect(resumed.code, resumed.stderr).toBe(0);
    const [, before, total] = resumed.stderr.match(/^going on with the interrupted move: (\d+) of (\d+) rows were copied/) ?? [];
    expect(Number(before)).toBeGreaterThan(0);
    expect(Number(before)).toBeLessThan(Number(total));
    expect(JSON.parse(resumed.stdout)).toMatchObject({ ok: true, orgs: 2, brokenAuditChains: [], rollupsConsistent: true });
    await expectEveryRowMoved(file, url);
  });
});
