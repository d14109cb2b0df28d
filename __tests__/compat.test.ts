// The same database file under both stores: a file the documented TypeScript store wrote
// (its tables, its statements, its legacy secret-refs shape) opens and continues under
// ours, and a file ours wrote keeps working under the documented statements.
import BetterSqlite3 from "better-sqlite3";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ControlPlaneStore, Database } from "../index.js";
import { DocumentedStore, DOCUMENTED_DDL, LEGACY_SECRET_REFS_DDL } from "../bench/documented-store.js";
import { activeOrg, tempDir } from "./helpers";

function documentedFile(legacySecretRefs: boolean) {
  const file = path.join(tempDir(), "gateway.db");
  const db = new BetterSqlite3(file);
  if (legacySecretRefs) {
    db.exec(DOCUMENTED_DDL.replace(/CREATE TABLE IF NOT EXISTS _smithers_cp_secret_refs[^;]*;/, LEGACY_SECRET_REFS_DDL));
  } else {
    db.exec(DOCUMENTED_DDL);
  }
  return { file, db };
}

describe("a file written by the documented store", () => {
  it("opens under ours, with its rows readable and writable", () => {
    const { file, db } = documentedFile(false);
    const theirs = new DocumentedStore(db);
    theirs.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
    theirs.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web", metadata: { a: 1 }, createdAtMs: 2 });
    theirs.recordUsage({ orgId: "acme", projectId: "web", metric: "tokens", quantity: 5, observedAtMs: 10 });
    theirs.setUsageLimit({ orgId: "acme", projectId: "web", metric: "tokens", limitQuantity: 8, updatedAtMs: 3 });
    theirs.putSecretRef({ orgId: "acme", name: "K", provider: "vault", ref: "vault://k", createdAtMs: 4 });
    db.close();

    const ours = new ControlPlaneStore(file);
    expect(ours.getOrg("acme")).toEqual(activeOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 }));
    const exported = ours.exportOrgAudit({ orgId: "acme" });
    expect(exported.projects).toEqual([{ orgId: "acme", projectId: "web", slug: "web", name: "Web", metadata: { a: 1 }, createdAtMs: 2 }]);
    expect(exported.secretRefs.map((s) => s.ref)).toEqual(["vault://k"]);
    expect(exported.auditEvents.map((e) => e.action)).toEqual(["org.create", "project.create", "usage_limit.upsert", "secret_ref.upsert"]);

    ours.recordUsage({ orgId: "acme", projectId: "web", metric: "tokens", quantity: 4, observedAtMs: 11 });
    expect(ours.checkUsageLimit({ orgId: "acme", projectId: "web", metric: "tokens", untilMs: 20 })).toMatchObject({ usedQuantity: 9, exceeded: true });
    ours.putSecretRef({ orgId: "acme", name: "K", provider: "vault", ref: "vault://k2" });
    expect(ours.listSecretRefs({ orgId: "acme" }).map((s) => s.ref)).toEqual(["vault://k2"]);
    ours.close();
  });

  it("with the legacy secret-refs table, is migrated in place, later rows winning", () => {
    const { file, db } = documentedFile(true);
    db.exec(`
      INSERT INTO _smithers_cp_orgs VALUES ('acme', 'acme', 'Acme', 1);
      INSERT INTO _smithers_cp_projects (org_id, project_id, slug, name, created_at_ms) VALUES ('acme', 'web', 'web', 'Web', 1);
      INSERT INTO _smithers_cp_secret_refs VALUES ('acme', NULL, 'K', 'vault', 'vault://old', NULL, 10, NULL);
      INSERT INTO _smithers_cp_secret_refs VALUES ('acme', NULL, 'K', 'vault', 'vault://new', 'bob', 20, 25);
      INSERT INTO _smithers_cp_secret_refs VALUES ('acme', 'web', 'K', 'aws', 'arn:web', NULL, 5, NULL);
    `);
    db.close();

    const ours = new ControlPlaneStore(file);
    expect(ours.listSecretRefs({ orgId: "acme" })).toEqual([
      { orgId: "acme", projectId: null, name: "K", provider: "vault", ref: "vault://new", createdBy: "bob", createdAtMs: 20, rotatedAtMs: 25 },
      { orgId: "acme", projectId: "web", name: "K", provider: "aws", ref: "arn:web", createdBy: null, createdAtMs: 5, rotatedAtMs: null },
    ]);
    ours.close();

    const check = new BetterSqlite3(file, { readonly: true });
    const columns = check.prepare("PRAGMA table_info(_smithers_cp_secret_refs)").all() as { name: string; pk: number }[];
    expect(columns.filter((c) => c.pk > 0).map((c) => c.name)).toEqual(["org_id", "project_key", "name"]);
    expect(check.prepare("SELECT name FROM sqlite_master WHERE name = '_smithers_cp_secret_refs_legacy'").get()).toBeUndefined();
    check.close();
  });

  it("a legacy table left behind by a crash mid-migration is finished", () => {
    const { file, db } = documentedFile(true);
    db.exec(`
      INSERT INTO _smithers_cp_orgs VALUES ('acme', 'acme', 'Acme', 1);
      INSERT INTO _smithers_cp_secret_refs VALUES ('acme', NULL, 'K', 'vault', 'vault://legacy', NULL, 10, NULL);
      ALTER TABLE _smithers_cp_secret_refs RENAME TO _smithers_cp_secret_refs_legacy;
    `);
    // The other store then re-created the new table on its next start and wrote to it.
    db.exec(DOCUMENTED_DDL);
    db.exec("INSERT INTO _smithers_cp_secret_refs VALUES ('acme', '__org__', NULL, 'J', 'vault', 'vault://j', NULL, 30, NULL)");
    db.close();

    const ours = new ControlPlaneStore(file);
    expect(ours.listSecretRefs({ orgId: "acme" }).map((s) => [s.name, s.ref])).toEqual([
      ["J", "vault://j"],
      ["K", "vault://legacy"],
    ]);
    ours.close();
  });
});

describe("a file written by ours", () => {
  it("keeps working under the documented store's statements", () => {
    const file = path.join(tempDir(), "native.db");
    const ours = new ControlPlaneStore(file);
    ours.createOrg({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
    ours.createProject({ orgId: "acme", projectId: "web", slug: "web", name: "Web", createdAtMs: 2 });
    ours.setUsageLimit({ orgId: "acme", metric: "tokens", limitQuantity: 10, updatedAtMs: 3 });
    ours.recordUsage({ orgId: "acme", projectId: "web", metric: "tokens", quantity: 6, observedAtMs: 100 });
    ours.close();

    const db = new BetterSqlite3(file);
    db.exec(DOCUMENTED_DDL); // the documented store's start-up: must be a no-op on our file
    const theirs = new DocumentedStore(db);
    expect(theirs.s.getOrg.get("acme")).toEqual({ orgId: "acme", slug: "acme", name: "Acme", createdAtMs: 1 });
    theirs.recordUsage({ orgId: "acme", projectId: "web", metric: "tokens", quantity: 5, observedAtMs: 101 });
    expect(theirs.checkUsageLimit({ orgId: "acme", metric: "tokens", untilMs: 200 })).toMatchObject({ usedQuantity: 11, exceeded: true });
    theirs.putSecretRef({ orgId: "acme", projectId: "web", name: "K", provider: "vault", ref: "vault://k", createdAtMs: 5 });
    db.close();

    const again = new ControlPlaneStore(new Database(file));
    expect(again.checkUsageLimit({ orgId: "acme", metric: "tokens", untilMs: 200 })).toMatchObject({ usedQuantity: 11 });
    expect(again.listSecretRefs({ orgId: "acme", projectId: "web" }).map((s) => s.ref)).toEqual(["vault://k"]);
  });
});
