//! The writers' fold: the short tail folded into the rollups by one statement.
//!
//! `FOLD` inserts the highest event id into the view `_smithers_cp_usage_fold`; its
//! INSTEAD OF trigger adds the tail's events (ids above the watermark, up to that id) to
//! their buckets and moves the watermark, in set-based SQL. One statement is atomic, so a
//! writer runs it on its own after its insert, with no transaction around the two, and two
//! processes folding at once cannot fold the same events twice: the second finds the
//! watermark moved. A writer folds when the id it was given crosses a multiple of
//! `TAIL_MAX`, so no read decides it. The trigger folds only a short tail (at most
//! `LONG_TAIL` events); a longer one, left by another writer, is folded by the bulk fold
//! (`folding`) when one of our reads finds it.
//!
//! The minutes that the tail takes past `DENSE` events get their fine levels built first,
//! by a second view's trigger (`_smithers_cp_usage_densify`), which the fold fires only
//! when there is such a minute: most folds pay one probe for it.

use crate::engine::Both;
use super::{ALL, DENSE, FINE, LEVELS, LONG_TAIL, MILLI, MINUTE, NO_PROJECT};
use crate::db::Db;
use crate::engine::Dialect;
use crate::error::Result;

/// How many events the tail may hold before a writer of ours folds it.
pub(crate) const TAIL_MAX: i64 = 16;

/// Folds a short tail into the rollups: one statement (nothing when the tail is empty or
/// longer than `LONG_TAIL`).
const FOLD: &str = "INSERT INTO _smithers_cp_usage_fold (up_to) SELECT MAX(id) AS up_to FROM _smithers_cp_usage_events";

/// The views the fold inserts into and their triggers, by name.
pub(crate) const FOLD_OBJECTS: [&str; 4] = [
    "_smithers_cp_usage_fold",
    "_smithers_cp_usage_fold_tail",
    "_smithers_cp_usage_densify",
    "_smithers_cp_usage_densify_minutes",
];

/// PostgreSQL's form of `FOLD`: the fold of one org's tail (`?1`) is a function
/// (`postgres_fold`).
const POSTGRES_FOLD: &str = "SELECT _smithers_cp_usage_fold(?1) AS watermark";

/// After a writer of ours inserted events of `org_id` with ids `first..=last`: folds the
/// tail (SQLite's, or the org's on PostgreSQL) when they cross a multiple of `TAIL_MAX`.
pub(crate) fn fold_if_crossed(conn: &Db, org_id: &str, first: i64, last: i64) -> Result<()> {
    if last.div_euclid(TAIL_MAX) > (first - 1).div_euclid(TAIL_MAX) {
        match conn.dialect() {
            Dialect::Sqlite => fold_sqlite(conn)?,
            Dialect::Postgres => {
                conn.run(POSTGRES_FOLD, crate::params![org_id])?;
            }
        };
    }
    Ok(())
}

/// Runs `FOLD`. A database whose schema was copied in whole (a new in-memory store, or a
/// handle that held nothing of ours: `schema::fresh`) has no fold views of its own, so
/// that opening it parses 9 KB less of triggers; the first fold on such a connection
/// creates them as TEMP objects (they live as long as the connection), with what else
/// the connection lacks (`ready_to_fold`), and runs again.
fn fold_sqlite(conn: &Db) -> Result<()> {
    match conn.run(FOLD, &[]) {
        Ok(_) => Ok(()),
        Err(err) if err.summary.contains("no such table") && err.summary.contains(FOLD_OBJECTS[0]) => {
            super::ready_to_fold(conn)?;
            conn.run(FOLD, &[]).map(|_| ())
        }
        Err(err) => Err(err),
    }
}

/// Where the fold's views and triggers are kept.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kept {
    /// In the file (`schema::ensure` on a file it upgrades: processes of earlier versions
    /// sharing it fold through them).
    InTheFile,
    /// In the connection's TEMP schema, created on its first fold.
    ForTheConnection,
}

impl Kept {
    /// The start of the statement creating an object of `kind` (`VIEW`, `TRIGGER`) kept
    /// there: in the file after its older form was dropped, for the connection only if it
    /// has none yet.
    pub(crate) fn create(self, kind: &str) -> String {
        match self {
            Kept::InTheFile => format!("CREATE {kind}"),
            Kept::ForTheConnection => format!("CREATE TEMP {kind} IF NOT EXISTS"),
        }
    }

    /// `drops`, the statements that drop the objects' older forms, where they are run: in
    /// the file (a connection's own are created only where missing).
    pub(crate) fn drops(self, drops: &str) -> &str {
        match self {
            Kept::InTheFile => drops,
            Kept::ForTheConnection => "",
        }
    }
}

const EVENTS: &str = "_smithers_cp_usage_events";
const ROLLUPS: &str = "_smithers_cp_usage_rollups";
const SERIES: &str = "_smithers_cp_usage_series";
const DENSE_MINUTES: &str = "_smithers_cp_usage_dense_minutes";
const WATERMARK: &str = "(SELECT watermark FROM _smithers_cp_usage_rollup_state WHERE id = 1)";

fn minute_of(at: &str) -> String {
    format!("{at} - ({at} % {MINUTE})")
}

/// The minutes (of an org) that the tail up to `up_to` takes past `DENSE` events.
fn newly_dense(up_to: &str) -> String {
    newly_dense_in(Dialect::Sqlite, WATERMARK, up_to, "")
}

/// `newly_dense` above `watermark`, of the events `and` (` AND ...`) also selects.
fn newly_dense_in(d: Dialect, watermark: &str, up_to: &str, and: &str) -> String {
    format!(
        "SELECT t.org_id AS org_id, t.minute AS minute FROM (
           SELECT e.org_id AS org_id, {m} AS minute, COUNT(*) AS events
           FROM {EVENTS} AS e{not_indexed} WHERE e.id > {watermark} AND e.id <= {up_to}{and} GROUP BY e.org_id, minute
         ) AS t
         WHERE NOT EXISTS (SELECT 1 FROM {DENSE_MINUTES} AS d WHERE d.org_id = t.org_id AND d.minute_start_ms = t.minute)
           AND t.events + (SELECT COUNT(*) FROM {EVENTS} AS f{indexed}
                           WHERE f.org_id = t.org_id AND f.observed_at_ms >= t.minute
                             AND f.observed_at_ms < t.minute + {MINUTE} AND f.id <= {watermark}) > {DENSE}",
        m = minute_of("e.observed_at_ms"),
        not_indexed = Both { sqlite: " NOT INDEXED", postgres: "" }.pick(d),
        indexed = Both { sqlite: " INDEXED BY _smithers_cp_usage_org_time_idx", postgres: "" }.pick(d),
    )
}

/// The two series an event `e` counts in (`s`): every event of its org, and its scope.
fn series_of_e() -> String {
    format!("s.org_id = e.org_id AND s.metric = e.metric AND s.unit = e.unit AND s.scope IN ('{ALL}', COALESCE(e.project_id, '{NO_PROJECT}'))")
}

fn levels(levels: &[i64]) -> String {
    levels.iter().map(|l| format!("SELECT {l} AS level")).collect::<Vec<_>>().join(" UNION ALL ")
}

/// Adds a row to a bucket that already has one.
const ADD: &str = "ON CONFLICT (series, level, bucket_start_ms)
  DO UPDATE SET quantity = quantity + excluded.quantity, events = events + excluded.events,
    min_at_ms = min(min_at_ms, excluded.min_at_ms), max_at_ms = max(max_at_ms, excluded.max_at_ms)";

/// The views and triggers of the fold, dropped and created anew with the rollup tables.
pub(crate) fn fold_trigger(kept: Kept) -> String {
    let in_tail = format!("e.id > {WATERMARK} AND e.id <= NEW.up_to");
    let newly = newly_dense("NEW.up_to");
    let drop = kept.drops(
        "DROP TRIGGER IF EXISTS _smithers_cp_usage_fold_tail;
         DROP TRIGGER IF EXISTS _smithers_cp_usage_densify_minutes;
         DROP VIEW IF EXISTS _smithers_cp_usage_fold;
         DROP VIEW IF EXISTS _smithers_cp_usage_densify;",
    );
    // TEMP triggers may read and write the main schema's tables.
    let (view, trigger) = (kept.create("VIEW"), kept.create("TRIGGER"));
    format!(
        "{drop}
         {view} _smithers_cp_usage_fold AS SELECT NULL AS up_to WHERE 0;
         {view} _smithers_cp_usage_densify AS SELECT NULL AS up_to WHERE 0;
         -- Minutes turning dense: fine rows an update left there are replaced by the fine
         -- sums of the events folded before and of purged events' sums; then marked.
         {trigger} _smithers_cp_usage_densify_minutes INSTEAD OF INSERT ON _smithers_cp_usage_densify
         BEGIN
           DELETE FROM {ROLLUPS} WHERE (series, level, bucket_start_ms) IN (
             SELECT u.series, u.level, u.bucket_start_ms
             FROM ({newly}) AS nd
             CROSS JOIN {SERIES} AS s ON s.org_id = nd.org_id
             CROSS JOIN {ROLLUPS} AS u ON u.series = s.id AND u.level IN ({fine}) AND u.bucket_start_ms >= nd.minute
               AND u.bucket_start_ms < nd.minute + {MINUTE});
           INSERT INTO {ROLLUPS} (series, level, bucket_start_ms, quantity, events, min_at_ms, max_at_ms)
             SELECT x.series, l.level, x.at - (x.at % l.level), TOTAL(x.quantity), SUM(x.events), MIN(x.at), MAX(x.at)
             FROM (
               SELECT s.id AS series, e.observed_at_ms AS at, e.quantity AS quantity, 1 AS events
               FROM ({newly}) AS nd
               CROSS JOIN {EVENTS} AS e INDEXED BY _smithers_cp_usage_org_time_idx
                 ON e.org_id = nd.org_id AND e.observed_at_ms >= nd.minute AND e.observed_at_ms < nd.minute + {MINUTE}
                AND e.id <= {WATERMARK}
               CROSS JOIN {SERIES} AS s ON {series_of_e}
               UNION ALL
               SELECT u.series, u.bucket_start_ms, u.quantity, u.events
               FROM ({newly}) AS nd
               CROSS JOIN {SERIES} AS s ON s.org_id = nd.org_id
               CROSS JOIN {ROLLUPS} AS u ON u.series = s.id AND u.level = {MILLI}
                 AND u.bucket_start_ms >= nd.minute AND u.bucket_start_ms < nd.minute + {MINUTE}
             ) AS x, ({fine_levels}) AS l
             WHERE true
             GROUP BY x.series, l.level, x.at - (x.at % l.level)
           {ADD};
           INSERT OR IGNORE INTO {DENSE_MINUTES} (org_id, minute_start_ms) SELECT org_id, minute FROM ({newly});
         END;
         {trigger} _smithers_cp_usage_fold_tail INSTEAD OF INSERT ON _smithers_cp_usage_fold
         WHEN NEW.up_to > {WATERMARK} AND NEW.up_to - {WATERMARK} <= {LONG_TAIL}
         BEGIN
           -- The series the tail's events count in, numbered when new.
           INSERT OR IGNORE INTO {SERIES} (org_id, scope, metric, unit)
             SELECT e.org_id, CASE k.scope WHEN 0 THEN '{ALL}' ELSE COALESCE(e.project_id, '{NO_PROJECT}') END, e.metric, e.unit
             FROM {EVENTS} AS e NOT INDEXED CROSS JOIN (SELECT 0 AS scope UNION ALL SELECT 1) AS k
             WHERE {in_tail};
           INSERT INTO _smithers_cp_usage_densify (up_to) SELECT NEW.up_to WHERE EXISTS ({newly});
           -- The tail's events: every level of their minute if it is dense, else the coarse ones.
           INSERT INTO {ROLLUPS} (series, level, bucket_start_ms, quantity, events, min_at_ms, max_at_ms)
             SELECT s.id, l.level, e.observed_at_ms - (e.observed_at_ms % l.level), TOTAL(e.quantity), COUNT(*),
                    MIN(e.observed_at_ms), MAX(e.observed_at_ms)
             FROM {EVENTS} AS e NOT INDEXED
             LEFT JOIN {DENSE_MINUTES} AS d ON d.org_id = e.org_id AND d.minute_start_ms = {m}
             CROSS JOIN {SERIES} AS s ON {series_of_e}
             CROSS JOIN ({all_levels}) AS l ON l.level >= {MINUTE} OR d.org_id IS NOT NULL
             WHERE {in_tail}
             GROUP BY s.id, l.level, e.observed_at_ms - (e.observed_at_ms % l.level)
           {ADD};
           UPDATE _smithers_cp_usage_rollup_state SET watermark = NEW.up_to WHERE id = 1;
         END;",
        series_of_e = series_of_e(),
        fine = FINE.map(|l| l.to_string()).join(", "),
        fine_levels = levels(&FINE),
        all_levels = levels(&LEVELS),
        m = minute_of("e.observed_at_ms"),
    )
}

/// The fold's PostgreSQL form: one plpgsql function, `_smithers_cp_usage_fold(org)`, of
/// the two triggers' statements (the densifying ones run when there is a minute to
/// densify), over one org's tail: its events above its watermark, when there are at most
/// `LONG_TAIL` of them (a longer one is the bulk fold's). It takes the org's write locks
/// first (again, when its caller holds them: advisory locks count their holds), so two
/// folds of the org (or a fold and a writer of it) cannot interleave, while other orgs'
/// writers go on; it reads the watermark after them: statements in a function each see
/// what committed before them. Moves the org's watermark; returns it.
pub(crate) fn postgres_fold() -> String {
    let d = Dialect::Postgres;
    let watermark = "mark";
    let in_tail = format!("e.org_id = org AND e.id > {watermark} AND e.id <= up_to");
    let newly = newly_dense_in(d, watermark, "up_to", " AND e.org_id = org");
    let add = "ON CONFLICT (series, level, bucket_start_ms)
  DO UPDATE SET quantity = r.quantity + excluded.quantity, events = r.events + excluded.events,
    min_at_ms = LEAST(r.min_at_ms, excluded.min_at_ms), max_at_ms = GREATEST(r.max_at_ms, excluded.max_at_ms)";
    let bigint_levels =
        |ls: &[i64]| ls.iter().map(|l| format!("SELECT CAST({l} AS BIGINT) AS level")).collect::<Vec<_>>().join(" UNION ALL ");
    format!(
        "DROP FUNCTION IF EXISTS _smithers_cp_usage_fold(BIGINT);
         CREATE OR REPLACE FUNCTION _smithers_cp_usage_fold(org TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $fold$
         DECLARE mark BIGINT; up_to BIGINT; tail_events BIGINT;
         BEGIN
           PERFORM {locks};
           mark := _smithers_cp_usage_mark(org);
           SELECT COUNT(*), MAX(t.id) INTO tail_events, up_to FROM (
             SELECT id FROM {EVENTS} WHERE org_id = org AND id > mark LIMIT {LONG_TAIL} + 1) AS t;
           IF tail_events = 0 OR tail_events > {LONG_TAIL} THEN RETURN mark; END IF;
           INSERT INTO {SERIES} (org_id, scope, metric, unit)
             SELECT e.org_id, CASE k.scope WHEN 0 THEN '{ALL}' ELSE COALESCE(e.project_id, '{NO_PROJECT}') END, e.metric, e.unit
             FROM {EVENTS} AS e CROSS JOIN (SELECT 0 AS scope UNION ALL SELECT 1) AS k
             WHERE {in_tail}
           ON CONFLICT DO NOTHING;
           IF EXISTS ({newly}) THEN
             DELETE FROM {ROLLUPS} WHERE (series, level, bucket_start_ms) IN (
               SELECT u.series, u.level, u.bucket_start_ms
               FROM ({newly}) AS nd
               JOIN {SERIES} AS s ON s.org_id = nd.org_id
               JOIN {ROLLUPS} AS u ON u.series = s.id AND u.level IN ({fine}) AND u.bucket_start_ms >= nd.minute
                 AND u.bucket_start_ms < nd.minute + {MINUTE});
             INSERT INTO {ROLLUPS} AS r (series, level, bucket_start_ms, quantity, events, min_at_ms, max_at_ms)
               SELECT x.series, l.level, x.at - (x.at % l.level), SUM(x.quantity), SUM(x.events), MIN(x.at), MAX(x.at)
               FROM (
                 SELECT s.id AS series, e.observed_at_ms AS at, e.quantity AS quantity, CAST(1 AS BIGINT) AS events
                 FROM ({newly}) AS nd
                 JOIN {EVENTS} AS e
                   ON e.org_id = nd.org_id AND e.observed_at_ms >= nd.minute AND e.observed_at_ms < nd.minute + {MINUTE}
                  AND e.id <= {watermark}
                 JOIN {SERIES} AS s ON {series_of_e}
                 UNION ALL
                 SELECT u.series, u.bucket_start_ms, u.quantity, u.events
                 FROM ({newly}) AS nd
                 JOIN {SERIES} AS s ON s.org_id = nd.org_id
                 JOIN {ROLLUPS} AS u ON u.series = s.id AND u.level = {MILLI}
                   AND u.bucket_start_ms >= nd.minute AND u.bucket_start_ms < nd.minute + {MINUTE}
               ) AS x, ({fine_levels}) AS l
               GROUP BY x.series, l.level, x.at - (x.at % l.level)
             {add};
             INSERT INTO {DENSE_MINUTES} (org_id, minute_start_ms) SELECT org_id, minute FROM ({newly}) AS nd
             ON CONFLICT DO NOTHING;
           END IF;
           INSERT INTO {ROLLUPS} AS r (series, level, bucket_start_ms, quantity, events, min_at_ms, max_at_ms)
             SELECT s.id, l.level, e.observed_at_ms - (e.observed_at_ms % l.level), SUM(e.quantity), COUNT(*),
                    MIN(e.observed_at_ms), MAX(e.observed_at_ms)
             FROM {EVENTS} AS e
             LEFT JOIN {DENSE_MINUTES} AS d ON d.org_id = e.org_id AND d.minute_start_ms = {m}
             JOIN {SERIES} AS s ON {series_of_e}
             JOIN ({all_levels}) AS l ON l.level >= {MINUTE} OR d.org_id IS NOT NULL
             WHERE {in_tail}
             GROUP BY s.id, l.level, e.observed_at_ms - (e.observed_at_ms % l.level)
           {add};
           INSERT INTO _smithers_cp_usage_rollup_marks (org_id, watermark) VALUES (org, up_to)
           ON CONFLICT (org_id) DO UPDATE SET watermark = excluded.watermark;
           RETURN up_to;
         END $fold$;
         -- The fold as upkeep inside a call whose write must stand: a fold that fails (a
         -- lock not had in time) is undone alone (a subtransaction), and the tail stays
         -- one fold longer. NULL when it failed.
         CREATE OR REPLACE FUNCTION _smithers_cp_usage_fold_quietly(org TEXT) RETURNS BIGINT LANGUAGE plpgsql AS $quietly$
         BEGIN
           RETURN _smithers_cp_usage_fold(org);
         EXCEPTION WHEN OTHERS THEN
           RETURN NULL;
         END $quietly$;",
        locks = crate::engine::postgres::org_locks("org"),
        series_of_e = series_of_e(),
        fine = FINE.map(|l| l.to_string()).join(", "),
        fine_levels = bigint_levels(&FINE),
        all_levels = bigint_levels(&LEVELS),
        m = minute_of("e.observed_at_ms"),
    )
}

#[cfg(test)]
mod tests {
    use crate::db::Db;
    use crate::engine::postgres::{testing, PgOptions, PostgresEngine, PostgresPool};
    use crate::engine::sqlite::SqliteEngine;
    use crate::engine::{Both, Dialect};

    /// A store on either engine: the tests below run on both.
    enum Store {
        Sqlite(SqliteEngine),
        Postgres(PostgresEngine, #[allow(dead_code)] PostgresPool),
    }

    impl std::ops::Deref for Store {
        type Target = Db<'static>;
        fn deref(&self) -> &Self::Target {
            match self {
                Store::Sqlite(c) => c,
                Store::Postgres(c, _) => c,
            }
        }
    }

    fn db(dialect: Dialect) -> Store {
        let conn = match dialect {
            Dialect::Sqlite => Store::Sqlite(SqliteEngine::open(":memory:").unwrap()),
            Dialect::Postgres => {
                let url = testing::shared().fresh_database();
                let pool = PostgresPool::connect(&url, PgOptions { pool_size: 1, ..Default::default() }).unwrap();
                Store::Postgres(pool.get().unwrap(), pool)
            }
        };
        crate::schema::ensure(&*conn).unwrap();
        conn.script(
            "INSERT INTO _smithers_cp_orgs (org_id, slug, name, created_at_ms) VALUES ('a','a','A',0),('b','b','B',0);
             INSERT INTO _smithers_cp_projects (org_id, project_id, slug, name, created_at_ms) VALUES ('a','p','p','P',0),('a','q','q','Q',0);",
        )
        .unwrap();
        conn
    }

    fn rows(conn: &Db, sql: &str) -> Vec<String> {
        conn.rows(sql, &[], |r| r.get::<String>(0)).unwrap()
    }

    /// The rollups as text: every bucket of every series, the dense minutes, the watermark.
    fn dump(conn: &Db) -> Vec<String> {
        let mut out = rows(
            conn,
            "SELECT s.org_id||'/'||s.scope||'/'||s.metric||'/'||s.unit||' '||u.level||' '||u.bucket_start_ms||' '||u.quantity
                    ||' '||u.events||' '||u.min_at_ms||' '||u.max_at_ms
             FROM _smithers_cp_usage_rollups u JOIN _smithers_cp_usage_series s ON s.id = u.series ORDER BY 1",
        );
        out.extend(rows(conn, "SELECT org_id||' '||minute_start_ms FROM _smithers_cp_usage_dense_minutes ORDER BY 1"));
        out.extend(watermarks(conn));
        out
    }

    /// The watermark: SQLite's one; on PostgreSQL each org's.
    fn watermarks(conn: &Db) -> Vec<String> {
        match conn.dialect() {
            Dialect::Sqlite => rows(conn, "SELECT 'watermark '||watermark FROM _smithers_cp_usage_rollup_state"),
            Dialect::Postgres => rows(
                conn,
                "SELECT 'watermark '||org_id||' '||_smithers_cp_usage_mark(org_id) FROM _smithers_cp_orgs ORDER BY org_id",
            ),
        }
    }

    /// Folds as a writer of ours does: SQLite's one tail, or each org's on PostgreSQL.
    fn writers_fold(conn: &Db) {
        match conn.dialect() {
            Dialect::Sqlite => super::fold_sqlite(conn).unwrap(),
            Dialect::Postgres => {
                for org in ["a", "b"] {
                    conn.run(super::POSTGRES_FOLD, crate::params![org]).unwrap();
                }
            }
        }
    }

    /// What the rollups must hold once every event is folded in (no purges): each series'
    /// events summed per bucket of the coarse levels, and of the fine levels in the minutes
    /// of an org with more than `DENSE` events, which are the dense minutes.
    fn expected(conn: &Db) -> Vec<String> {
        let mut out = rows(
            conn,
            &format!(
                "SELECT e.org_id||'/'||e.scope||'/'||e.metric||'/'||e.unit||' '||l.level||' '||(e.at - e.at % l.level)
                        ||' '||{total}(e.quantity)||' '||COUNT(*)||' '||MIN(e.at)||' '||MAX(e.at)
                 FROM (SELECT org_id, '*' AS scope, metric, unit, observed_at_ms AS at, quantity FROM _smithers_cp_usage_events
                       UNION ALL
                       SELECT org_id, COALESCE(project_id, ''), metric, unit, observed_at_ms, quantity FROM _smithers_cp_usage_events) AS e,
                      ({levels}) AS l
                 WHERE l.level >= 60000 OR (e.org_id, e.at / 60000) IN (
                   SELECT org_id, observed_at_ms / 60000 FROM _smithers_cp_usage_events GROUP BY 1, 2 HAVING COUNT(*) > {dense})
                 GROUP BY e.org_id, e.scope, e.metric, e.unit, l.level, e.at - e.at % l.level ORDER BY 1",
                levels = super::levels(&super::LEVELS),
                dense = super::DENSE,
                total = conn.pick(Both { sqlite: "TOTAL", postgres: "SUM" }),
            ),
        );
        out.extend(rows(
            conn,
            &format!(
                "SELECT org_id||' '||(observed_at_ms / 60000 * 60000) FROM _smithers_cp_usage_events
                 GROUP BY org_id, observed_at_ms / 60000 HAVING COUNT(*) > {} ORDER BY 1",
                super::DENSE
            ),
        ));
        out.extend(match conn.dialect() {
            Dialect::Sqlite => rows(conn, "SELECT 'watermark '||COALESCE(MAX(id), 0) FROM _smithers_cp_usage_events"),
            Dialect::Postgres => rows(
                conn,
                "SELECT 'watermark '||o.org_id||' '||COALESCE(MAX(e.id), 0) FROM _smithers_cp_orgs o
                 LEFT JOIN _smithers_cp_usage_events e ON e.org_id = o.org_id GROUP BY o.org_id ORDER BY o.org_id",
            ),
        });
        out
    }

    /// Both folds, the writers' statement and the bulk one, leave every bucket equal to its
    /// events, tails short and long, in few minutes (dense) or over 40 days.
    #[test]
    fn both_folds_leave_every_bucket_equal_to_its_events() {
        both_folds(Dialect::Sqlite);
    }

    #[test]
    fn both_folds_leave_every_bucket_equal_to_its_events_on_postgres() {
        both_folds(Dialect::Postgres);
    }

    fn both_folds(dialect: Dialect) {
        let mut seed = 0x9E3779B97F4A7C15u64;
        let mut rand = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for round in 0..8 {
            let conn = db(dialect);
            let sql_fold = round % 2 == 0;
            for step in 0..20 {
                // The statement folds tails of up to `LONG_TAIL` events; the bulk fold any.
                let n = 1 + rand(if sql_fold { super::LONG_TAIL as u64 } else if round % 4 < 2 { 40 } else { 300 });
                let mut sql = String::from(
                    "INSERT INTO _smithers_cp_usage_events (org_id, project_id, metric, quantity, unit, observed_at_ms) VALUES ",
                );
                for i in 0..n {
                    let org = ["a", "b"][rand(2) as usize];
                    let project = if org == "a" { ["NULL", "'p'", "'q'"][rand(3) as usize] } else { "NULL" };
                    let at = if round < 4 { rand(120_000) } else { rand(40 * 86_400_000) };
                    if i > 0 {
                        sql.push(',');
                    }
                    sql.push_str(&format!("('{org}', {project}, '{}', {}, 'u', {at})", ["m", "n"][rand(2) as usize], rand(64) as f64 / 4.0));
                }
                conn.script(&sql).unwrap();
                if sql_fold {
                    writers_fold(&*conn);
                } else {
                    super::super::catch_up(&*conn).unwrap();
                }
                assert_eq!(dump(&*conn), expected(&*conn), "round {round} step {step}");
            }
            if round < 4 {
                assert!(!rows(&*conn, "SELECT org_id FROM _smithers_cp_usage_dense_minutes").is_empty(), "round {round} made dense minutes");
            }
        }
    }

    /// The writers' fold leaves a long tail alone (the bulk fold takes it).
    #[test]
    fn the_statement_leaves_a_long_tail_alone() {
        long_tail(Dialect::Sqlite);
    }

    #[test]
    fn the_statement_leaves_a_long_tail_alone_on_postgres() {
        long_tail(Dialect::Postgres);
    }

    fn long_tail(dialect: Dialect) {
        let conn = db(dialect);
        let values: Vec<String> = (0..=super::LONG_TAIL).map(|i| format!("('a', NULL, 'm', 1, 'u', {i})")).collect();
        conn.script(&format!(
            "INSERT INTO _smithers_cp_usage_events (org_id, project_id, metric, quantity, unit, observed_at_ms) VALUES {}",
            values.join(",")
        ))
        .unwrap();
        writers_fold(&*conn);
        assert_eq!(rows(&*conn, "SELECT 'watermark '||watermark FROM _smithers_cp_usage_rollup_state"), ["watermark 0"]);
        assert_eq!(watermarks(&*conn)[0], conn.pick(Both { sqlite: "watermark 0", postgres: "watermark a 0" }));
        super::super::catch_up(&*conn).unwrap();
        assert_eq!(dump(&*conn), expected(&*conn));
    }
}
