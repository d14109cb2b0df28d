"use strict";
// The statements the documented TypeScript store runs, on better-sqlite3, the way a
// gateway runs them today: one statement at a time in autocommit, the audit event written
// separately from its row, usage checks summing raw rows. Used as the baseline of the
// benchmark and, in the tests, as "the other store" writing to the same file.

const ORG_KEY = "__org__";
const PERIOD_MS = { daily: 86_400_000, weekly: 7 * 86_400_000, monthly: 30 * 86_400_000 };

class DocumentedStore {
  /** @param {import("better-sqlite3").Database} db */
  constructor(db) {
    this.db = db;
    db.exec("PRAGMA foreign_keys = ON");
    this.s = {
      insertOrg: db.prepare("INSERT INTO _smithers_cp_orgs (org_id, slug, name, created_at_ms) VALUES (?, ?, ?, ?)"),
      getOrg: db.prepare(
        "SELECT org_id AS orgId, slug, name, created_at_ms AS createdAtMs FROM _smithers_cp_orgs WHERE org_id = ? LIMIT 1",
      ),
      insertProject: db.prepare(
        "INSERT INTO _smithers_cp_projects (org_id, project_id, slug, name, metadata_json, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      projectExists: db.prepare("SELECT 1 AS ok FROM _smithers_cp_projects WHERE org_id = ? AND project_id = ? LIMIT 1"),
      insertUsage: db.prepare(
        "INSERT INTO _smithers_cp_usage_events (org_id, project_id, run_id, metric, quantity, unit, observed_at_ms, metadata_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      lastId: db.prepare("SELECT last_insert_rowid() AS id"),
      usageById: db.prepare(
        "SELECT id, org_id AS orgId, project_id AS projectId, run_id AS runId, metric, quantity, unit, observed_at_ms AS observedAtMs, metadata_json AS metadataJson FROM _smithers_cp_usage_events WHERE id = ? LIMIT 1",
      ),
      insertAudit: db.prepare(
        "INSERT INTO _smithers_cp_audit_events (org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      auditById: db.prepare("SELECT * FROM _smithers_cp_audit_events WHERE id = ? LIMIT 1"),
      upsertLimit: db.prepare(
        `INSERT INTO _smithers_cp_usage_limits (org_id, project_key, project_id, metric, unit, period, limit_quantity, updated_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(org_id, project_key, metric, unit, period) DO UPDATE SET
           project_id = excluded.project_id, limit_quantity = excluded.limit_quantity, updated_at_ms = excluded.updated_at_ms`,
      ),
      getLimit: db.prepare(
        "SELECT org_id AS orgId, project_id AS projectId, metric, unit, period, limit_quantity AS limitQuantity, updated_at_ms AS updatedAtMs FROM _smithers_cp_usage_limits WHERE org_id = ? AND project_key = ? AND metric = ? AND unit = ? AND period = ? LIMIT 1",
      ),
      usedOrg: db.prepare(
        "SELECT COALESCE(SUM(quantity), 0) AS usedQuantity FROM _smithers_cp_usage_events WHERE org_id = ? AND metric = ? AND unit = ? AND observed_at_ms >= ? AND observed_at_ms <= ?",
      ),
      usedProject: db.prepare(
        "SELECT COALESCE(SUM(quantity), 0) AS usedQuantity FROM _smithers_cp_usage_events WHERE org_id = ? AND project_id = ? AND metric = ? AND unit = ? AND observed_at_ms >= ? AND observed_at_ms <= ?",
      ),
      deleteSecret: db.prepare("DELETE FROM _smithers_cp_secret_refs WHERE org_id = ? AND project_key = ? AND name = ?"),
      insertSecret: db.prepare(
        "INSERT INTO _smithers_cp_secret_refs (org_id, project_key, project_id, name, provider, ref, created_by, created_at_ms, rotated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
    };
  }

  audit(orgId, projectId, actorId, action, targetType, targetId, occurredAtMs, metadata = {}) {
    this.s.insertAudit.run(orgId, projectId, actorId, action, targetType, targetId, occurredAtMs, JSON.stringify(metadata));
  }

  createOrg({ orgId, slug, name, createdAtMs = Date.now() }) {
    this.s.insertOrg.run(orgId, slug, name, createdAtMs);
    this.audit(orgId, null, "system", "org.create", "org", orgId, createdAtMs);
    return this.s.getOrg.get(orgId);
  }

  createProject({ orgId, projectId, slug, name, metadata = {}, createdAtMs = Date.now() }) {
    this.s.insertProject.run(orgId, projectId, slug, name, JSON.stringify(metadata), createdAtMs);
    this.audit(orgId, projectId, null, "project.create", "project", projectId, createdAtMs);
  }

  recordUsage({ orgId, projectId = null, runId = null, metric, quantity, unit = "count", observedAtMs = Date.now(), metadata = {} }) {
    if (projectId && !this.s.projectExists.get(orgId, projectId)) throw new Error(`project not found: ${projectId}`);
    this.s.insertUsage.run(orgId, projectId, runId, metric, quantity, unit, observedAtMs, JSON.stringify(metadata));
    const { id } = this.s.lastId.get();
    const row = this.s.usageById.get(id);
    return { ...row, metadata: JSON.parse(row.metadataJson) };
  }

  /** recordUsage returning only the new id: the like of our batches' `returning: "ids"`. */
  recordUsageId({ orgId, projectId = null, runId = null, metric, quantity, unit = "count", observedAtMs = Date.now(), metadata = {} }) {
    if (projectId && !this.s.projectExists.get(orgId, projectId)) throw new Error(`project not found: ${projectId}`);
    return Number(this.s.insertUsage.run(orgId, projectId, runId, metric, quantity, unit, observedAtMs, JSON.stringify(metadata)).lastInsertRowid);
  }

  setUsageLimit({ orgId, projectId = null, metric, unit = "count", period = "monthly", limitQuantity, updatedAtMs = Date.now() }) {
    this.s.upsertLimit.run(orgId, projectId ?? ORG_KEY, projectId, metric, unit, period, limitQuantity, updatedAtMs);
    this.audit(orgId, projectId, null, "usage_limit.upsert", "usage_limit", projectId ?? orgId, updatedAtMs, {
      metric,
      unit,
      period,
      limitQuantity,
    });
  }

  checkUsageLimit({ orgId, projectId = null, metric, unit = "count", period = "monthly", sinceMs, untilMs = Date.now() }) {
    const limit = this.s.getLimit.get(orgId, projectId ?? ORG_KEY, metric, unit, period);
    if (!limit) return null;
    const since = sinceMs ?? Math.max(0, untilMs - PERIOD_MS[period]);
    const used = projectId
      ? this.s.usedProject.get(orgId, projectId, metric, unit, since, untilMs)
      : this.s.usedOrg.get(orgId, metric, unit, since, untilMs);
    const usedQuantity = Number(used.usedQuantity);
    return {
      ...limit,
      usedQuantity,
      remainingQuantity: Math.max(0, limit.limitQuantity - usedQuantity),
      exceeded: usedQuantity > limit.limitQuantity,
    };
  }

  putSecretRef({ orgId, projectId = null, name, provider, ref, createdBy = null, createdAtMs = Date.now() }) {
    const key = projectId ?? ORG_KEY;
    this.s.deleteSecret.run(orgId, key, name);
    this.s.insertSecret.run(orgId, key, projectId, name, provider, ref, createdBy, createdAtMs, null);
    this.audit(orgId, projectId, createdBy, "secret_ref.upsert", "secret_ref", name, createdAtMs, { provider });
  }
}

/** The documented store's tables, as it creates them on a new file. */
const DOCUMENTED_DDL = `
CREATE TABLE IF NOT EXISTS _smithers_cp_orgs (org_id TEXT PRIMARY KEY, slug TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS _smithers_cp_teams (org_id TEXT NOT NULL, team_id TEXT NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL, created_at_ms INTEGER NOT NULL, PRIMARY KEY (org_id, team_id), UNIQUE (org_id, slug), FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS _smithers_cp_team_members (org_id TEXT NOT NULL, team_id TEXT NOT NULL, user_id TEXT NOT NULL, role TEXT NOT NULL, created_at_ms INTEGER NOT NULL, PRIMARY KEY (org_id, team_id, user_id), FOREIGN KEY (org_id, team_id) REFERENCES _smithers_cp_teams(org_id, team_id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS _smithers_cp_projects (org_id TEXT NOT NULL, project_id TEXT NOT NULL, slug TEXT NOT NULL, name TEXT NOT NULL, metadata_json TEXT NOT NULL DEFAULT '{}', created_at_ms INTEGER NOT NULL, PRIMARY KEY (org_id, project_id), UNIQUE (org_id, slug), FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS _smithers_cp_project_teams (org_id TEXT NOT NULL, project_id TEXT NOT NULL, team_id TEXT NOT NULL, role TEXT NOT NULL, created_at_ms INTEGER NOT NULL, PRIMARY KEY (org_id, project_id, team_id), FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE, FOREIGN KEY (org_id, team_id) REFERENCES _smithers_cp_teams(org_id, team_id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS _smithers_cp_billing_accounts (org_id TEXT PRIMARY KEY, plan TEXT NOT NULL, billing_customer_id TEXT, status TEXT NOT NULL, updated_at_ms INTEGER NOT NULL, FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS _smithers_cp_identity_providers (org_id TEXT NOT NULL, provider_id TEXT NOT NULL, type TEXT NOT NULL, issuer TEXT NOT NULL, sso_url TEXT, certificate_ref TEXT, status TEXT NOT NULL, metadata_json TEXT NOT NULL DEFAULT '{}', created_at_ms INTEGER NOT NULL, updated_at_ms INTEGER NOT NULL, PRIMARY KEY (org_id, provider_id), FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS _smithers_cp_idp_org_status_idx ON _smithers_cp_identity_providers(org_id, status);
CREATE TABLE IF NOT EXISTS _smithers_cp_usage_events (id INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, project_id TEXT, run_id TEXT, metric TEXT NOT NULL, quantity REAL NOT NULL, unit TEXT NOT NULL, observed_at_ms INTEGER NOT NULL, metadata_json TEXT NOT NULL DEFAULT '{}', FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE, FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS _smithers_cp_usage_org_time_idx ON _smithers_cp_usage_events(org_id, observed_at_ms);
CREATE TABLE IF NOT EXISTS _smithers_cp_usage_limits (org_id TEXT NOT NULL, project_key TEXT NOT NULL, project_id TEXT, metric TEXT NOT NULL, unit TEXT NOT NULL, period TEXT NOT NULL, limit_quantity REAL NOT NULL, updated_at_ms INTEGER NOT NULL, PRIMARY KEY (org_id, project_key, metric, unit, period), FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS _smithers_cp_usage_limits_org_idx ON _smithers_cp_usage_limits(org_id, metric, unit, period);
CREATE TABLE IF NOT EXISTS _smithers_cp_secret_refs (org_id TEXT NOT NULL, project_key TEXT NOT NULL, project_id TEXT, name TEXT NOT NULL, provider TEXT NOT NULL, ref TEXT NOT NULL, created_by TEXT, created_at_ms INTEGER NOT NULL, rotated_at_ms INTEGER, PRIMARY KEY (org_id, project_key, name), FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE, FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE);
CREATE TABLE IF NOT EXISTS _smithers_cp_audit_events (id INTEGER PRIMARY KEY AUTOINCREMENT, org_id TEXT NOT NULL, project_id TEXT, actor_id TEXT, action TEXT NOT NULL, target_type TEXT NOT NULL, target_id TEXT, occurred_at_ms INTEGER NOT NULL, metadata_json TEXT NOT NULL DEFAULT '{}', FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE, FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE);
CREATE INDEX IF NOT EXISTS _smithers_cp_audit_org_time_idx ON _smithers_cp_audit_events(org_id, occurred_at_ms);
`;

/** The secret-refs table of older files: keyed on a nullable project_id. */
const LEGACY_SECRET_REFS_DDL = `
CREATE TABLE _smithers_cp_secret_refs (org_id TEXT NOT NULL, project_id TEXT, name TEXT NOT NULL, provider TEXT NOT NULL, ref TEXT NOT NULL, created_by TEXT, created_at_ms INTEGER NOT NULL, rotated_at_ms INTEGER, PRIMARY KEY (org_id, project_id, name), FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE, FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE);
`;

module.exports = { DocumentedStore, DOCUMENTED_DDL, LEGACY_SECRET_REFS_DDL };
