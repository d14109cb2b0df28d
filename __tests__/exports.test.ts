// The package's types declare exactly the values its entry exports (under Node; the same
// check runs under Bun in bun/exports.test.ts).
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const { expectExactExports } = require("./shared/exports.js");

describe("the package's exports", () => {
  it("are the values index.d.ts declares, each of its kind, and no others", () => {
    expectExactExports(expect, require(".."));
  });
});

describe("startMigration", () => {
  it("refuses what it cannot move before it connects: a lease out of range, a source that is not a file", async () => {
    const { startMigration, ControlPlaneError } = require("..");
    const refused = async (promise: Promise<unknown>, field: string) => {
      const error = await promise.then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ControlPlaneError);
      expect((error as { code: string }).code).toBe("INVALID_INPUT");
      expect((error as { details: { field: string } }).details.field).toBe(field);
    };
    await refused(startMigration("sqlite:/nowhere.db", "postgres://localhost/x", { leaseSeconds: 0 }), "leaseSeconds");
    await refused(startMigration("sqlite:/nowhere.db", "postgres://localhost/x", { leaseSeconds: Number.NaN }), "leaseSeconds");
    await refused(startMigration("sqlite:/nowhere.db", "postgres://localhost/x"), "from");
    await refused(startMigration("sqlite::memory:", "postgres://localhost/x"), "from");
  });
});
