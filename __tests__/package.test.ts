// The package as a user gets it: packed with `npm pack`, installed from the tarball into
// an empty project, then used from CommonJS, from an ES module, through its CLI, and
// under Bun.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers";

const ROOT = path.join(__dirname, "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

describe("the packed package", () => {
  it("installs from its tarball and runs from CommonJS, ESM, its CLI and Bun", () => {
    const work = tempDir();
    const packed = JSON.parse(execFileSync(npm, ["pack", "--json", "--pack-destination", work], { cwd: ROOT, encoding: "utf8" }));
    const files = packed[0].files.map((f: { path: string }) => f.path).sort();
    expect(files).toEqual(expect.arrayContaining(["bin/control-plane.js", "control-plane-store.node", "index.d.ts", "native.d.ts", "index.js", "package.json", "README.md"]));
    expect(files.some((f: string) => f.startsWith("src/") || f.startsWith("__tests__/") || f.startsWith("target/"))).toBe(false);

    const app = path.join(work, "app");
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true }));
    execFileSync(npm, ["install", "--no-audit", "--no-fund", path.join(work, packed[0].filename)], { cwd: app, stdio: "pipe" });

    const script = `
      const org = store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
      let code; try { store.createTeam({ orgId: "ghost", slug: "t", name: "T" }); } catch (e) { code = e instanceof ControlPlaneError && e.code; }
      console.log(JSON.stringify({ slug: org.slug, code, runtime: typeof Bun === "undefined" ? "node" : "bun" }));`;
    fs.writeFileSync(path.join(app, "cjs.cjs"), `const { ControlPlaneStore, ControlPlaneError } = require("smithers-control-plane"); const store = new ControlPlaneStore(":memory:");${script}`);
    fs.writeFileSync(path.join(app, "esm.mjs"), `import { ControlPlaneStore, ControlPlaneError } from "smithers-control-plane"; const store = new ControlPlaneStore(":memory:");${script}`);
    const runIn = (cmd: string, args: string[]) => JSON.parse(execFileSync(cmd, args, { cwd: app, encoding: "utf8" }));
    expect(runIn(process.execPath, ["cjs.cjs"])).toEqual({ slug: "acme", code: "INVALID_INPUT", runtime: "node" });
    expect(runIn(process.execPath, ["esm.mjs"])).toEqual({ slug: "acme", code: "INVALID_INPUT", runtime: "node" });

    const help = execFileSync(path.join(app, "node_modules", ".bin", "control-plane"), ["--help"], { cwd: app, encoding: "utf8" });
    expect(help).toContain("Usage: control-plane");

    const bun = path.join(ROOT, "node_modules", ".bin", "bun");
    expect(fs.existsSync(bun)).toBe(true);
    expect(runIn(bun, ["cjs.cjs"])).toEqual({ slug: "acme", code: "INVALID_INPUT", runtime: "bun" });
    expect(runIn(bun, ["esm.mjs"])).toEqual({ slug: "acme", code: "INVALID_INPUT", runtime: "bun" });
  }, 180_000);
});
