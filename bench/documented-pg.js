"use strict";
// The documented store's statements (bench/documented-store.js) ported to PostgreSQL and run
// with `pg` (node-postgres), the way a gateway on PostgreSQL would run them: one statement
// at a time in autocommit, named (prepared once per connection, as better-sqlite3's
// prepare), the row read back by id where the documented store reads it back, checks
// summing raw rows, an audit event written after its row as a statement of its own. On our
// store's tables (ours creates them). The baseline of bench/postgres.js and
// bench/replicas.js.

const pg = require("pg");

// int8 as numbers (ids and times stay under 2^53), as better-sqlite3 returns them.
pg.types.setTypeParser(20, (v) => Number(v));

const DAY = 86_400_000;
const ORG_KEY = "__org__";
const PERIOD_MS = { daily: DAY, weekly: 7 * DAY, monthly: 30 * DAY };

class DocumentedPg {
  /** @param {import("pg").Pool} pool */
  constructor(pool) {
    this.pool = pool;
  }

  async q(name, text, values) {
    return (await this.pool.query({ name, text, values })).rows;
  }

  async recordUsage({ orgId, projectId = null, runId = null, metric, quantity, unit = "count", observedAtMs = Date.now(), metadata = {} }) {
    if (projectId) {
      const ok = await this.q("doc_project_exists", "SELECT 1 AS ok FROM _smithers_cp_projects WHERE org_id = $1 AND project_id = $2 LIMIT 1", [orgId, projectId]);
      if (ok.length === 0) throw new Error(`project not found: ${projectId}`);
    }
    const [{ id }] = await this.q(
      "doc_insert_usage",
      "INSERT INTO _smithers_cp_usage_events (org_id, project_id, run_id, metric, quantity, unit, observed_at_ms, metadata_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
      [orgId, projectId, runId, metric, quantity, unit, observedAtMs, JSON.stringify(metadata)],
    );
    const [row] = await this.q(
      "doc_usage_by_id",
      'SELECT id, org_id AS "orgId", project_id AS "projectId", run_id AS "runId", metric, quantity, unit, observed_at_ms AS "observedAtMs", metadata_json AS "metadataJson" FROM _smithers_cp_usage_events WHERE id = $1 LIMIT 1',
      [id],
    );
    return { ...row, metadata: JSON.parse(row.metadataJson) };
  }

  async checkUsageLimit({ orgId, projectId = null, metric, unit = "count", period = "monthly", sinceMs, untilMs = Date.now() }) {
    const [limit] = await this.q(
      "doc_get_limit",
      'SELECT org_id AS "orgId", project_id AS "projectId", metric, unit, period, limit_quantity AS "limitQuantity", updated_at_ms AS "updatedAtMs" FROM _smithers_cp_usage_limits WHERE org_id = $1 AND project_key = $2 AND metric = $3 AND unit = $4 AND period = $5 LIMIT 1',
      [orgId, projectId ?? ORG_KEY, metric, unit, period],
    );
    if (!limit) return null;
    const since = sinceMs ?? Math.max(0, untilMs - PERIOD_MS[period]);
    const [used] = projectId
      ? await this.q(
          "doc_used_project",
          'SELECT COALESCE(SUM(quantity), 0) AS "usedQuantity" FROM _smithers_cp_usage_events WHERE org_id = $1 AND project_id = $2 AND metric = $3 AND unit = $4 AND observed_at_ms >= $5 AND observed_at_ms <= $6',
          [orgId, projectId, metric, unit, since, untilMs],
        )
      : await this.q(
          "doc_used_org",
          'SELECT COALESCE(SUM(quantity), 0) AS "usedQuantity" FROM _smithers_cp_usage_events WHERE org_id = $1 AND metric = $2 AND unit = $3 AND observed_at_ms >= $4 AND observed_at_ms <= $5',
          [orgId, metric, unit, since, untilMs],
        );
    const usedQuantity = Number(used.usedQuantity);
    return { ...limit, usedQuantity, remainingQuantity: Math.max(0, limit.limitQuantity - usedQuantity), exceeded: usedQuantity > limit.limitQuantity };
  }

  /** What a gateway does today: check every limit, then record if all allow. */
  async consumeUsage(e, limits) {
    const checks = [];
    for (const l of limits) checks.push(await this.checkUsageLimit({ orgId: e.orgId, projectId: l.projectId, metric: e.metric, unit: e.unit, period: l.period, untilMs: e.observedAtMs }));
    const allowed = checks.every((c) => c.usedQuantity + e.quantity <= c.limitQuantity);
    return { allowed, event: allowed ? await this.recordUsage(e) : null, checks };
  }

  /** An audit event, its own statement (the documented store writes it after its row, in autocommit). */
  async audit(orgId, projectId, actorId, action, targetType, targetId, occurredAtMs, metadata = {}) {
    const [{ id }] = await this.q(
      "doc_insert_audit",
      "INSERT INTO _smithers_cp_audit_events (org_id, project_id, actor_id, action, target_type, target_id, occurred_at_ms, metadata_json) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
      [orgId, projectId, actorId, action, targetType, targetId, occurredAtMs, JSON.stringify(metadata)],
    );
    return id;
  }

  /** The project's check (with a projectId), the insert, the row read back by id: 2 or 3 statements. */
  async recordAuditEvent({ orgId, projectId = null, actorId = null, action, targetType, targetId = null, occurredAtMs = Date.now(), metadata = {} }) {
    if (projectId) {
      const ok = await this.q("doc_project_exists", "SELECT 1 AS ok FROM _smithers_cp_projects WHERE org_id = $1 AND project_id = $2 LIMIT 1", [orgId, projectId]);
      if (ok.length === 0) throw new Error(`project not found: ${projectId}`);
    }
    const id = await this.audit(orgId, projectId, actorId, action, targetType, targetId, occurredAtMs, metadata);
    const [row] = await this.q(
      "doc_audit_by_id",
      'SELECT id, org_id AS "orgId", project_id AS "projectId", actor_id AS "actorId", action, target_type AS "targetType", target_id AS "targetId", occurred_at_ms AS "occurredAtMs", metadata_json AS "metadataJson" FROM _smithers_cp_audit_events WHERE id = $1 LIMIT 1',
      [id],
    );
    const { metadataJson, ...rest } = row;
    return { ...rest, metadata: JSON.parse(metadataJson) };
  }

  /** The team's insert, then its audit event: 2 statements, not atomic. */
  async createTeam({ orgId, teamId, slug, name, createdAtMs = Date.now() }) {
    await this.q("doc_insert_team", "INSERT INTO _smithers_cp_teams (org_id, team_id, slug, name, created_at_ms) VALUES ($1, $2, $3, $4, $5)", [orgId, teamId, slug, name, createdAtMs]);
    await this.audit(orgId, null, null, "team.create", "team", teamId, createdAtMs);
    return { orgId, teamId, slug, name, createdAtMs };
  }

  /** The project's insert, then its audit event: 2 statements, not atomic. */
  async createProject({ orgId, projectId, slug, name, metadata = {}, createdAtMs = Date.now() }) {
    await this.q(
      "doc_insert_project",
      "INSERT INTO _smithers_cp_projects (org_id, project_id, slug, name, metadata_json, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
      [orgId, projectId, slug, name, JSON.stringify(metadata), createdAtMs],
    );
    await this.audit(orgId, projectId, null, "project.create", "project", projectId, createdAtMs);
    return { orgId, projectId, slug, name, metadata, createdAtMs };
  }
}

module.exports = { DocumentedPg };
