//! The rollup tables and the triggers that keep them right, their creation and upgrade on
//! open, the consistency check against the raw events, and the rebuild.

use super::{catch_up, fold_trigger, ALL, DAY, HOUR, LEVELS, MILLI, MINUTE, NO_PROJECT};
use crate::db::Db;
use crate::error::Result;
use crate::params;

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

/// The triggers that keep folded-in rollups right.
pub(crate) const TRIGGERS: [&str; 3] =
    ["_smithers_cp_usage_rollup_delete", "_smithers_cp_usage_rollup_update", "_smithers_cp_usage_rollup_org_delete"];

/// Creates the rollup tables and triggers. Rollups that are missing (a file the documented
/// store wrote, or of an earlier layout) are built from the raw events; rollups that were
/// left without their triggers (dropped by someone) are checked against the raw events and
/// rebuilt if they disagree. Other rollups are trusted: opening a file costs nothing per
/// event, and `check` compares them with the raw events on demand. Runs inside
/// `schema::ensure`'s transaction.
pub(crate) fn ensure(conn: &Db) -> Result<()> {
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
    conn.script(&fold_trigger())?;
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

/// Whether the day-level totals of every org equal its raw events (and the millisecond sums
/// of those a purge removed), in count and in sum (with the tail folded in first).
pub(crate) fn consistent(conn: &Db) -> Result<bool> {
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
pub(crate) fn rebuild(conn: &Db) -> Result<()> {
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
