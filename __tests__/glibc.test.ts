// The glibc a linux-x64-gnu binary needs: the highest GLIBC_x.y version among its dynamic
// symbols. The zig build (scripts/build.js, what CI and the release build for this
// platform) links against glibc 2.17, napi-rs's floor, so the package loads on any
// distribution since 2014 (RHEL 7, Debian 8, Ubuntu 14.04). A plain cargo build needs the
// building machine's glibc: that is reported, not held to 2.17, outside CI.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import guard from "../scripts/glibc-floor.js";
import { tempDir } from "./helpers";

const ROOT = path.join(__dirname, "..");
const FLOOR = "2.17";
const shipped = path.join(ROOT, "npm", "linux-x64-gnu", "control-plane-store.linux-x64-gnu.node");

const { compareVersions: compare, inspect, refusal } = guard as {
  compareVersions: (a: string, b: string) => number;
  inspect: (file: string) => { versions: string[]; stripped: boolean };
  refusal: (file: string) => string | null;
};
const glibcVersions = (file: string) => inspect(file).versions;

describe.runIf(process.platform === "linux" && process.arch === "x64")("the linux-x64-gnu binary", () => {
  it(`needs glibc ${FLOOR} at most`, (ctx) => {
    expect(fs.existsSync(shipped), `${shipped}: run npm run build`).toBe(true);
    const info = JSON.parse(fs.readFileSync(path.join(ROOT, "native-build.json"), "utf8"));
    const versions = glibcVersions(shipped);
    const floor = versions[versions.length - 1];
    expect(floor).toMatch(/^2\./);
    console.log(`glibc floor of npm/linux-x64-gnu (${info.mode} build${info.target ? `, ${info.target}` : ""}): GLIBC_${floor}; versions used: ${versions.join(" ")}`);
    if (info.mode !== "zig") {
      // CI builds with zig (.ci/run sets CONTROL_PLANE_ZIG=1): a plain build there is a failure.
      expect(process.env.CI === "true" || process.env.CONTROL_PLANE_ZIG === "1", "CI must build with zig (CONTROL_PLANE_ZIG=1)").toBe(false);
      ctx.skip();
    }
    expect(info).toMatchObject({ mode: "zig", platform: "linux-x64-gnu", target: `x86_64-unknown-linux-gnu.${FLOOR}`, glibc: FLOOR });
    expect(compare(floor, FLOOR), `needs GLIBC_${floor}, more than ${FLOOR}`).toBeLessThanOrEqual(0);
    // Stripped: no static symbol table (readelf, where binutils is there, agrees with the guard's reading).
    expect(inspect(shipped).stripped).toBe(true);
    // The suites load the root file: the very binary the package ships.
    expect(fs.readFileSync(path.join(ROOT, "control-plane-store.node")).equals(fs.readFileSync(shipped))).toBe(true);
  });
});

// The pack guard (scripts/glibc-floor.js, npm/linux-x64-gnu's prepack): `npm pack` or
// `npm publish` of the package refuses a binary above the floor or not stripped.
describe.runIf(process.platform === "linux" && process.arch === "x64")("packing npm/linux-x64-gnu", () => {
  const binaryName = path.basename(shipped);
  /** The package's folder and the guard, laid out as in the repository, with `binary` as its binary. */
  function packageWith(binary: string) {
    const root = tempDir();
    const dir = path.join(root, "npm", "linux-x64-gnu");
    fs.mkdirSync(dir, { recursive: true });
    fs.mkdirSync(path.join(root, "scripts"));
    fs.copyFileSync(path.join(ROOT, "scripts", "glibc-floor.js"), path.join(root, "scripts", "glibc-floor.js"));
    for (const f of ["package.json", "README.md"]) fs.copyFileSync(path.join(ROOT, "npm", "linux-x64-gnu", f), path.join(dir, f));
    fs.copyFileSync(binary, path.join(dir, binaryName));
    return dir;
  }
  const pack = (dir: string, env: NodeJS.ProcessEnv = {}) =>
    spawnSync("npm", ["pack", "--pack-destination", dir], { cwd: dir, encoding: "utf8", env: { ...process.env, CONTROL_PLANE_PACK_ANY_GLIBC: "", ...env } });

  it("refuses a binary that needs a newer glibc, and says how to build one", () => {
    // A small binary of this machine's (ls: GLIBC_2.34 on Debian 12), as a build without
    // zig gives one.
    const built = "/bin/ls";
    const { versions, stripped } = inspect(built);
    expect(compare(versions[versions.length - 1], FLOOR), "this test needs a binary above the floor").toBeGreaterThan(0);
    // readelf, where binutils is there, reads the same versions.
    const readelf = spawnSync("readelf", ["--dyn-syms", "--wide", built], { encoding: "utf8", maxBuffer: 64 << 20 });
    if (readelf.status === 0) expect(versions).toEqual([...new Set([...readelf.stdout.matchAll(/GLIBC_(\d+(?:\.\d+)+)/g)].map((m) => m[1]))].sort(compare));
    const dir = packageWith(built);
    const refused = pack(dir);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toContain(`needs GLIBC_${versions[versions.length - 1]}, above the ${FLOOR} the package promises`);
    if (!stripped) expect(refused.stderr).toContain("not stripped");
    expect(refused.stderr).toContain("CONTROL_PLANE_ZIG=1 npm run build");
    expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tgz"))).toEqual([]);
    // A binary with its symbol table (Debian's node) is refused for that too.
    expect(inspect(process.execPath).stripped).toBe(false);
    expect(refusal(process.execPath)).toContain("it is not stripped");
    // Let through on purpose, with a warning, for a local try only.
    const forced = pack(dir, { CONTROL_PLANE_PACK_ANY_GLIBC: "1" });
    expect(forced.status, forced.stderr).toBe(0);
    expect(forced.stderr).toContain("Packing anyway (CONTROL_PLANE_PACK_ANY_GLIBC=1)");
  });

  it("packs the zig build", (ctx) => {
    const info = JSON.parse(fs.readFileSync(path.join(ROOT, "native-build.json"), "utf8"));
    if (info.mode !== "zig") ctx.skip(); // the test above holds a plain build; CI builds with zig
    const dir = packageWith(shipped);
    const packed = pack(dir);
    expect(packed.status, packed.stderr).toBe(0);
    expect(packed.stderr).toMatch(/needs GLIBC_2\.\d+, at most 2\.17; stripped/);
  });
});

