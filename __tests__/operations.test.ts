// Each operation is declared once (src/binding/methods/*.rs's tables); its methods come
// from that line. Every face it is declared for has it, and the types declare exactly the
// methods the classes have.
import { createRequire } from "node:module";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ControlPlaneStore } from "../index.js";

const require = createRequire(import.meta.url);
const native = require("../binding.js");
const declared: [string, string[]][] = native.operations();

const entry = path.join(__dirname, "..", "index.d.ts");
const program = ts.createProgram([entry], { noEmit: true, types: [], skipLibCheck: true });
const checker = program.getTypeChecker();

/** The methods (not getters) index.d.ts declares on a class, as a caller's types see it. */
function typedMethods(className: string): string[] {
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const exported = checker.getExportsOfModule(module).find((s) => s.name === className)!;
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const instance = checker.getDeclaredTypeOfSymbol(symbol);
  return checker
    .getPropertiesOfType(instance)
    .filter((p) => p.flags & ts.SymbolFlags.Method)
    .map((p) => p.name)
    .sort();
}

/** The methods a prototype has (its own functions, the constructor left out). */
function ownMethods(prototype: object): string[] {
  return Object.getOwnPropertyNames(prototype)
    .filter((name) => name !== "constructor" && typeof Object.getOwnPropertyDescriptor(prototype, name)!.value === "function")
    .sort();
}

describe("each declared operation", () => {
  it("is declared once, on at least one face", () => {
    const names = declared.map(([name]) => name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBeGreaterThan(50);
    for (const [, faces] of declared) expect(faces.length).toBeGreaterThan(0);
  });

  it("is a method of every face it is declared for, and of no other", async () => {
    const store = new ControlPlaneStore(":memory:");
    const scope = store.forOrg("acme");
    const asyncStore = (await ControlPlaneStore.connect("sqlite::memory:")) as unknown as Record<string, unknown>;
    const asyncScope = (asyncStore.forOrg as (org: string) => Record<string, unknown>)("acme");
    try {
      const faces: Record<string, (name: string) => boolean> = {
        Store: (name) => typeof (store as unknown as Record<string, unknown>)[name] === "function",
        Scope: (name) => typeof (scope as unknown as Record<string, unknown>)[name] === "function",
        Async: (name) => typeof asyncStore[name] === "function",
      };
      const wrong: string[] = [];
      for (const [name, on] of declared) {
        for (const [face, has] of Object.entries(faces)) {
          if (has(name) !== on.includes(face)) wrong.push(`${name} ${on.includes(face) ? "missing from" : "not declared for"} ${face}`);
        }
        // The async store's scoped handle has what the sync one's has.
        if (on.includes("Async") && on.includes("Scope") && typeof asyncScope[name] !== "function") wrong.push(`${name} missing from the async forOrg`);
      }
      expect(wrong).toEqual([]);
    } finally {
      store.close();
      await (asyncStore.close as () => Promise<void>)();
    }
  });

  it("is typed exactly on the classes that have it: the types declare every method and no other", () => {
    const scope = new ControlPlaneStore(":memory:").forOrg("acme");
    const typed = { Store: typedMethods("ControlPlaneStore"), Scope: typedMethods("OrgScope") };
    expect(typed.Store).toEqual(ownMethods(ControlPlaneStore.prototype));
    expect(typed.Scope).toEqual(ownMethods(Object.getPrototypeOf(scope)));
    for (const [name, on] of declared) {
      expect(typed.Store.includes(name)).toBe(on.includes("Store"));
      expect(typed.Scope.includes(name)).toBe(on.includes("Scope"));
    }
  });
});
