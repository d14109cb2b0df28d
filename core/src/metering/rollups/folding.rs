//! Folding usage events into the rollups in bulk: the tail, grouped per bucket in memory
//! (with the fine levels of dense minutes), and a retention purge's events, kept as
//! millisecond sums.
//!
//! Two folds produce the same rollups (both are held to one specification in the tests):
//! this one, which reads the tail and adds it up in a hash map (1M events in about 1.7 s:
//! a rebuild, a long tail another writer left, a purge), and `fold_sql`'s single
//! statement, which a writer runs after its insert when the tail is short (one statement,
//! where this one runs ten or more: on the caller's own handle, statements are the cost).

use crate::engine::Both;
use super::{is_dense, minute_of, scope_of, series_id, Series, ALL, COARSE, DENSE, FINE, LONG_TAIL, MILLI, MINUTE, NO_PROJECT, SECOND, TENTH};
use crate::db::Db;
use crate::engine::{Dialect, SqlValue};
use crate::error::Result;
use crate::params;
use std::collections::HashMap;

/// The id of a series, created if new.
fn series_id_or_new(conn: &Db, series: &Series) -> Result<i64> {
    if let Some(id) = series_id(conn, series)? {
        return Ok(id);
    }
    conn.insert(
        conn.pick(Both {
            sqlite: "INSERT INTO _smithers_cp_usage_series (org_id, scope, metric, unit) VALUES (?1, ?2, ?3, ?4)",
            postgres: "INSERT INTO _smithers_cp_usage_series (org_id, scope, metric, unit) VALUES (?1, ?2, ?3, ?4) RETURNING id",
        }),
        params![series.org_id, series.scope, series.metric, series.unit],
    )
}


/// The tail of `org_id`'s events: events with ids in `(watermark, max]` (`tail_columns`:
/// on SQLite every org's, on PostgreSQL the org's own).
pub(crate) fn tail(conn: &Db, org_id: &str) -> Result<(i64, i64)> {
    static SQL: crate::engine::Built = crate::engine::Built::new();
    let sql = SQL.get(conn.dialect(), |d| format!("SELECT {}", super::tail_columns(d, "?1")));
    // SQLite's tail is every org's: its statement takes no org.
    let org = match conn.dialect() {
        Dialect::Sqlite => params![],
        Dialect::Postgres => params![org_id],
    };
    conn.one(sql, org, |r| Ok((r.get(0)?, r.get(1)?)))
}

/// Folds every tail into the rollups: SQLite's one tail, or each org's on PostgreSQL.
/// Runs in the caller's write transaction (one that spans orgs, on PostgreSQL).
pub(crate) fn catch_up(conn: &Db) -> Result<()> {
    match conn.dialect() {
        Dialect::Sqlite => fold_tail(conn, None),
        Dialect::Postgres => {
            let orgs: Vec<String> = conn.rows(
                "SELECT DISTINCT e.org_id FROM _smithers_cp_orgs AS o
                 JOIN LATERAL (SELECT org_id FROM _smithers_cp_usage_events
                               WHERE org_id = o.org_id AND id > _smithers_cp_usage_mark(o.org_id) LIMIT 1) AS e ON true",
                params![],
                |r| r.get(0),
            )?;
            orgs.iter().try_for_each(|org_id| fold_tail(conn, Some(org_id)))
        }
    }
}

/// Folds the tail that holds `org_id`'s events: SQLite's one tail, or the org's own on
/// PostgreSQL. Runs in the caller's write transaction (the org's, on PostgreSQL).
pub(crate) fn catch_up_org(conn: &Db, org_id: &str) -> Result<()> {
    match conn.dialect() {
        Dialect::Sqlite => fold_tail(conn, None),
        Dialect::Postgres => fold_tail(conn, Some(org_id)),
    }
}

/// Folds a tail into the rollups, grouped per bucket, and moves its watermark past it: on
/// SQLite the one tail (`org` is `None`), on PostgreSQL one org's (its events above its
/// watermark). One pass over the tail's rows, added up in memory, then one upsert per
/// bucket touched. Runs in the caller's write transaction.
fn fold_tail(conn: &Db, org: Option<&str>) -> Result<()> {
    let (watermark, max_id) = match org {
        None => tail(conn, "")?,
        // The org's tail, up to its highest id (`tail` counts the tail's events instead).
        Some(org_id) => conn.one(
            "SELECT m.watermark, COALESCE((SELECT MAX(id) FROM _smithers_cp_usage_events WHERE org_id = ?1), 0)
             FROM (SELECT _smithers_cp_usage_mark(?1) AS watermark) AS m",
            params![org_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?,
    };
    if max_id <= watermark {
        return Ok(());
    }
    if org.is_none() {
        super::ready_to_fold(conn)?;
    }
    // The tail's events: `?1` the watermark, `?2` the highest id, `?3` the org (PostgreSQL).
    let in_tail = match org {
        None => "id > ?1 AND id <= ?2",
        Some(_) => "org_id = ?3 AND id > ?1 AND id <= ?2",
    };
    let mut bounds = vec![SqlValue::Int(watermark), SqlValue::Int(max_id)];
    bounds.extend(org.map(SqlValue::Text));
    let mut fold = Fold::default();
    // Which minutes of which orgs are dense once the tail is in: those marked already, and
    // those the tail takes past `DENSE`, whose fine levels are built now from the events
    // (and purged sums) already folded in.
    let minutes: Vec<(String, i64, i64)> = conn.rows(
        &format!(
            "SELECT org_id, observed_at_ms - (observed_at_ms % {MINUTE}) AS minute, COUNT(*) AS events
             FROM _smithers_cp_usage_events {not_indexed}WHERE {in_tail} GROUP BY org_id, minute",
            not_indexed = conn.pick(Both { sqlite: "NOT INDEXED ", postgres: "" }),
        ),
        &bounds,
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    for (org_id, minute, events) in minutes {
        if is_dense(conn, &org_id, minute)? {
            fold.dense.entry(org_id).or_default().insert(minute);
            continue;
        }
        let folded: i64 = conn.one(
            conn.pick(Both {
                sqlite: "SELECT COUNT(*) AS events FROM _smithers_cp_usage_events INDEXED BY _smithers_cp_usage_org_time_idx
             WHERE org_id = ?1 AND observed_at_ms >= ?2 AND observed_at_ms < ?3 AND id <= ?4",
                postgres: "SELECT COUNT(*) AS events FROM _smithers_cp_usage_events
                 WHERE org_id = ?1 AND observed_at_ms >= ?2 AND observed_at_ms < ?3 AND id <= ?4",
            }),
            params![org_id, minute, minute + MINUTE, watermark],
            |r| r.get(0),
        )?;
        if folded + events > DENSE {
            densify(conn, &mut fold, &org_id, minute, watermark)?;
            fold.dense.entry(org_id).or_default().insert(minute);
        }
    }
    conn.each(
        &format!(
            "SELECT org_id, project_id, metric, unit, observed_at_ms, quantity
             FROM _smithers_cp_usage_events {not_indexed}WHERE {in_tail}",
            not_indexed = conn.pick(Both { sqlite: "NOT INDEXED ", postgres: "" }),
        ),
        &bounds,
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
            conn.pick(Both {
                sqlite: "INSERT INTO _smithers_cp_usage_rollups (series, level, bucket_start_ms, quantity, events, min_at_ms, max_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (series, level, bucket_start_ms)
             DO UPDATE SET quantity = quantity + excluded.quantity, events = events + excluded.events,
               min_at_ms = min(min_at_ms, excluded.min_at_ms), max_at_ms = max(max_at_ms, excluded.max_at_ms)",
                postgres: "INSERT INTO _smithers_cp_usage_rollups AS u (series, level, bucket_start_ms, quantity, events, min_at_ms, max_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (series, level, bucket_start_ms)
                 DO UPDATE SET quantity = u.quantity + excluded.quantity, events = u.events + excluded.events,
                   min_at_ms = LEAST(u.min_at_ms, excluded.min_at_ms), max_at_ms = GREATEST(u.max_at_ms, excluded.max_at_ms)",
            }),
            params![ids[*series], level, start, b.quantity, b.events, b.min_at, b.max_at],
        )?;
    }
    match org {
        None => conn.execute("UPDATE _smithers_cp_usage_rollup_state SET watermark = ?1 WHERE id = 1", params![max_id])?,
        Some(org_id) => conn.execute(
            "INSERT INTO _smithers_cp_usage_rollup_marks (org_id, watermark) VALUES (?1, ?2)
             ON CONFLICT (org_id) DO UPDATE SET watermark = excluded.watermark",
            params![org_id, max_id],
        )?,
    };
    Ok(())
}

/// Marks an org's minute dense and builds its fine levels from what is already folded in:
/// the events (at most about `DENSE` of them, as the minute was not dense) and the
/// millisecond sums of purged ones. Fine rows an update left there are replaced.
fn densify(conn: &Db, fold: &mut Fold, org_id: &str, minute: i64, watermark: i64) -> Result<()> {
    conn.execute(
        conn.pick(Both {
            sqlite: "INSERT OR IGNORE INTO _smithers_cp_usage_dense_minutes (org_id, minute_start_ms) VALUES (?1, ?2)",
            postgres: "INSERT INTO _smithers_cp_usage_dense_minutes (org_id, minute_start_ms) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        }),
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
        conn.pick(Both {
            sqlite: "SELECT project_id, metric, unit, observed_at_ms, quantity FROM _smithers_cp_usage_events
           INDEXED BY _smithers_cp_usage_org_time_idx
         WHERE org_id = ?1 AND observed_at_ms >= ?2 AND observed_at_ms < ?3 AND id <= ?4",
            postgres: "SELECT project_id, metric, unit, observed_at_ms, quantity FROM _smithers_cp_usage_events
             WHERE org_id = ?1 AND observed_at_ms >= ?2 AND observed_at_ms < ?3 AND id <= ?4",
        }),
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

/// Before a read of `org_id`'s usage: folds in a tail that another writer (one that does
/// not fold, such as the documented store) has let grow long, so reads stay bounded.
/// Opens its own write transaction, and only when needed.
pub(crate) fn fold_long_tail(conn: &Db, org_id: &str) -> Result<()> {
    fold_if_long(conn, org_id, tail(conn, org_id)?)
}

/// After a read of `org_id`'s usage that found the tail `(watermark, max_id)`: folds it if
/// it is long (in the org's write scope: on PostgreSQL the tail is the org's).
pub(crate) fn fold_if_long(conn: &Db, org_id: &str, (watermark, max_id): (i64, i64)) -> Result<()> {
    if max_id - watermark >= LONG_TAIL {
        crate::db::write_org(conn, org_id, |c| catch_up_org(c, org_id))?;
    }
    Ok(())
}

/// Moves an org's folded usage events observed before `cutoff` out of the events table,
/// `batch` of them, keeping their sums as millisecond rollups (level `MILLI`), so every
/// window's total, edges included, stays what it was. Runs in the caller's write
/// transaction; the number of events purged.
pub(crate) fn purge_usage(conn: &Db, org_id: &str, cutoff: i64, batch: i64) -> Result<i64> {
    catch_up_org(conn, org_id)?;
    const DUE: &str = "SELECT id FROM _smithers_cp_usage_events WHERE org_id = ?1 AND observed_at_ms < ?2
                       ORDER BY observed_at_ms, id LIMIT ?3";
    conn.execute(
        &format!(
            "INSERT INTO _smithers_cp_usage_rollups (series, level, bucket_start_ms, quantity, events, min_at_ms, max_at_ms)
               SELECT s.id, {MILLI}, e.observed_at_ms, {total}, COUNT(*), e.observed_at_ms, e.observed_at_ms
               FROM _smithers_cp_usage_events e
               JOIN _smithers_cp_usage_series s
                 ON s.org_id = e.org_id AND s.metric = e.metric AND s.unit = e.unit
                AND s.scope IN ('{ALL}', COALESCE(e.project_id, '{NO_PROJECT}'))
               WHERE e.id IN ({DUE})
               GROUP BY s.id, e.observed_at_ms
             ON CONFLICT (series, level, bucket_start_ms)
             DO UPDATE SET quantity = {existing}quantity + excluded.quantity, events = {existing}events + excluded.events",
            total = conn.pick(Both { sqlite: "TOTAL(e.quantity)", postgres: "SUM(e.quantity)" }),
            existing = conn.pick(Both { sqlite: "", postgres: "_smithers_cp_usage_rollups." }),
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
pub(crate) fn forget_project(conn: &Db, org_id: &str, project_id: &str) -> Result<()> {
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
