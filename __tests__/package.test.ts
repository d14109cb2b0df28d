// The packages as a user gets them: the main package (JavaScript only) and this
// platform's package (the binary), each packed with `npm pack`, installed from the two
// tarballs into an empty project on a PATH without cargo or rustc, then used from
// CommonJS, from an ES module, through the CLI, and under Bun.
//
// The main package's other optionalDependencies (the other platforms' packages) are not
// on the registry at this version: npm skips an optional dependency it cannot fetch
// (a 404) or that does not fit the machine's os/cpu/libc, so the install still succeeds,
// the same way a user's install skips the six packages of the other platforms.
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import native from "../binding.js";
import { tempDir } from "./helpers";

const ROOT = path.join(__dirname, "..");
const npmCli = process.platform === "win32" ? "npm.cmd" : "npm";
const { loader } = native as any;
const key: string = loader.platformKey(process.platform, process.arch, process.platform === "linux" ? loader.detectLibc() : undefined);
const binary = `control-plane-store.${key}.node`;

// Only node's folder and the system's: what a machine without Rust has.
const systemDirs = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const PATH = [...new Set([path.dirname(process.execPath), ...systemDirs])].join(path.delimiter);
// A local build without zig needs this machine's glibc: its platform package is packed
// past the pack guard here (scripts/glibc-floor.js), to be installed on this machine only.
const plainBuild = JSON.parse(fs.readFileSync(path.join(ROOT, "native-build.json"), "utf8")).mode !== "zig";
const env = { ...process.env, PATH, CONTROL_PLANE_NATIVE_PATH: "", CONTROL_PLANE_PACK_ANY_GLIBC: plainBuild ? "1" : "" };

function pack(dir: string, dest: string) {
  const [packed] = JSON.parse(execFileSync(npmCli, ["pack", "--json", "--pack-destination", dest], { cwd: dir, encoding: "utf8", env }));
  return { file: path.join(dest, packed.filename), files: packed.files.map((f: { path: string }) => f.path).sort() as string[] };
}

describe.runIf(process.platform !== "win32")("the packed packages", () => {
  it("install from their tarballs without Rust and run from CommonJS, ESM, the CLI and Bun", () => {
    for (const tool of ["cargo", "rustc"]) expect(spawnSync("sh", ["-c", `command -v ${tool}`], { env }).status, `${tool} on ${PATH}`).not.toBe(0);
    const work = tempDir();

    const main = pack(ROOT, work);
    expect(main.files).toEqual(expect.arrayContaining(["bin/control-plane.js", "binding.js", "index.d.ts", "native.d.ts", "async.d.ts", "migrate.d.ts", "index.js", "package.json", "README.md"]));
    expect(main.files.filter((f) => f.endsWith(".node"))).toEqual([]);
    expect(main.files.some((f) => /^(src|__tests__|target|npm|scripts)\//.test(f))).toBe(false);

    const platformDir = path.join(ROOT, "npm", key);
    expect(fs.existsSync(path.join(platformDir, binary)), `${platformDir}/${binary}: run npm run build`).toBe(true);
    const platform = pack(platformDir, work);
    expect(platform.files).toEqual([binary, "package.json", "README.md"].sort());

    const app = path.join(work, "app");
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true }));
    execFileSync(npmCli, ["install", "--no-audit", "--no-fund", main.file, platform.file], { cwd: app, stdio: "pipe", env });
    const installed = fs.readdirSync(path.join(app, "node_modules")).filter((d) => d.startsWith("smithers-control-plane"));
    expect(installed.sort()).toEqual(["smithers-control-plane", `smithers-control-plane-${key}`]);
    expect(fs.existsSync(path.join(app, "node_modules", "smithers-control-plane", "control-plane-store.node"))).toBe(false);

    const script = `
      const org = store.createOrg({ orgId: "acme", slug: "acme", name: "Acme" });
      let code; try { store.createTeam({ orgId: "ghost", slug: "t", name: "T" }); } catch (e) { code = e instanceof ControlPlaneError && e.code; }
      console.log(JSON.stringify({ slug: org.slug, code, runtime: typeof Bun === "undefined" ? "node" : "bun" }));`;
    fs.writeFileSync(path.join(app, "cjs.cjs"), `const { ControlPlaneStore, ControlPlaneError } = require("smithers-control-plane"); const store = new ControlPlaneStore(":memory:");${script}`);
    fs.writeFileSync(path.join(app, "esm.mjs"), `import { ControlPlaneStore, ControlPlaneError } from "smithers-control-plane"; const store = new ControlPlaneStore(":memory:");${script}`);
    const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: app, encoding: "utf8", env });
    const runJson = (cmd: string, args: string[]) => JSON.parse(run(cmd, args));
    expect(runJson(process.execPath, ["cjs.cjs"])).toEqual({ slug: "acme", code: "INVALID_INPUT", runtime: "node" });
    expect(runJson(process.execPath, ["esm.mjs"])).toEqual({ slug: "acme", code: "INVALID_INPUT", runtime: "node" });

    const cli = path.join(app, "node_modules", ".bin", "control-plane");
    expect(run(cli, ["--help"])).toContain("Usage: control-plane");
    run(cli, ["--db", "cli.db", "orgs", "create", "--id", "acme", "--slug", "acme", "--name", "Acme"]);
    expect(runJson(cli, ["--db", "cli.db", "--json", "orgs", "list"]).items).toMatchObject([{ orgId: "acme", slug: "acme", name: "Acme" }]);

    const bun = path.join(ROOT, "node_modules", ".bin", "bun");
    expect(fs.existsSync(bun)).toBe(true);
    expect(runJson(bun, ["cjs.cjs"])).toEqual({ slug: "acme", code: "INVALID_INPUT", runtime: "bun" });
    expect(runJson(bun, ["esm.mjs"])).toEqual({ slug: "acme", code: "INVALID_INPUT", runtime: "bun" });
  }, 180_000);
});
