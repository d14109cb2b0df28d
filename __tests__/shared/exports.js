"use strict";
// What the package's types promise against what its entry gives: the values (classes,
// functions, constants) index.d.ts exports, read with the TypeScript compiler as a
// caller's `import { ... } from "smithers-control-plane"` resolves them, and the keys of
// `require(...)` of the package. Used by the Vitest (Node) and `bun test` suites.

const path = require("node:path");
const ts = require("typescript");

const root = path.join(__dirname, "..", "..");

/** Each value index.d.ts exports, with its kind: "class", "function" or "value". */
function declaredValues() {
  const entry = path.join(root, "index.d.ts");
  const program = ts.createProgram([entry], { noEmit: true, types: [], skipLibCheck: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry));
  const values = new Map();
  for (const exported of checker.getExportsOfModule(module)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    if (!(symbol.flags & ts.SymbolFlags.Value)) continue;
    const kind = symbol.flags & ts.SymbolFlags.Class ? "class" : symbol.flags & ts.SymbolFlags.Function ? "function" : "value";
    values.set(exported.name, kind);
  }
  return values;
}

/**
 * Compares the package's entry (`pkg`, what `require` gave) with its types: values
 * declared but missing (or of another kind), and values exported but not declared.
 */
function compareExports(pkg) {
  const declared = declaredValues();
  const missing = [];
  for (const [name, kind] of declared) {
    const value = pkg[name];
    const ok = kind === "value" ? value !== undefined : typeof value === "function";
    if (!ok) missing.push(`${name} (declared as a ${kind}, is ${typeof value})`);
  }
  const undeclared = Object.keys(pkg).filter((name) => !declared.has(name) && name !== "default" && name !== "__esModule");
  return { declared: [...declared.keys()].sort(), missing, undeclared };
}

/** The assertions both runners make, with their `expect`. */
function expectExactExports(expect, pkg) {
  const { declared, missing, undeclared } = compareExports(pkg);
  expect(declared).toContain("ControlPlaneStore");
  expect(declared).toContain("AsyncControlPlaneStore");
  expect(missing).toEqual([]);
  expect(undeclared).toEqual([]);
}

module.exports = { declaredValues, compareExports, expectExactExports };
