// The package's types declare exactly the values its entry exports, under Bun.
import { describe, expect, it } from "bun:test";

const { compareExports } = require("../shared/exports.js");

describe("the package's exports", () => {
  it("are the values index.d.ts declares, each of its kind, and no others", () => {
    const { declared, missing, undeclared } = compareExports(require("../.."));
    expect(declared).toContain("ControlPlaneStore");
    expect(declared).toContain("AsyncControlPlaneStore");
    expect(missing).toEqual([]);
    expect(undeclared).toEqual([]);
  });
});
