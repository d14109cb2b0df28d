-- The store's base tables in PostgreSQL's types: the tables of the SQLite schema
-- (schema.rs, version 6) as they stand after all of its upgrades, with the same table,
-- column and index names, keys, uniques, foreign keys and cascades, and columns in the
-- same order. INTEGER is BIGINT, REAL is DOUBLE PRECISION, TEXT is TEXT COLLATE "C" (text
-- compared and ordered by its bytes, as SQLite does, so pages and orders match), and an
-- INTEGER PRIMARY KEY AUTOINCREMENT is a BIGINT key numbered as SQLite numbers it: one
-- more than the highest id the table ever had, kept in _smithers_cp_sequence (SQLite's
-- sqlite_sequence) by a trigger in the inserting transaction, so a rolled-back insert
-- uses up no id (a PostgreSQL sequence would) and ids are SQLite's for the same calls;
-- an id given is kept (a copy from a SQLite file keeps its ids).
-- The usage rollups are created by metering/rollups/schema.rs (its PostgreSQL form).
--
-- Run by schema::postgres::ensure, in one transaction under its advisory lock; every
-- statement may run again.

CREATE TABLE IF NOT EXISTS _smithers_cp_orgs (
  org_id TEXT COLLATE "C" PRIMARY KEY,
  slug TEXT COLLATE "C" NOT NULL UNIQUE,
  name TEXT COLLATE "C" NOT NULL,
  created_at_ms BIGINT NOT NULL,
  status TEXT COLLATE "C" NOT NULL DEFAULT 'active',
  suspended_at_ms BIGINT,
  suspend_reason TEXT COLLATE "C",
  deleted_at_ms BIGINT
);
CREATE INDEX IF NOT EXISTS _smithers_cp_orgs_status_idx ON _smithers_cp_orgs(status, org_id);

CREATE TABLE IF NOT EXISTS _smithers_cp_teams (
  org_id TEXT COLLATE "C" NOT NULL,
  team_id TEXT COLLATE "C" NOT NULL,
  slug TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (org_id, team_id),
  UNIQUE (org_id, slug),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS _smithers_cp_team_members (
  org_id TEXT COLLATE "C" NOT NULL,
  team_id TEXT COLLATE "C" NOT NULL,
  user_id TEXT COLLATE "C" NOT NULL,
  role TEXT COLLATE "C" NOT NULL,
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (org_id, team_id, user_id),
  FOREIGN KEY (org_id, team_id) REFERENCES _smithers_cp_teams(org_id, team_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS _smithers_cp_team_members_user_idx ON _smithers_cp_team_members(org_id, user_id);

CREATE TABLE IF NOT EXISTS _smithers_cp_projects (
  org_id TEXT COLLATE "C" NOT NULL,
  project_id TEXT COLLATE "C" NOT NULL,
  slug TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  metadata_json TEXT COLLATE "C" NOT NULL DEFAULT '{}',
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (org_id, project_id),
  UNIQUE (org_id, slug),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS _smithers_cp_project_teams (
  org_id TEXT COLLATE "C" NOT NULL,
  project_id TEXT COLLATE "C" NOT NULL,
  team_id TEXT COLLATE "C" NOT NULL,
  role TEXT COLLATE "C" NOT NULL,
  created_at_ms BIGINT NOT NULL,
  PRIMARY KEY (org_id, project_id, team_id),
  FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, team_id) REFERENCES _smithers_cp_teams(org_id, team_id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS _smithers_cp_billing_accounts (
  org_id TEXT COLLATE "C" PRIMARY KEY,
  plan TEXT COLLATE "C" NOT NULL,
  billing_customer_id TEXT COLLATE "C",
  status TEXT COLLATE "C" NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS _smithers_cp_identity_providers (
  org_id TEXT COLLATE "C" NOT NULL,
  provider_id TEXT COLLATE "C" NOT NULL,
  type TEXT COLLATE "C" NOT NULL,
  issuer TEXT COLLATE "C" NOT NULL,
  sso_url TEXT COLLATE "C",
  certificate_ref TEXT COLLATE "C",
  status TEXT COLLATE "C" NOT NULL,
  metadata_json TEXT COLLATE "C" NOT NULL DEFAULT '{}',
  created_at_ms BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (org_id, provider_id),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS _smithers_cp_idp_org_status_idx ON _smithers_cp_identity_providers(org_id, status);

CREATE TABLE IF NOT EXISTS _smithers_cp_usage_events (
  id BIGINT PRIMARY KEY, -- AUTOINCREMENT: see _smithers_cp_next_id below
  org_id TEXT COLLATE "C" NOT NULL,
  project_id TEXT COLLATE "C",
  run_id TEXT COLLATE "C",
  metric TEXT COLLATE "C" NOT NULL,
  quantity DOUBLE PRECISION NOT NULL,
  unit TEXT COLLATE "C" NOT NULL,
  observed_at_ms BIGINT NOT NULL,
  metadata_json TEXT COLLATE "C" NOT NULL DEFAULT '{}',
  idempotency_key TEXT COLLATE "C",
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS _smithers_cp_usage_org_time_idx ON _smithers_cp_usage_events(org_id, observed_at_ms);
-- An ON CONFLICT that means this index names its predicate too:
-- ON CONFLICT (org_id, idempotency_key) WHERE idempotency_key IS NOT NULL.
CREATE UNIQUE INDEX IF NOT EXISTS _smithers_cp_usage_idempotency_idx
  ON _smithers_cp_usage_events(org_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE IF NOT EXISTS _smithers_cp_usage_limits (
  org_id TEXT COLLATE "C" NOT NULL,
  project_key TEXT COLLATE "C" NOT NULL,
  project_id TEXT COLLATE "C",
  metric TEXT COLLATE "C" NOT NULL,
  unit TEXT COLLATE "C" NOT NULL,
  period TEXT COLLATE "C" NOT NULL,
  limit_quantity DOUBLE PRECISION NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY (org_id, project_key, metric, unit, period),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS _smithers_cp_usage_limits_org_idx ON _smithers_cp_usage_limits(org_id, metric, unit, period);

CREATE TABLE IF NOT EXISTS _smithers_cp_secret_refs (
  org_id TEXT COLLATE "C" NOT NULL,
  project_key TEXT COLLATE "C" NOT NULL,
  project_id TEXT COLLATE "C",
  name TEXT COLLATE "C" NOT NULL,
  provider TEXT COLLATE "C" NOT NULL,
  ref TEXT COLLATE "C" NOT NULL,
  created_by TEXT COLLATE "C",
  created_at_ms BIGINT NOT NULL,
  rotated_at_ms BIGINT,
  PRIMARY KEY (org_id, project_key, name),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS _smithers_cp_audit_events (
  id BIGINT PRIMARY KEY, -- AUTOINCREMENT: see _smithers_cp_next_id below
  org_id TEXT COLLATE "C" NOT NULL,
  project_id TEXT COLLATE "C",
  actor_id TEXT COLLATE "C",
  action TEXT COLLATE "C" NOT NULL,
  target_type TEXT COLLATE "C" NOT NULL,
  target_id TEXT COLLATE "C",
  occurred_at_ms BIGINT NOT NULL,
  metadata_json TEXT COLLATE "C" NOT NULL DEFAULT '{}',
  chain_prev TEXT COLLATE "C",
  chain_hash TEXT COLLATE "C",
  ip_address TEXT COLLATE "C",
  user_agent TEXT COLLATE "C",
  request_id TEXT COLLATE "C",
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, project_id) REFERENCES _smithers_cp_projects(org_id, project_id) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS _smithers_cp_audit_org_time_idx ON _smithers_cp_audit_events(org_id, occurred_at_ms);
CREATE INDEX IF NOT EXISTS _smithers_cp_audit_org_actor_idx
  ON _smithers_cp_audit_events(org_id, actor_id, occurred_at_ms, id);
CREATE INDEX IF NOT EXISTS _smithers_cp_audit_org_action_idx
  ON _smithers_cp_audit_events(org_id, action, occurred_at_ms, id);
CREATE INDEX IF NOT EXISTS _smithers_cp_audit_org_target_idx
  ON _smithers_cp_audit_events(org_id, target_type, target_id, occurred_at_ms, id);
CREATE INDEX IF NOT EXISTS _smithers_cp_audit_org_ip_idx
  ON _smithers_cp_audit_events(org_id, ip_address, occurred_at_ms, id) WHERE ip_address IS NOT NULL;
CREATE INDEX IF NOT EXISTS _smithers_cp_audit_org_request_idx
  ON _smithers_cp_audit_events(org_id, request_id, occurred_at_ms, id) WHERE request_id IS NOT NULL;

-- Our own bookkeeping (the schema version).
CREATE TABLE IF NOT EXISTS _smithers_cp_native_meta (
  key TEXT COLLATE "C" PRIMARY KEY,
  value TEXT COLLATE "C" NOT NULL
);

CREATE TABLE IF NOT EXISTS _smithers_cp_org_quotas (
  org_id TEXT COLLATE "C" PRIMARY KEY,
  max_projects BIGINT,
  max_teams BIGINT,
  max_members_per_team BIGINT,
  max_secret_refs BIGINT,
  max_identity_providers BIGINT,
  updated_at_ms BIGINT NOT NULL,
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);

-- The audit hash chain: each org's head, and the hashes of events removed on purpose.
CREATE TABLE IF NOT EXISTS _smithers_cp_audit_chain_heads (
  org_id TEXT COLLATE "C" PRIMARY KEY,
  last_id BIGINT NOT NULL,
  last_hash TEXT COLLATE "C" NOT NULL,
  events BIGINT NOT NULL,
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS _smithers_cp_audit_chain_redactions (
  org_id TEXT COLLATE "C" NOT NULL,
  id BIGINT NOT NULL,
  chain_hash TEXT COLLATE "C" NOT NULL,
  reason TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (org_id, id),
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);

-- Each org's retention.
CREATE TABLE IF NOT EXISTS _smithers_cp_retention (
  org_id TEXT COLLATE "C" PRIMARY KEY,
  audit_days BIGINT,
  usage_days BIGINT,
  updated_at_ms BIGINT NOT NULL,
  FOREIGN KEY (org_id) REFERENCES _smithers_cp_orgs(org_id) ON DELETE CASCADE
);

-- SQLite's sqlite_sequence: the highest id each AUTOINCREMENT table ever had.
CREATE TABLE IF NOT EXISTS _smithers_cp_sequence (
  name TEXT COLLATE "C" PRIMARY KEY,
  seq BIGINT NOT NULL
);
INSERT INTO _smithers_cp_sequence (name, seq)
  SELECT '_smithers_cp_usage_events', COALESCE(MAX(id), 0) FROM _smithers_cp_usage_events
  UNION ALL
  SELECT '_smithers_cp_audit_events', COALESCE(MAX(id), 0) FROM _smithers_cp_audit_events
ON CONFLICT (name) DO NOTHING;
-- Numbers a row without an id (one more than the highest ever), and raises the highest
-- to an id given. The row of _smithers_cp_sequence stays locked until the inserting
-- transaction ends, so inserters take ids, and commit, one after another.
-- A move from a SQLite file (transfer) gives every id and sets the highest itself at its
-- end; its steps set smithers_cp.moving, and skip the raise: one row updated per copied
-- row made copying the usage events nine times slower than copying the rollups.
CREATE OR REPLACE FUNCTION _smithers_cp_next_id() RETURNS trigger LANGUAGE plpgsql AS $next$
DECLARE next BIGINT;
BEGIN
  IF NEW.id IS NULL THEN
    UPDATE _smithers_cp_sequence SET seq = seq + 1 WHERE name = TG_TABLE_NAME RETURNING seq INTO next;
    NEW.id := next;
  ELSIF current_setting('smithers_cp.moving', true) IS DISTINCT FROM 'on' THEN
    UPDATE _smithers_cp_sequence SET seq = GREATEST(seq, NEW.id) WHERE name = TG_TABLE_NAME;
  END IF;
  RETURN NEW;
END $next$;
DROP TRIGGER IF EXISTS _smithers_cp_usage_events_id ON _smithers_cp_usage_events;
CREATE TRIGGER _smithers_cp_usage_events_id BEFORE INSERT ON _smithers_cp_usage_events
  FOR EACH ROW EXECUTE FUNCTION _smithers_cp_next_id();
DROP TRIGGER IF EXISTS _smithers_cp_audit_events_id ON _smithers_cp_audit_events;
CREATE TRIGGER _smithers_cp_audit_events_id BEFORE INSERT ON _smithers_cp_audit_events
  FOR EACH ROW EXECUTE FUNCTION _smithers_cp_next_id();
