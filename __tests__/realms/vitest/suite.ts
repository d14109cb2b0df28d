// What each Vitest realm file runs: the realm assertions on our `Database` and on
// better-sqlite3, with the package as this file imported it.
import BetterSqlite3 from "better-sqlite3";
import { describe, expect, it } from "vitest";
import * as pkg from "../../../index.js";
import { defineRealmSuite } from "../assertions";

export function realmSuite() {
  defineRealmSuite({ describe, it, expect }, pkg, [
    { name: "our Database", open: () => new pkg.Database(":memory:") },
    { name: "a better-sqlite3 handle", open: () => new BetterSqlite3(":memory:") },
  ]);
}
