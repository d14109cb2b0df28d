// The glibc a linux-x64-gnu binary needs: the highest GLIBC_x.y version among its dynamic
// symbols. The zig build (scripts/build.js, what CI and the release build for this
// platform) links against glibc 2.17, napi-rs's floor, so the package loads on any
// distribution since 2014 (RHEL 7, Debian 8, Ubuntu 14.04). A plain cargo build needs the
// building machine's glibc: that is reported, not held to 2.17, outside CI.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.join(__dirname, "..");
const FLOOR = "2.17";
const shipped = path.join(ROOT, "npm", "linux-x64-gnu", "control-plane-store.linux-x64-gnu.node");

const compare = (a: string, b: string) => {
  const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};

/** The GLIBC_x.y versions the binary's dynamic symbols ask for, lowest first. */
function glibcVersions(file: string): string[] {
  let out: string;
  try {
    out = execFileSync("readelf", ["--dyn-syms", "--wide", file], { encoding: "utf8", maxBuffer: 64 << 20 });
  } catch {
    out = execFileSync("objdump", ["-T", file], { encoding: "utf8", maxBuffer: 64 << 20 });
  }
  return [...new Set([...out.matchAll(/GLIBC_(\d+(?:\.\d+)+)/g)].map((m) => m[1]))].sort(compare);
}

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
    // Stripped: no static symbol table.
    expect(execFileSync("readelf", ["--section-headers", "--wide", shipped], { encoding: "utf8" })).not.toMatch(/\.symtab/);
    // The suites load the root file: the very binary the package ships.
    expect(fs.readFileSync(path.join(ROOT, "control-plane-store.node")).equals(fs.readFileSync(shipped))).toBe(true);
  });
});
