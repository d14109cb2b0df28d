// The package's types declare exactly the values its entry exports, under Bun.
import { describe, expect, it } from "bun:test";

const { expectExactExports } = require("../shared/exports.js");

describe("the package's exports", () => {
  it("are the values index.d.ts declares, each of its kind, and no others", () => {
    expectExactExports(expect, require("../.."));
  });
});
