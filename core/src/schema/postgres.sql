-- The store's base tables in PostgreSQL's types: the tables of the SQLite schema
-- (schema.rs, version 6) as they stand after all of its upgrades, with the same table,
-- column and index names, keys, uniques, foreign keys and cascades, and columns in the
-- same order. INTEGER is BIGINT, REAL is DOUBLE PRECISION, TEXT is TEXT COLLATE "C" (text
-- compared and ordered by its bytes, as SQLite does, so pages and orders match), and an
-- INTEGER PRIMARY KEY AUTOINCREMENT is a BIGINT key numbered by a sequence (see the end);
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

-- SQLite's sqlite_sequence: the highest id each AUTOINCREMENT table ever had, as a move
-- from a SQLite file found it (transfer). Since version 4 the ids come from a sequence
-- each (below), and this table is not kept up to date by inserts.
CREATE TABLE IF NOT EXISTS _smithers_cp_sequence (
  name TEXT COLLATE "C" PRIMARY KEY,
  seq BIGINT NOT NULL
);
INSERT INTO _smithers_cp_sequence (name, seq)
  SELECT '_smithers_cp_usage_events', COALESCE(MAX(id), 0) FROM _smithers_cp_usage_events
  UNION ALL
  SELECT '_smithers_cp_audit_events', COALESCE(MAX(id), 0) FROM _smithers_cp_audit_events
ON CONFLICT (name) DO NOTHING;

-- The ids of the AUTOINCREMENT tables: a sequence each, so inserters of different orgs
-- never wait for one another (until version 4, a trigger numbered rows from the table's
-- row of _smithers_cp_sequence, which each inserter held locked until it committed). A
-- rolled-back insert uses up its id, so ids may have gaps; every id is still new, and
-- within one org ids commit in order, since an org's writers hold its lock (see
-- engine/postgres): what the rollups' per-org watermarks count on. An upgrade starts each
-- sequence after the highest id the table ever had; never backwards.
CREATE SEQUENCE IF NOT EXISTS _smithers_cp_usage_events_id_seq AS BIGINT;
CREATE SEQUENCE IF NOT EXISTS _smithers_cp_audit_events_id_seq AS BIGINT;
SELECT setval((q.name || '_id_seq')::regclass, GREATEST(q.seq, COALESCE(pg_sequence_last_value((q.name || '_id_seq')::regclass), 0)))
  FROM _smithers_cp_sequence AS q
  WHERE q.name IN ('_smithers_cp_usage_events', '_smithers_cp_audit_events')
    AND q.seq > COALESCE(pg_sequence_last_value((q.name || '_id_seq')::regclass), 0);
-- An org's events by id: the rollups' tail of one org (its events above its watermark).
CREATE INDEX IF NOT EXISTS _smithers_cp_usage_org_id_idx ON _smithers_cp_usage_events(org_id, id);

-- A row without an id is given the sequence's next (by a trigger, not a default, so the
-- columns stay as SQLite's); an id given (a row copied in, or raw SQL) raises the
-- table's sequence past it, as
-- SQLite's AUTOINCREMENT does. A move from a SQLite file (transfer) gives every id and
-- sets the sequences itself at its end; its steps set smithers_cp.moving, and skip this.
CREATE OR REPLACE FUNCTION _smithers_cp_next_id() RETURNS trigger LANGUAGE plpgsql AS $next$
DECLARE seq regclass := (TG_TABLE_NAME || '_id_seq')::regclass;
BEGIN
  IF NEW.id IS NULL THEN
    NEW.id := nextval(seq);
  ELSIF current_setting('smithers_cp.moving', true) IS DISTINCT FROM 'on'
        AND NEW.id > COALESCE(pg_sequence_last_value(seq), 0) THEN
    PERFORM setval(seq, NEW.id);
  END IF;
  RETURN NEW;
END $next$;
DROP TRIGGER IF EXISTS _smithers_cp_usage_events_id ON _smithers_cp_usage_events;
CREATE TRIGGER _smithers_cp_usage_events_id BEFORE INSERT ON _smithers_cp_usage_events
  FOR EACH ROW EXECUTE FUNCTION _smithers_cp_next_id();
DROP TRIGGER IF EXISTS _smithers_cp_audit_events_id ON _smithers_cp_audit_events;
CREATE TRIGGER _smithers_cp_audit_events_id BEFORE INSERT ON _smithers_cp_audit_events
  FOR EACH ROW EXECUTE FUNCTION _smithers_cp_next_id();
