import { execFile, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ControlPlaneStore, Database } from "../index.js";
import { tempDir } from "./helpers";
import { startServer } from "./pg/server.js";
import pg from "pg";

const BIN = path.join(__dirname, "..", "bin", "control-plane.js");

/** Runs the CLI on a store (a file's path, or a URL); resolves with its exit code and output whatever the code. */
function cli(db: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const where = db.includes("://") ? ["--url", db] : ["--db", db];
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...where, ...args], (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

// The operator's round trip runs on both engines: a SQLite file (--db) and a database on a
// real PostgreSQL server (--url; started for it, never skipped).
let server: ReturnType<typeof startServer> | undefined;
afterAll(() => server?.stop());

type Engine = { store: () => string; schemaVersion: number; damageRollups: (store: string) => void | Promise<void> };
const ENGINES: [string, Engine][] = [
  [
    "a SQLite file (--db)",
    {
      store: () => path.join(tempDir(), "cp.db"),
      schemaVersion: 8,
      damageRollups: (db) => {
        const raw = new Database(db);
        raw.exec("UPDATE _smithers_cp_usage_rollups SET quantity = quantity + 5");
        raw.close();
      },
    },
  ],
  [
    "PostgreSQL (--url)",
    {
      store: () => (server ??= startServer()).freshDatabase("cli"),
      schemaVersion: 6,
      damageRollups: async (url) => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query("UPDATE _smithers_cp_usage_rollups SET quantity = quantity + 5");
        await client.end();
      },
    },
  ],
];

describe.each(ENGINES)("control-plane CLI on %s", (_, engine) => {
  it("runs the operator's round trip with tables, --json and meaningful exit codes", async () => {
    const db = engine.store();
    expect((await cli(db, "init", "--json")).stdout).toContain(`"schemaVersion": ${engine.schemaVersion}`);

    const created = await cli(db, "--json", "orgs", "create", "--slug", "acme", "--name", "Acme", "--id", "org_acme");
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ orgId: "org_acme", slug: "acme", status: "active" });
    expect((await cli(db, "projects", "create", "--org", "org_acme", "--slug", "web", "--name", "Web", "--id", "web")).code).toBe(0);
    expect((await cli(db, "teams", "create", "--org", "org_acme", "--slug", "core", "--name", "Core", "--id", "core")).code).toBe(0);
    expect((await cli(db, "teams", "add-member", "--org", "org_acme", "--team", "core", "--user", "ann", "--role", "lead")).stdout).toMatch(/ann\s+lead/);

    const listed = await cli(db, "orgs", "list");
    expect(listed.stdout.split("\n")[0]).toMatch(/^orgId\s+slug\s+name\s+status/);
    expect(listed.stdout).toMatch(/org_acme\s+acme\s+Acme\s+active/);
    expect((await cli(db, "orgs", "show", "acme")).stdout).toMatch(/orgId\s+org_acme/);

    await cli(db, "usage", "record", "--org", "org_acme", "--project", "web", "--metric", "tokens", "--quantity", "12");
    const summary = JSON.parse((await cli(db, "--json", "usage", "summary", "--org", "org_acme")).stdout);
    expect(summary).toEqual([{ orgId: "org_acme", metric: "tokens", unit: "count", quantity: 12 }]);

    await cli(db, "quota", "set", "--org", "org_acme", "--metric", "tokens", "--limit", "20");
    const ok = await cli(db, "--json", "quota", "check", "--org", "org_acme", "--metric", "tokens");
    expect([ok.code, JSON.parse(ok.stdout).remainingQuantity]).toEqual([0, 8]);
    await cli(db, "usage", "record", "--org", "org_acme", "--metric", "tokens", "--quantity", "10");
    expect((await cli(db, "quota", "check", "--org", "org_acme", "--metric", "tokens")).code).toBe(1); // exceeded

    const granted = await cli(db, "--json", "credits", "grant", "--org", "org_acme", "--metric", "tokens", "--amount", "100", "--effective", "0", "--every", "monthly", "--rollover-max", "30", "--id", "plan");
    expect(JSON.parse(granted.stdout)).toMatchObject({ grantId: "plan", amount: 100, recurrence: { periodMs: 30 * 86_400_000, anchorMs: 0 }, rollover: { maxAmount: 30, minAmount: 0 } });
    expect((await cli(db, "credits", "list", "--org", "org_acme")).stdout).toMatch(/plan\s+-\s+tokens\s+count\s+100/);
    // Monthly since 1970: at its last reset the plan held 100 and 30 carried over; 12 of
    // web's and 10 of the org's burned it since.
    expect(JSON.parse((await cli(db, "--json", "credits", "balance", "--org", "org_acme", "--metric", "tokens")).stdout)).toMatchObject({ balance: 108, overage: 0 });
    expect(JSON.parse((await cli(db, "--json", "credits", "void", "--org", "org_acme", "--grant", "plan", "--reason", "test")).stdout).voidReason).toBe("test");
    expect(JSON.parse((await cli(db, "--json", "credits", "balance", "--org", "org_acme", "--metric", "tokens")).stdout)).toMatchObject({ balance: 0, grants: [] });

    expect((await cli(db, "secrets", "put", "--org", "org_acme", "--name", "OPENAI", "--provider", "vault", "--ref", "vault://kv/openai")).code).toBe(0);
    expect((await cli(db, "secrets", "list", "--org", "org_acme")).stdout).toMatch(/OPENAI\s+-\s+vault\s+vault:\/\/kv\/openai/);
    const leaked = await cli(db, "secrets", "put", "--org", "org_acme", "--name", "RAW", "--provider", "vault", "--ref", "AKIAIOSFODNN7EXAMPLE");
    expect([leaked.code, leaked.stderr.trim()]).toEqual([1, expect.stringMatching(/^SECRET_VALUE_REJECTED: /)]);

    const page = JSON.parse((await cli(db, "--json", "audit", "query", "--org", "org_acme", "--limit", "2")).stdout);
    expect(page.items).toHaveLength(2);
    const next = JSON.parse((await cli(db, "--json", "audit", "query", "--org", "org_acme", "--limit", "2", "--cursor", page.nextCursor)).stdout);
    expect(next.items[0].id).toBeGreaterThan(page.items[1].id);

    const out = path.join(tempDir(), "audit.ndjson");
    const exported = await cli(db, "--json", "audit", "export", "--org", "org_acme", "--format", "ndjson", "--out", out);
    expect(exported.stderr).toBe(""); // piped: no progress line
    expect(JSON.parse(exported.stdout)).toMatchObject({ format: "ndjson", path: out });
    expect(fs.readFileSync(out, "utf8").split("\n")[0]).toContain('"type":"export"');

    expect((await cli(db, "orgs", "suspend", "org_acme", "--reason", "review")).stdout).toMatch(/status\s+suspended/);
    const refused = await cli(db, "projects", "create", "--org", "org_acme", "--slug", "api", "--name", "API");
    expect([refused.code, refused.stderr.trim()]).toEqual([1, "ORG_SUSPENDED: Control-plane org is suspended: org_acme"]);
    expect((await cli(db, "orgs", "unsuspend", "org_acme")).code).toBe(0);

    const stats = JSON.parse((await cli(db, "--json", "stats")).stdout);
    expect(stats.schemaVersion).toBe(engine.schemaVersion);
    expect(stats.tables.find((t: { table: string }) => t.table === "_smithers_cp_orgs").rows).toBe(1);
    // doctor: healthy, then rollups damaged by raw SQL are found (--no-repair: exit 1) and rebuilt.
    expect(JSON.parse((await cli(db, "--json", "doctor")).stdout)).toEqual({ integrity: "ok", rollupsConsistent: true, rollupsRepaired: false, orgs: 1, brokenAuditChains: [] });
    await engine.damageRollups(db);
    const found = await cli(db, "--json", "doctor", "--no-repair");
    expect([found.code, JSON.parse(found.stdout).rollupsConsistent]).toEqual([1, false]);
    const fixed = await cli(db, "--json", "doctor");
    expect([fixed.code, JSON.parse(fixed.stdout)]).toEqual([0, { integrity: "ok", rollupsConsistent: false, rollupsRepaired: true, orgs: 1, brokenAuditChains: [] }]);
    expect(JSON.parse((await cli(db, "--json", "usage", "summary", "--org", "org_acme")).stdout)[0].quantity).toBe(22); // 12 + 10 recorded above
    expect((await cli(db, "orgs", "delete", "org_acme", "--hard", "--json")).stdout).toContain('"mode": "hard"');
  });
});

describe("control-plane CLI", () => {

  it("exit codes: 2 for a bad command line, 1 for a refused input, 3 for not found, 0 for help", async () => {
    const db = path.join(tempDir(), "cp.db");
    expect((await cli(db, "orgs", "frobnicate")).code).toBe(2);
    expect((await cli(db, "orgs", "create", "--slug", "a")).code).toBe(2); // --name missing
    expect((await cli(db, "usage", "record", "--org", "o", "--metric", "m", "--quantity", "lots")).code).toBe(2);
    const bad = await cli(db, "orgs", "create", "--slug", "Not A Slug", "--name", "X");
    expect([bad.code, bad.stderr.trim()]).toEqual([1, "INVALID_INPUT: slug must be a lowercase slug."]);
    expect((await cli(db, "orgs", "show", "nobody")).code).toBe(3);
    const help = await cli(db, "--help");
    expect(help.code).toBe(0);
    for (const command of ["init", "orgs", "projects", "teams", "usage", "credits", "quota", "secrets", "audit", "doctor", "stats"]) expect(help.stdout).toContain(command);
    expect((await cli(db, "audit", "export", "--help")).stdout).toContain("--format <format>");
  });

  it("exits quietly into a pipe its reader closed early (| head -1)", () => {
    const db = path.join(tempDir(), "cp.db");
    const store = new ControlPlaneStore(db);
    // More than a pipe holds (64 KiB), so the CLI is still writing when head has gone.
    for (let i = 0; i < 1000; i++) store.createOrg({ slug: `org-${i}`, name: `Organization number ${i} `.padEnd(100, "x") });
    store.close();
    for (const args of [["orgs", "list", "--limit", "1000"], ["--json", "orgs", "list", "--limit", "1000"], ["stats"]]) {
      const quoted = [BIN, "--db", db, ...args].map((a) => `'${a}'`).join(" ");
      const run = spawnSync("bash", ["-c", `'${process.execPath}' ${quoted} | head -1; echo "status=\${PIPESTATUS[0]}" >&2`], { encoding: "utf8" });
      expect(run.stdout.split("\n").filter(Boolean)).toHaveLength(1);
      expect(run.stderr).toBe("status=0\n");
    }
  });
});
