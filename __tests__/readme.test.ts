// Every example in README.md, run as written; and the links of README.md and docs/ resolve.
//
// Each fenced code block of the README is an example and runs here, from a scratch folder
// whose node_modules/smithers-control-plane is this repository (so `import ... from
// "smithers-control-plane"` resolves as it does for a user):
// - ```ts: run by Bun (it runs TypeScript as it is; the bun:sqlite example needs it). A
//   block that imports from "vitest" is a test file: it runs under `vitest run`, and under
//   `bun test` with the import from "bun:test", as the README says.
// - ```js: an ES module, run by Node and by Bun.
// - ```sh: run by bash (-e, pipefail), with `control-plane` on the PATH being this
//   repository's bin/control-plane.js, as `npm install` links it.
// A block is left out only when the line before its fence is
// `<!-- readme-test: skip (why) -->`; those are the install and contributor commands. The
// inventory below names how many blocks run and how many are left out, so an example that
// stops running (or a README with none) fails.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.join(__dirname, "..");
const BUN = path.join(ROOT, "node_modules", ".bin", "bun");
const VITEST = path.join(ROOT, "node_modules", "vitest", "vitest.mjs");
const SKIP = /^<!--\s*readme-test:\s*skip\b.*-->$/;

interface Block {
  lang: string;
  code: string;
  line: number;
  skip: boolean;
}

function blocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const found: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]); i++) body.push(lines[i]);
    if (i >= lines.length) throw new Error(`README.md: the block opened at line ${start + 1} is never closed`);
    let before = start - 1;
    while (before >= 0 && lines[before].trim() === "") before--;
    found.push({ lang: open[1], code: `${body.join("\n")}\n`, line: start + 1, skip: before >= 0 && SKIP.test(lines[before].trim()) });
  }
  return found;
}

/** A scratch folder in which "smithers-control-plane" (and "vitest") resolve to this repository's. */
function scratch(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cp-readme-"));
  fs.mkdirSync(path.join(dir, "node_modules"));
  fs.symlinkSync(ROOT, path.join(dir, "node_modules", "smithers-control-plane"), "dir");
  fs.symlinkSync(path.join(ROOT, "node_modules", "vitest"), path.join(dir, "node_modules", "vitest"), "dir");
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.symlinkSync(path.join(ROOT, "bin", "control-plane.js"), path.join(bin, "control-plane"));
  return dir;
}

/** The environment of a child: without this run's Vitest variables, so an inner Vitest starts afresh. */
function childEnv(dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(VITEST|TINYPOOL|NODE_OPTIONS$)/.test(key)) env[key] = value;
  }
  env.PATH = `${path.join(dir, "bin")}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${env.PATH ?? ""}`;
  env.NO_COLOR = "1";
  return env;
}

function run(dir: string, command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd: dir, env: childEnv(dir), encoding: "utf8", timeout: 120_000 });
  const output = `$ ${[command, ...args].join(" ")}\nexit ${result.status} ${result.signal ?? ""}\n${result.error ?? ""}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
  expect(result.status, output).toBe(0);
}

/** Runs one README block, as the header of this file says. */
function runBlock(block: Block): void {
  const dir = scratch();
  try {
    if (block.lang === "ts" && /from "vitest"/.test(block.code)) {
      fs.writeFileSync(path.join(dir, "example.test.ts"), block.code);
      run(dir, process.execPath, [VITEST, "run", "--root", dir, "--reporter", "verbose"]);
      fs.writeFileSync(path.join(dir, "example.bun.test.ts"), block.code.replace(/from "vitest"/g, 'from "bun:test"'));
      fs.rmSync(path.join(dir, "example.test.ts"));
      run(dir, BUN, ["test", "./example.bun.test.ts"]);
    } else if (block.lang === "ts") {
      fs.writeFileSync(path.join(dir, "example.ts"), block.code);
      run(dir, BUN, ["run", "./example.ts"]);
    } else if (block.lang === "js") {
      fs.writeFileSync(path.join(dir, "example.mjs"), block.code);
      run(dir, process.execPath, ["example.mjs"]);
      run(dir, BUN, ["run", "./example.mjs"]);
    } else if (block.lang === "sh") {
      fs.writeFileSync(path.join(dir, "example.sh"), block.code);
      run(dir, "bash", ["-e", "-o", "pipefail", "example.sh"]);
    } else {
      throw new Error(`README.md line ${block.line}: no way to run a \`\`\`${block.lang} block; mark it skipped or make it ts, js or sh`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const all = blocks(fs.readFileSync(path.join(ROOT, "README.md"), "utf8"));
const runnable = all.filter((b) => !b.skip);

describe("README.md", () => {
  it("has the examples this test expects, and leaves out only the install, contributor and PostgreSQL commands", () => {
    // Update these when an example is added or removed.
    expect(runnable.map((b) => b.lang)).toEqual(["ts", "ts", "js", "sh", "js"]);
    const skipped = all.filter((b) => b.skip);
    expect(skipped.map((b) => b.lang)).toEqual(["sh", "sh", "sh", "sh"]);
    expect(skipped[0].code).toContain("npm install smithers-control-plane");
    // Beside the registry's install, until it works, the tarballs that do (package.test.ts).
    expect(skipped[1].code).toContain("(cd npm/linux-x64-gnu && npm pack)");
    expect(skipped[1].code).toMatch(/npm install \.\/smithers-control-plane-\S+\.tgz \.\/smithers-control-plane-linux-x64-gnu-\S+\.tgz/);
    expect(skipped[2].code).toContain("npm install && npm run quickstart");
    expect(skipped[2].code).toContain("npm test");
    // The move to PostgreSQL needs a server: __tests__/migrate.test.ts runs it on one.
    expect(skipped[3].code).toContain("control-plane migrate --from sqlite:");
    expect(fs.existsSync(BUN)).toBe(true);
  });

  for (const block of runnable) {
    it(`runs the ${block.lang} example at line ${block.line}`, () => runBlock(block), 180_000);
  }

  it("links only to files and headings that exist, in README.md and docs/", () => {
    const pages = ["README.md", ...fs.readdirSync(path.join(ROOT, "docs")).map((f) => `docs/${f}`)];
    const broken: string[] = [];
    for (const page of pages) {
      const text = fs.readFileSync(path.join(ROOT, page), "utf8").replace(/```[\s\S]*?```/g, "");
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target)) continue;
        const [file, anchor] = target.split("#");
        const resolved = file ? path.join(path.dirname(path.join(ROOT, page)), file) : path.join(ROOT, page);
        if (!fs.existsSync(resolved)) {
          broken.push(`${page}: ${target} (no such file)`);
        } else if (anchor && !anchors(fs.readFileSync(resolved, "utf8")).has(anchor)) {
          broken.push(`${page}: ${target} (no such heading)`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it("docs/errors.md has an entry for every error code the store raises", () => {
    const codes = new Set(["INVALID_INPUT", "DUPLICATE_ID", "IDEMPOTENCY_CONFLICT", "ORG_SUSPENDED", "ORG_DELETED", "NOT_FOUND", "QUOTA_EXCEEDED", "SECRET_VALUE_REJECTED", "BUSY", "STORAGE_ERROR", "CLOSED", "TENANT_MISMATCH", "INTERNAL"]);
    for (const file of rustFiles(path.join(ROOT, "src"))) {
      for (const [, code] of fs.readFileSync(file, "utf8").matchAll(/CpError::new\(\s*"([A-Z][A-Z_]+)"/g)) codes.add(code);
    }
    const entries = anchors(fs.readFileSync(path.join(ROOT, "docs", "errors.md"), "utf8"));
    expect([...codes].filter((code) => !entries.has(code.toLowerCase()))).toEqual([]);
  });
});

/** The anchors of a Markdown page's headings, as GitHub makes them. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  for (const [, heading] of markdown.replace(/```[\s\S]*?```/g, "").matchAll(/^#{1,6} (.+)$/gm)) {
    found.add(heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-"));
  }
  return found;
}

function rustFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? rustFiles(full) : entry.name.endsWith(".rs") ? [full] : [];
  });
}
