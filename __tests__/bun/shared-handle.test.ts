// The store on the caller's own bun:sqlite handle, under Bun's test runner: the same
// scenarios as the Node suite (`__tests__/shared-handle.test.ts`), on in-memory and WAL
// file databases, and on the documented minimal exec/query handle over bun:sqlite.
import { Database } from "bun:sqlite";
import { describe, expect, it } from "bun:test";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
const { scenarios, minimalHandle } = require("../shared/handle-scenarios.js");
const { ControlPlaneStore, ControlPlaneError } = require("../../index.js");

const bunSql = (db: Database) => ({
  run: (text: string) => void db.query(text).run(),
  all: (text: string) => db.query(text).all(),
  close: () => db.close(),
});

const handles: Record<string, { open: () => any; sql: (h: any) => ReturnType<typeof bunSql> }> = {
  "bun:sqlite in memory": { open: () => new Database(":memory:"), sql: bunSql },
  "bun:sqlite on a WAL file": {
    open: () => {
      const db = new Database(path.join(fs.mkdtempSync(path.join(os.tmpdir(), "cp-bun-")), "gateway.db"));
      db.exec("PRAGMA journal_mode = WAL");
      return db;
    },
    sql: bunSql,
  },
  "the minimal exec/query handle over bun:sqlite": {
    open: () => {
      const real = new Database(":memory:");
      const handle: any = minimalHandle(real, (db: Database, text: string) => db.query(text));
      handle.real = real;
      return handle;
    },
    sql: (h) => bunSql(h.real),
  },
};

for (const [name, { open, sql }] of Object.entries(handles)) {
  describe(`the store on ${name}`, () => {
    for (const [title, scenario] of Object.entries(scenarios as Record<string, (o: unknown, s: unknown) => void | Promise<void>>)) {
      it(title, () => scenario(open, sql));
    }
  });
}

describe("bun:sqlite handles", () => {
  it("a handle its owner closed is CLOSED, not a raw binding error", () => {
    const db = new Database(":memory:");
    const store = new ControlPlaneStore(db);
    db.close();
    let caught: unknown;
    try {
      store.getOrg("acme");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ControlPlaneError);
    expect((caught as any).code).toBe("CLOSED");
  });
});
