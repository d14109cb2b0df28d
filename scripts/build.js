#!/usr/bin/env node
// `npm run build`: the release build of the addon, `control-plane-store.node` at the root
// (what a clone loads first, see binding.js) and `native.d.ts` (napi-rs's types of it).
//
// Two ways, one build each:
//   - plain: `napi build --release` with cargo alone, what a clone needs. The binary needs
//     the glibc of the machine that built it (or newer).
//   - zig: for x86_64 Linux with glibc, the binary we publish: linked against glibc 2.17
//     (napi-rs's floor) by cargo-zigbuild and zig, which also compile our C (the bundled
//     SQLite, ofd_locks.c), and stripped.
// CONTROL_PLANE_ZIG=1 asks for zig (and fails without it), CONTROL_PLANE_ZIG=0 for plain;
// unset, zig is used when the host is x86_64 Linux with glibc and `cargo zigbuild` and zig
// are both there (`pip install ziglang cargo-zigbuild`).
//
// Either way the binary is also copied into the host platform's package,
// npm/<platform>/control-plane-store.<platform>.node, and native-build.json says how it
// was built (the glibc test reads it).
"use strict";

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.join(__dirname, "..");
const BINARY = "control-plane-store";
const ZIG_TARGET = "x86_64-unknown-linux-gnu.2.17";
const ZIG_PLATFORM = "linux-x64-gnu";
const GLIBC_FLOOR = "2.17";

const quiet = (cmd, args) => spawnSync(cmd, args, { stdio: "ignore" }).status === 0;

function isGlibc() {
  try {
    return Boolean(process.report.getReport().header.glibcVersionRuntime);
  } catch {
    return false;
  }
}

function zigMissing() {
  const missing = [];
  if (!quiet("cargo", ["zigbuild", "--help"])) missing.push("cargo-zigbuild");
  if (!quiet("zig", ["version"]) && !quiet("python3", ["-m", "ziglang", "version"])) missing.push("zig (ziglang)");
  return missing;
}

function chooseMode() {
  const wanted = process.env.CONTROL_PLANE_ZIG;
  const hostFits = process.platform === "linux" && process.arch === "x64" && isGlibc();
  if (wanted === "0") return "cargo";
  if (wanted === "1") {
    if (!hostFits) throw new Error(`CONTROL_PLANE_ZIG=1 builds ${ZIG_TARGET}, on x86_64 Linux with glibc only (this is ${process.platform}-${process.arch})`);
    const missing = zigMissing();
    if (missing.length) throw new Error(`CONTROL_PLANE_ZIG=1 but ${missing.join(" and ")} not found: pip install ziglang cargo-zigbuild`);
    return "zig";
  }
  return hostFits && zigMissing().length === 0 ? "zig" : "cargo";
}

// The host's platform key (as binding.js), only for the copy into npm/<platform>/.
function hostPlatform() {
  const { platform, arch } = process;
  if (platform === "linux") return `linux-${arch}-${isGlibc() ? "gnu" : "musl"}`;
  if (platform === "win32") return `win32-${arch}-msvc`;
  return `${platform}-${arch}`;
}

// The addon's classes that index.js wraps and does not export: their declarations are
// taken out of the generated native.d.ts, so that the types declare exactly what the
// package exports (__tests__/exports.test.ts holds it).
const INTERNAL_CLASSES = ["NativeAsyncStore", "NativeTransfer"];

function dropInternalClasses(file) {
  let text = fs.readFileSync(file, "utf8");
  for (const name of INTERNAL_CLASSES) {
    // The class with the doc comment just above it; napi-rs closes a class at column 0.
    const declaration = new RegExp(`(?:/\\*\\*(?:[^*]|\\*(?!/))*\\*/\\n)?export declare class ${name} \\{\\n[\\s\\S]*?\\n\\}\\n\\n?`);
    if (!declaration.test(text)) throw new Error(`native.d.ts declares no class ${name}`);
    text = text.replace(declaration, "");
  }
  fs.writeFileSync(file, text);
}

// The declared operations' methods (src/binding/methods/*.rs's tables), which napi-rs
// leaves out of the classes it declares: interfaces that TypeScript merges with them, as
// the addon just built writes them (`operationTypes()`).
function addOperationTypes(file, addon) {
  const types = require(addon).operationTypes();
  fs.appendFileSync(file, `\n${types}`);
}

function main() {
  const mode = chooseMode();
  const napi = path.join(ROOT, "node_modules", "@napi-rs", "cli", "dist", "cli.js");
  const args = [napi, "build", "--release", "--dts", "native.d.ts"];
  if (mode === "zig") args.push("--target", ZIG_TARGET, "--cross-compile", "--strip");
  const extra = process.argv.slice(2);
  args.push(...extra);
  console.error(`build: ${mode === "zig" ? `zig, ${ZIG_TARGET} (glibc ${GLIBC_FLOOR})` : "cargo"}: napi ${args.slice(1).join(" ")}`);

  const started = Date.now();
  const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: "inherit" });
  if (result.status !== 0) process.exit(result.status ?? 1);
  const seconds = Math.round((Date.now() - started) / 100) / 10;

  dropInternalClasses(path.join(ROOT, "native.d.ts"));
  addOperationTypes(path.join(ROOT, "native.d.ts"), path.join(ROOT, `${BINARY}.node`));

  const built = path.join(ROOT, `${BINARY}.node`);
  if (!fs.existsSync(built)) throw new Error(`napi build wrote no ${built}`);
  const platform = mode === "zig" ? ZIG_PLATFORM : hostPlatform();
  const pkgDir = path.join(ROOT, "npm", platform);
  let copied = null;
  if (fs.existsSync(path.join(pkgDir, "package.json"))) {
    copied = path.join("npm", platform, `${BINARY}.${platform}.node`);
    fs.copyFileSync(built, path.join(ROOT, copied));
  }
  const info = { mode, platform, target: mode === "zig" ? ZIG_TARGET : null, glibc: mode === "zig" ? GLIBC_FLOOR : null, copiedTo: copied, seconds };
  fs.writeFileSync(path.join(ROOT, "native-build.json"), `${JSON.stringify(info, null, 2)}\n`);
  console.error(`build: ${mode} build done in ${seconds} s${copied ? `, copied to ${copied}` : ""}`);
}

try {
  main();
} catch (error) {
  console.error(`build: ${error.message}`);
  process.exit(1);
}
