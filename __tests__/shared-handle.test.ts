// The store on the caller's own handle under Node: better-sqlite3 (in memory and on a WAL
// file) and the documented minimal exec/query handle. The same scenarios run under Bun on
// bun:sqlite (`__tests__/bun/shared-handle.test.ts`).
import BetterSqlite3 from "better-sqlite3";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ControlPlaneStore } from "../index.js";
import { expectError, tempDir } from "./helpers";
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { scenarios, minimalHandle } = require("./shared/handle-scenarios.js");

type Sql = { run(text: string): void; all(text: string): unknown[]; close(): void };
const betterSql = (db: BetterSqlite3.Database): Sql => ({
  run: (text) => void db.prepare(text).run(),
  all: (text) => db.prepare(text).all(),
  close: () => db.close(),
});

const handles: Record<string, { open: () => unknown; sql: (h: any) => Sql }> = {
  "better-sqlite3 in memory": { open: () => new BetterSqlite3(":memory:"), sql: betterSql },
  "better-sqlite3 on a WAL file": {
    open: () => {
      const db = new BetterSqlite3(path.join(tempDir(), "gateway.db"));
      db.pragma("journal_mode = WAL");
      return db;
    },
    sql: betterSql,
  },
  "the minimal exec/query handle": {
    open: () => {
      const real = new BetterSqlite3(":memory:");
      const handle = minimalHandle(real, (db: BetterSqlite3.Database, text: string) => db.prepare(text));
      (handle as any).real = real;
      return handle;
    },
    sql: (h) => betterSql(h.real),
  },
};

// node:sqlite where this Node has it (22.5 and later): DatabaseSync, statements by prepare().
const nodeSqlite = (() => {
  try {
    return require("node:sqlite");
  } catch {
    return null;
  }
})();
if (nodeSqlite) {
  handles["node:sqlite in memory"] = {
    open: () => new nodeSqlite.DatabaseSync(":memory:"),
    sql: (db: any) => ({
      run: (text: string) => void db.prepare(text).run(),
      all: (text: string) => db.prepare(text).all().map((r: object) => ({ ...r })),
      close: () => db.close(),
    }),
  };
}

for (const [name, { open, sql }] of Object.entries(handles)) {
  describe(`the store on ${name}`, () => {
    for (const [title, scenario] of Object.entries(scenarios as Record<string, (o: unknown, s: unknown) => void | Promise<void>>)) {
      it(title, () => scenario(open, sql));
    }
  });
}

describe("shared handles", () => {
  it("store.close() lets go of the handle and leaves it open for its owner", () => {
    const db = new BetterSqlite3(":memory:");
    const store = new ControlPlaneStore(db);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    store.close();
    expect(db.open).toBe(true);
    expect(db.prepare("SELECT slug FROM _smithers_cp_orgs").get()).toEqual({ slug: "acme" });
    expectError(() => store.getOrg("acme"), "CLOSED");
  });

  it("a handle its owner closed is CLOSED, not a raw binding error", () => {
    const db = new BetterSqlite3(":memory:");
    const store = new ControlPlaneStore(db);
    db.close();
    expectError(() => store.getOrg("acme"), "CLOSED", "The database connection is closed.");
  });

  it("integers beyond 2^53 and blobs cross the handle exactly; BigInt rows from safeIntegers read back", () => {
    const db = new BetterSqlite3(":memory:");
    (db as any).defaultSafeIntegers(true);
    const store = new ControlPlaneStore(db);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 7 });
    expect(store.getOrg("acme")!.createdAtMs).toBe(7);
    expect(store.recordUsage({ orgId: "acme", metric: "m", quantity: 1.5, observedAtMs: 9 }).quantity).toBe(1.5);
    expect(store.summarizeUsage({ orgId: "acme" })).toEqual([{ orgId: "acme", metric: "m", unit: "count", quantity: 1.5 }]);
  });

  it("an error the handle throws is the cause of the store's error", () => {
    const real = new BetterSqlite3(":memory:");
    let failure: Error | null = null;
    const handle = {
      exec: (text: string) => real.exec(text),
      prepare: (text: string) => {
        const stmt = real.prepare(text);
        const guard = <T>(run: () => T): T => {
          if (failure) throw failure;
          return run();
        };
        return { run: (...a: unknown[]) => guard(() => stmt.run(...a)), all: (...a: unknown[]) => guard(() => stmt.all(...a)) };
      },
    };
    const store = new ControlPlaneStore(handle);
    store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
    failure = Object.assign(new Error("disk I/O error"), { code: "SQLITE_IOERR" });
    const error = expectError(() => store.getOrg("acme"), "STORAGE_ERROR", "SQLite: disk I/O error", { sqliteCode: "SystemIoFailure" });
    expect(error.cause).toBe(failure);
    // Our own connection has no JS error underneath: no cause.
    expect(expectError(() => new ControlPlaneStore(":memory:").createTeam({ orgId: "ghost", slug: "t", name: "T" }), "INVALID_INPUT").cause).toBeUndefined();
  });

  it("an object that is not a SQLite handle is INVALID_INPUT naming the field", () => {
    for (const bad of [{}, { exec() {} }, { filename: "x.db" }, []]) {
      expectError(() => new ControlPlaneStore(bad as any), "INVALID_INPUT", /sqlite must be/, { field: "sqlite" });
    }
  });
});
