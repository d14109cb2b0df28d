// Two copies of the package in one realm: this file's import, and a second copy loaded
// through Node's own require with its module cache bypassed. Whichever copy loaded last,
// an error thrown through either is an instance of both copies' ControlPlaneError, of
// this realm's Error, and carries its code.
import { createRequire } from "node:module";
import path from "node:path";
import { expect, it } from "vitest";
import * as first from "../../../index.js";

const require = createRequire(import.meta.url);
const entry = path.join(__dirname, "..", "..", "..", "index.js");

function loadAgain(): typeof first {
  delete require.cache[require.resolve(entry)];
  return require(entry);
}

it("errors are instances of both copies' ControlPlaneError and of Error", () => {
  const second = loadAgain();
  expect(second.ControlPlaneError).not.toBe(first.ControlPlaneError);
  for (const thrower of [first, second]) {
    const store = new thrower.ControlPlaneStore(":memory:");
    let caught: unknown;
    try {
      store.createTeam({ orgId: "ghost", slug: "t", name: "T" });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(first.ControlPlaneError);
    expect(caught).toBeInstanceOf(second.ControlPlaneError);
    expect(caught).toBeInstanceOf(Error);
    expect((caught as InstanceType<typeof first.ControlPlaneError>).code).toBe("INVALID_INPUT");
    expect(() => store.createTeam({ orgId: "ghost", slug: "t", name: "T" })).toThrow(first.ControlPlaneError);
    store.close();
  }
});
