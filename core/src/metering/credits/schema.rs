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

/// Each account's ledger: its balance's state at one instant where the grants change (a
/// cut), so a balance reads only the intervals after it (`balance`). A write of a usage
/// event at or before a ledger's cut removes that ledger (the triggers, which fire for any
/// writer of the table, the documented store's too), and so does any change of the
/// account's grants (`grants`) or a project's deletion: a ledger present is right.
pub(crate) const SQLITE_LEDGER: &str = r#"
CREATE TABLE IF NOT EXISTS _smithers_cp_credit_ledger (
  org_id TEXT NOT NULL,
  metric TEXT NOT NULL,
  unit TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  state_json TEXT NOT NULL,
  PRIMARY KEY (org_id, metric, unit),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);
CREATE TRIGGER IF NOT EXISTS _smithers_cp_credit_ledger_insert AFTER INSERT ON _smithers_cp_usage_events
BEGIN
  DELETE FROM _smithers_cp_credit_ledger
  WHERE org_id = NEW.org_id AND metric = NEW.metric AND unit = NEW.unit AND at_ms > NEW.observed_at_ms;
END;
CREATE TRIGGER IF NOT EXISTS _smithers_cp_credit_ledger_delete AFTER DELETE ON _smithers_cp_usage_events
BEGIN
  DELETE FROM _smithers_cp_credit_ledger
  WHERE org_id = OLD.org_id AND metric = OLD.metric AND unit = OLD.unit AND at_ms > OLD.observed_at_ms;
END;
CREATE TRIGGER IF NOT EXISTS _smithers_cp_credit_ledger_update AFTER UPDATE ON _smithers_cp_usage_events
BEGIN
  DELETE FROM _smithers_cp_credit_ledger
  WHERE (org_id = OLD.org_id AND metric = OLD.metric AND unit = OLD.unit AND at_ms > OLD.observed_at_ms)
     OR (org_id = NEW.org_id AND metric = NEW.metric AND unit = NEW.unit AND at_ms > NEW.observed_at_ms);
END;
"#;

/// The ledger's triggers, for the schema's list of what a current database holds.
pub(crate) const LEDGER_TRIGGERS: [&str; 3] =
    ["_smithers_cp_credit_ledger_insert", "_smithers_cp_credit_ledger_delete", "_smithers_cp_credit_ledger_update"];

/// The ledger in PostgreSQL's form: one trigger function for the three.
pub(crate) const POSTGRES_LEDGER: &str = r#"
CREATE TABLE IF NOT EXISTS _smithers_cp_credit_ledger (
  org_id TEXT COLLATE "C" NOT NULL,
  metric TEXT COLLATE "C" NOT NULL,
  unit TEXT COLLATE "C" NOT NULL,
  at_ms BIGINT NOT NULL,
  state_json TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (org_id, metric, unit),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);
CREATE OR REPLACE FUNCTION _smithers_cp_credit_ledger_forget() RETURNS trigger LANGUAGE plpgsql AS $forget$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    DELETE FROM _smithers_cp_credit_ledger
    WHERE org_id = OLD.org_id AND metric = OLD.metric AND unit = OLD.unit AND at_ms > OLD.observed_at_ms;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    DELETE FROM _smithers_cp_credit_ledger
    WHERE org_id = NEW.org_id AND metric = NEW.metric AND unit = NEW.unit AND at_ms > NEW.observed_at_ms;
  END IF;
  RETURN NULL;
END $forget$;
DROP TRIGGER IF EXISTS _smithers_cp_credit_ledger_forget ON _smithers_cp_usage_events;
CREATE TRIGGER _smithers_cp_credit_ledger_forget AFTER INSERT OR UPDATE OR DELETE ON _smithers_cp_usage_events
  FOR EACH ROW EXECUTE FUNCTION _smithers_cp_credit_ledger_forget();
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
pub(crate) const TABLES: [&str; 3] = ["_smithers_cp_credit_grants", "_smithers_cp_usage_corrections", "_smithers_cp_credit_ledger"];
