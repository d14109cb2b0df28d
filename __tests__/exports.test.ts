// The package's types declare exactly the values its entry exports (under Node; the same
// check runs under Bun in bun/exports.test.ts).
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const { compareExports } = require("./shared/exports.js");

describe("the package's exports", () => {
  it("are the values index.d.ts declares, each of its kind, and no others", () => {
    const { declared, missing, undeclared } = compareExports(require(".."));
    expect(declared).toContain("ControlPlaneStore");
    expect(declared).toContain("AsyncControlPlaneStore");
    expect(missing).toEqual([]);
    expect(undeclared).toEqual([]);
  });
});
