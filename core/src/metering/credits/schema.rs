//! The credits' tables in both dialects: the grants (each with its voiding, if any) and
//! the corrections of usage events (each pointing at the compensating event that carries
//! its difference in the usage events, where rollups, limits and balances read it).

/// SQLite's (schema version 8).
pub(crate) const SQLITE: &str = r#"
CREATE TABLE IF NOT EXISTS _smithers_cp_credit_grants (
  org_id TEXT NOT NULL,
  grant_id TEXT NOT NULL,
  project_id TEXT,
  metric TEXT NOT NULL,
  unit TEXT NOT NULL,
  amount REAL NOT NULL,
  priority INTEGER NOT NULL,
  effective_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER,
  period_ms INTEGER,
  anchor_ms INTEGER,
  rollover_max REAL,
  rollover_min REAL,
  voided_at_ms INTEGER,
  void_reason TEXT,
  idempotency_key TEXT,
  metadata_json TEXT NOT NULL DEFAULT '{}',
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, grant_id),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS _smithers_cp_credit_grants_account_idx
  ON _smithers_cp_credit_grants(org_id, metric, unit);
CREATE UNIQUE INDEX IF NOT EXISTS _smithers_cp_credit_grants_key_idx
  ON _smithers_cp_credit_grants(org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS _smithers_cp_usage_corrections (
  org_id TEXT NOT NULL,
  compensating_id INTEGER NOT NULL,
  event_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  quantity REAL NOT NULL,
  delta REAL NOT NULL,
  reason TEXT NOT NULL,
  actor_id TEXT,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, compensating_id),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS _smithers_cp_usage_corrections_event_idx
  ON _smithers_cp_usage_corrections(org_id, event_id);
"#;

/// PostgreSQL's (its schema version 6).
pub(crate) const POSTGRES: &str = r#"
CREATE TABLE IF NOT EXISTS _smithers_cp_credit_grants (
  org_id TEXT COLLATE "C" NOT NULL,
  grant_id TEXT COLLATE "C" NOT NULL,
  project_id TEXT COLLATE "C",
  metric TEXT COLLATE "C" NOT NULL,
  unit TEXT COLLATE "C" NOT NULL,
  amount DOUBLE PRECISION NOT NULL,
  priority BIGINT NOT NULL,
  effective_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT,
  period_ms BIGINT,
  anchor_ms BIGINT,
  rollover_max DOUBLE PRECISION,
  rollover_min DOUBLE PRECISION,
  voided_at_ms BIGINT,
  void_reason TEXT COLLATE "C",
  idempotency_key TEXT COLLATE "C",
  metadata_json TEXT COLLATE "C" NOT NULL DEFAULT '{}',
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (org_id, grant_id),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS _smithers_cp_credit_grants_account_idx
  ON _smithers_cp_credit_grants(org_id, metric, unit);
CREATE UNIQUE INDEX IF NOT EXISTS _smithers_cp_credit_grants_key_idx
  ON _smithers_cp_credit_grants(org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS _smithers_cp_usage_corrections (
  org_id TEXT COLLATE "C" NOT NULL,
  compensating_id BIGINT NOT NULL,
  event_id BIGINT NOT NULL,
  kind TEXT COLLATE "C" NOT NULL,
  quantity DOUBLE PRECISION NOT NULL,
  delta DOUBLE PRECISION NOT NULL,
  reason TEXT COLLATE "C" NOT NULL,
  actor_id TEXT COLLATE "C",
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (org_id, compensating_id),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS _smithers_cp_usage_corrections_event_idx
  ON _smithers_cp_usage_corrections(org_id, event_id);
"#;

/// The tables, for the schemas' lists of what a current database holds.
pub(crate) const TABLES: [&str; 2] = ["_smithers_cp_credit_grants", "_smithers_cp_usage_corrections"];
