//! Usage rollups: sums of usage events per minute, hour and day, and per tenth of a second
//! and second in an org's dense minutes (more than `DENSE` events).
//!
//! Events are rolled up in batches, not one by one: the rollups cover every event up to a
//! watermark id, and the few events above it (the tail) are read raw. Ids only grow
//! (AUTOINCREMENT), so whoever inserts (this store, the documented TypeScript store, raw
//! SQL) only lengthens the tail; writers of ours fold the tail in once it reaches
//! `TAIL_MAX` events, grouping it so that events of the same bucket cost one write.
//! Deletes and updates of rolled-up events are applied by triggers in the same statement.
//! A window is answered from whole buckets, the two partial minutes at its edges (from
//! their buckets' time bounds when those settle it; else from the minute's seconds and
//! tenths if it is dense, or from its few events if not), and the tail: a bounded number
//! of rows (at most about 330 buckets for a 30-day window) however many events the window
//! holds.

use crate::error::Result;
use crate::engine::SqlValue;
use crate::params;
use crate::db::Db;
use std::collections::HashMap;

/// A tenth of a second: the finest buckets, so a window edge that splits one holds at
/// most 100 ms of events to read one by one, however dense the usage.
pub const TENTH: i64 = 100;
pub const SECOND: i64 = 1_000;
pub const MINUTE: i64 = 60_000;
pub const HOUR: i64 = 3_600_000;
pub const DAY: i64 = 86_400_000;
/// The level of the millisecond sums that stand for usage events a retention purge removed
/// (not folded from events, so not in `LEVELS`).
pub const MILLI: i64 = 1;
/// Every level, finest first.
pub const LEVELS: [i64; 5] = [TENTH, SECOND, MINUTE, HOUR, DAY];
/// The buckets a window's partial edges are read from.
const EDGE: i64 = LEVELS[0];
/// The levels kept only in an org's dense minutes, and those kept everywhere.
const FINE: [i64; 2] = [TENTH, SECOND];
const COARSE: [i64; 3] = [MINUTE, HOUR, DAY];
/// An org's minute with more events than this keeps its fine levels: below it, a window
/// edge in the minute reads at most this many events; above it, the fine buckets cost
/// less than the events they stand for would to read. At one event a second, the fine
/// levels would hold two rows per event per series.
pub const DENSE: i64 = 64;

fn minute_of(at: i64) -> i64 {
    at - at.rem_euclid(MINUTE)
}

/// Whether the org's minute keeps its fine levels.
fn is_dense(conn: &Db, org_id: &str, minute: i64) -> Result<bool> {
    conn.exists(
        "SELECT 1 AS dense FROM _smithers_cp_usage_dense_minutes WHERE org_id = ?1 AND minute_start_ms = ?2",
        params![org_id, minute],
    )
}

/// Takes out of `parts` the pieces finer than a minute that lie in minutes of the org
/// without fine levels, and returns them: they are read from the events (`split_slot`).
/// `known` keeps the minutes looked up, for the other windows of the same call.
fn take_sparse(conn: &Db, org_id: &str, parts: &mut Vec<Piece>, known: &mut Vec<(i64, bool)>) -> Result<Vec<(i64, i64)>> {
    let mut sparse = Vec::new();
    let mut kept = Vec::with_capacity(parts.len());
    for part in parts.drain(..) {
        let (from, to) = match part {
            Piece::Buckets { level, from, to } if level < MINUTE => (from, to),
            Piece::Raw { from, to } => (from, to),
            _ => {
                kept.push(part);
                continue;
            }
        };
        let minute = minute_of(from);
        let dense = match known.iter().find(|(m, _)| *m == minute) {
            Some(&(_, dense)) => dense,
            None => {
                let dense = is_dense(conn, org_id, minute)?;
                known.push((minute, dense));
                dense
            }
        };
        if dense {
            kept.push(part);
        } else {
            sparse.push((from, to));
        }
    }
    *parts = kept;
    Ok(sparse)
}

/// The scope that sums every event of an org; events without a project also count under
/// `NO_PROJECT`, events with one under their project id.
pub const ALL: &str = "*";
pub const NO_PROJECT: &str = "";

/// The scope a usage event's project maps to.
pub fn scope_of(project_id: Option<&str>) -> &str {
    project_id.unwrap_or(NO_PROJECT)
}

const TABLES: &str = r#"
-- One row per series: which org, scope, metric and unit. The rollups refer to it by number,
-- so their keys are three integers and a range of buckets is a short key comparison.
CREATE TABLE IF NOT EXISTS _smithers_cp_usage_series (
  id INTEGER PRIMARY KEY,
  org_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  metric TEXT NOT NULL,
  unit TEXT NOT NULL,
  UNIQUE (org_id, scope, metric, unit)
);
CREATE TABLE IF NOT EXISTS _smithers_cp_usage_rollups (
  series INTEGER NOT NULL,
  level INTEGER NOT NULL,
  bucket_start_ms INTEGER NOT NULL,
  quantity REAL NOT NULL,
  events INTEGER NOT NULL,
  -- Bounds of the bucket's event times: every folded-in event of the bucket lies in
  -- [min_at_ms, max_at_ms]. Deletes leave them as they are (still bounds), so a window
  -- edge that cuts a bucket can often take or skip the bucket whole.
  min_at_ms INTEGER NOT NULL,
  max_at_ms INTEGER NOT NULL,
  PRIMARY KEY (series, level, bucket_start_ms)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS _smithers_cp_usage_rollup_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  watermark INTEGER NOT NULL
);
INSERT OR IGNORE INTO _smithers_cp_usage_rollup_state (id, watermark) VALUES (1, 0);
-- The minutes of an org whose events are many enough (more than DENSE) to have their
-- tenth-of-a-second and one-second buckets kept; elsewhere those levels are not
-- materialized, and a window's edge in such a minute reads its few events instead.
CREATE TABLE IF NOT EXISTS _smithers_cp_usage_dense_minutes (
  org_id TEXT NOT NULL,
  minute_start_ms INTEGER NOT NULL,
  PRIMARY KEY (org_id, minute_start_ms)
) WITHOUT ROWID;
-- Holds a row only inside a retention purge's transaction: the triggers then leave the
-- rollups as they are, since the purged events' sums stay in them.
CREATE TABLE IF NOT EXISTS _smithers_cp_usage_purging (id INTEGER PRIMARY KEY CHECK (id = 1));
-- Earlier versions kept a covering index for raw window edges; the bucket bounds made
-- it rare enough to read through the documented (org_id, observed_at_ms) index, and
-- every insert paid for it.
DROP INDEX IF EXISTS _smithers_cp_usage_series_time_idx;
"#;

/// The SQL naming the series (their ids) that a usage event `row` (`OLD` or `NEW`) counts in.
fn series_of(row: &str) -> String {
    format!(
        "SELECT id FROM _smithers_cp_usage_series
         WHERE org_id = {row}.org_id AND metric = {row}.metric AND unit = {row}.unit
           AND scope IN ('{ALL}', COALESCE({row}.project_id, '{NO_PROJECT}'))"
    )
}

/// The statements that take one event (`OLD`) out of the rollups; a bucket left with no
/// events is removed, so no floating-point residue outlives its events.
fn remove_event() -> String {
    // One equality per level (not `level IN (...)` with an expression), so each is a
    // primary-key lookup.
    let buckets = LEVELS
        .iter()
        .map(|l| format!("(level = {l} AND bucket_start_ms = OLD.observed_at_ms - (OLD.observed_at_ms % {l}))"))
        .collect::<Vec<_>>()
        .join("\n           OR ");
    let matches = format!("series IN ({})\n         AND ({buckets})", series_of("OLD"));
    format!(
        "UPDATE _smithers_cp_usage_rollups SET quantity = quantity - OLD.quantity, events = events - 1 WHERE {matches};
         DELETE FROM _smithers_cp_usage_rollups WHERE {matches} AND events <= 0;"
    )
}

fn triggers() -> String {
    // Dropped and created anew whenever the schema is created or upgraded, so a file at
    // this version has this version's triggers.
    // Only rolled-up events (id <= watermark) are in the rollups to be corrected.
    let rolled = "OLD.id <= (SELECT watermark FROM _smithers_cp_usage_rollup_state WHERE id = 1)
                  AND NOT EXISTS (SELECT 1 FROM _smithers_cp_usage_purging)";
    format!(
        "DROP TRIGGER IF EXISTS _smithers_cp_usage_rollup_insert;
         DROP TRIGGER IF EXISTS _smithers_cp_usage_rollup_delete;
         DROP TRIGGER IF EXISTS _smithers_cp_usage_rollup_update;
         DROP TRIGGER IF EXISTS _smithers_cp_usage_rollup_org_delete;
         CREATE TRIGGER _smithers_cp_usage_rollup_delete AFTER DELETE ON _smithers_cp_usage_events
         WHEN {rolled}
         BEGIN {remove} END;
         CREATE TRIGGER _smithers_cp_usage_rollup_update
           AFTER UPDATE OF id, org_id, project_id, metric, unit, quantity, observed_at_ms ON _smithers_cp_usage_events
         WHEN {rolled}
         BEGIN
           {remove}
           {add_new}
         END;
         CREATE TRIGGER _smithers_cp_usage_rollup_org_delete AFTER DELETE ON _smithers_cp_orgs
         BEGIN
           DELETE FROM _smithers_cp_usage_rollups
             WHERE series IN (SELECT id FROM _smithers_cp_usage_series WHERE org_id = OLD.org_id);
           DELETE FROM _smithers_cp_usage_series WHERE org_id = OLD.org_id;
           DELETE FROM _smithers_cp_usage_dense_minutes WHERE org_id = OLD.org_id;
         END;",
        remove = remove_event(),
        add_new = add_row("NEW"),
    )
}

/// Adds one row (`NEW`) back after an update: the rolled-up event with its new values.
fn add_row(row: &str) -> String {
    format!(
        "INSERT OR IGNORE INTO _smithers_cp_usage_series (org_id, scope, metric, unit)
           VALUES ({row}.org_id, '{ALL}', {row}.metric, {row}.unit),
                  ({row}.org_id, COALESCE({row}.project_id, '{NO_PROJECT}'), {row}.metric, {row}.unit);
         INSERT INTO _smithers_cp_usage_rollups (series, level, bucket_start_ms, quantity, events, min_at_ms, max_at_ms)
           SELECT s.id, l.level, {row}.observed_at_ms - ({row}.observed_at_ms % l.level), {row}.quantity, 1,
                  {row}.observed_at_ms, {row}.observed_at_ms
           FROM ({series}) AS s, ({levels}) AS l
           WHERE true
         ON CONFLICT (series, level, bucket_start_ms)
         DO UPDATE SET quantity = quantity + excluded.quantity, events = events + 1,
           min_at_ms = min(min_at_ms, excluded.min_at_ms), max_at_ms = max(max_at_ms, excluded.max_at_ms);",
        series = series_of(row),
        levels = LEVELS.iter().map(|l| format!("SELECT {l} AS level")).collect::<Vec<_>>().join(" UNION ALL "),
    )
}

/// The id of a series, if any event of it was ever folded in.
pub fn series_id(conn: &Db, series: &Series) -> Result<Option<i64>> {
    conn.row(
        "SELECT id FROM _smithers_cp_usage_series WHERE org_id = ?1 AND scope = ?2 AND metric = ?3 AND unit = ?4",
        params![series.org_id, series.scope, series.metric, series.unit],
        |r| r.get(0),
    )
}

/// The id of a series, created if new.
fn series_id_or_new(conn: &Db, series: &Series) -> Result<i64> {
    if let Some(id) = series_id(conn, series)? {
        return Ok(id);
    }
    conn.insert(
        "INSERT INTO _smithers_cp_usage_series (org_id, scope, metric, unit) VALUES (?1, ?2, ?3, ?4)",
        params![series.org_id, series.scope, series.metric, series.unit],
    )
}

/// How many events the tail may hold before a writer folds it into the rollups.
pub const TAIL_MAX: i64 = 16;

/// The watermark and the highest event id: events in `(watermark, max]` are the tail.
pub fn tail(conn: &Db) -> Result<(i64, i64)> {
    conn.one(
        "SELECT (SELECT watermark FROM _smithers_cp_usage_rollup_state WHERE id = 1) AS watermark,
                COALESCE((SELECT MAX(id) FROM _smithers_cp_usage_events), 0) AS max_id",
        params![],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Folds the tail into the rollups, grouped per bucket, and moves the watermark past it.
/// One pass over the tail's rows, added up in memory, then one upsert per bucket touched.
/// Runs in the caller's write transaction.
pub fn catch_up(conn: &Db) -> Result<()> {
    let (watermark, max_id) = tail(conn)?;
    if max_id <= watermark {
        return Ok(());
    }
    let mut fold = Fold::default();
    // Which minutes of which orgs are dense once the tail is in: those marked already, and
    // those the tail takes past `DENSE`, whose fine levels are built now from the events
    // (and purged sums) already folded in.
    let minutes: Vec<(String, i64, i64)> = conn.rows(
        &format!(
            "SELECT org_id, observed_at_ms - (observed_at_ms % {MINUTE}) AS minute, COUNT(*) AS events
             FROM _smithers_cp_usage_events NOT INDEXED WHERE id > ?1 AND id <= ?2 GROUP BY org_id, minute"
        ),
        params![watermark, max_id],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    for (org_id, minute, events) in minutes {
        if is_dense(conn, &org_id, minute)? {
            fold.dense.entry(org_id).or_default().insert(minute);
            continue;
        }
        let folded: i64 = conn.one(
            "SELECT COUNT(*) AS events FROM _smithers_cp_usage_events INDEXED BY _smithers_cp_usage_org_time_idx
             WHERE org_id = ?1 AND observed_at_ms >= ?2 AND observed_at_ms < ?3 AND id <= ?4",
            params![org_id, minute, minute + MINUTE, watermark],
            |r| r.get(0),
        )?;
        if folded + events > DENSE {
            densify(conn, &mut fold, &org_id, minute, watermark)?;
            fold.dense.entry(org_id).or_default().insert(minute);
        }
    }
    conn.each(
        "SELECT org_id, project_id, metric, unit, observed_at_ms, quantity
         FROM _smithers_cp_usage_events NOT INDEXED WHERE id > ?1 AND id <= ?2",
        params![watermark, max_id],
        |r| {
            // Borrowed, not copied: the strings are only compared unless the series is new.
            fold.add(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?);
            Ok(())
        },
    )?;
    let ids = fold
        .series
        .iter()
        .map(|[org_id, metric, unit, scope]| series_id_or_new(conn, &Series { org_id, scope, metric, unit }))
        .collect::<Result<Vec<i64>>>()?;
    for ((series, level, start), b) in &fold.buckets {
        conn.execute(
            "INSERT INTO _smithers_cp_usage_rollups (series, level, bucket_start_ms, quantity, events, min_at_ms, max_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (series, level, bucket_start_ms)
             DO UPDATE SET quantity = quantity + excluded.quantity, events = events + excluded.events,
               min_at_ms = min(min_at_ms, excluded.min_at_ms), max_at_ms = max(max_at_ms, excluded.max_at_ms)",
            params![ids[*series], level, start, b.quantity, b.events, b.min_at, b.max_at],
        )?;
    }
    conn.execute("UPDATE _smithers_cp_usage_rollup_state SET watermark = ?1 WHERE id = 1", params![max_id])?;
    Ok(())
}

/// Marks an org's minute dense and builds its fine levels from what is already folded in:
/// the events (at most about `DENSE` of them, as the minute was not dense) and the
/// millisecond sums of purged ones. Fine rows an update left there are replaced.
fn densify(conn: &Db, fold: &mut Fold, org_id: &str, minute: i64, watermark: i64) -> Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO _smithers_cp_usage_dense_minutes (org_id, minute_start_ms) VALUES (?1, ?2)",
        params![org_id, minute],
    )?;
    conn.execute(
        &format!(
            "DELETE FROM _smithers_cp_usage_rollups
             WHERE series IN (SELECT id FROM _smithers_cp_usage_series WHERE org_id = ?1)
               AND level IN ({TENTH}, {SECOND}) AND bucket_start_ms >= ?2 AND bucket_start_ms < ?3"
        ),
        params![org_id, minute, minute + MINUTE],
    )?;
    conn.each(
        "SELECT project_id, metric, unit, observed_at_ms, quantity FROM _smithers_cp_usage_events
           INDEXED BY _smithers_cp_usage_org_time_idx
         WHERE org_id = ?1 AND observed_at_ms >= ?2 AND observed_at_ms < ?3 AND id <= ?4",
        params![org_id, minute, minute + MINUTE, watermark],
        |r| {
            let project_id: Option<&str> = r.get(0)?;
            let (metric, unit, at, quantity): (&str, &str, i64, f64) = (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
            for scope in [ALL, scope_of(project_id)] {
                fold.add_sum([org_id, metric, unit, scope], at, quantity, 1, &FINE);
            }
            Ok(())
        },
    )?;
    conn.each(
        &format!(
            "SELECT s.metric, s.unit, s.scope, u.bucket_start_ms, u.quantity, u.events
             FROM _smithers_cp_usage_rollups u JOIN _smithers_cp_usage_series s ON s.id = u.series
             WHERE s.org_id = ?1 AND u.level = {MILLI} AND u.bucket_start_ms >= ?2 AND u.bucket_start_ms < ?3"
        ),
        params![org_id, minute, minute + MINUTE],
        |r| {
            let (metric, unit, scope): (&str, &str, &str) = (r.get(0)?, r.get(1)?, r.get(2)?);
            fold.add_sum([org_id, metric, unit, scope], r.get(3)?, r.get(4)?, r.get(5)?, &FINE);
            Ok(())
        },
    )
}

/// One bucket's sums while folding.
struct BucketSum {
    quantity: f64,
    events: i64,
    min_at: i64,
    max_at: i64,
}

/// The tail added up per bucket. Series (org, metric, unit, scope) are numbered as they
/// are first seen, so the per-event work is integer keys, not string copies; consecutive
/// events of one series (the usual case) skip even the lookup.
#[derive(Default)]
struct Fold {
    /// `[org_id, metric, unit, scope]` per series number.
    series: Vec<[String; 4]>,
    numbers: HashMap<[String; 4], usize>,
    /// The last event's two series numbers: every event's and its scope's.
    last: Option<[usize; 2]>,
    buckets: HashMap<(usize, i64, i64), BucketSum>,
    /// The minutes, by org, whose events go into the fine levels too.
    dense: HashMap<String, std::collections::HashSet<i64>>,
}

impl Fold {
    fn add(&mut self, org_id: &str, project_id: Option<&str>, metric: &str, unit: &str, at: i64, quantity: f64) {
        let scope = scope_of(project_id);
        let key = [org_id, metric, unit, scope];
        let numbers = match self.last {
            Some(numbers) if self.series[numbers[1]].iter().zip(key).all(|(a, b)| a == b) => numbers,
            _ => [self.number(org_id, metric, unit, ALL), self.number(org_id, metric, unit, scope)],
        };
        self.last = Some(numbers);
        let fine = self.dense.get(org_id).is_some_and(|minutes| minutes.contains(&minute_of(at)));
        for series in numbers {
            self.add_to(series, at, quantity, 1, &COARSE);
            if fine {
                self.add_to(series, at, quantity, 1, &FINE);
            }
        }
    }

    /// Adds a sum of `events` at `at` to one series (by key) at the given levels.
    fn add_sum(&mut self, key: [&str; 4], at: i64, quantity: f64, events: i64, levels: &[i64]) {
        let series = self.number(key[0], key[1], key[2], key[3]);
        self.add_to(series, at, quantity, events, levels);
    }

    fn add_to(&mut self, series: usize, at: i64, quantity: f64, events: i64, levels: &[i64]) {
        for &level in levels {
            let b = self.buckets.entry((series, level, at - at.rem_euclid(level))).or_insert(BucketSum {
                quantity: 0.0,
                events: 0,
                min_at: at,
                max_at: at,
            });
            b.quantity += quantity;
            b.events += events;
            b.min_at = b.min_at.min(at);
            b.max_at = b.max_at.max(at);
        }
    }

    fn number(&mut self, org_id: &str, metric: &str, unit: &str, scope: &str) -> usize {
        let key = [org_id, metric, unit, scope].map(str::to_string);
        if let Some(&n) = self.numbers.get(&key) {
            return n;
        }
        self.series.push(key.clone());
        self.numbers.insert(key, self.series.len() - 1);
        self.series.len() - 1
    }
}

/// Before a read: folds in a tail that another writer (one that does not fold, such as
/// the documented store) has let grow long, so reads stay bounded. Opens its own write
/// transaction, and only when needed.
pub fn fold_long_tail(conn: &Db) -> Result<()> {
    let (watermark, max_id) = tail(conn)?;
    if max_id - watermark >= 4 * TAIL_MAX {
        crate::db::write(conn, catch_up)?;
    }
    Ok(())
}

/// Folds the tail in when it has grown to `TAIL_MAX`; runs in the caller's write
/// transaction. Returns the tail as it is afterwards.
pub fn catch_up_if_long(conn: &Db) -> Result<(i64, i64)> {
    let (watermark, max_id) = tail(conn)?;
    if max_id - watermark >= TAIL_MAX {
        catch_up(conn)?;
        return Ok((max_id, max_id));
    }
    Ok((watermark, max_id))
}

/// The triggers that keep folded-in rollups right.
pub const TRIGGERS: [&str; 3] =
    ["_smithers_cp_usage_rollup_delete", "_smithers_cp_usage_rollup_update", "_smithers_cp_usage_rollup_org_delete"];

/// Creates the rollup tables and triggers. Rollups that are missing (a file the documented
/// store wrote, or of an earlier layout) are built from the raw events; rollups that were
/// left without their triggers (dropped by someone) are checked against the raw events and
/// rebuilt if they disagree. Other rollups are trusted: opening a file costs nothing per
/// event, and `check` compares them with the raw events on demand. Runs inside
/// `schema::ensure`'s transaction.
pub fn ensure(conn: &Db) -> Result<()> {
    let mut existed: bool = conn.one(
        "SELECT COUNT(*) = 2 AS existed FROM sqlite_master WHERE type = 'table'
           AND name IN ('_smithers_cp_usage_rollups', '_smithers_cp_usage_series')",
        params![],
        |r| r.get(0),
    )?;
    let current = |table, column| crate::schema::has_column(conn, table, column);
    if existed
        && !(current("_smithers_cp_usage_rollups", "min_at_ms")? && current("_smithers_cp_usage_series", "id")?)
    {
        // Rollups of an earlier version (keyed by strings, without time bounds): derived
        // data, rebuilt below.
        conn.script("DROP TABLE _smithers_cp_usage_rollups; DROP TABLE _smithers_cp_usage_series;")?;
        existed = false;
    }
    let triggers_were_there = triggers_present(conn)?;
    // Rollups from before dense minutes (version 5) keep fine levels everywhere: rebuilt.
    if existed && !crate::schema::table_exists(conn, "_smithers_cp_usage_dense_minutes")? {
        existed = false;
    }
    conn.script(TABLES)?;
    conn.script(&triggers())?;
    if !existed || (!triggers_were_there && !consistent(conn)?) {
        rebuild(conn)?;
    }
    Ok(())
}

fn triggers_present(conn: &Db) -> Result<bool> {
    let present: i64 = conn.one(
        "SELECT COUNT(*) AS present FROM sqlite_master WHERE type = 'trigger' AND name IN (?1, ?2, ?3)",
        params![TRIGGERS[0], TRIGGERS[1], TRIGGERS[2]],
        |r| r.get(0),
    )?;
    Ok(present == TRIGGERS.len() as i64)
}

/// What `checkRollups` found and did.
#[derive(Debug, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RollupCheck {
    /// The day-level totals of every org, metric and unit equal the raw events'.
    pub consistent: bool,
    /// The rollups were rebuilt from the raw events.
    pub repaired: bool,
}

/// `checkRollups({repair?})`: folds the tail in, compares the rollups with the raw events
/// (a pass over every event), and rebuilds them when they disagree, unless `repair` is
/// `false`. In one write transaction.
pub fn check(conn: &Db, input: &crate::validate::Input) -> Result<RollupCheck> {
    let repair = input.bool_or("repair", true)?;
    crate::db::write(conn, |c| {
        catch_up(c)?;
        let consistent = consistent(c)?;
        let repaired = !consistent && repair;
        if repaired {
            rebuild(c)?;
        }
        Ok(RollupCheck { consistent, repaired })
    })
}

/// Whether the day-level totals of every org equal its raw events (and the millisecond sums
/// of those a purge removed), in count and in sum (with the tail folded in first).
pub fn consistent(conn: &Db) -> Result<bool> {
    let mismatches: i64 = conn.one(&format!(
        "SELECT COUNT(*) AS mismatches FROM (
           SELECT org_id, metric, unit, SUM(events) AS events, TOTAL(quantity) AS quantity FROM (
             SELECT org_id, metric, unit, 1 AS events, quantity FROM _smithers_cp_usage_events
             UNION ALL
             SELECT s.org_id, s.metric, s.unit, u.events, u.quantity
             FROM _smithers_cp_usage_rollups u JOIN _smithers_cp_usage_series s ON s.id = u.series
             WHERE s.scope = '{ALL}' AND u.level = {MILLI}
           ) GROUP BY org_id, metric, unit
         ) AS raw
         FULL OUTER JOIN (
           SELECT s.org_id, s.metric, s.unit, SUM(u.events) AS events, TOTAL(u.quantity) AS quantity
           FROM _smithers_cp_usage_rollups u JOIN _smithers_cp_usage_series s ON s.id = u.series
           WHERE s.scope = '{ALL}' AND u.level = {DAY} GROUP BY s.org_id, s.metric, s.unit
         ) AS rolled USING (org_id, metric, unit)
         WHERE raw.events IS NOT rolled.events
            OR abs(raw.quantity - rolled.quantity) > 1e-9 * max(abs(raw.quantity), 1.0)"
    ), params![], |r| r.get(0))?;
    Ok(mismatches == 0)
}

/// Recomputes every rollup from the raw events.
pub fn rebuild(conn: &Db) -> Result<()> {
    // The millisecond sums of purged events are all that is left of them: kept, with their
    // series, and counted back into the coarse levels (and into the fine ones of the dense
    // minutes, by the fold).
    conn.script(&format!(
        "DELETE FROM _smithers_cp_usage_rollups WHERE level != {MILLI};
         DELETE FROM _smithers_cp_usage_dense_minutes;
         UPDATE _smithers_cp_usage_rollup_state SET watermark = 0 WHERE id = 1;"
    ))?;
    catch_up(conn)?;
    conn.script(&format!(
        "INSERT INTO _smithers_cp_usage_rollups (series, level, bucket_start_ms, quantity, events, min_at_ms, max_at_ms)
           SELECT u.series, l.level, u.bucket_start_ms - (u.bucket_start_ms % l.level), TOTAL(u.quantity), SUM(u.events),
                  MIN(u.min_at_ms), MAX(u.max_at_ms)
           FROM _smithers_cp_usage_rollups u,
                (SELECT {MINUTE} AS level UNION ALL SELECT {HOUR} UNION ALL SELECT {DAY}) AS l
           WHERE u.level = {MILLI}
           GROUP BY u.series, l.level, u.bucket_start_ms - (u.bucket_start_ms % l.level)
         ON CONFLICT (series, level, bucket_start_ms)
         DO UPDATE SET quantity = quantity + excluded.quantity, events = events + excluded.events,
           min_at_ms = min(min_at_ms, excluded.min_at_ms), max_at_ms = max(max_at_ms, excluded.max_at_ms);"
    ))
}

/// Moves an org's folded usage events observed before `cutoff` out of the events table,
/// `batch` of them, keeping their sums as millisecond rollups (level `MILLI`), so every
/// window's total, edges included, stays what it was. Runs in the caller's write
/// transaction; the number of events purged.
pub fn purge_usage(conn: &Db, org_id: &str, cutoff: i64, batch: i64) -> Result<i64> {
    catch_up(conn)?;
    const DUE: &str = "SELECT id FROM _smithers_cp_usage_events WHERE org_id = ?1 AND observed_at_ms < ?2
                       ORDER BY observed_at_ms, id LIMIT ?3";
    conn.execute(
        &format!(
            "INSERT INTO _smithers_cp_usage_rollups (series, level, bucket_start_ms, quantity, events, min_at_ms, max_at_ms)
               SELECT s.id, {MILLI}, e.observed_at_ms, TOTAL(e.quantity), COUNT(*), e.observed_at_ms, e.observed_at_ms
               FROM _smithers_cp_usage_events e
               JOIN _smithers_cp_usage_series s
                 ON s.org_id = e.org_id AND s.metric = e.metric AND s.unit = e.unit
                AND s.scope IN ('{ALL}', COALESCE(e.project_id, '{NO_PROJECT}'))
               WHERE e.id IN ({DUE})
               GROUP BY s.id, e.observed_at_ms
             ON CONFLICT (series, level, bucket_start_ms)
             DO UPDATE SET quantity = quantity + excluded.quantity, events = events + excluded.events"
        ),
        params![org_id, cutoff, batch],
    )?;
    conn.execute("INSERT INTO _smithers_cp_usage_purging (id) VALUES (1)", params![])?;
    let purged = conn.execute(&format!("DELETE FROM _smithers_cp_usage_events WHERE id IN ({DUE})"), params![org_id, cutoff, batch])?;
    conn.execute("DELETE FROM _smithers_cp_usage_purging", params![])?;
    Ok(purged as i64)
}

/// After a project's events went with it: takes what is left of them in the rollups (the
/// sums of purged events) out of the org's totals too, and drops the project's rollups.
pub fn forget_project(conn: &Db, org_id: &str, project_id: &str) -> Result<()> {
    conn.execute(
        "UPDATE _smithers_cp_usage_rollups AS a SET quantity = a.quantity - p.quantity, events = a.events - p.events
         FROM _smithers_cp_usage_rollups AS p
         JOIN _smithers_cp_usage_series AS ps ON ps.id = p.series
         JOIN _smithers_cp_usage_series AS sa
           ON sa.org_id = ps.org_id AND sa.metric = ps.metric AND sa.unit = ps.unit AND sa.scope = ?3
         WHERE ps.org_id = ?1 AND ps.scope = ?2
           AND a.series = sa.id AND a.level = p.level AND a.bucket_start_ms = p.bucket_start_ms",
        params![org_id, project_id, ALL],
    )?;
    conn.execute(
        "DELETE FROM _smithers_cp_usage_rollups
         WHERE series IN (SELECT id FROM _smithers_cp_usage_series WHERE org_id = ?1 AND scope = ?2)
            OR (events <= 0 AND series IN (SELECT id FROM _smithers_cp_usage_series WHERE org_id = ?1 AND scope = ?3))",
        params![org_id, project_id, ALL],
    )?;
    Ok(())
}

/// A piece of a window: whole buckets of one level, or raw events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Piece {
    Buckets { level: i64, from: i64, to: i64 },
    Raw { from: i64, to: i64 },
}

/// Splits the half-open window `[from, to)` into whole buckets of the coarsest levels
/// that fit (of `levels`, finest first) and raw edges.
pub fn pieces(levels: &[i64], from: i64, to: i64, out: &mut Vec<Piece>) {
    if from >= to {
        return;
    }
    match levels.split_last() {
        None => out.push(Piece::Raw { from, to }),
        Some((&level, finer)) => {
            let first = from.div_euclid(level) * level + if from.rem_euclid(level) == 0 { 0 } else { level };
            let last = to.div_euclid(level) * level;
            if first < last {
                out.push(Piece::Buckets { level, from: first, to: last });
                pieces(finer, from, first, out);
                pieces(finer, last, to, out);
            } else {
                pieces(finer, from, to, out);
            }
        }
    }
}

/// One series of usage: which org, scope, metric and unit.
pub struct Series<'a> {
    pub org_id: &'a str,
    pub scope: &'a str,
    pub metric: &'a str,
    pub unit: &'a str,
}

/// The SQL condition that picks a series' raw events by scope (`?4`): every event, one
/// project's, or those without a project.
fn scope_filter() -> String {
    format!("(?4 = '{ALL}' OR project_id IS ?4 OR (?4 = '{NO_PROJECT}' AND project_id IS NULL))")
}

/// Calls `f(time, quantity, events)` for each bucket (at its start) and each raw event of
/// the series in the inclusive window, reading whole buckets of `levels` where they fit.
/// `tail` is `tail(conn)` read in the same transaction, so the watermark and the rows
/// agree (a caller reading several series reads it once).
pub fn for_each(
    conn: &Db,
    tail: (i64, i64),
    series: &Series,
    levels: &[i64],
    since_ms: i64,
    until_ms: i64,
    mut f: impl FnMut(i64, f64, i64),
) -> Result<()> {
    let (watermark, max_id) = tail;
    let mut parts = Vec::with_capacity(12);
    pieces(levels, since_ms, until_ms.saturating_add(1), &mut parts);
    // A series never folded in has no buckets, only (maybe) tail events.
    let id = series_id(conn, series)?;
    if let Some(id) = id {
        // An edge in a minute without fine levels: the minute's bucket, whole, skipped, or
        // (when the edge falls between its events) its few events.
        for (from, to) in take_sparse(conn, series.org_id, &mut parts, &mut Vec::new())? {
            edge_in_slot(conn, series, id, watermark, MINUTE, minute_of(from), from, to, &mut f)?;
        }
    }
    for part in parts.iter().filter(|_| id.is_some()) {
        let id = id.unwrap_or_default();
        match *part {
            Piece::Buckets { level, from, to } => {
                conn.each("SELECT bucket_start_ms, quantity, events FROM _smithers_cp_usage_rollups
                     WHERE series = ?1 AND level = ?2 AND bucket_start_ms >= ?3 AND bucket_start_ms < ?4", params![id, level, from, to], |r| {
                    f(r.get(0)?, r.get(1)?, r.get(2)?);
            Ok(())
        })?;
            }
            Piece::Raw { from, to } => {
                for (slot, a, b) in edge_slots(from, to) {
                    edge_in_slot(conn, series, id, watermark, EDGE, slot, a, b, &mut f)?;
                }
            }
        }
    }
    if max_id > watermark {
        // Every tail event in the window: the rollups and the edges above hold none of them.
        conn.each(&format!(
            "SELECT observed_at_ms, quantity FROM _smithers_cp_usage_events NOT INDEXED
             WHERE id > ?7 AND org_id = ?1 AND metric = ?2 AND unit = ?3
               AND observed_at_ms >= ?5 AND observed_at_ms <= ?6 AND {}",
            scope_filter()
        ), params![series.org_id, series.metric, series.unit, series.scope, since_ms, until_ms, watermark], |r| {
            f(r.get(0)?, r.get(1)?, 1);
            Ok(())
        })?;
    }
    Ok(())
}

/// The finest buckets (`EDGE`) a raw edge `[from, to)` of a window crosses: one, or two
/// for a short window; each as (its start, the part of the edge inside it).
fn edge_slots(from: i64, to: i64) -> impl Iterator<Item = (i64, i64, i64)> {
    let next = move |at: i64| Some(at - at.rem_euclid(EDGE) + EDGE).filter(|&n| n < to);
    std::iter::successors(Some(from).filter(|&at| at < to), move |&at| next(at)).map(move |at| {
        let slot = at - at.rem_euclid(EDGE);
        (slot, at, (slot + EDGE).min(to))
    })
}

/// The folded-in events in `[from, to)`, inside the finest bucket starting at `slot`. The
/// bucket answers when its time bounds lie wholly inside or outside the range
/// (always so for a window ending now); only a range that cuts between its events reads
/// them (`split_slot`).
#[allow(clippy::too_many_arguments)]
fn edge_in_slot(
    conn: &Db,
    series: &Series,
    id: i64,
    watermark: i64,
    level: i64,
    slot: i64,
    from: i64,
    to: i64,
    f: &mut impl FnMut(i64, f64, i64),
) -> Result<()> {
    let bucket: Option<(f64, i64, i64, i64)> = conn
        .row(
            "SELECT quantity, events, min_at_ms, max_at_ms FROM _smithers_cp_usage_rollups
             WHERE series = ?1 AND level = ?3 AND bucket_start_ms = ?2",
        params![id, slot, level], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let Some((quantity, events, min_at, max_at)) = bucket else { return Ok(()) };
    match edge_share(min_at, max_at, from, to) {
        Share::None => Ok(()),
        Share::Whole => {
            f(slot, quantity, events);
            Ok(())
        }
        Share::Split => split_slot(conn, series, id, watermark, from, to, f),
    }
}

/// How much of an edge bucket, its events within `[min_at, max_at]`, lies in `[from, to)`.
enum Share {
    None,
    Whole,
    Split,
}

fn edge_share(min_at: i64, max_at: i64, from: i64, to: i64) -> Share {
    if max_at < from || min_at >= to {
        Share::None
    } else if min_at >= from && max_at < to {
        Share::Whole
    } else {
        Share::Split
    }
}

/// The folded-in events in `[from, to)` read one by one, for an edge that splits a
/// bucket's events; through the documented (org_id, observed_at_ms) index.
fn split_slot(
    conn: &Db,
    series: &Series,
    id: i64,
    watermark: i64,
    from: i64,
    to: i64,
    f: &mut impl FnMut(i64, f64, i64),
) -> Result<()> {
    // The events still in the table, and the millisecond sums of those a retention purge
    // took out of it.
    conn.each(&format!(
        "SELECT observed_at_ms, quantity FROM _smithers_cp_usage_events
           INDEXED BY _smithers_cp_usage_org_time_idx
         WHERE org_id = ?1 AND observed_at_ms >= ?5 AND observed_at_ms < ?6 AND id <= ?7
           AND metric = ?2 AND unit = ?3 AND {}
         UNION ALL
         SELECT bucket_start_ms, quantity FROM _smithers_cp_usage_rollups
         WHERE series = ?8 AND level = {MILLI} AND bucket_start_ms >= ?5 AND bucket_start_ms < ?6",
        scope_filter()
    ), params![series.org_id, series.metric, series.unit, series.scope, from, to, watermark, id], |r| {
        f(r.get(0)?, r.get(1)?, 1);
            Ok(())
        })?;
    Ok(())
}

/// One inclusive window to sum, of one scope; the org, metric and unit are shared by the
/// windows summed together.
#[derive(Clone, Copy, Debug)]
pub struct Span<'a> {
    pub scope: &'a str,
    pub since_ms: i64,
    pub until_ms: i64,
}

/// The quantity of each window, in three statements however many windows
/// there are: one for every run of whole buckets (a join of the runs, as constant rows,
/// with the rollups' key), one for the buckets at the edges, and one for the tail.
/// `tail` is `tail(conn)` read in the same transaction.
/// Adds each run of whole buckets and each edge's bucket (when its time bounds settle the
/// edge) to its window's sum, in one statement; the edges whose bucket the edge splits.
fn bucket_sums(
    conn: &Db,
    runs: &[(usize, i64, i64, i64, i64)],
    edges: &[(usize, i64, i64, i64, i64, i64)],
    sums: &mut [f64],
) -> Result<Vec<usize>> {
    let mut split = Vec::new();
    if runs.is_empty() && edges.is_empty() {
        return Ok(split);
    }
    let mut values = Vec::with_capacity(5 * runs.len() + 4 * edges.len());
    for (j, &(_, id, level, from, to)) in runs.iter().enumerate() {
        values.extend([j as i64, id, level, from, to].map(SqlValue::Int));
    }
    for (j, &(_, id, level, slot, _, _)) in edges.iter().enumerate() {
        values.extend([j as i64, id, level, slot].map(SqlValue::Int));
    }
    with_sql(Shape::Buckets { runs: runs.len(), edges: edges.len() }, |sql| {
        conn.each(sql, &values, |r| {
            let index = r.get::<i64>(1)? as usize;
            let quantity: f64 = r.get(2)?;
            if r.get::<i64>(0)? == 0 {
                sums[runs[index].0] += quantity;
                return Ok(());
            }
            let (k, _, _, _, from, to) = edges[index];
            match edge_share(r.get(3)?, r.get(4)?, from, to) {
                Share::None => {}
                Share::Whole => sums[k] += quantity,
                Share::Split => split.push(index),
            }
            Ok(())
        })
    })?;
    Ok(split)
}

pub fn totals(
    conn: &Db,
    tail: (i64, i64),
    org_id: &str,
    metric: &str,
    unit: &str,
    spans: &[Span],
) -> Result<Vec<f64>> {
    let (watermark, max_id) = tail;
    let mut sums = vec![0.0f64; spans.len()];
    if spans.is_empty() {
        return Ok(sums);
    }
    // The rolled-up series of each window's scope (none: nothing of it was folded in yet).
    let mut ids: Vec<Option<i64>> = Vec::with_capacity(spans.len());
    for (k, span) in spans.iter().enumerate() {
        let known = spans[..k].iter().position(|other| other.scope == span.scope).map(|i| ids[i]);
        ids.push(match known {
            Some(id) => id,
            None => series_id(conn, &Series { org_id, scope: span.scope, metric, unit })?,
        });
    }
    // Whole buckets of a minute and coarser, and each window's partial minutes at its two
    // edges, taken from their minute's bucket when its time bounds settle it (always so for a
    // window ending now): one statement. Only an edge that falls between a minute's events
    // looks further: into the minute's finer buckets if the org's minute is dense, else at
    // its few events.
    let mut runs: Vec<(usize, i64, i64, i64, i64)> = Vec::new(); // (span, series, level, from, to)
    let mut edges: Vec<(usize, i64, i64, i64, i64, i64)> = Vec::new(); // (span, series, level, slot, from, to)
    let mut parts = Vec::with_capacity(16);
    for (k, span) in spans.iter().enumerate() {
        let Some(id) = ids[k] else { continue };
        parts.clear();
        pieces(&COARSE, span.since_ms, span.until_ms.saturating_add(1), &mut parts);
        for part in &parts {
            match *part {
                Piece::Buckets { level, from, to } => runs.push((k, id, level, from, to)),
                Piece::Raw { from, to } => edges.push((k, id, MINUTE, minute_of(from), from, to)),
            }
        }
    }
    let split = bucket_sums(conn, &runs, &edges, &mut sums)?;
    if !split.is_empty() {
        let mut known = Vec::new();
        let (mut runs, mut fine_edges) = (Vec::new(), Vec::new());
        for j in split {
            let (k, id, _, _, from, to) = edges[j];
            parts.clear();
            parts.push(Piece::Raw { from, to });
            if take_sparse(conn, org_id, &mut parts, &mut known)?.is_empty() {
                // A dense minute: its seconds and the tenths at the edge.
                parts.clear();
                pieces(&FINE, from, to, &mut parts);
                for part in &parts {
                    match *part {
                        Piece::Buckets { level, from, to } => runs.push((k, id, level, from, to)),
                        Piece::Raw { from, to } => fine_edges.extend(edge_slots(from, to).map(|(slot, a, b)| (k, id, EDGE, slot, a, b))),
                    }
                }
            } else {
                let series = Series { org_id, scope: spans[k].scope, metric, unit };
                let sum = &mut sums[k];
                split_slot(conn, &series, id, watermark, from, to, &mut |_, q, _| *sum += q)?;
            }
        }
        for j in bucket_sums(conn, &runs, &fine_edges, &mut sums)? {
            let (k, id, _, _, from, to) = fine_edges[j];
            let series = Series { org_id, scope: spans[k].scope, metric, unit };
            let sum = &mut sums[k];
            split_slot(conn, &series, id, watermark, from, to, &mut |_, q, _| *sum += q)?;
        }
    }

    if max_id > watermark {
        // The tail's rows of this org, metric and unit, added up per window in one pass.
        let mut values = vec![SqlValue::Int(watermark), SqlValue::Text(org_id), SqlValue::Text(metric), SqlValue::Text(unit)];
        for span in spans {
            values.extend([SqlValue::Text(span.scope), SqlValue::Int(span.since_ms), SqlValue::Int(span.until_ms)]);
        }
        let row = with_sql(Shape::Tail { spans: spans.len() }, |sql| {
            conn.row(sql, &values, |r| (0..spans.len()).map(|k| r.get::<f64>(k)).collect::<Result<Vec<f64>>>())
        })?;
        if let Some(tail_sums) = row {
            for (sum, add) in sums.iter_mut().zip(tail_sums) {
                *sum += add;
            }
        }
    }
    Ok(sums)
}

/// The statements `totals` runs, by shape: their text depends only on how many runs,
/// edges or windows they carry, and is built once per shape and thread.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Shape {
    Buckets { runs: usize, edges: usize },
    Tail { spans: usize },
}

fn with_sql<T>(shape: Shape, f: impl FnOnce(&str) -> T) -> T {
    thread_local! {
        static TEXTS: std::cell::RefCell<HashMap<Shape, std::rc::Rc<str>>> = Default::default();
    }
    let sql = TEXTS.with(|texts| texts.borrow_mut().entry(shape).or_insert_with(|| sql_for(shape).into()).clone());
    f(&sql)
}

fn sql_for(shape: Shape) -> String {
    let params = |first: usize, width: usize, count: usize| -> String {
        (0..count)
            .map(|j| {
                let p = first + width * j;
                format!("({})", (p..p + width).map(|i| format!("?{i}")).collect::<Vec<_>>().join(","))
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    match shape {
        // (run, series, level, from, to) per run, then (edge, series, slot) per edge. Rows:
        // (0, run, quantity) for a run; (1, edge, quantity, min_at, max_at) for an edge.
        Shape::Buckets { runs, edges } => {
            let mut parts = Vec::new();
            if runs > 0 {
                parts.push(format!(
                    "SELECT 0 AS kind, r.k AS k, (SELECT TOTAL(u.quantity) FROM _smithers_cp_usage_rollups u
                                     WHERE u.series = r.series AND u.level = r.level
                                       AND u.bucket_start_ms >= r.lo AND u.bucket_start_ms < r.hi) AS quantity,
                            NULL AS min_at, NULL AS max_at
                     FROM (WITH r(k, series, level, lo, hi) AS (VALUES {}) SELECT * FROM r) AS r",
                    params(1, 5, runs)
                ));
            }
            if edges > 0 {
                parts.push(format!(
                    "SELECT 1 AS kind, e.j AS k, u.quantity AS quantity, u.min_at_ms AS min_at, u.max_at_ms AS max_at
                     FROM (WITH e(j, series, level, slot) AS (VALUES {}) SELECT * FROM e) AS e
                     JOIN _smithers_cp_usage_rollups u ON u.series = e.series AND u.level = e.level AND u.bucket_start_ms = e.slot",
                    params(1 + 5 * runs, 4, edges)
                ));
            }
            parts.join(" UNION ALL ")
        }
        // ?1 watermark, ?2 org, ?3 metric, ?4 unit; then (scope, since, until) per window.
        Shape::Tail { spans } => {
            let sums: Vec<String> = (0..spans)
                .map(|k| {
                    let (s, a, b) = (5 + 3 * k, 6 + 3 * k, 7 + 3 * k);
                    let hit = format!(
                        "(?{s} = '{ALL}' OR project_id IS ?{s} OR (?{s} = '{NO_PROJECT}' AND project_id IS NULL))
                         AND observed_at_ms >= ?{a} AND observed_at_ms <= ?{b}"
                    );
                    format!("TOTAL(CASE WHEN {hit} THEN quantity END) AS sum{k}")
                })
                .collect();
            format!(
                "SELECT {} FROM _smithers_cp_usage_events NOT INDEXED
                 WHERE id > ?1 AND org_id = ?2 AND metric = ?3 AND unit = ?4",
                sums.join(", ")
            )
        }
    }
}

/// The quantity of a series in the inclusive window. Run it inside a
/// transaction.
pub fn total(conn: &Db, series: &Series, since_ms: i64, until_ms: i64) -> Result<f64> {
    let span = Span { scope: series.scope, since_ms, until_ms };
    Ok(totals(conn, tail(conn)?, series.org_id, series.metric, series.unit, &[span])?[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_split_into_whole_buckets_and_raw_edges() {
        let mut out = Vec::new();
        pieces(&LEVELS, 0, 2 * DAY, &mut out);
        assert_eq!(out, vec![Piece::Buckets { level: DAY, from: 0, to: 2 * DAY }]);

        out.clear();
        let from = DAY - HOUR - MINUTE - SECOND - 5;
        let to = 2 * DAY + HOUR + MINUTE + SECOND + 7;
        pieces(&LEVELS, from, to, &mut out);
        assert_eq!(
            out,
            vec![
                Piece::Buckets { level: DAY, from: DAY, to: 2 * DAY },
                Piece::Buckets { level: HOUR, from: DAY - HOUR, to: DAY },
                Piece::Buckets { level: MINUTE, from: DAY - HOUR - MINUTE, to: DAY - HOUR },
                Piece::Buckets { level: SECOND, from: DAY - HOUR - MINUTE - SECOND, to: DAY - HOUR - MINUTE },
                Piece::Raw { from, to: DAY - HOUR - MINUTE - SECOND },
                Piece::Buckets { level: HOUR, from: 2 * DAY, to: 2 * DAY + HOUR },
                Piece::Buckets { level: MINUTE, from: 2 * DAY + HOUR, to: 2 * DAY + HOUR + MINUTE },
                Piece::Buckets { level: SECOND, from: 2 * DAY + HOUR + MINUTE, to: 2 * DAY + HOUR + MINUTE + SECOND },
                Piece::Raw { from: 2 * DAY + HOUR + MINUTE + SECOND, to },
            ]
        );

        out.clear();
        pieces(&LEVELS, 10, 20, &mut out);
        assert_eq!(out, vec![Piece::Raw { from: 10, to: 20 }]);
        out.clear();
        pieces(&LEVELS, 20, 20, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn raw_edges_split_at_the_finest_buckets() {
        let slots = |from, to| edge_slots(from, to).collect::<Vec<_>>();
        assert_eq!(slots(150, 230), vec![(100, 150, 200), (200, 200, 230)]);
        assert_eq!(slots(200, 299), vec![(200, 200, 299)]);
        assert_eq!(slots(5, 5), vec![]);
    }

    #[test]
    fn pieces_cover_the_window_exactly_once() {
        let mut seed = 0x2545F4914F6CDD1Du64;
        for _ in 0..2_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let from = (seed % (5 * DAY as u64)) as i64;
            let to = from + ((seed >> 20) % (3 * DAY as u64)) as i64;
            let mut out = Vec::new();
            pieces(&LEVELS, from, to, &mut out);
            let mut ranges: Vec<(i64, i64)> = out
                .iter()
                .map(|p| match *p {
                    Piece::Buckets { from, to, .. } | Piece::Raw { from, to } => (from, to),
                })
                .collect();
            ranges.sort();
            let mut at = from;
            for (a, b) in ranges {
                assert_eq!(a, at);
                assert!(b > a);
                at = b;
            }
            assert_eq!(at, to.max(from));
        }
    }
}
