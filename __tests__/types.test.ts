// index.d.ts is written by hand (its input and result types, overloads), but it cannot
// drift from the addon: the classes and methods napi-rs generates from the Rust
// definitions (native.d.ts, written by every `npm run build`) must be the ones index.d.ts
// declares, and the type test (types/caller.ts) must call every store method.
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { Statement } from "../index.js";

function classMembers(file: string): Map<string, Set<string>> {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const classes = new Map<string, Set<string>>();
  source.forEachChild((node) => {
    if (ts.isClassDeclaration(node) && node.name) {
      const members = new Set<string>();
      for (const member of node.members) {
        if (member.name && (ts.isIdentifier(member.name) || ts.isStringLiteral(member.name))) members.add(member.name.text);
      }
      classes.set(node.name.text, members);
    }
  });
  return classes;
}

const root = path.join(__dirname, "..");
// Set on Statement.prototype when the addon loads: a napi-rs method cannot take a variable
// number of arguments.
const prototypeMethods = new Set(["run", "get", "all"]);

describe("types", () => {
  const generated = classMembers(path.join(root, "native.d.ts"));
  const declared = classMembers(path.join(root, "index.d.ts"));

  it("index.d.ts declares exactly the classes and methods the addon exports", () => {
    for (const name of ["ControlPlaneStore", "OrgScope", "Database", "Statement"]) {
      expect(generated.has(name)).toBe(true);
      const mine = [...declared.get(name)!].filter((m) => !prototypeMethods.has(m) || name !== "Statement").sort();
      expect(mine).toEqual([...generated.get(name)!].sort());
    }
    for (const method of prototypeMethods) expect(typeof (Statement.prototype as any)[method]).toBe("function");
    expect(generated.get("ControlPlaneStore")!.size).toBeGreaterThan(45);
  });

  it("the type test calls every store method and every method of the org-scoped handle", () => {
    const caller = fs.readFileSync(path.join(root, "__tests__/types/caller.ts"), "utf8");
    const called = new Set([...caller.matchAll(/store\.(\w+)\(/g)].map((m) => m[1]));
    const missing = [...generated.get("ControlPlaneStore")!].filter((m) => m !== "constructor" && !called.has(m));
    expect(missing).toEqual([]);
    const scoped = new Set([...caller.matchAll(/scope\.(\w+)\(/g)].map((m) => m[1]));
    const scopeMissing = [...generated.get("OrgScope")!].filter((m) => !["orgId", "context"].includes(m) && !scoped.has(m));
    expect(scopeMissing).toEqual([]);
  });
});
