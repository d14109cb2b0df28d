"use strict";
// Loads the native addon and exports what it exports (index.js wraps it). The same logic
// as the loader napi-rs generates, for our seven platforms only:
//   1. CONTROL_PLANE_NATIVE_PATH, when set: that file and nothing else;
//   2. a local build in a clone: `control-plane-store.node` at the package root (what
//      `npm run build` writes), then `control-plane-store.<platform>.node`;
//   3. the platform's package, `smithers-control-plane-<platform>`, an optional dependency
//      of this one: npm installs the one whose os, cpu and libc match the machine.
// The platform is `<os>-<arch>[-<abi>]` as napi-rs names it: linux-x64-gnu, linux-x64-musl,
// darwin-arm64, win32-x64-msvc...

const fs = require("node:fs");
const path = require("node:path");

const BINARY_NAME = "control-plane-store";
const PACKAGE_NAME = "smithers-control-plane";
/** Every platform we publish a package for (package.json `napi.targets`, `npm/<platform>/`). */
const SUPPORTED_PLATFORMS = Object.freeze([
  "linux-x64-gnu",
  "linux-arm64-gnu",
  "linux-x64-musl",
  "linux-arm64-musl",
  "darwin-x64",
  "darwin-arm64",
  "win32-x64-msvc",
]);

/**
 * The platform key for an OS, CPU and (on Linux) C library, as napi-rs names them; throws
 * when we publish no binary for it. Pure: `libc` is "musl" or anything else for glibc.
 */
function platformKey(platform, arch, libc) {
  let key;
  if (platform === "linux") {
    const musl = libc === "musl";
    key = arch === "arm" ? `linux-arm-${musl ? "musleabihf" : "gnueabihf"}` : `linux-${arch}-${musl ? "musl" : "gnu"}`;
  } else if (platform === "win32") {
    key = `win32-${arch}-msvc`;
  } else if (platform === "android" && arch === "arm") {
    key = "android-arm-eabi";
  } else {
    key = `${platform}-${arch}`;
  }
  if (!SUPPORTED_PLATFORMS.includes(key)) {
    throw new Error(
      `${PACKAGE_NAME} has no prebuilt native binary for ${key}. ` +
        `Supported platforms: ${SUPPORTED_PLATFORMS.join(", ")}. ` +
        "Elsewhere, build the addon from a clone of the repository with `npm run build` (needs Rust).",
    );
  }
  return key;
}

/** The package that carries the binary for a platform key. */
function packageFor(key) {
  return `${PACKAGE_NAME}-${key}`;
}

// musl or glibc, in napi-rs's order: /usr/bin/ldd's text, then the process report (a glibc
// Node reports glibcVersionRuntime; a musl one loads libc.musl-* / ld-musl-*), then
// `ldd --version`; glibc when nothing tells.
function detectLibc() {
  const fromLdd = (text) => (text.includes("musl") ? "musl" : "glibc");
  try {
    return fromLdd(fs.readFileSync("/usr/bin/ldd", "utf8"));
  } catch {}
  try {
    if (typeof process.report?.getReport === "function") {
      process.report.excludeNetwork = true;
      const report = process.report.getReport();
      if (report.header?.glibcVersionRuntime) return "glibc";
      const shared = report.sharedObjects;
      if (Array.isArray(shared) && shared.some((f) => f.includes("libc.musl-") || f.includes("ld-musl-"))) return "musl";
    }
  } catch {}
  try {
    const out = require("node:child_process").execSync("ldd --version 2>&1", { encoding: "utf8" });
    return fromLdd(out);
  } catch (error) {
    // musl's ldd exits 1 after printing its version.
    if (typeof error?.stdout === "string" && error.stdout.includes("musl")) return "musl";
  }
  return "glibc";
}

function load() {
  const override = process.env.CONTROL_PLANE_NATIVE_PATH;
  if (override) {
    try {
      return require(path.resolve(override));
    } catch (cause) {
      throw new Error(`Cannot load the native addon from CONTROL_PLANE_NATIVE_PATH=${override}: ${cause.message}`, { cause });
    }
  }

  const errors = [];
  const tryLocal = (file) => {
    const full = path.join(__dirname, file);
    if (!fs.existsSync(full)) return undefined;
    try {
      return require(full);
    } catch (error) {
      errors.push(error);
      return undefined;
    }
  };

  const local = tryLocal(`${BINARY_NAME}.node`);
  if (local) return local;

  let key;
  try {
    key = platformKey(process.platform, process.arch, process.platform === "linux" ? detectLibc() : undefined);
  } catch (error) {
    if (errors.length) error.cause = errors[0]; // a local build that would not load
    throw error;
  }
  const localPlatform = tryLocal(`${BINARY_NAME}.${key}.node`);
  if (localPlatform) return localPlatform;

  const pkg = packageFor(key);
  try {
    return require(pkg);
  } catch (error) {
    errors.push(error);
  }
  const version = require("./package.json").version;
  const cause = errors.length === 1 ? errors[0] : new AggregateError(errors, errors.map((e) => e.message).join("; "));
  throw new Error(
    `Cannot load the native addon of ${PACKAGE_NAME} for ${key}: its package ${pkg} is missing or failed to load. ` +
      `Install it with \`npm install ${pkg}@${version}\` (npm installs it as an optional dependency unless ` +
      `optional dependencies are omitted, or the lockfile was made on another platform). ` +
      `Load error: ${cause.message.split("\n")[0]}`,
    { cause },
  );
}

// The addon's own exports (the same classes and functions) on an object of this realm, with
// the platform rules for the tests beside them (not enumerable). Nothing is set on the
// addon's exports object: every realm of the thread shares it, and would be kept alive by
// what one of them hung on it.
module.exports = Object.defineProperty({ ...load() }, "loader", {
  value: Object.freeze({ platformKey, packageFor, detectLibc, SUPPORTED_PLATFORMS }),
});
