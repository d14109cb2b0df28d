// The platforms we publish, named the same everywhere: the release workflow's build
// matrix, package.json's napi.targets and optionalDependencies, the npm/<platform>/
// packages, the lockfile (so `npm ci` stays in step) and the loader's list; and the
// loader's answers for platforms we do not publish or whose package is missing.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parseTriple } from "@napi-rs/cli";
import { load as loadYaml } from "js-yaml";
import { describe, expect, it } from "vitest";
import native from "../binding.js";
import { tempDir } from "./helpers";

const ROOT = path.join(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
const workflow = loadYaml(fs.readFileSync(path.join(ROOT, ".github/workflows/release.yml"), "utf8")) as any;
const loader = (native as any).loader;

type Settings = { host: string; target: string; build: string; zig?: boolean };
const builds: Settings[] = workflow.jobs.build.strategy.matrix.settings;
const targets: string[] = pkg.napi.targets;
const platformOf = (triple: string) => parseTriple(triple).platformArchABI;
const sorted = (xs: Iterable<string>) => [...xs].sort();

describe("the published platforms", () => {
  it("the workflow builds exactly package.json's napi.targets, once each", () => {
    const built = builds.map((s) => s.target);
    expect(new Set(built).size).toBe(built.length);
    expect(sorted(built)).toEqual(sorted(targets));
    expect(targets).toHaveLength(7);
  });

  it("each target has its npm/<platform> package, its optionalDependency and its lockfile entry, and nothing else does", () => {
    const platforms = targets.map(platformOf);
    expect(sorted(platforms)).toEqual(
      sorted(["linux-x64-gnu", "linux-arm64-gnu", "linux-x64-musl", "linux-arm64-musl", "darwin-x64", "darwin-arm64", "win32-x64-msvc"]),
    );
    for (const triple of targets) {
      const { platform, arch, abi, platformArchABI } = parseTriple(triple);
      const name = `${pkg.name}-${platformArchABI}`;
      const file = path.join(ROOT, "npm", platformArchABI, "package.json");
      expect(fs.existsSync(file), file).toBe(true);
      const sub = JSON.parse(fs.readFileSync(file, "utf8"));
      const binary = `${pkg.napi.binaryName}.${platformArchABI}.node`;
      expect(sub.name).toBe(name);
      expect(sub.version).toBe(pkg.version);
      expect(sub.os).toEqual([platform]);
      expect(sub.cpu).toEqual([arch]);
      if (platform === "linux") expect(sub.libc).toEqual([abi === "musl" ? "musl" : "glibc"]);
      else expect(sub.libc).toBeUndefined();
      expect(sub.main).toBe(binary);
      expect(sub.files).toEqual([binary]);
      expect(pkg.optionalDependencies[name]).toBe(pkg.version);
      // npm ci refuses a lockfile without an entry for each optional dependency; npm
      // install cannot write one for a package not yet published, so these are by hand.
      const entry = lock.packages[`node_modules/${name}`];
      expect(entry, `package-lock.json entry for ${name}`).toMatchObject({ version: pkg.version, optional: true, os: sub.os, cpu: sub.cpu });
      expect(entry.libc).toEqual(sub.libc);
    }
    const names = targets.map((t) => `${pkg.name}-${platformOf(t)}`);
    expect(sorted(Object.keys(pkg.optionalDependencies))).toEqual(sorted(names));
    expect(sorted(fs.readdirSync(path.join(ROOT, "npm")))).toEqual(sorted(targets.map(platformOf)));
    expect(sorted(Object.keys(lock.packages).filter((k) => k.startsWith(`node_modules/${pkg.name}-`)).map((k) => k.slice(13)))).toEqual(sorted(names));
    // The main package ships no binary: that is the platform packages' job.
    expect(pkg.files.some((f: string) => f.includes(".node"))).toBe(false);
  });

  it("each build command builds its own target, as a platform file, without touching index.js or index.d.ts", () => {
    for (const { target, build, host, zig } of builds) {
      const requested = build.match(/--target\s+(\S+)/)?.[1];
      expect(requested, build).toBeDefined();
      const [base, glibc] = [requested!.split(".")[0], requested!.split(".").slice(1).join(".")];
      expect(base).toBe(target);
      expect(build).toMatch(/^npx napi build /);
      for (const flag of ["--platform", "--no-js", "--release"]) expect(build.split(/\s+/)).toContain(flag);
      expect(build).toMatch(/--dts native\.d\.ts/);
      const { platform, abi } = parseTriple(target);
      // Linux through cargo-zigbuild; glibc ones against glibc 2.17, as .ci/run's build.
      if (platform === "linux") {
        expect(zig).toBe(true);
        expect(build.split(/\s+/)).toContain("-x");
        expect(build.split(/\s+/)).toContain("--strip");
        expect(glibc).toBe(abi === "gnu" ? "2.17" : "");
        expect(host).toBe("ubuntu-latest");
      } else {
        expect(zig).toBeUndefined();
        // napi's --strip is `-C link-arg=-s` in RUSTFLAGS, which would also drop the Windows
        // rustflags of .cargo/config.toml (crt-static): Linux only, as ld understands it.
        expect(build.split(/\s+/)).not.toContain("--strip");
        expect(glibc).toBe("");
        expect(host).toBe(platform === "darwin" ? "macos-latest" : "windows-latest");
      }
    }
  });

  it("every target is tested, and publishing waits for the tests", () => {
    const tested = [
      ...workflow.jobs["test-linux"].strategy.matrix.target,
      ...workflow.jobs["test-macos-windows"].strategy.matrix.settings.map((s: Settings) => s.target),
    ];
    expect(sorted(tested)).toEqual(sorted(targets));
    for (const job of ["test-linux", "test-macos-windows"]) expect(workflow.jobs[job].needs).toEqual(["build"]);
    expect(sorted(workflow.jobs.publish.needs)).toEqual(["test-linux", "test-macos-windows"]);
    expect(pkg.scripts.prepublishOnly).toBe("napi prepublish -t npm --no-gh-release");
    expect(workflow.env.APP_NAME).toBe(pkg.napi.binaryName);
  });

  it("the loader knows the same platforms", () => {
    expect(sorted(loader.SUPPORTED_PLATFORMS)).toEqual(sorted(targets.map(platformOf)));
    for (const triple of targets) {
      const { platform, arch, abi, platformArchABI } = parseTriple(triple);
      expect(loader.platformKey(platform, arch, abi === "musl" ? "musl" : "glibc")).toBe(platformArchABI);
      expect(loader.packageFor(platformArchABI)).toBe(`${pkg.name}-${platformArchABI}`);
    }
  });
});

describe("the loader", () => {
  it("names this machine's platform", () => {
    if (process.platform === "linux") expect(["glibc", "musl"]).toContain(loader.detectLibc());
    if (process.platform === "linux" && process.arch === "x64") {
      expect(loader.platformKey("linux", "x64", loader.detectLibc())).toBe(loader.detectLibc() === "musl" ? "linux-x64-musl" : "linux-x64-gnu");
    }
  });

  it("refuses a platform we publish no binary for, naming it and the supported ones", () => {
    const supported = "linux-x64-gnu, linux-arm64-gnu, linux-x64-musl, linux-arm64-musl, darwin-x64, darwin-arm64, win32-x64-msvc";
    const cases: [string, string, string | undefined, string][] = [
      ["freebsd", "x64", undefined, "freebsd-x64"],
      ["linux", "ia32", "glibc", "linux-ia32-gnu"],
      ["linux", "arm", "glibc", "linux-arm-gnueabihf"],
      ["linux", "riscv64", "musl", "linux-riscv64-musl"],
      ["win32", "arm64", undefined, "win32-arm64-msvc"],
      ["android", "arm64", undefined, "android-arm64"],
    ];
    for (const [platform, arch, libc, key] of cases) {
      expect(() => loader.platformKey(platform, arch, libc)).toThrow(`smithers-control-plane has no prebuilt native binary for ${key}. Supported platforms: ${supported}.`);
    }
    expect(loader.platformKey("linux", "arm64", "musl")).toBe("linux-arm64-musl");
    expect(loader.platformKey("linux", "x64", "glibc")).toBe("linux-x64-gnu");
    expect(loader.platformKey("darwin", "arm64")).toBe("darwin-arm64");
    expect(loader.platformKey("win32", "x64")).toBe("win32-x64-msvc");
  });

  // binding.js and package.json alone in a folder: no local build, no platform package.
  const bare = () => {
    const dir = tempDir();
    fs.copyFileSync(path.join(ROOT, "binding.js"), path.join(dir, "binding.js"));
    fs.copyFileSync(path.join(ROOT, "package.json"), path.join(dir, "package.json"));
    return dir;
  };
  const load = (dir: string, env: Record<string, string> = {}, prelude = "") =>
    execFileSync(
      process.execPath,
      ["-e", `${prelude} try { const b = require("./binding.js"); console.log(JSON.stringify({ ok: typeof b.ControlPlaneStore })); } catch (e) { console.log(JSON.stringify({ message: e.message, cause: e.cause && e.cause.message })); }`],
      { cwd: dir, encoding: "utf8", env: { ...process.env, CONTROL_PLANE_NATIVE_PATH: "", ...env } },
    );

  it("fails on a platform we publish nothing for, when there is no local build", () => {
    const out = JSON.parse(load(bare(), {}, `Object.defineProperty(process, "platform", { value: "freebsd" }); Object.defineProperty(process, "arch", { value: "x64" });`));
    expect(out.message).toMatch(/^smithers-control-plane has no prebuilt native binary for freebsd-x64\. Supported platforms: linux-x64-gnu, /);
  });

  it.runIf(safeKey() !== undefined)("says which package to install when the platform's package is missing", () => {
    const key = safeKey()!;
    const out = JSON.parse(load(bare()));
    expect(out.message).toContain(`Cannot load the native addon of smithers-control-plane for ${key}: its package smithers-control-plane-${key} is missing or failed to load.`);
    expect(out.message).toContain(`npm install smithers-control-plane-${key}@${pkg.version}`);
    expect(out.cause).toContain(`Cannot find module 'smithers-control-plane-${key}'`);
    expect(out.message).toMatch(new RegExp(`Load error: Cannot find module 'smithers-control-plane-${key}'$`));
  });

  it("loads a local build at the package root first, and CONTROL_PLANE_NATIVE_PATH instead of anything", () => {
    const dir = bare();
    // `npm run build`'s output, or the release workflow's platform file.
    const built = [`${pkg.napi.binaryName}.node`, `${pkg.napi.binaryName}.${safeKey()}.node`].map((f) => path.join(ROOT, f)).find((f) => fs.existsSync(f))!;
    expect(built).toBeDefined();
    expect(JSON.parse(load(dir, { CONTROL_PLANE_NATIVE_PATH: built }))).toEqual({ ok: "function" });
    const missing = JSON.parse(load(dir, { CONTROL_PLANE_NATIVE_PATH: path.join(dir, "nope.node") }));
    expect(missing.message).toContain(`Cannot load the native addon from CONTROL_PLANE_NATIVE_PATH=${path.join(dir, "nope.node")}`);
    fs.copyFileSync(built, path.join(dir, "control-plane-store.node"));
    expect(JSON.parse(load(dir))).toEqual({ ok: "function" });
  });
});

function safeKey(): string | undefined {
  try {
    return loader.platformKey(process.platform, process.arch, process.platform === "linux" ? loader.detectLibc() : undefined);
  } catch {
    return undefined;
  }
}
