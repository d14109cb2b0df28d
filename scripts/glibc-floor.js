#!/usr/bin/env node
// The pack guard of the linux-x64-gnu package: `npm pack` and `npm publish` of
// npm/linux-x64-gnu run this first (its `prepack`), and refuse a binary that would not load
// where the README promises it does, glibc 2.17 and later, or that still carries its
// symbol table. A clone built without zig links against the building machine's glibc
// (GLIBC_2.34 on Debian 12), so its binary must not be shipped.
//
//   node scripts/glibc-floor.js <file.node>    exits 1 with what to do, or prints the floor
//
// CONTROL_PLANE_PACK_ANY_GLIBC=1 lets a local build through with a warning, to install its
// tarball on the machine that built it; never for a package that is published.
//
// The ELF is read here, not by readelf (binutils is not on every machine that packs): the
// GLIBC_x.y versions are the names of the version-needed entries (.gnu.version_r) the
// dynamic linker checks at load; a static symbol table is a section of type SHT_SYMTAB.
"use strict";

const fs = require("node:fs");

const FLOOR = "2.17";
const SHT_SYMTAB = 2;
const SHT_GNU_VERNEED = 0x6ffffffe;

/** Orders dotted versions numerically ("2.9" < "2.17"). */
function compareVersions(a, b) {
  const [x, y] = [a.split(".").map(Number), b.split(".").map(Number)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** The sections of a 64-bit little-endian ELF file: type, offset, size, link. */
function sections(buf, file) {
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file} is not an ELF file`);
  if (buf[4] !== 2 || buf[5] !== 1) throw new Error(`${file} is not a 64-bit little-endian ELF file`);
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const list = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    list.push({
      type: buf.readUInt32LE(at + 4),
      offset: Number(buf.readBigUInt64LE(at + 0x18)),
      size: Number(buf.readBigUInt64LE(at + 0x20)),
      link: buf.readUInt32LE(at + 0x28),
    });
  }
  return list;
}

/** What a binary asks of glibc: its GLIBC_x.y versions (lowest first) and whether it is stripped. */
function inspect(file) {
  const buf = fs.readFileSync(file);
  const all = sections(buf, file);
  const versions = new Set();
  for (const s of all.filter((s) => s.type === SHT_GNU_VERNEED)) {
    const strings = all[s.link];
    const name = (at) => buf.toString("latin1", strings.offset + at, buf.indexOf(0, strings.offset + at));
    // Verneed: vn_version u16, vn_cnt u16, vn_file u32, vn_aux u32, vn_next u32;
    // Vernaux: vna_hash u32, vna_flags u16, vna_other u16, vna_name u32, vna_next u32.
    for (let need = s.offset, more = true; more; ) {
      const count = buf.readUInt16LE(need + 2);
      for (let aux = need + buf.readUInt32LE(need + 8), i = 0; i < count; i++) {
        const match = /^GLIBC_(\d+(?:\.\d+)+)$/.exec(name(buf.readUInt32LE(aux + 8)));
        if (match) versions.add(match[1]);
        aux += buf.readUInt32LE(aux + 12);
      }
      const next = buf.readUInt32LE(need + 12);
      more = next !== 0;
      need += next;
    }
  }
  return { versions: [...versions].sort(compareVersions), stripped: !all.some((s) => s.type === SHT_SYMTAB) };
}

/** Why `file` must not be shipped as the linux-x64-gnu binary, or null when it may. */
function refusal(file) {
  const { versions, stripped } = inspect(file);
  const floor = versions[versions.length - 1];
  const problems = [];
  if (floor && compareVersions(floor, FLOOR) > 0) problems.push(`it needs GLIBC_${floor}, above the ${FLOOR} the package promises`);
  if (!stripped) problems.push("it is not stripped");
  if (!problems.length) return null;
  return (
    `${file}: ${problems.join(" and ")}. Build it with zig against glibc ${FLOOR}: ` +
    "pip install ziglang cargo-zigbuild, then CONTROL_PLANE_ZIG=1 npm run build (see scripts/build.js)."
  );
}

module.exports = { FLOOR, compareVersions, inspect, refusal };

if (require.main === module) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: node scripts/glibc-floor.js <file.node>\n");
    process.exit(2);
  }
  const why = refusal(file);
  if (why && process.env.CONTROL_PLANE_PACK_ANY_GLIBC === "1") {
    // For trying a local build's packages on this machine only (the package test does).
    process.stderr.write(`Packing anyway (CONTROL_PLANE_PACK_ANY_GLIBC=1): ${why}\n`);
  } else if (why) {
    process.stderr.write(`Refusing to pack ${why}\n`);
    process.exit(1);
  }
  const { versions } = inspect(file);
  process.stderr.write(`${file}: needs GLIBC_${versions[versions.length - 1] ?? "(none)"}, at most ${FLOOR}; stripped\n`);
}
