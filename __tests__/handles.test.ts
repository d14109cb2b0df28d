import BetterSqlite3 from "better-sqlite3";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ControlPlaneStore, Database, ensureControlPlaneTables } from "../index.js";
import { activeOrg, expectError, tempDir } from "./helpers";

describe("constructor forms", () => {
  it("a Database of this package: the store shares its connection", () => {
    const db = new Database(":memory:");
    const store = new ControlPlaneStore(db);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    expect(db.query("SELECT org_id FROM _smithers_cp_orgs").all()).toEqual([{ org_id: "acme" }]);
    db.exec("INSERT INTO _smithers_cp_orgs (org_id, slug, name, created_at_ms) VALUES ('raw', 'raw', 'Raw', 5)");
    expect(store.getOrg("raw")).toEqual(activeOrg({ orgId: "raw", slug: "raw", name: "Raw", createdAtMs: 5 }));
    store.close(); // not ours to close
    expect(db.open).toBe(true);
    db.close();
    expect(db.open).toBe(false);
    expectError(() => store.getOrg("acme"), "CLOSED", "The database connection is closed.");
  });

  it("a path string opens (and closes) its own connection in WAL mode", () => {
    const file = path.join(tempDir(), "cp.db");
    const store = new ControlPlaneStore(file);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    store.close();
    expectError(() => store.getOrg("acme"), "CLOSED");
    const db = new Database(file);
    expect(db.query("PRAGMA journal_mode").get()).toEqual({ journal_mode: "wal" });
    expect(db.query("PRAGMA synchronous").get()).toEqual({ synchronous: 1 }); // NORMAL
    expect(new ControlPlaneStore(db).getOrg("acme")).not.toBeNull();
    db.close();
  });

  it(":memory: gives a private in-memory store", () => {
    const a = new ControlPlaneStore(":memory:");
    const b = new ControlPlaneStore(":memory:");
    a.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    expect(b.getOrg("acme")).toBeNull();
  });

  it("a better-sqlite3 handle on a WAL file: the store runs on that handle and sees its rows", () => {
    const file = path.join(tempDir(), "shared.db");
    const foreign = new BetterSqlite3(file);
    foreign.pragma("journal_mode = WAL");
    const store = new ControlPlaneStore(foreign);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
    expect(foreign.prepare("SELECT slug FROM _smithers_cp_orgs").get()).toEqual({ slug: "acme" });
    foreign.prepare("INSERT INTO _smithers_cp_orgs (org_id, slug, name, created_at_ms) VALUES ('b3', 'b3', 'Written by better-sqlite3', 2)").run();
    expect(store.getOrg("b3")).toEqual(activeOrg({ orgId: "b3", slug: "b3", name: "Written by better-sqlite3", createdAtMs: 2 }));
    store.close();
    foreign.close();
  });

  it("an in-memory handle of another binding is shared, not refused: the documented test-suite pattern", () => {
    const foreign = new BetterSqlite3(":memory:");
    const store = new ControlPlaneStore(foreign);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
    expect(foreign.prepare("SELECT slug FROM _smithers_cp_orgs").get()).toEqual({ slug: "acme" });
    ensureControlPlaneTables(new BetterSqlite3(":memory:"));
  });

  it("anything else is INVALID_INPUT", () => {
    for (const bad of [undefined, null, 42, {}, []]) {
      expectError(() => new ControlPlaneStore(bad as any), "INVALID_INPUT", /sqlite must be/, { field: "sqlite" });
    }
  });

  it("a file that cannot be opened is a STORAGE_ERROR", () => {
    expectError(() => new ControlPlaneStore("/nonexistent-dir/for/sure/cp.db"), "STORAGE_ERROR", /unable to open/);
  });

  it("a write lock held by another process past the busy timeout is BUSY, and nothing is written", async () => {
    const file = path.join(tempDir(), "busy.db");
    const store = new ControlPlaneStore(file);
    // The lock holder is another process (one in this process would be refused at once,
    // see the shared-file tests). It holds the lock until told to let go: no timer of its
    // own races ours, however slow this machine is.
    const holder = spawn(process.execPath, [
      "-e",
      `const db = new (require("better-sqlite3"))(${JSON.stringify(file)});
       db.exec("BEGIN IMMEDIATE"); console.log("locked");
       process.stdin.once("data", () => { db.exec("ROLLBACK"); console.log("released"); process.exit(0); });`,
    ], { cwd: path.join(__dirname, ".."), stdio: ["pipe", "pipe", "inherit"] });
    const lines = (async function* () {
      for await (const chunk of holder.stdout!) yield String(chunk);
    })();
    expect((await lines.next()).value).toMatch(/locked/);
    const started = Date.now();
    expectError(() => store.createOrg({ slug: "late", name: "Late" }), "BUSY", /locked/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_500); // waited out the 5 s timeout
    holder.stdin!.write("release\n");
    expect((await lines.next()).value).toMatch(/released/);
    await new Promise((resolve) => holder.once("close", resolve));
    const raw = new Database(file);
    expect(raw.query("SELECT COUNT(*) AS n FROM _smithers_cp_orgs WHERE slug = 'late'").get()).toEqual({ n: 0 });
    expect(store.createOrg({ slug: "late", name: "Late" }).slug).toBe("late");
    expect(raw.query("SELECT COUNT(*) AS n FROM _smithers_cp_orgs WHERE slug = 'late'").get()).toEqual({ n: 1 });
    raw.close();
    store.close();
  });

  it("ensureControlPlaneTables works on each form", () => {
    const file = path.join(tempDir(), "ensure.db");
    ensureControlPlaneTables(file);
    const foreign = new BetterSqlite3(file);
    ensureControlPlaneTables(foreign);
    expect(foreign.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name LIKE '_smithers_cp_%' AND type = 'table'").get()).toEqual({ n: 24 }); // 11 documented + meta, rollups, rollup state, series, dense minutes, org quotas, chain heads, chain redactions, retention, usage purge flag, credit grants, usage corrections, credit ledger
    foreign.close();
    const db = new Database(":memory:");
    ensureControlPlaneTables(db);
    expect(db.query("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_smithers_cp_orgs'").get()).toEqual({ n: 1 });
  });
});

describe("background work", () => {
  it("one checkpoint thread serves every file open in the process, and closing the last store of a file removes its WAL", () => {
    const threads = () => fs.readdirSync("/proc/self/task").length;
    const dir = tempDir();
    const stores = [new ControlPlaneStore(path.join(dir, "first.db"))];
    const before = threads();
    for (let i = 0; i < 60; i++) stores.push(new ControlPlaneStore(path.join(dir, `cp-${i % 30}.db`)));
    for (const [i, store] of stores.entries()) store.createOrg({ slug: `s${i}`, name: "S" });
    expect(threads() - before).toBe(0);
    for (const store of stores) store.close();
    const wals = fs.readdirSync(dir).filter((f) => f.endsWith("-wal"));
    expect(wals).toEqual([]);
    const reopened = new Database(path.join(dir, "cp-7.db"));
    expect(reopened.query("SELECT COUNT(*) AS n FROM _smithers_cp_orgs").get()).toEqual({ n: 2 });
    reopened.close();
  });
});

describe("Database", () => {
  it("runs statements with positional and named parameters, and reads rows", () => {
    const db = new Database();
    db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB, big INTEGER, f REAL)");
    const insert = db.prepare("INSERT INTO t (name, data, big, f) VALUES (?, ?, ?, ?)");
    expect(insert.run("a", new Uint8Array([0, 255]), 2n ** 40n, 1.5)).toEqual({ changes: 1, lastInsertRowid: 1 });
    expect(db.prepare("INSERT INTO t (name) VALUES ($name)").run({ $name: "b" })).toEqual({ changes: 1, lastInsertRowid: 2 });
    expect(db.prepare("INSERT INTO t (name) VALUES (:name)").run({ name: "c" }).lastInsertRowid).toBe(3);
    expect(db.query("SELECT id, name, data, big, f FROM t WHERE id = ?").get(1)).toEqual({
      id: 1,
      name: "a",
      data: new Uint8Array([0, 255]),
      big: 2 ** 40,
      f: 1.5,
    });
    expect(db.query("SELECT name FROM t ORDER BY id").all()).toEqual([{ name: "a" }, { name: "b" }, { name: "c" }]);
    expect(db.query("SELECT name FROM t WHERE id = ?").get(99)).toBeNull();
    expect(db.query("SELECT name FROM t WHERE id IN (?, ?)").all([1, 3])).toEqual([{ name: "a" }, { name: "c" }]);
    expect(db.query("SELECT 1")).toBe(db.query("SELECT 1"));
  });

  it("SQL errors are ControlPlaneErrors carrying SQLite's message", () => {
    const db = new Database();
    expectError(() => db.exec("SELEKT 1"), "STORAGE_ERROR", /syntax error/);
    expectError(() => db.query("SELECT * FROM missing").all(), "STORAGE_ERROR", /no such table/);
  });
});
