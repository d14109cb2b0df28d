// The realm assertions under `bun test`, on our `Database` and on bun:sqlite.
import { Database as BunDatabase } from "bun:sqlite";
import { describe, expect, it } from "bun:test";
import * as pkg from "../../index.js";
import { defineRealmSuite } from "../realms/assertions";

defineRealmSuite({ describe, it, expect }, pkg, [
  { name: "our Database", open: () => new pkg.Database(":memory:") },
  { name: "a bun:sqlite handle", open: () => new BunDatabase(":memory:") },
]);
