// One file, two users in one process: the gateway on its own SQLite handle and the store,
// either on that handle or on a connection of its own opened by path (our copy of SQLite
// beside the gateway's). Each scenario runs in a child process under Node (better-sqlite3)
// and under Bun (bun:sqlite), which is killed with SIGKILL after it has acknowledged
// writes; this process then checks the file: integrity_check is ok and every acknowledged
// row of the gateway and of the store is there.
import BetterSqlite3 from "better-sqlite3";
import { spawn } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "./helpers";

const bun = path.join(__dirname, "../node_modules/.bin/bun");
const worker = path.join(__dirname, "workers/gateway-crash.js");

type Acks = { g: number[]; s: number[]; o: string[]; t: string[]; phase: boolean; since: number };

/** Runs the scenario until `ready(acks)` holds, then a random moment more, then SIGKILL. */
async function killAfter(runtime: string, form: string, scenario: string, file: string, ready: (a: Acks) => boolean) {
  const child = spawn(runtime, [worker, form, scenario, file], { cwd: __dirname, stdio: ["ignore", "pipe", "inherit"] });
  const acks: Acks = { g: [], s: [], o: [], t: [], phase: false, since: Date.now() };
  let buffered = "";
  let killed = false;
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => resolve({ code, signal })),
  );
  child.stdout!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      const [kind, ...rest] = line.split(" ");
      if (kind === "phase") acks.phase = true;
      else if (kind === "g" || kind === "s") acks[kind].push(Number(rest[0]));
      else if (kind === "o" || kind === "t") acks[kind].push(rest.join(" "));
    }
    if (!killed && ready(acks)) {
      killed = true;
      setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 300));
    }
  });
  const exit = await closed;
  // Killed by us after the acknowledgements we waited for, not dead of its own error.
  expect(exit.signal).toBe("SIGKILL");
  expect(killed).toBe(true);
  return acks;
}

function checkFile(file: string, acks: Acks) {
  const db = new BetterSqlite3(file, { readonly: false });
  expect(db.prepare("PRAGMA integrity_check").all()).toEqual([{ integrity_check: "ok" }]);
  const present = (sql: string, ids: (number | string)[]) => {
    const stmt = db.prepare(sql);
    return ids.filter((id) => stmt.get(id) === undefined);
  };
  expect(present("SELECT 1 FROM gateway_rows WHERE id = ?", acks.g)).toEqual([]);
  expect(present("SELECT 1 FROM _smithers_cp_usage_events WHERE id = ?", acks.s)).toEqual([]);
  expect(present("SELECT 1 FROM _smithers_cp_orgs WHERE org_id = ?", acks.o)).toEqual([]);
  db.close();
}

const runtimes: [string, string][] = [
  ["Node with better-sqlite3", process.execPath],
  ["Bun with bun:sqlite", bun],
];

for (const [runtimeName, runtime] of runtimes) {
  for (const form of ["handle", "path"]) {
    describe(`${runtimeName}, store ${form === "handle" ? "on the gateway's handle" : "opened by path"}`, () => {
      const scenario = (name: string, ready: (a: Acks) => boolean, extra?: (a: Acks, file: string) => void) =>
        it(`${name}: killed after acknowledged writes, nothing lost, integrity ok`, async () => {
          for (let round = 0; round < 2; round++) {
            const file = path.join(tempDir(), "gateway.db");
            const acks = await killAfter(runtime, form, name, file, ready);
            checkFile(file, acks);
            extra?.(acks, file);
          }
        });

      // Both writing in turn for 2 s and more (the store's checkpoints run meanwhile by path).
      scenario("interleaved", (a) => a.g.length >= 2_000 && a.s.length >= 2_000 && Date.now() - a.since >= 2_000);
      scenario("store-closes-first", (a) => a.phase && a.g.length >= 500);
      if (form === "path") scenario("gateway-closes-first", (a) => a.phase && a.s.length >= 500);
      scenario("other-process-after-store-close", (a) => a.phase && a.g.length >= 550);
      scenario(
        "store-call-in-gateway-transaction",
        (a) => a.phase && a.g.length >= 300,
        (a, file) => {
          const [ms, ...outcome] = a.t[0].split(" ");
          if (form === "handle") {
            // On the gateway's handle the call joins its transaction and commits with it.
            expect(outcome.join(" ")).toBe("joined");
            expect(a.o).toContain("inside");
          } else {
            // By path it cannot write while the gateway holds the lock: it fails fast.
            expect(outcome.join(" ")).toBe("refused BUSY");
            expect(Number(ms)).toBeLessThan(1_000);
            const db = new BetterSqlite3(file);
            expect(db.prepare("SELECT COUNT(*) AS n FROM _smithers_cp_orgs WHERE org_id = 'inside'").get()).toEqual({ n: 0 });
            db.close();
          }
        },
      );
    });
  }
}
