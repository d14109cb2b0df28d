"use strict";
// The shared-handle contract, written once and run by both test runners: under Vitest on
// better-sqlite3 (Node) and under `bun test` on bun:sqlite (Bun). Each scenario takes a
// factory for a fresh handle (`open()`), the way a gateway's test suite makes one per test,
// and `sql(handle)` giving raw `run`/`all` through that same handle, and `close()` of it as
// its owner.

const assert = require("node:assert/strict");
const { ControlPlaneStore, ControlPlaneError, ensureControlPlaneTables } = require("../../index.js");

/** The documented minimal handle over a real one: exec, and query returning run/get/all. */
function minimalHandle(real, prepare) {
  return {
    exec: (text) => real.exec(text),
    query: (text) => {
      const stmt = prepare(real, text);
      return {
        run: (...args) => {
          stmt.run(...args);
        },
        get: (...args) => stmt.get(...args) ?? null,
        all: (...args) => stmt.all(...args),
      };
    },
  };
}

/**
 * The handle, counting the statements run through it: each call of a statement's
 * run/all/get/values/iterate, and each exec. Everything else passes through.
 */
function countingHandle(real) {
  const counter = { statements: 0 };
  const RUNS = new Set(["run", "all", "get", "values", "iterate"]);
  const wrapStatement = (stmt) =>
    new Proxy(stmt, {
      get(target, key) {
        const value = Reflect.get(target, key);
        if (typeof value !== "function") return value;
        return (...args) => {
          if (RUNS.has(key)) counter.statements += 1;
          return value.apply(target, args);
        };
      },
    });
  const handle = new Proxy(real, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      if (key === "prepare" || key === "query") return (text) => wrapStatement(value.call(target, text));
      if (key === "exec") {
        return (text) => {
          counter.statements += 1;
          return value.call(target, text);
        };
      }
      return value.bind(target);
    },
  });
  return { handle, counter };
}

function expectCode(fn, code, message) {
  let caught;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof ControlPlaneError, `expected a ControlPlaneError, got ${caught}`);
  assert.equal(caught.code, code);
  if (message) assert.match(caught.message, message);
  return caught;
}

const scenarios = {
  "raw SQL through the handle sees the store's rows, and the store sees raw rows"(open, sql) {
    const handle = open();
    const store = new ControlPlaneStore(handle);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
    assert.deepEqual(sql(handle).all("SELECT org_id, slug, name FROM _smithers_cp_orgs"), [
      { org_id: "acme", slug: "acme", name: "Acme" },
    ]);
    assert.deepEqual(
      sql(handle).all("SELECT action, target_id FROM _smithers_cp_audit_events"),
      [{ action: "org.create", target_id: "acme" }],
    );
    sql(handle).run("INSERT INTO _smithers_cp_orgs (org_id, slug, name, created_at_ms) VALUES ('raw', 'raw', 'Raw', 5)");
    assert.equal(store.getOrg("raw").name, "Raw");
    assert.equal(store.listOrgs({}).items.length, 2);
  },

  "the store turns foreign_keys on and leaves every other setting of the handle as it was"(open, sql) {
    const handle = open();
    // What a gateway sets on its own handle (the README's example): durability and waiting
    // are the owner's to choose, on a file or in memory.
    const settings = ["journal_mode", "synchronous", "busy_timeout", "cache_size", "temp_store", "locking_mode", "recursive_triggers"];
    const read = () => Object.fromEntries(settings.map((name) => [name, Object.values(sql(handle).all(`PRAGMA ${name}`)[0])[0]]));
    // The gateway has written once: SQLite itself moves a WAL file's synchronous level to
    // its WAL default at the first write (better-sqlite3 builds with
    // SQLITE_DEFAULT_WAL_SYNCHRONOUS=1), whoever writes.
    sql(handle).run("CREATE TABLE gateway_runs (id TEXT PRIMARY KEY)");
    const before = read();
    const store = new ControlPlaneStore(handle);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    store.recordUsage({ orgId: "acme", metric: "tokens", quantity: 1 });
    store.consumeUsage({ orgId: "acme", metric: "tokens", quantity: 1 });
    store.exportOrgAudit({ orgId: "acme" });
    assert.deepEqual(read(), before);
    assert.deepEqual(sql(handle).all("PRAGMA foreign_keys"), [{ foreign_keys: 1 }]);
  },

  "a raw DELETE of an org through the handle cascades to every child row"(open, sql) {
    const handle = open();
    const store = new ControlPlaneStore(handle);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    store.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web" });
    store.createTeam({ orgId: "acme", teamId: "core", slug: "core", name: "Core" });
    store.addTeamMember({ orgId: "acme", teamId: "core", userId: "ada" });
    store.recordUsage({ orgId: "acme", projectId: "web", metric: "tokens", quantity: 3 });
    store.putSecretRef({ orgId: "acme", projectId: "web", name: "key", provider: "vault", ref: "vault://kv/key" });
    sql(handle).run("DELETE FROM _smithers_cp_orgs WHERE org_id = 'acme'");
    for (const table of [
      "_smithers_cp_projects",
      "_smithers_cp_teams",
      "_smithers_cp_team_members",
      "_smithers_cp_usage_events",
      "_smithers_cp_secret_refs",
      "_smithers_cp_audit_events",
    ]) {
      assert.deepEqual(sql(handle).all(`SELECT COUNT(*) AS n FROM ${table}`), [{ n: 0 }], table);
    }
    assert.deepEqual(store.summarizeUsage({ orgId: "acme" }), []);
  },

  "ensureControlPlaneTables works on the handle, and again"(open, sql) {
    const handle = open();
    ensureControlPlaneTables(handle);
    ensureControlPlaneTables(handle);
    const tables = sql(handle).all(
      "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name LIKE '\\_smithers\\_cp\\_%' ESCAPE '\\'",
    );
    assert.deepEqual(tables, [{ n: 24 }]);
    const store = new ControlPlaneStore(handle);
    assert.equal(store.createOrg({ slug: "after", name: "After" }).slug, "after");
  },

  "a store write inside the owner's transaction joins it: committed with it"(open, sql) {
    const handle = open();
    const store = new ControlPlaneStore(handle);
    sql(handle).run("CREATE TABLE gateway_runs (id INTEGER PRIMARY KEY, note TEXT)");
    sql(handle).run("BEGIN IMMEDIATE");
    sql(handle).run("INSERT INTO gateway_runs (note) VALUES ('before')");
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    sql(handle).run("INSERT INTO gateway_runs (note) VALUES ('after')");
    sql(handle).run("COMMIT");
    assert.equal(store.getOrg("acme").slug, "acme");
    assert.deepEqual(sql(handle).all("SELECT note FROM gateway_runs ORDER BY id"), [{ note: "before" }, { note: "after" }]);
  },

  "a store write inside the owner's BEGIN IMMEDIATE joins it at once: the store has no connection of its own to wait on"(open, sql) {
    const handle = open();
    const store = new ControlPlaneStore(handle);
    sql(handle).run("BEGIN IMMEDIATE");
    const started = Date.now();
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    assert.ok(Date.now() - started < 1_000, "joined without waiting");
    sql(handle).run("COMMIT");
    assert.deepEqual(sql(handle).all("SELECT COUNT(*) AS n FROM _smithers_cp_orgs"), [{ n: 1 }]);
  },

  "a store write inside the owner's transaction joins it: rolled back with it"(open, sql) {
    const handle = open();
    const store = new ControlPlaneStore(handle);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    sql(handle).run("BEGIN");
    store.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web" });
    store.recordUsage({ orgId: "acme", projectId: "web", metric: "tokens", quantity: 7 });
    assert.equal(store.getProject({ orgId: "acme", projectId: "web" }).slug, "web");
    sql(handle).run("ROLLBACK");
    assert.equal(store.getProject({ orgId: "acme", projectId: "web" }), null);
    assert.deepEqual(sql(handle).all("SELECT COUNT(*) AS n FROM _smithers_cp_usage_events"), [{ n: 0 }]);
    assert.deepEqual(sql(handle).all("SELECT action FROM _smithers_cp_audit_events ORDER BY id"), [{ action: "org.create" }]);
    assert.equal(store.verifyAuditChain({ orgId: "acme" }).ok, true);
  },

  "a failed store call inside the owner's transaction undoes only its own part"(open, sql) {
    const handle = open();
    const store = new ControlPlaneStore(handle);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    sql(handle).run("CREATE TABLE gateway_runs (id INTEGER PRIMARY KEY, note TEXT)");
    sql(handle).run("BEGIN");
    sql(handle).run("INSERT INTO gateway_runs (note) VALUES ('kept')");
    expectCode(() => store.createOrg({ orgId: "acme", slug: "other", name: "Dup" }), "DUPLICATE_ID", /org id: acme/);
    // A failure after the call's first write: the team row goes with the failed audit insert.
    sql(handle).run(
      "CREATE TRIGGER fail_team_audit BEFORE INSERT ON _smithers_cp_audit_events WHEN NEW.action = 'team.create' BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END",
    );
    expectCode(() => store.createTeam({ orgId: "acme", slug: "core", name: "Core" }), "STORAGE_ERROR", /audit store unavailable/);
    sql(handle).run("COMMIT");
    assert.deepEqual(sql(handle).all("SELECT note FROM gateway_runs"), [{ note: "kept" }]);
    assert.deepEqual(sql(handle).all("SELECT COUNT(*) AS n FROM _smithers_cp_teams"), [{ n: 0 }]);
    assert.deepEqual(sql(handle).all("SELECT COUNT(*) AS n FROM _smithers_cp_orgs"), [{ n: 1 }]);
    assert.deepEqual(sql(handle).all("SELECT COUNT(*) AS n FROM _smithers_cp_audit_events"), [{ n: 1 }]);
  },

  "typed errors, usage limits and the audit chain behave as on the store's own connection"(open) {
    const handle = open();
    const store = new ControlPlaneStore(handle);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    expectCode(() => store.createOrg({ orgId: "other", slug: "acme", name: "Dup" }), "DUPLICATE_ID", /org slug: acme/);
    expectCode(() => store.createProject({ orgId: "nope", slug: "p", name: "P" }), "INVALID_INPUT", /org not found: nope/);
    expectCode(() => store.recordUsage({ orgId: "acme", projectId: "ghost", metric: "t", quantity: 1 }), "INVALID_INPUT", /project not found: ghost/);
    store.setUsageLimit({ orgId: "acme", metric: "tokens", period: "daily", limitQuantity: 10 });
    const at = 5 * 86_400_000;
    const ids = [];
    for (let i = 0; i < 40; i++) ids.push(store.recordUsage({ orgId: "acme", metric: "tokens", quantity: 0.25, observedAtMs: at + i }).id);
    assert.deepEqual(ids, ids.map((_, i) => ids[0] + i));
    const check = store.checkUsageLimit({ orgId: "acme", metric: "tokens", period: "daily", untilMs: at + 1_000 });
    assert.equal(check.usedQuantity, 10);
    assert.equal(check.exceeded, false);
    const refused = store.consumeUsage({ orgId: "acme", metric: "tokens", quantity: 1, observedAtMs: at + 100 });
    assert.equal(refused.allowed, false);
    const batch = store.recordUsageBatch(
      Array.from({ length: 70 }, (_, i) => ({ orgId: "acme", metric: "calls", quantity: 1, observedAtMs: at + i })),
      { returning: "ids" },
    );
    assert.equal(batch.ids.length, 70);
    assert.deepEqual(store.summarizeUsage({ orgId: "acme" }), [
      { orgId: "acme", metric: "calls", unit: "count", quantity: 70 },
      { orgId: "acme", metric: "tokens", unit: "count", quantity: 10 },
    ]);
    assert.deepEqual(store.verifyAuditChain({ orgId: "acme" }), { ok: true, checked: 2, unchained: 0, redacted: 0 });
    const exported = store.exportOrgAudit({ orgId: "acme" });
    assert.deepEqual(exported.auditEvents.map((e) => e.action), ["org.create", "usage_limit.upsert"]);
  },

  "credits on the handle: grants, a balance-checked consume, a correction that re-burns, all in the org's chain"(open, sql) {
    const handle = open();
    const store = new ControlPlaneStore(handle);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    store.grantCredits({ orgId: "acme", grantId: "plan", metric: "tokens", amount: 10, effectiveAtMs: 0, recurrence: { period: "daily", anchorMs: 0 }, rollover: { maxAmount: 4 } });
    const day = 86_400_000;
    const first = store.consumeUsage({ orgId: "acme", metric: "tokens", quantity: 7, observedAtMs: 1_000, idempotencyKey: "e1" }, { requireBalance: true });
    assert.deepEqual([first.allowed, first.balance], [true, { allowed: true, before: 10, after: 3 }]);
    const refused = store.consumeUsage({ orgId: "acme", metric: "tokens", quantity: 4, observedAtMs: 2_000 }, { requireBalance: true });
    assert.deepEqual([refused.allowed, refused.event, refused.balance], [false, null, { allowed: false, before: 3, after: 3 }]);
    // The next day: 10 and 3 carried over.
    assert.equal(store.getBalance({ orgId: "acme", metric: "tokens", atMs: day }).balance, 13);
    store.amendUsage({ orgId: "acme", idempotencyKey: "e1", quantity: 2, reason: "recount" });
    // Day 0 now left 8, of which at most 4 carries over.
    assert.equal(store.getBalance({ orgId: "acme", metric: "tokens", atMs: day }).balance, 14);
    assert.deepEqual(sql(handle).all("SELECT quantity FROM _smithers_cp_usage_events ORDER BY id").map((r) => r.quantity), [7, -5]);
    assert.deepEqual(store.verifyAuditChain({ orgId: "acme" }), { ok: true, checked: 3, unchained: 0, redacted: 0 });
  },

  async "once its owner closed the handle, every kind of call is CLOSED: reads, writes, batches, exports"(open, sql) {
    const handle = open();
    const store = new ControlPlaneStore(handle);
    const at = Date.now() - 1000;
    // Each call once before, so that the handle holds its statements prepared.
    const calls = {
      read: () => store.getOrg("acme"),
      list: () => store.listOrgs({}),
      check: () => store.checkUsageLimit({ orgId: "acme", metric: "tokens" }),
      write: () => store.recordUsage({ orgId: "acme", metric: "tokens", quantity: 1, observedAtMs: at }),
      audited: () => store.createProject({ orgId: "acme", slug: `p-${Math.random().toString(36).slice(2, 8)}`, name: "P" }),
      batch: () => store.recordUsageBatch([{ orgId: "acme", metric: "tokens", quantity: 1, observedAtMs: at }]),
      export: () => store.exportOrgAudit({ orgId: "acme" }),
    };
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    store.setUsageLimit({ orgId: "acme", metric: "tokens", limitQuantity: 10 });
    for (const call of Object.values(calls)) call();
    await store.exportOrgAuditAsync({ orgId: "acme" });
    sql(handle).close();
    for (const [kind, call] of Object.entries(calls)) {
      const error = expectCode(call, "CLOSED", /^The database connection is closed\.$/);
      assert.equal(error.code, "CLOSED", kind);
    }
    await assert.rejects(store.exportOrgAuditAsync({ orgId: "acme" }), (error) => error instanceof ControlPlaneError && error.code === "CLOSED");
  },
};

/** The statements one call runs on a counting handle. */
function statementsOf(counter, call) {
  const before = counter.statements;
  const out = call();
  return [out, counter.statements - before];
}

// The request path's statements per call, on the caller's handle as on our connection
// (`core/src/budget_tests.rs`): what each call costs on a handle is its statements.
scenarios["the request path runs its budget of statements on the handle"] = (open) => {
  const { handle, counter } = countingHandle(open());
  const store = new ControlPlaneStore(handle);
  // A handle whose run() reports nothing (the minimal one) costs a changes() query more
  // for every statement run without rows (BEGIN and COMMIT included).
  const probe = (handle.prepare ?? handle.query).call(handle, "PRAGMA foreign_keys = ON");
  const info = probe.run();
  const write = info && typeof info === "object" && "changes" in info ? 1 : 2;

  // The first audit event of a store reads the chain's state once.
  assert.equal(statementsOf(counter, () => store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 }))[1], 4 * write + 1);
  for (let i = 0; i < 5; i++) {
    const [, n] = statementsOf(counter, () => store.createOrg({ slug: `org-${i}`, name: "O", createdAtMs: 2 }));
    // BEGIN, the org, its audit event, COMMIT.
    assert.equal(n, 4 * write, `createOrg ${i}`);
  }
  store.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web", createdAtMs: 2 });
  store.setUsageLimit({ orgId: "acme", projectId: "web", metric: "tok", unit: "token", period: "daily", limitQuantity: 1e12 });
  store.setUsageLimit({ orgId: "acme", metric: "tok", unit: "token", period: "monthly", limitQuantity: 1e12 });
  const usage = (i) => ({ orgId: "acme", projectId: "web", metric: "tok", unit: "token", quantity: 1, observedAtMs: 1_000_000 + i, metadata: { m: 1 } });
  let folds = 0;
  for (let i = 0; i < 40; i++) {
    const [event, n] = statementsOf(counter, () => store.recordUsage(usage(i)));
    const fold = event.id % 16 === 0 ? write : 0;
    // The connection's first fold finds no fold view (a new store's schema has none): its
    // statement is refused as it is prepared, one read finds what the connection lacks,
    // one exec creates it, and the fold runs.
    const created = fold && folds === 0 ? 2 : 0;
    folds += fold ? 1 : 0;
    assert.equal(n, write + fold + created, `recordUsage ${i}`);
  }
  assert.ok(folds >= 2);
  const check = { orgId: "acme", projectId: "web", metric: "tok", unit: "token", period: "daily", untilMs: 1_000_100 };
  const [checked, n] = statementsOf(counter, () => store.checkUsageLimit(check));
  assert.equal(checked.usedQuantity, 40);
  assert.equal(n, 1, "checkUsageLimit");
  for (let i = 0; i < 20; i++) {
    const [consumed, n] = statementsOf(counter, () => store.consumeUsage(usage(100 + i)));
    assert.equal(consumed.allowed, true);
    const fold = consumed.event.id % 16 === 0 ? write : 0;
    // BEGIN, the read of the org, key and limits, each limit's window, the insert, COMMIT.
    assert.equal(n, 3 + 3 * write + fold, `consumeUsage ${i}`);
  }
};

// Checks and consumeUsage read their windows in SQL from the window's ends; a handle may
// bind JavaScript numbers as REAL (better-sqlite3 does), which must not change a sum.
scenarios["checks and consumeUsage on the handle sum exactly what the raw rows hold"] = (open, sql) => {
  const handle = open();
  const store = new ControlPlaneStore(handle);
  store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
  store.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web", createdAtMs: 1 });
  const day = 86_400_000;
  const start = 20_000 * day + 12_345;
  // 300 events over three days, some seconds and minutes dense, at uneven milliseconds.
  for (let i = 0; i < 300; i++) {
    const at = start + (i < 150 ? i * 997_331 : 150 * 997_331 + (i - 150) * 211);
    store.recordUsage({ orgId: "acme", projectId: i % 3 ? "web" : null, metric: "tok", unit: "token", quantity: 1 + (i % 5), observedAtMs: at });
  }
  store.setUsageLimit({ orgId: "acme", projectId: "web", metric: "tok", unit: "token", period: "daily", limitQuantity: 0 });
  store.setUsageLimit({ orgId: "acme", metric: "tok", unit: "token", period: "weekly", limitQuantity: 0 });
  const raw = (project, since, until) =>
    sql(handle).all(
      `SELECT TOTAL(quantity) AS q FROM _smithers_cp_usage_events WHERE org_id = 'acme' AND metric = 'tok'
       AND observed_at_ms >= ${since} AND observed_at_ms <= ${until} ${project ? `AND project_id = '${project}'` : ""}`,
    )[0].q;
  for (let k = 0; k < 40; k++) {
    const until = start + Math.floor((k / 40) * 3.2 * day) + (k % 7) * 13_337;
    const check = store.checkUsageLimit({ orgId: "acme", projectId: "web", metric: "tok", unit: "token", period: "daily", untilMs: until });
    assert.equal(check.usedQuantity, raw("web", Math.max(0, until - day), until), `check until ${until}`);
    const consumed = store.consumeUsage({ orgId: "acme", projectId: "web", metric: "tok", unit: "token", quantity: 1, observedAtMs: until });
    assert.equal(consumed.allowed, false);
    for (const c of consumed.checks) {
      const period = c.period === "daily" ? day : 7 * day;
      assert.equal(c.usedQuantity, raw(c.projectId, Math.max(0, until - period), until), `consume ${c.period} until ${until}`);
      assert.equal(c.laterQuantity, raw(c.projectId, until + 1, until + period), `consume ${c.period} later than ${until}`);
    }
  }
};

module.exports = { scenarios, minimalHandle, countingHandle };
