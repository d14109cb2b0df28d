import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { ControlPlaneError, ControlPlaneStore, Database } from "../index.js";
import { controlPlaneTables, expectError, seededStore, tempDir } from "./helpers";

const run = promisify(execFile);

describe("crash safety", () => {
  it("20 SIGKILLs at random moments after acknowledged writes: the file is intact, every acknowledged write is there, no row lacks its audit event, every chain verifies", async () => {
    const file = path.join(tempDir(), "crash.db");
    new ControlPlaneStore(file).close();
    const acked: Record<string, string[]> = { org: [], project: [], usage: [], secret: [], audit: [] };
    for (let round = 0; round < 20; round++) {
      const child = spawn(process.execPath, [path.join(__dirname, "workers/crash.js"), file, String(round)], { stdio: ["ignore", "pipe", "inherit"] });
      const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once("close", (code, signal) => resolve({ code, signal })),
      );
      let buffered = "";
      let ackedThisRound = 0;
      let killAt: Promise<void> | undefined;
      child.stdout!.on("data", (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split("\n");
        buffered = lines.pop()!;
        for (const line of lines) {
          const [kind, id] = line.split(" ");
          acked[kind].push(id);
          ackedThisRound++;
        }
        // The first acknowledgement arms the kill: a random moment after it, often in the
        // middle of a batch of 200 events.
        if (!killAt && ackedThisRound > 0) {
          killAt = new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 120)));
          void killAt.then(() => child.kill("SIGKILL"));
        }
      });
      // Acknowledgements are collected until the pipe closes, not just until exit.
      const exit = await closed;
      expect(exit.signal).toBe("SIGKILL");
      expect(ackedThisRound).toBeGreaterThan(0);

      const db = new Database(file);
      expect(db.query("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
      const has = (sql: string, ...params: (string | number)[]) => db.query(sql).get(...params) !== null;
      for (const orgId of acked.org) expect(has("SELECT 1 FROM _smithers_cp_orgs WHERE org_id = ?", orgId)).toBe(true);
      for (const orgId of acked.project) expect(has("SELECT 1 FROM _smithers_cp_projects WHERE org_id = ? AND project_id = 'p'", orgId)).toBe(true);
      for (const id of acked.usage) expect(has("SELECT 1 FROM _smithers_cp_usage_events WHERE id = ?", Number(id))).toBe(true);
      for (const orgId of acked.secret) expect(has("SELECT 1 FROM _smithers_cp_secret_refs WHERE org_id = ? AND name = 'KEY'", orgId)).toBe(true);
      for (const id of acked.audit) expect(has("SELECT 1 FROM _smithers_cp_audit_events WHERE id = ?", Number(id))).toBe(true);
      // Every row a mutation wrote has its audit event, whether or not it was acknowledged.
      const orphans = db.query(`
        SELECT 'org' AS kind, org_id AS id FROM _smithers_cp_orgs o WHERE NOT EXISTS
          (SELECT 1 FROM _smithers_cp_audit_events a WHERE a.org_id = o.org_id AND a.action = 'org.create')
        UNION ALL SELECT 'project', org_id FROM _smithers_cp_projects p WHERE NOT EXISTS
          (SELECT 1 FROM _smithers_cp_audit_events a WHERE a.org_id = p.org_id AND a.action = 'project.create' AND a.target_id = p.project_id)
        UNION ALL SELECT 'secret', org_id FROM _smithers_cp_secret_refs s WHERE NOT EXISTS
          (SELECT 1 FROM _smithers_cp_audit_events a WHERE a.org_id = s.org_id AND a.action = 'secret_ref.upsert' AND a.target_id = s.name)`).all();
      expect(orphans).toEqual([]);
      db.close();
    }
    // The kills landed mid-stream, and the store still opens and verifies every org's chain.
    expect(acked.usage.length).toBeGreaterThan(20);
    console.log(`crash: 20 kills, ${Object.values(acked).reduce((n, a) => n + a.length, 0)} acknowledged writes (${acked.usage.length} usage events), all present`);
    const store = new ControlPlaneStore(file);
    const db = new Database(file);
    const orgs = db.query("SELECT org_id FROM _smithers_cp_orgs").all().map((r) => String(r.org_id));
    expect(orgs.length).toBeGreaterThanOrEqual(acked.org.length);
    for (const orgId of orgs) expect(store.verifyAuditChain({ orgId })).toMatchObject({ ok: true, unchained: 0 });
    db.close();
    store.close();
  });
});

describe("many writers", () => {
  it("4 processes and 4 worker threads record usage on one file: no error escapes, and the total is what was acknowledged", async () => {
    const file = path.join(tempDir(), "writers.db");
    const setup = new ControlPlaneStore(file);
    setup.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    setup.close();
    const script = path.join(__dirname, "workers/usage-writer.js");
    const ms = 2_000;
    const processes = [0, 1, 2, 3].map((i) => run(process.execPath, [script, file, String(ms), `proc${i}`]).then((o) => o.stdout));
    const threads = [0, 1, 2, 3].map(
      (i) =>
        new Promise<string>((resolve, reject) => {
          const worker = new Worker(script, { workerData: { file, ms, name: `thread${i}` } });
          worker.once("message", resolve);
          worker.once("error", reject);
        }),
    );
    const results = (await Promise.all([...processes, ...threads])).map((r) => JSON.parse(r) as { quantity: number; events: number; errors: string[] });
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    expect(results.every((r) => r.events > 0)).toBe(true);
    const store = new ControlPlaneStore(file);
    const [summary] = store.summarizeUsage({ orgId: "acme" });
    expect(summary.quantity).toBe(results.reduce((n, r) => n + r.quantity, 0));
    const db = new Database(file);
    expect(db.query("SELECT COUNT(*) AS n FROM _smithers_cp_usage_events").get()!.n).toBe(results.reduce((n, r) => n + r.events, 0));
    db.close();
    store.close();
  });
});

describe("no secret values", () => {
  const planted = {
    privateKey: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----",
    aws: "AKIAIOSFODNN7EXAMPLE",
    github: "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    slack: "xoxb-123456789012-abcdefghijklmnop",
    stripe: "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.SflKxwRJSMeKKF2QT4fwpMeJf36POk6y",
    random: "q8Zr2LmX0pVb7NcT4wKy9HsJ3dFg6AeU",
  };

  it("putSecretRef refuses credentials with SECRET_VALUE_REJECTED, and no table holds them after a full scenario", () => {
    const { db, store } = seededStore();
    for (const [kind, value] of Object.entries(planted)) {
      const error = expectError(() => store.putSecretRef({ orgId: "acme", name: kind, provider: "vault", ref: value }), "SECRET_VALUE_REJECTED", /looks like a secret value/);
      expect(error.message).not.toContain(value.slice(4, 20));
      expect(error.details).toMatchObject({ field: "ref" });
    }
    // References of every common shape are accepted.
    for (const ref of ["vault://kv/openai", "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/openai-AbCdEf", "projects/1/secrets/openai/versions/latest", "op://Eng/OpenAI/credential"]) {
      expect(store.putSecretRef({ orgId: "acme", name: `ok-${ref.length}`, provider: "p", ref }).ref).toBe(ref);
    }
    store.createTeam({ orgId: "acme", slug: "core", name: "Core" });
    store.recordUsage({ orgId: "acme", metric: "m", quantity: 1 });
    store.exportOrgAudit({ orgId: "acme" });
    const tables = controlPlaneTables(db);
    expect(tables.length).toBeGreaterThan(15);
    const scan = () => {
      const found: string[] = [];
      for (const table of tables) {
        const text = JSON.stringify(db.query(`SELECT * FROM ${table}`).all());
        for (const [kind, value] of Object.entries(planted)) if (text.includes(value)) found.push(`${table}: ${kind}`);
      }
      return found;
    };
    expect(scan()).toEqual([]);
    // The scan itself finds a value that got in: planted by raw SQL, past the store.
    db.query("INSERT INTO _smithers_cp_secret_refs (org_id, project_key, name, provider, ref, created_at_ms) VALUES ('acme', '__org__', 'raw', 'vault', ?, 1)").run(planted.github);
    db.query("UPDATE _smithers_cp_audit_events SET metadata_json = ? WHERE id = 1").run(JSON.stringify({ note: planted.jwt }));
    expect(scan()).toEqual(["_smithers_cp_audit_events: jwt", "_smithers_cp_secret_refs: github"]);
  });
});

describe("hostile input", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  let deep: unknown = 1;
  for (let i = 0; i < 40; i++) deep = { d: deep };
  const hostile: unknown[] = [
    undefined, null, NaN, Infinity, -Infinity, -1, 0, 1e300, -0, 2 ** 64, "", " ", "x".repeat(1 << 20), "'; DROP TABLE _smithers_cp_orgs; --",
    "\ud800", "a\u0000b", "__org__", "__proto__", true, [], [1, 2], {}, { __proto__: { polluted: true } }, JSON.parse('{"__proto__": {"x": 1}, "constructor": {"prototype": {}}}'),
    cyclic, deep, () => 1, Symbol("s"), 10n, new Date(0), new Uint8Array(3), { toJSON: () => { throw new Error("boom"); } },
  ];
  const methods: [string, Record<string, unknown>][] = [
    ["createOrg", { slug: "s", name: "n" }],
    ["createTeam", { orgId: "acme", slug: "s", name: "n" }],
    ["addTeamMember", { orgId: "acme", teamId: "t", userId: "u" }],
    ["createProject", { orgId: "acme", slug: "s", name: "n" }],
    ["addProjectTeam", { orgId: "acme", projectId: "web", teamId: "t" }],
    ["upsertBillingAccount", { orgId: "acme", plan: "p" }],
    ["upsertIdentityProvider", { orgId: "acme", type: "saml", issuer: "i" }],
    ["listIdentityProviders", { orgId: "acme" }],
    ["recordUsage", { orgId: "acme", metric: "m", quantity: 1 }],
    ["consumeUsage", { orgId: "acme", metric: "m", quantity: 1 }],
    ["summarizeUsage", { orgId: "acme" }],
    ["setUsageLimit", { orgId: "acme", metric: "m", limitQuantity: 1 }],
    ["checkUsageLimit", { orgId: "acme", metric: "m" }],
    ["putSecretRef", { orgId: "acme", name: "n", provider: "p", ref: "vault://r" }],
    ["listSecretRefs", { orgId: "acme" }],
    ["recordAuditEvent", { orgId: "acme", action: "a", targetType: "t" }],
    ["exportOrgAudit", { orgId: "acme" }],
    ["suspendOrg", { orgId: "acme", reason: "r" }],
    ["listOrgs", {}],
    ["listTeams", { orgId: "acme" }],
    ["listProjects", { orgId: "acme" }],
    ["listUsageLimits", { orgId: "acme" }],
    ["removeTeamMember", { orgId: "acme", teamId: "t", userId: "u" }],
    ["deleteSecretRef", { orgId: "acme", name: "n" }],
    ["setOrgQuota", { orgId: "acme", maxProjects: 5 }],
    ["queryAuditLog", { orgId: "acme" }],
    ["getProjectAccess", { orgId: "acme", projectId: "web", userId: "u" }],
  ];
  const codes = new Set(["INVALID_INPUT", "DUPLICATE_ID", "NOT_FOUND", "QUOTA_EXCEEDED", "ORG_SUSPENDED", "SECRET_VALUE_REJECTED", "IDEMPOTENCY_CONFLICT"]);

  /** What a successful write returned, checked against the row it wrote (read by raw SQL). */
  const written: Record<string, (db: Database, out: any, input: any) => void> = {
    createOrg: (db, out) => expect(db.query("SELECT org_id AS orgId, slug, name, created_at_ms AS createdAtMs FROM _smithers_cp_orgs WHERE org_id = ?").get(out.orgId)).toEqual({ orgId: out.orgId, slug: out.slug, name: out.name, createdAtMs: out.createdAtMs }),
    createTeam: (db, out) => expect(db.query("SELECT slug, name FROM _smithers_cp_teams WHERE org_id = ? AND team_id = ?").get(out.orgId, out.teamId)).toEqual({ slug: out.slug, name: out.name }),
    createProject: (db, out) => expect(db.query("SELECT slug, name, metadata_json AS m FROM _smithers_cp_projects WHERE org_id = ? AND project_id = ?").get(out.orgId, out.projectId)).toEqual({ slug: out.slug, name: out.name, m: JSON.stringify(out.metadata) }),
    recordUsage: (db, out) => expect(db.query("SELECT org_id AS orgId, metric, quantity, unit, observed_at_ms AS observedAtMs FROM _smithers_cp_usage_events WHERE id = ?").get(out.id)).toEqual({ orgId: out.orgId, metric: out.metric, quantity: out.quantity, unit: out.unit, observedAtMs: out.observedAtMs }),
    consumeUsage: (db, out) => {
      if (out.event) expect(db.query("SELECT quantity FROM _smithers_cp_usage_events WHERE id = ?").get(out.event.id)).toEqual({ quantity: out.event.quantity });
    },
    setUsageLimit: (db, out) => expect(db.query("SELECT limit_quantity AS q FROM _smithers_cp_usage_limits WHERE org_id = ? AND project_key = ? AND metric = ? AND unit = ? AND period = ?").get(out.orgId, out.projectId ?? "__org__", out.metric, out.unit, out.period)).toEqual({ q: out.limitQuantity }),
    putSecretRef: (db, out) => expect(db.query("SELECT provider, ref FROM _smithers_cp_secret_refs WHERE org_id = ? AND project_key = ? AND name = ?").get(out.orgId, out.projectId ?? "__org__", out.name)).toEqual({ provider: out.provider, ref: out.ref }),
    recordAuditEvent: (db, out) => expect(db.query("SELECT action, target_type AS targetType, occurred_at_ms AS occurredAtMs FROM _smithers_cp_audit_events WHERE id = ?").get(out.id)).toEqual({ action: out.action, targetType: out.targetType, occurredAtMs: out.occurredAtMs }),
    upsertBillingAccount: (db, out) => expect(db.query("SELECT plan, status FROM _smithers_cp_billing_accounts WHERE org_id = ?").get(out.orgId)).toEqual({ plan: out.plan, status: out.status }),
    upsertIdentityProvider: (db, out) => expect(db.query("SELECT type, issuer, status FROM _smithers_cp_identity_providers WHERE org_id = ? AND provider_id = ?").get(out.orgId, out.providerId)).toEqual({ type: out.type, issuer: out.issuer, status: out.status }),
    setOrgQuota: (db, out) => expect(db.query("SELECT max_projects AS maxProjects FROM _smithers_cp_org_quotas WHERE org_id = ?").get(out.orgId)).toEqual({ maxProjects: out.limits.maxProjects }),
  };

  it("randomized: every call succeeds or throws a ControlPlaneError with an expected code; a failed call leaves every table's contents as they were; a write holds what it returned", () => {
    const { db, store } = seededStore();
    store.createTeam({ orgId: "acme", teamId: "t", slug: "t", name: "T" });
    const tables = controlPlaneTables(db);
    // A digest of every row of every control-plane table, in a fixed order.
    const snapshot = () => {
      const hash = createHash("sha256");
      for (const t of tables) {
        const rows = db.query(`SELECT * FROM ${t}`).all().map((r) => JSON.stringify(r, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v)));
        hash.update(`${t}\n${rows.sort().join("\n")}\n`);
      }
      return hash.digest("hex");
    };
    let checkedWrites = 0;
    let seed = 1234;
    const rand = (n: number) => ((seed = (seed * 16807) % 2147483647), seed % n);
    let tried = 0;
    let refused = 0;
    for (let i = 0; i < 1_500; i++) {
      const [method, valid] = methods[rand(methods.length)];
      const fields = [...Object.keys(valid), "metadata", "projectId", "createdAtMs", "idempotencyKey", "limit", "cursor", "groupBy"];
      const input: Record<string, unknown> = { ...valid };
      for (let k = 0; k <= rand(3); k++) input[fields[rand(fields.length)]] = hostile[rand(hostile.length)];
      const arg = rand(20) === 0 ? hostile[rand(hostile.length)] : input;
      const before = snapshot();
      tried++;
      try {
        const out = (store as any)[method](arg);
        if (written[method]) {
          written[method](db, out, arg);
          checkedWrites++;
        }
        if (method === "suspendOrg") store.unsuspendOrg({ orgId: "acme" });
      } catch (error) {
        refused++;
        expect(error).toBeInstanceOf(ControlPlaneError);
        expect([method, codes.has((error as ControlPlaneError).code)]).toEqual([method, true]);
        expect(snapshot()).toBe(before);
      }
    }
    expect(tried).toBe(1_500);
    expect(refused).toBeGreaterThan(300);
    expect(checkedWrites).toBeGreaterThan(100);
    console.log(`hostile input: ${tried} calls, ${refused} refused with contents unchanged, ${checkedWrites} writes checked against their rows`);
    expect(db.query("PRAGMA integrity_check").get()).toEqual({ integrity_check: "ok" });
    expect(({} as any).polluted).toBeUndefined();
  });

  it("metadata is limited in size and depth, strings in length", () => {
    const { store } = seededStore();
    expectError(() => store.recordUsage({ orgId: "acme", metric: "m", quantity: 1, metadata: deep as any }), "INVALID_INPUT", "metadata must nest at most 16 levels.");
    expectError(() => store.recordUsage({ orgId: "acme", metric: "m", quantity: 1, metadata: { s: "x".repeat(70_000) } }), "INVALID_INPUT", "metadata must be at most 65536 bytes of JSON.");
    expectError(() => store.createOrg({ slug: "a", name: "x".repeat(4_097) }), "INVALID_INPUT", "name must be at most 4096 characters.");
    expect(store.createOrg({ slug: "a", name: "x".repeat(4_096) }).name).toHaveLength(4_096);
  });
});

describe("the database file", () => {
  it("is created readable and writable by its owner only", () => {
    const file = path.join(tempDir(), "private.db");
    const store = new ControlPlaneStore(file);
    store.createOrg({ slug: "a", name: "A" });
    for (const f of [file, `${file}-wal`]) expect([f, fs.statSync(f).mode & 0o777]).toEqual([f, 0o600]);
    store.close();
    const db = new Database(path.join(path.dirname(file), "other.db"));
    expect(fs.statSync(path.join(path.dirname(file), "other.db")).mode & 0o777).toBe(0o600);
    db.close();
  });

  it("gets its WAL checkpointed in the background: commits reach the database file itself within moments", async () => {
    const dir = tempDir();
    const file = path.join(dir, "checkpointed.db");
    const store = new ControlPlaneStore(file);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    // Far fewer pages than a committing connection would checkpoint by itself.
    for (let i = 0; i < 20; i++) store.recordUsage({ orgId: "acme", metric: "m", quantity: 1, observedAtMs: i });
    const inFileAlone = async () => {
      // The database file without its WAL, as a power loss right now would leave it.
      const copy = path.join(dir, `copy-${Date.now()}.db`);
      fs.copyFileSync(file, copy);
      const db = new Database(copy);
      try {
        return Number(db.query("SELECT COUNT(*) AS n FROM _smithers_cp_usage_events").get()!.n);
      } catch {
        return 0; // not even the tables are in the file yet
      } finally {
        db.close();
      }
    };
    let n = 0;
    for (let tries = 0; tries < 20 && n < 20; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      n = await inFileAlone();
    }
    expect(n).toBe(20);
    store.close();
    expect(fs.existsSync(`${file}-wal`)).toBe(false); // the last connection closed removes it
  });
});
