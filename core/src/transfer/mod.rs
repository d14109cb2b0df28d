//! Moving a store from a SQLite file to PostgreSQL (`control-plane migrate --from
//! sqlite:cp.db --to postgres://...`): every table copied row by row with its ids, the
//! audit chain's heads and the rollups as they stand, then checked on the target.
//!
//! - **Step by step.** `Transfer::start` opens the move; each `step` copies the next rows
//!   (up to a count, of one table) in one transaction on the target, together with where
//!   it got to, so the caller can show progress between steps.
//! - **Restartable.** That position lives in the target (`_smithers_cp_migration`), and a
//!   step commits its rows and its position together: a move interrupted anywhere (a
//!   SIGKILL included) starts again after the last step that committed, nothing copied
//!   twice or left out.
//! - **Only into an empty target, or its own interrupted move.** A target holding any row
//!   the move did not write is refused; so is a target holding a move from another source,
//!   or from this one when the source changed since the move began (its row counts per
//!   table are kept as the move's fingerprint). Writers must be stopped on the source for
//!   the move: one run reads one snapshot of it, but a restart reads a new one.
//! - **Checked.** `verify` compares every table's rows on both sides, verifies every org's
//!   audit chain on the target and checks the target's rollups against its raw events.
//! - **One move at a time, through a pooler too.** A move holds the target by a lease
//!   recorded there (the `@lock` row of `_smithers_cp_migration`), not by a session's lock,
//!   which a pooler in transaction mode (`pgbouncer=true`) would hand to whichever client
//!   got the server connection next: every transaction of the move is one the pooler keeps
//!   on one server connection, and no state of the move outlives its transaction there
//!   (`SET LOCAL`, transaction-level advisory locks, no cursor, temporary table or
//!   prepared statement of its own). See `Transfer::take_lease`.

mod tables;
#[cfg(test)]
mod tests;

use crate::db;
use crate::engine::postgres::PostgresEngine;
use crate::engine::sqlite::SqliteEngine;
use crate::engine::{Db, Opened, Scope, SqlData, SqlValue};
use crate::error::{CpError, Result};
use crate::params;
use crate::request::RequestContext;
use serde::Serialize;
use ts_rs::TS;
use serde_json::{json, Value};
use std::time::Duration;
use tables::{Layout, NUMBERED, ROLLUPS, SEEDED, TABLES};

/// The transaction-level advisory lock a move takes while it looks at and takes the
/// target's lease (`Transfer::take_lease`), so two moves starting at once never both take
/// it. Released with that transaction: nothing of it stays on a pooler's server connection.
const MOVE_LOCK: i64 = 0x636f_6e74_726f_6c03; // "control" + 3

/// How long a move's hold on the target lasts after its last step, unless it takes another
/// (every step renews it): a move that stopped without letting go (killed, its machine or
/// its network gone) is taken over by the next one this long after its last step, or at
/// once when its own server session is seen to be gone (a direct connection only).
pub const LEASE: Duration = Duration::from_secs(60);

/// The target's record of a move: a row per table, `@source` for the move itself, and
/// `@lock` for the move running now (its lease).
const PROGRESS_TABLE: &str = "CREATE TABLE IF NOT EXISTS _smithers_cp_migration (
  step TEXT COLLATE \"C\" PRIMARY KEY,
  -- @source: the source's fingerprint; a table: its last copied row's key, as JSON.
  after_key TEXT COLLATE \"C\",
  copied BIGINT NOT NULL DEFAULT 0,
  done BIGINT NOT NULL DEFAULT 0,
  -- @lock: the running move's token, its server session (pid and start; NULL behind a
  -- pooler, where a session is anyone's) and when its hold ends unless it takes a step.
  owner TEXT,
  backend INTEGER,
  backend_start TIMESTAMPTZ,
  expires TIMESTAMPTZ
)";

/// The lease's columns, added to the record of a move an earlier version began.
const LEASE_COLUMNS: &str = "ALTER TABLE _smithers_cp_migration
  ADD COLUMN IF NOT EXISTS owner TEXT,
  ADD COLUMN IF NOT EXISTS backend INTEGER,
  ADD COLUMN IF NOT EXISTS backend_start TIMESTAMPTZ,
  ADD COLUMN IF NOT EXISTS expires TIMESTAMPTZ";

const SOURCE_STEP: &str = "@source";
const LEASE_STEP: &str = "@lock";

/// Where a move stands, after `start` or a `step`.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneMigrationProgress", rename_all = "camelCase")]
pub struct Progress {
    /// The table being copied (the last one once all are).
    pub table: String,
    /// Its rows copied, and its rows in the source.
    pub table_copied: u64,
    pub table_rows: u64,
    /// Rows copied over all tables, of the source's rows in all.
    pub copied: u64,
    pub rows: u64,
    /// Tables copied whole, of the tables.
    pub tables_done: usize,
    pub tables: usize,
    /// This move began in an earlier run, and goes on where that one stopped.
    pub resumed: bool,
    /// Every table is copied and the ids' sequences set.
    pub done: bool,
}

/// One table on both sides, after a move.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneMigrationTable", rename_all = "camelCase")]
pub struct TableCount {
    pub table: String,
    pub source: u64,
    pub target: u64,
}

/// What `verify` found on the target.
#[derive(Debug, Clone, Serialize, PartialEq, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "ControlPlaneMigrationReport", rename_all = "camelCase")]
pub struct Verification {
    /// Every table's rows match, every chain verifies, the rollups agree with the events.
    pub ok: bool,
    pub tables: Vec<TableCount>,
    /// Tables whose rows differ in number (the rollups' are held to their check instead).
    pub differing: Vec<String>,
    /// Orgs whose audit chain was verified on the target, and those that failed.
    pub orgs: u64,
    pub broken_audit_chains: Vec<String>,
    pub rollups_consistent: bool,
    /// The file was written to while the move ran (its rows per table or its highest ids
    /// are not the ones the move read): those writes are not in the target.
    pub source_changed: bool,
}

/// One table's place in the move.
struct Place {
    layout: Layout,
    rows: u64,
    copied: u64,
    after: Option<Vec<SqlData>>,
    done: bool,
}

/// A move under way: the source read in one snapshot, the target held by this move's lease.
pub struct Transfer {
    source: SqliteEngine,
    target: PostgresEngine,
    places: Vec<Place>,
    /// The source's read transaction, held for the whole run.
    snapshot: Option<Opened>,
    /// This run's token in the target's `@lock` row, and how long its hold lasts after each
    /// renewal.
    owner: String,
    lease: Duration,
    /// The lease is this run's (taken, and not let go of).
    leased: bool,
    resumed: bool,
    done: bool,
    /// The source's fingerprint as this run read it.
    print: String,
}

fn storage(summary: String) -> CpError {
    CpError::new("STORAGE_ERROR", summary, None)
}

/// A key's values as JSON, for the target's record of where a table got to.
fn key_json(key: &[SqlData]) -> String {
    let values: Vec<Value> = key
        .iter()
        .map(|v| match v {
            SqlData::Int(i) => json!(i),
            SqlData::Real(f) => json!(f),
            SqlData::Text(s) => json!(s),
            SqlData::Null | SqlData::Blob(_) => Value::Null,
        })
        .collect();
    Value::Array(values).to_string()
}

fn key_from_json(text: &str) -> Result<Vec<SqlData>> {
    let bad = || storage(format!("The target's record of the move holds a key it cannot read: {text}"));
    let Value::Array(values) = serde_json::from_str(text).map_err(|_| bad())? else { return Err(bad()) };
    values
        .into_iter()
        .map(|v| match v {
            Value::Number(n) if n.is_i64() => Ok(SqlData::Int(n.as_i64().expect("i64"))),
            Value::Number(n) => Ok(SqlData::Real(n.as_f64().ok_or_else(bad)?)),
            Value::String(s) => Ok(SqlData::Text(s)),
            _ => Err(bad()),
        })
        .collect()
}

fn owned(value: SqlValue) -> SqlData {
    match value {
        SqlValue::Null => SqlData::Null,
        SqlValue::Int(i) => SqlData::Int(i),
        SqlValue::Real(f) => SqlData::Real(f),
        SqlValue::Text(s) => SqlData::Text(s.to_string()),
        SqlValue::Blob(b) => SqlData::Blob(b.to_vec()),
    }
}

/// A table's columns and primary key in the source, each column checked to be in the
/// target.
fn layout(source: &Db, target: &Db, name: &'static str) -> Result<Layout> {
    let mut columns = Vec::new();
    let mut keyed: Vec<(i64, usize)> = Vec::new();
    source.each(&format!("SELECT name, pk FROM pragma_table_info('{name}') ORDER BY cid"), params![], |r| {
        let pk: i64 = r.get(1)?;
        if pk > 0 {
            keyed.push((pk, columns.len()));
        }
        columns.push(r.get::<String>(0)?);
        Ok(())
    })?;
    if columns.is_empty() || keyed.is_empty() {
        return Err(storage(format!("The source has no table {name} with a primary key.")));
    }
    keyed.sort();
    let there: Vec<String> = target.rows(
        "SELECT CAST(column_name AS TEXT) FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name = ?1",
        params![name],
        |r| r.get(0),
    )?;
    if let Some(missing) = columns.iter().find(|c| !there.contains(c)) {
        return Err(storage(format!("The target's table {name} has no column {missing}: its schema is not this store's.")));
    }
    Ok(Layout { name, columns, key: keyed.into_iter().map(|(_, i)| i).collect() })
}

/// The rows of each table of the move, in `TABLES`' order.
fn counts(conn: &Db) -> Result<Vec<u64>> {
    TABLES
        .iter()
        .map(|name| conn.one(&format!("SELECT COUNT(*) FROM {name}"), params![], |r| r.get::<i64>(0)).map(|n| n as u64))
        .collect()
}

/// The source's rows per table (`rows`, in `TABLES`' order) and its highest ids: the
/// move's fingerprint, so a restart sees whether the source changed since the move began.
fn fingerprint(source: &Db, rows: &[u64]) -> Result<String> {
    let mut print = serde_json::Map::new();
    for (name, rows) in TABLES.iter().zip(rows) {
        print.insert(name.to_string(), json!(rows));
    }
    source.each("SELECT name, seq FROM sqlite_sequence ORDER BY name", params![], |r| {
        print.insert(format!("sequence:{}", r.get::<String>(0)?), json!(r.get::<i64>(1)?));
        Ok(())
    })?;
    Ok(Value::Object(print).to_string())
}

fn refused(summary: String) -> CpError {
    CpError::field("to", summary)
}

impl Transfer {
    fn src(&self) -> &Db<'_> {
        &self.source
    }

    fn dst(&self) -> &Db<'_> {
        &self.target
    }

    /// Opens a move from `source` (our SQLite connection to the file, which is brought to
    /// the current schema as any open does) to `target` (a PostgreSQL connection; the
    /// schema is created there if missing): a new move into an empty target, or the
    /// interrupted move of this source resumed. The target may be reached directly or
    /// through a pooler in transaction mode (`pgbouncer=true`). `BUSY` while another move
    /// holds the target (`take_lease`).
    pub fn start(source: SqliteEngine, target: PostgresEngine) -> Result<Self> {
        Self::start_with_lease(source, target, LEASE)
    }

    /// `start`, the move's hold on the target lasting `lease` after each step (`LEASE`).
    pub fn start_with_lease(source: SqliteEngine, target: PostgresEngine, lease: Duration) -> Result<Self> {
        crate::schema::ensure(&source)?;
        crate::schema::ensure(&target)?;
        let mut transfer = Transfer {
            source,
            target,
            places: Vec::new(),
            snapshot: None,
            owner: uuid::Uuid::new_v4().to_string(),
            lease: lease.max(Duration::from_millis(1)),
            leased: false,
            resumed: false,
            done: false,
            print: String::new(),
        };
        transfer.open()?;
        Ok(transfer)
    }

    /// Takes the target's lease for this run, or fails with `BUSY` when another move holds
    /// it. In one transaction under `MOVE_LOCK` (a transaction-level lock: two moves
    /// starting at once take turns), the `@lock` row is read and, if no move holds it, made
    /// this run's: its token, its server session, and `expires`, `lease` from now on the
    /// server's clock. A move holds it while `expires` is ahead and, when it recorded its
    /// session (a direct connection), that session is still on the server
    /// (`pg_stat_activity`: the same pid, started at the same time): so a move killed on a
    /// direct connection is taken over at once (its server session ends with its socket),
    /// and one behind a pooler (where the server connection outlives its client, and a pid
    /// says nothing) `lease` after its last step. A session whose start
    /// `pg_stat_activity` hides from this role (another role's, without
    /// `pg_read_all_stats`) counts as there while its pid is. Whatever the check decides,
    /// two moves never interleave: each transaction of a move first renews its own lease
    /// (`renew`), so a move taken over wrongly only fails with `BUSY` at its next step.
    fn take_lease(&mut self) -> Result<()> {
        let (owner, lease) = (self.owner.as_str(), self.lease.as_millis() as i64);
        let session = if self.target.behind_pooler() {
            "NULL, NULL"
        } else {
            "pg_backend_pid(), (SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid())"
        };
        db::write(&self.target, |t| {
            t.one("SELECT pg_advisory_xact_lock(?1)", params![MOVE_LOCK], |_| Ok(()))?;
            t.script(PROGRESS_TABLE)?;
            let leasable = t.exists(
                "SELECT 1 FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = '_smithers_cp_migration' AND column_name = 'expires'",
                params![],
            )?;
            if !leasable {
                t.script(LEASE_COLUMNS)?;
            }
            let held: Option<i64> = t.row(
                "SELECT CAST(CEIL(EXTRACT(EPOCH FROM m.expires - clock_timestamp())) AS BIGINT)
                 FROM _smithers_cp_migration m
                 WHERE m.step = ?1 AND m.owner IS NOT NULL AND m.expires > clock_timestamp()
                   AND (m.backend IS NULL OR EXISTS (
                     SELECT 1 FROM pg_stat_activity a
                     WHERE a.pid = m.backend AND (a.backend_start IS NULL OR a.backend_start = m.backend_start)))
                 FOR UPDATE",
                params![LEASE_STEP],
                |r| r.get(0),
            )?;
            if let Some(seconds) = held {
                return Err(CpError::new(
                    "BUSY",
                    format!(
                        "Another move into this database is running; its hold on it ends in {} s unless it takes another step.",
                        seconds.max(1)
                    ),
                    None,
                ));
            }
            t.execute(
                &format!(
                    "INSERT INTO _smithers_cp_migration AS m (step, owner, backend, backend_start, expires)
                     VALUES (?1, ?2, {session}, clock_timestamp() + CAST(?3 AS BIGINT) * INTERVAL '1 millisecond')
                     ON CONFLICT (step) DO UPDATE SET owner = excluded.owner, backend = excluded.backend,
                       backend_start = excluded.backend_start, expires = excluded.expires"
                ),
                params![LEASE_STEP, owner, lease],
            )?;
            Ok(())
        })?;
        self.leased = true;
        Ok(())
    }

    /// Renews this run's lease, `lease` from now, first in each of its transactions on the
    /// target (which then holds the `@lock` row to its end: a move looking at the lease
    /// meanwhile waits for it), and again as a step ends. Fails with `BUSY` when the lease
    /// is no longer this run's: another move took it over after it ran out (this run took
    /// no step for that long), and the transaction is rolled back, nothing of it written.
    fn renew(&self, t: &Db) -> Result<()> {
        let renewed = t.execute(
            "UPDATE _smithers_cp_migration SET expires = clock_timestamp() + CAST(?3 AS BIGINT) * INTERVAL '1 millisecond'
             WHERE step = ?1 AND owner = ?2",
            params![LEASE_STEP, self.owner.as_str(), self.lease.as_millis() as i64],
        )?;
        if renewed == 1 {
            return Ok(());
        }
        Err(CpError::new(
            "BUSY",
            format!(
                "This move lost its hold on the database: it took no step for {} s, and another move took over (run it again to go on once that one stopped).",
                self.lease.as_secs_f64()
            ),
            None,
        ))
    }

    fn open(&mut self) -> Result<()> {
        self.take_lease()?;
        let (source, target) = (&self.source as &Db, &self.target as &Db);
        self.snapshot = Some(source.begin(Scope::Read)?);
        let rows = counts(source)?;
        for (&name, &rows) in TABLES.iter().zip(&rows) {
            self.places.push(Place { layout: layout(source, target, name)?, rows, copied: 0, after: None, done: false });
        }
        let print = fingerprint(source, &rows)?;
        self.print = print.clone();
        let recorded: Option<(String, i64)> = target.row(
            "SELECT after_key, done FROM _smithers_cp_migration WHERE step = ?1",
            params![SOURCE_STEP],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        match recorded {
            None => self.begin_new(&print),
            Some((theirs, _)) if theirs != print => Err(refused(
                "The target holds a move from another source, or from this one before it changed: start again on an empty database."
                    .to_string(),
            )),
            Some((_, done)) => {
                self.resumed = true;
                self.done = done != 0;
                self.load_places()
            }
        }
    }

    /// Records a new move, after checking that the target holds no rows.
    fn begin_new(&mut self, print: &str) -> Result<()> {
        let places = &self.places;
        db::write(&self.target, |t| {
            self.renew(t)?;
            for place in places.iter().filter(|p| !SEEDED.contains(&p.layout.name)) {
                let name = place.layout.name;
                if t.exists(&format!("SELECT 1 FROM {name} LIMIT 1"), params![])? {
                    return Err(refused(format!(
                        "The target already holds data ({name} has rows): a move copies into an empty database only."
                    )));
                }
            }
            t.execute("INSERT INTO _smithers_cp_migration (step, after_key) VALUES (?1, ?2)", params![SOURCE_STEP, print])?;
            for place in places {
                t.execute("INSERT INTO _smithers_cp_migration (step) VALUES (?1)", params![place.layout.name])?;
            }
            Ok(())
        })
    }

    /// Reads where each table got to in the run that was interrupted.
    fn load_places(&mut self) -> Result<()> {
        let target = &self.target as &Db;
        for place in &mut self.places {
            let (after, copied, done): (Option<String>, i64, i64) = target.one(
                "SELECT after_key, copied, done FROM _smithers_cp_migration WHERE step = ?1",
                params![place.layout.name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            place.after = after.as_deref().map(key_from_json).transpose()?;
            place.copied = copied as u64;
            place.done = done != 0;
        }
        Ok(())
    }

    /// Where the move stands.
    pub fn progress(&self) -> Progress {
        let current = self.places.iter().find(|p| !p.done).or(self.places.last()).expect("tables");
        Progress {
            table: current.layout.name.to_string(),
            table_copied: current.copied,
            table_rows: current.rows,
            copied: self.places.iter().map(|p| p.copied).sum(),
            rows: self.places.iter().map(|p| p.rows).sum(),
            tables_done: self.places.iter().filter(|p| p.done).count(),
            tables: self.places.len(),
            resumed: self.resumed,
            done: self.done,
        }
    }

    /// Copies up to `rows` rows of the next table not yet copied, with the move's position,
    /// in one transaction on the target; after the last table, sets the target's id
    /// sequences from the source's and records the move done.
    pub fn step(&mut self, rows: usize) -> Result<Progress> {
        if self.done {
            return Ok(self.progress());
        }
        let rows = rows.max(1);
        let Some(index) = self.places.iter().position(|p| !p.done) else {
            self.finish()?;
            return Ok(self.progress());
        };
        let (source, target) = (&self.source as &Db, &self.target as &Db);
        let place = &self.places[index];
        let layout = &place.layout;
        let width = layout.columns.len();
        let mut values: Vec<SqlData> = Vec::with_capacity(rows * width);
        {
            let mut params: Vec<SqlValue> = place.after.iter().flatten().map(SqlData::as_value).collect();
            params.push(SqlValue::Int(rows as i64));
            source.query(&layout.select_after(place.after.is_some()), &params, &mut |r| {
                for c in 0..width {
                    values.push(owned(r.value(c)?));
                }
                Ok(true)
            })?;
        }
        let got = values.len() / width;
        let last_key: Option<Vec<SqlData>> =
            (got > 0).then(|| layout.key.iter().map(|&k| values[(got - 1) * width + k].clone()).collect());
        let finished = got < rows;
        let after = last_key.clone().or_else(|| place.after.clone());
        db::write(target, |t| {
            self.renew(t)?;
            // The id and head triggers leave their per-row bookkeeping to `finish` and the
            // copied heads (postgres.sql): for this transaction only.
            t.script("SET LOCAL smithers_cp.moving = 'on'")?;
            for chunk in values.chunks(layout.rows_per_insert() * width) {
                let params: Vec<SqlValue> = chunk.iter().map(SqlData::as_value).collect();
                t.execute(&layout.insert(chunk.len() / width), &params).map_err(|mut e| {
                    e.summary = format!("Copying {} after key {}: {}", layout.name, after_text(&place.after), e.summary);
                    e
                })?;
            }
            let after_key = after.as_deref().map(key_json);
            t.execute(
                "UPDATE _smithers_cp_migration SET after_key = ?2, copied = copied + ?3, done = ?4 WHERE step = ?1",
                params![layout.name, after_key, got as i64, finished as i64],
            )?;
            // Held from the step's end, however long its rows took.
            self.renew(t)
        })?;
        let place = &mut self.places[index];
        place.copied += got as u64;
        place.after = after;
        place.done = finished;
        if self.places.iter().all(|p| p.done) {
            self.finish()?;
        }
        Ok(self.progress())
    }

    /// Sets the target's highest ids ever (SQLite's `sqlite_sequence`, which may pass the
    /// highest id left) and the rollup series' identity, and records the move done.
    fn finish(&mut self) -> Result<()> {
        let mut sequences: Vec<(String, i64)> = Vec::new();
        self.src().each("SELECT name, seq FROM sqlite_sequence", params![], |r| {
            sequences.push((r.get(0)?, r.get(1)?));
            Ok(())
        })?;
        db::write(&self.target, |t| {
            self.renew(t)?;
            for (name, seq) in sequences.iter().filter(|(name, _)| NUMBERED.contains(&name.as_str())) {
                t.execute(
                    "UPDATE _smithers_cp_sequence SET seq = GREATEST(seq, ?2) WHERE name = ?1",
                    params![name.as_str(), *seq],
                )?;
                // The table's ids go on after the highest the file ever gave.
                t.one(
                    "SELECT setval(CAST(?1 || '_id_seq' AS regclass),
                                   GREATEST(CAST(?2 AS BIGINT), COALESCE(pg_sequence_last_value(CAST(?1 || '_id_seq' AS regclass)), 1)),
                                   CAST(?2 AS BIGINT) > 0 OR pg_sequence_last_value(CAST(?1 || '_id_seq' AS regclass)) IS NOT NULL)",
                    params![name.as_str(), *seq],
                    |_| Ok(()),
                )?;
            }
            t.one(
                "SELECT setval(pg_get_serial_sequence('_smithers_cp_usage_series', 'id'), COALESCE(MAX(id), 0) + 1, false)
                 FROM _smithers_cp_usage_series",
                params![],
                |_| Ok(()),
            )?;
            t.execute("UPDATE _smithers_cp_migration SET done = 1 WHERE step = ?1", params![SOURCE_STEP])?;
            Ok(())
        })?;
        self.done = true;
        Ok(())
    }

    /// Compares every table's rows on both sides, verifies every org's audit chain on the
    /// target, and checks the target's rollups against its raw events (a pass over them,
    /// which folds in the events not yet folded: the rollups' rows are reported, and held
    /// to that check rather than to the source's count); and whether the file was written
    /// to while the move ran. Ends the run's snapshot of the file.
    pub fn verify(&mut self) -> Result<Verification> {
        // Still this run's: no other move began meanwhile (the check only reads).
        self.renew(&self.target)?;
        let target = &self.target as &Db;
        let tables: Vec<TableCount> = (self.places.iter().zip(counts(target)?))
            .map(|(place, there)| TableCount { table: place.layout.name.to_string(), source: place.rows, target: there })
            .collect();
        let ctx = RequestContext::default();
        let orgs: Vec<String> = target.rows("SELECT org_id FROM _smithers_cp_orgs ORDER BY org_id", params![], |r| r.get(0))?;
        let mut broken = Vec::new();
        for org_id in &orgs {
            let report = crate::audit::verify(target, &ctx, crate::tenancy::orgs::OrgRef { org_id: org_id.clone() })?;
            if !report.ok {
                broken.push(org_id.clone());
            }
        }
        let rollups = crate::metering::rollups::check(target, &ctx, crate::metering::rollups::CheckRollups { repair: false })?;
        let differing: Vec<String> = tables
            .iter()
            .filter(|t| t.source != t.target && !ROLLUPS.contains(&t.table.as_str()))
            .map(|t| t.table.clone())
            .collect();
        // The file now, outside the run's snapshot (which is done with).
        if let Some(opened) = self.snapshot.take() {
            self.src().end(opened, false)?;
        }
        let source_changed = fingerprint(self.src(), &counts(self.src())?)? != self.print;
        let ok = self.done && differing.is_empty() && broken.is_empty() && rollups.consistent && !source_changed;
        Ok(Verification {
            ok,
            tables,
            differing,
            orgs: orgs.len() as u64,
            broken_audit_chains: broken,
            rollups_consistent: rollups.consistent,
            source_changed,
        })
    }

    /// Ends the run: the source's snapshot and the target's lease let go (if the target
    /// cannot be reached, the lease runs out by itself). Also on drop.
    pub fn close(&mut self) {
        if let Some(opened) = self.snapshot.take() {
            let _ = self.src().end(opened, false);
        }
        if self.leased {
            self.leased = false;
            let _ = self.dst().execute(
                "DELETE FROM _smithers_cp_migration WHERE step = ?1 AND owner = ?2",
                params![LEASE_STEP, self.owner.as_str()],
            );
        }
    }
}

fn after_text(after: &Option<Vec<SqlData>>) -> String {
    after.as_deref().map_or("(the first)".to_string(), key_json)
}

impl Drop for Transfer {
    fn drop(&mut self) {
        self.close();
    }
}
