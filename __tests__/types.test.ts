// index.d.ts is written by hand (its input and result types, overloads), but it cannot
// drift from the addon: the classes and methods napi-rs generates from the Rust
// definitions (native.d.ts, written by every `npm run build`) must be the ones index.d.ts
// declares, the type test (types/caller.ts) must call every store method, and the error
// codes it names must be the ones the Rust source can throw.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { Statement } from "../index.js";

/**
 * The members of each class a file declares, with those of the interfaces of its name that
 * TypeScript merges into it (native.d.ts: the declared operations' methods).
 */
function classMembers(file: string): Map<string, Set<string>> {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const classes = new Map<string, Set<string>>();
  const interfaces = new Map<string, Set<string>>();
  source.forEachChild((node) => {
    if ((ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node)) && node.name) {
      const into = ts.isClassDeclaration(node) ? classes : interfaces;
      const members = into.get(node.name.text) ?? new Set<string>();
      for (const member of node.members) {
        if (member.name && (ts.isIdentifier(member.name) || ts.isStringLiteral(member.name))) members.add(member.name.text);
      }
      into.set(node.name.text, members);
    }
  });
  for (const [name, members] of classes) for (const member of interfaces.get(name) ?? []) members.add(member);
  return classes;
}

const root = path.join(__dirname, "..");

function rustFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return rustFiles(full);
    return entry.name.endsWith(".rs") ? [full] : [];
  });
}

/**
 * The codes the Rust source gives a `CpError`: the string literals of the first argument
 * of each `CpError::new(` (one literal, or several in an `if`), and any `code: "..."` or
 * `.code = "..."`. The helpers of core/src/error.rs (`invalid`, `field`, `duplicate`, ...)
 * are found through their own `CpError::new(` calls. A first argument with no literal in it
 * is listed in `opaque`: its code cannot be read from the source, so the test fails on it.
 */
function rustErrorCodes(): { codes: Map<string, string[]>; opaque: string[] } {
  const codes = new Map<string, string[]>();
  const opaque: string[] = [];
  const add = (code: string, where: string) => codes.set(code, [...(codes.get(code) ?? []), where]);
  for (const file of [...rustFiles(path.join(root, "src")), ...rustFiles(path.join(root, "core", "src"))]) {
    const text = fs.readFileSync(file, "utf8");
    const where = (index: number) => `${path.relative(root, file)}:${text.slice(0, index).split("\n").length}`;
    for (const call of text.matchAll(/CpError::new\(/g)) {
      // The first argument: up to the first comma outside brackets and string literals.
      let i = call.index + call[0].length;
      let depth = 0;
      for (; i < text.length; i++) {
        const c = text[i];
        if (c === '"') {
          for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
        } else if ("([{".includes(c!)) depth++;
        else if (")]}".includes(c!)) {
          if (depth === 0) break;
          depth--;
        } else if (c === "," && depth === 0) break;
      }
      const argument = text.slice(call.index + call[0].length, i);
      const literals = [...argument.matchAll(/"([A-Z][A-Z0-9_]*)"/g)].map((m) => m[1]!);
      if (literals.length === 0) opaque.push(`${where(call.index)}: CpError::new(${argument.trim()}`);
      for (const code of literals) add(code, where(call.index));
    }
    for (const set of text.matchAll(/(?:\bcode:|\.code\s*=)\s*"([A-Z][A-Z0-9_]*)"/g)) add(set[1]!, where(set.index));
  }
  return { codes, opaque };
}

/** The keys of `interface ControlPlaneErrorCodes` in index.d.ts: the `ControlPlaneErrorCode` union. */
function declaredErrorCodes(): string[] {
  const file = path.join(root, "index.d.ts");
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const codes: string[] = [];
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === "ControlPlaneErrorCodes") {
      for (const member of node.members) {
        if (member.name && (ts.isIdentifier(member.name) || ts.isStringLiteral(member.name))) codes.push(member.name.text);
      }
    }
  });
  return codes;
}
// Set on Statement.prototype when the addon loads: a napi-rs method cannot take a variable
// number of arguments.
const prototypeMethods = new Set(["run", "get", "all"]);

describe("types", () => {
  const generated = classMembers(path.join(root, "native.d.ts"));
  const declared = classMembers(path.join(root, "index.d.ts"));

  it("the store's classes come from the generated native.d.ts; index.d.ts declares only the Database handle's, with the same members", () => {
    for (const name of ["ControlPlaneStore", "OrgScope"]) {
      expect(generated.has(name)).toBe(true);
      expect(declared.has(name)).toBe(false);
    }
    for (const name of ["Database", "Statement"]) {
      const mine = [...declared.get(name)!].filter((m) => !prototypeMethods.has(m) || name !== "Statement").sort();
      expect(mine).toEqual([...generated.get(name)!].sort());
    }
    for (const method of prototypeMethods) expect(typeof (Statement.prototype as any)[method]).toBe("function");
    expect(generated.get("ControlPlaneStore")!.size).toBeGreaterThan(45);
    // Every method's input and result are typed: no `unknown` left from napi-rs's defaults.
    const classes = fs.readFileSync(path.join(root, "native.d.ts"), "utf8").split("export declare class ControlPlaneStore")[1]!;
    expect(classes.match(/^.*\bunknown\b.*$/gm) ?? []).toEqual([]);
  });

  it("the generated declarations are in one committed file: native-types.d.ts, from the core's structs; native.d.ts is it and the addon's classes, written by the build", () => {
    // `cargo test -p control-plane-core` fails when native-types.d.ts is stale; the build
    // (run before the tests) writes native.d.ts: that file's head and the addon's classes.
    const tracked = spawnSync("git", ["ls-files", "--", "native.d.ts", "native-types.d.ts"], { cwd: root, encoding: "utf8" });
    expect(tracked.stdout.split("\n").filter(Boolean).sort()).toEqual(["native-types.d.ts"]);
    const diff = spawnSync("git", ["diff", "--stat", "--", "native-types.d.ts"], { cwd: root, encoding: "utf8" });
    expect(diff.status).toBe(0);
    expect(diff.stdout).toBe("");
    const head = fs.readFileSync(path.join(root, "native-types.d.ts"), "utf8");
    const built = fs.readFileSync(path.join(root, "native.d.ts"), "utf8");
    expect(built.startsWith(head)).toBe(true);
    expect(built.slice(head.length)).toMatch(/export declare class ControlPlaneStore/);
  });

  it("index.d.ts is the hand-written part only: at most about 150 lines", () => {
    expect(fs.readFileSync(path.join(root, "index.d.ts"), "utf8").split("\n").length).toBeLessThanOrEqual(155);
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

  it("ControlPlaneErrorCode is exactly the codes the Rust source can throw, each with its entry in docs/errors.md", () => {
    const { codes, opaque } = rustErrorCodes();
    expect(opaque).toEqual([]);
    // Found at all: the extraction still reads the source (13 codes when this was written).
    expect(codes.size).toBeGreaterThanOrEqual(13);
    const declared = declaredErrorCodes();
    const undeclared = [...codes].filter(([code]) => !declared.includes(code)).map(([code, at]) => `${code} (${at.join(", ")})`);
    expect(undeclared, "codes the Rust source throws that index.d.ts does not name").toEqual([]);
    expect(declared.filter((code) => !codes.has(code)), "codes index.d.ts names that nothing throws").toEqual([]);
    // docsUrl is the code's heading in docs/errors.md, in lower case.
    const headings = [...fs.readFileSync(path.join(root, "docs/errors.md"), "utf8").matchAll(/^## ([A-Z][A-Z0-9_]*)$/gm)].map((m) => m[1]);
    expect(declared.filter((code) => !headings.includes(code)), "codes without an entry in docs/errors.md").toEqual([]);
  });

  // Its own program: an augmentation applies to every file of the program it is in, so in
  // caller.ts's it would make `NEW_CODE` a code there too (see types/augmented/codes.ts).
  it("a project adds a code by merging it into ControlPlaneErrorCodes, and the union stays closed", () => {
    const host: ts.FormatDiagnosticsHost = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };
    const config = ts.getParsedCommandLineOfConfigFile(path.join(root, "__tests__/types/augmented/tsconfig.json"), undefined, {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.formatDiagnostic(d, host));
      },
    })!;
    expect(config.errors).toEqual([]);
    const program = ts.createProgram(config.fileNames, config.options);
    // The augmentation's module name resolves to this package's index.d.ts.
    expect(program.getSourceFiles().map((f) => path.resolve(f.fileName))).toContain(path.join(root, "index.d.ts"));
    expect(ts.getPreEmitDiagnostics(program).map((d) => ts.formatDiagnostic(d, host))).toEqual([]);
  }, 60_000);
});
