// The JavaScript suites' throwaway PostgreSQL server (server.js): it starts, takes
// connections, and is gone after stop() or its process's exit; without PostgreSQL it
// throws, saying what to install, rather than letting a suite skip.
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { findBin, startServer } from "./server.js";

const isReady = (bin: string, port: number) => spawnSync(path.join(bin, "pg_isready"), ["-h", "127.0.0.1", "-p", String(port)]).status === 0;

describe("the throwaway PostgreSQL server", () => {
  it("starts on a free port with fsync off, takes connections, and stop() deletes it", () => {
    const server = startServer();
    const { initdbMs, startMs, createdbMs, totalMs } = server.timings;
    console.log(
      `PostgreSQL test server on port ${server.port}: initdb ${initdbMs.toFixed(0)} ms, start ${startMs.toFixed(0)} ms, ` +
        `createdb ${createdbMs.toFixed(0)} ms, ${totalMs.toFixed(0)} ms in all`,
    );
    try {
      expect(server.url).toBe(`postgres://postgres@127.0.0.1:${server.port}/cp_test`);
      const settings = server.psql("SELECT current_database(), current_setting('fsync'), current_setting('unix_socket_directories')");
      expect(settings).toBe(`cp_test|off|${server.dir}`);
      expect(fs.existsSync(path.join(server.dir, `.s.PGSQL.${server.port}`))).toBe(true);
      expect(isReady(server.bin, server.port)).toBe(true);
    } finally {
      server.stop();
    }
    expect(fs.existsSync(server.dir)).toBe(false);
    expect(isReady(server.bin, server.port)).toBe(false);
    server.stop();
  });

  it("is stopped and deleted when its process exits", () => {
    const child = spawnSync(
      process.execPath,
      ["-e", "const s = require('./__tests__/pg/server.js').startServer(); console.log(JSON.stringify({ dir: s.dir, port: s.port, bin: s.bin }))"],
      { cwd: path.join(__dirname, "..", ".."), encoding: "utf8" },
    );
    expect(child.status, child.stderr).toBe(0);
    const { dir, port, bin } = JSON.parse(child.stdout);
    expect(fs.existsSync(dir)).toBe(false);
    expect(isReady(bin, port)).toBe(false);
  });

  it("throws, saying what to install, when PostgreSQL is missing", () => {
    expect(() => findBin({ searchPath: "/nonexistent", roots: ["/nonexistent"] })).toThrow(/apt-get install -y postgresql.*do not skip/);
    expect(fs.existsSync(path.join(findBin(), "initdb"))).toBe(true);
  });
});
