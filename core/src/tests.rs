//! Core behaviour through the typed operations, without Node: the same contract the JS suites
//! check, at the Rust level.

use crate::engine::Both;
use crate::error::CpError;
use crate::db::Db;
use crate::request::{self, FromInput, RequestContext};
use crate::audit::{self, export, retention};
use crate::metering::{consume, limits, rollups, usage};
use crate::settings::{billing, identity, secrets};
use crate::tenancy::{access, orgs, projects, quotas, teams};
use crate::{schema, storage};
use serde::Serialize;
use crate::engine::sqlite::SqliteEngine;
use serde_json::{json, Value};

fn open() -> SqliteEngine {
    let conn = SqliteEngine::open(":memory:").unwrap();
    schema::ensure(&conn).unwrap();
    conn
}

/// A store on either engine, for the tests that run on both (`on_both!`).
enum AnyDb {
    Sqlite(SqliteEngine),
    /// The pool's connection (the pool is kept for as long as it is lent).
    Postgres(crate::engine::postgres::PostgresEngine, #[allow(dead_code)] crate::engine::postgres::PostgresPool),
}

impl std::ops::Deref for AnyDb {
    type Target = Db<'static>;
    fn deref(&self) -> &Self::Target {
        match self {
            AnyDb::Sqlite(c) => c,
            AnyDb::Postgres(c, _) => c,
        }
    }
}

impl crate::engine::Engine for AnyDb {
    fn dialect(&self) -> crate::engine::Dialect {
        (**self).dialect()
    }
    fn run(&self, sql: &str, params: &[crate::engine::SqlValue]) -> crate::error::Result<crate::engine::Done> {
        (**self).run(sql, params)
    }
    fn query(
        &self,
        sql: &str,
        params: &[crate::engine::SqlValue],
        each: &mut dyn FnMut(&dyn crate::engine::Row) -> crate::error::Result<bool>,
    ) -> crate::error::Result<()> {
        (**self).query(sql, params, each)
    }
    fn script(&self, sql: &str) -> crate::error::Result<()> {
        (**self).script(sql)
    }
    fn begin(&self, scope: crate::engine::Scope<'_>) -> crate::error::Result<crate::engine::Opened> {
        (**self).begin(scope)
    }
    fn end(&self, opened: crate::engine::Opened, commit: bool) -> crate::error::Result<()> {
        (**self).end(opened, commit)
    }
    fn memo(&self) -> Option<&crate::engine::Memo> {
        (**self).memo()
    }
    fn statement_lock_timeout(&self) -> Option<String> {
        (**self).statement_lock_timeout()
    }
}

thread_local! {
    /// The engine `open_any` opens in this test's thread.
    static ENGINE: std::cell::Cell<crate::engine::Dialect> = const { std::cell::Cell::new(crate::engine::Dialect::Sqlite) };
}

/// A new store with its schema on the test's engine: an in-memory SQLite database, or a
/// database of its own on the PostgreSQL server the tests share.
fn open_any() -> AnyDb {
    match ENGINE.get() {
        crate::engine::Dialect::Sqlite => AnyDb::Sqlite(open()),
        crate::engine::Dialect::Postgres => {
            let url = crate::engine::postgres::testing::shared().fresh_database();
            let options = crate::engine::postgres::PgOptions { pool_size: 1, ..Default::default() };
            let pool = crate::engine::postgres::PostgresPool::connect(&url, options).unwrap();
            let conn = pool.get().unwrap();
            schema::ensure(&conn).unwrap();
            AnyDb::Postgres(conn, pool)
        }
    }
}

/// A test run on both engines: `sqlite` and `postgres` tests in a module of its name.
macro_rules! on_both {
    ($(#[$meta:meta])* fn $name:ident() $body:block) => {
        $(#[$meta])*
        mod $name {
            use super::*;
            fn run() $body
            #[test]
            fn sqlite() {
                ENGINE.set(crate::engine::Dialect::Sqlite);
                run()
            }
            #[test]
            fn postgres() {
                ENGINE.set(crate::engine::Dialect::Postgres);
                run()
            }
        }
    };
}

/// One operation through the typed API, on a JSON input as a caller gives it; the result
/// as JSON.
fn call<R: FromInput, T: Serialize>(conn: &Db, op: fn(&Db, &RequestContext, R) -> Result<T, CpError>, input: Value) -> Result<Value, CpError> {
    request::call(conn, &input, op).map(|out| serde_json::to_value(out).unwrap())
}

fn count(conn: &Db, table: &str) -> i64 {
    conn.one(&format!("SELECT COUNT(*) AS n FROM {table}"), &[], |r| r.get(0)).unwrap()
}

fn seeded() -> SqliteEngine {
    let conn = open();
    seed(&conn);
    conn
}

fn seeded_any() -> AnyDb {
    let conn = open_any();
    seed(&conn);
    conn
}

fn seed(conn: &Db) {
    call(conn, orgs::create, json!({ "orgId": "acme", "slug": "acme", "name": "Acme", "createdAtMs": 1 })).unwrap();
    call(conn, projects::create, json!({ "orgId": "acme", "projectId": "web", "slug": "web", "name": "Web", "createdAtMs": 2 }))
        .unwrap();
}

/// Every operation, each with a name to report it by: `ops![conn; module::function, ...]`.
macro_rules! ops {
    ($conn:expr; $($op:path),* $(,)?) => {{
        let conn = $conn;
        let ops: Vec<(&str, Box<dyn Fn(Value) -> Result<Value, CpError> + '_>)> =
            vec![$((stringify!($op), Box::new(move |input| call(conn, $op, input)))),*];
        ops
    }};
}

on_both! {
fn every_operation_reads_and_validates_its_input() {
    let conn = seeded_any();
    let typed = ops![&conn;
        orgs::get_org, orgs::suspend, orgs::unsuspend, orgs::delete, orgs::list, orgs::create, orgs::get_by_slug,
        usage::record, usage::record_batch, usage::summarize, consume::consume, limits::set, limits::check,
        limits::list_page, limits::delete, rollups::check, audit::record, audit::query, audit::explain, audit::verify,
        export::export, export::export_to_file, retention::set, retention::get, retention::purge,
        teams::create, teams::add_member, teams::list_page, teams::get, teams::list_members, teams::remove_member, teams::delete,
        projects::create, projects::add_team, projects::list_page, projects::get, projects::list_teams, projects::remove_team,
        crate::deletion::delete_project,
        access::list, access::get,
        quotas::set, quotas::get,
        billing::upsert, billing::get_account,
        identity::upsert, identity::list, identity::delete,
        secrets::put, secrets::list, secrets::delete,
        storage::stats, storage::check_integrity,
    ];
    for (method, op) in typed.iter() {
        let method = *method;
        // Each operation reads and validates its input: the bad id (or a missing required
        // field) is refused with INVALID_INPUT naming the field. The operations that take
        // no org answer.
        match op(json!({ "orgId": "bad id" })) {
            Err(e) => {
                assert_eq!(e.code, "INVALID_INPUT", "{method}: {}", e.summary);
                assert!(e.details.as_ref().is_some_and(|d| d.get("field").is_some()), "{method}: {:?}", e.details);
            }
            // The operations that take no org: the first page of orgs, the rollups' check,
            // a purge with nothing due.
            Ok(out) if method == "orgs::list" => assert_eq!(out["items"].as_array().map(|items| items.len()), Some(1), "{out}"),
            Ok(out) if method == "rollups::check" => assert_eq!(out, json!({ "consistent": true, "repaired": false })),
            Ok(out) if method == "retention::purge" => assert_eq!((out["done"].clone(), out["orgs"].clone()), (json!(true), json!([]))),
            // The database as a whole: its schema version, and SQLite's verdict.
            // (PostgreSQL's schema has versions of its own.)
            Ok(out) if method == "storage::stats" => {
                let version = conn.pick(Both { sqlite: "sqlite", postgres: "postgres" });
                let expected = if version == "sqlite" { crate::schema::SCHEMA_VERSION } else { crate::schema::postgres::VERSION };
                assert_eq!(out["schemaVersion"], json!(expected), "{out}")
            }
            Ok(out) if method == "storage::check_integrity" => assert_eq!(out, json!({ "integrity": "ok" })),
            Ok(out) => panic!("{method} accepted a bad orgId: {out}"),
        }
    }
}}

on_both! {
fn create_org_writes_the_row_and_its_audit_event() {
    let conn = open_any();
    let org = call(&conn, orgs::create, json!({ "orgId": "acme", "slug": "acme", "name": " Acme ", "createdAtMs": 5.7 })).unwrap();
    assert_eq!(
        org,
        json!({ "orgId": "acme", "slug": "acme", "name": "Acme", "createdAtMs": 5, "status": "active",
                "suspendedAtMs": null, "suspendReason": null, "deletedAtMs": null })
    );
    let (action, actor, at): (String, String, i64) = conn
        .one("SELECT action, actor_id, occurred_at_ms FROM _smithers_cp_audit_events", &[], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((action.as_str(), actor.as_str(), at), ("org.create", "system", 5));
    assert_eq!(call(&conn, orgs::get_org, json!({ "orgId": "acme" })).unwrap(), org);
    assert_eq!(call(&conn, orgs::get_org, json!({ "orgId": "nope" })).unwrap(), Value::Null);
}}

on_both! {
fn duplicates_and_missing_parents_are_typed() {
    let conn = seeded_any();
    let dup = call(&conn, orgs::create, json!({ "slug": "acme", "name": "X" })).unwrap_err();
    assert_eq!((dup.code, dup.summary.as_str()), ("DUPLICATE_ID", "Duplicate control-plane org slug: acme"));
    let dup = call(&conn, projects::create, json!({ "orgId": "acme", "projectId": "web", "slug": "w2", "name": "W" })).unwrap_err();
    assert_eq!(dup.details, Some(json!({ "kind": "control-plane.project", "id": "web", "orgId": "acme" })));
    let missing = call(&conn, teams::create, json!({ "orgId": "ghost", "slug": "t", "name": "T" })).unwrap_err();
    assert_eq!(missing, CpError::org_not_found("ghost"));
    let missing = call(&conn, usage::record, json!({ "orgId": "acme", "projectId": "x", "metric": "m", "quantity": 1 })).unwrap_err();
    assert_eq!(missing, CpError::project_not_found("acme", "x"));
    let missing = call(&conn, teams::add_member, json!({ "orgId": "acme", "teamId": "t", "userId": "u" })).unwrap_err();
    assert_eq!(missing, CpError::team_not_found("acme", "t"));
    assert_eq!(count(&conn, "_smithers_cp_teams") + count(&conn, "_smithers_cp_usage_events"), 0);
    assert_eq!(count(&conn, "_smithers_cp_audit_events"), 2);
}}

#[test]
fn a_failing_audit_insert_rolls_back_the_row() {
    let conn = seeded();
    conn.execute_batch(
        "CREATE TRIGGER fail BEFORE INSERT ON _smithers_cp_audit_events BEGIN SELECT RAISE(ABORT, 'no audit'); END;",
    )
    .unwrap();
    let err = call(&conn, teams::create, json!({ "orgId": "acme", "slug": "t", "name": "T" })).unwrap_err();
    assert_eq!(err.code, "STORAGE_ERROR");
    assert_eq!(count(&conn, "_smithers_cp_teams"), 0);
    assert!(conn.is_autocommit(), "the transaction was closed");
}

on_both! {
fn usage_limits_check_the_inclusive_window_per_scope() {
    let conn = seeded_any();
    call(&conn, limits::set, json!({ "orgId": "acme", "metric": "tok", "period": "daily", "limitQuantity": 10 })).unwrap();
    call(&conn, limits::set, json!({ "orgId": "acme", "projectId": "web", "metric": "tok", "period": "daily", "limitQuantity": 3 }))
        .unwrap();
    let day = 86_400_000i64;
    for (project, quantity, at) in [(Some("web"), 2.0, 10 * day), (None, 5.0, 9 * day), (Some("web"), 1.5, 9 * day - 1)] {
        call(&conn, usage::record, json!({ "orgId": "acme", "projectId": project, "metric": "tok", "quantity": quantity, "observedAtMs": at }))
            .unwrap();
    }
    let org = call(&conn, limits::check, json!({ "orgId": "acme", "metric": "tok", "period": "daily", "untilMs": 10 * day })).unwrap();
    assert_eq!(org["usedQuantity"], json!(7.0));
    assert_eq!(org["remainingQuantity"], json!(3.0));
    let web = call(
        &conn,
        limits::check,
        json!({ "orgId": "acme", "projectId": "web", "metric": "tok", "period": "daily", "untilMs": 10 * day, "sinceMs": 0 }),
    )
    .unwrap();
    assert_eq!((web["usedQuantity"].as_f64(), web["exceeded"].as_bool()), (Some(3.5), Some(true)));
    assert_eq!(call(&conn, limits::check, json!({ "orgId": "acme", "metric": "tok" })).unwrap(), Value::Null);
}}

on_both! {
fn secret_refs_are_listed_by_scope() {
    let conn = seeded_any();
    for (project, name) in [(None, "B"), (Some("web"), "A"), (Some("web"), "B")] {
        call(&conn, secrets::put, json!({ "orgId": "acme", "projectId": project, "name": name, "provider": "vault", "ref": "vault://x" }))
            .unwrap();
    }
    let names = |input: Value| -> Vec<String> {
        call(&conn, secrets::list, input).unwrap().as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(json!({ "orgId": "acme" })), ["A", "B", "B"]);
    assert_eq!(names(json!({ "orgId": "acme", "projectId": null })), ["B"]);
    assert_eq!(names(json!({ "orgId": "acme", "projectId": "web" })), ["A", "B"]);
}}

on_both! {
fn export_reads_one_org_in_documented_order() {
    let conn = seeded_any();
    call(&conn, orgs::create, json!({ "orgId": "other", "slug": "other", "name": "O" })).unwrap();
    call(&conn, projects::create, json!({ "orgId": "acme", "projectId": "api", "slug": "api", "name": "A", "createdAtMs": 3 })).unwrap();
    call(&conn, audit::record, json!({ "orgId": "other", "action": "x", "targetType": "y", "occurredAtMs": 2 })).unwrap();
    let out = call(&conn, export::export, json!({ "orgId": "acme", "exportedAtMs": 9 })).unwrap();
    assert_eq!(out["exportedAtMs"], json!(9));
    let slugs: Vec<&str> = out["projects"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["api", "web"]);
    let actions: Vec<&str> = out["auditEvents"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["org.create", "project.create", "project.create"]);
    assert_eq!(call(&conn, export::export, json!({ "orgId": "ghost" })).unwrap_err(), CpError::org_not_found("ghost"));
}}

#[test]
fn malformed_input_json_is_invalid_input() {
    let conn = open();
    let err = request::call_json(&conn, "{not json", orgs::create).unwrap_err();
    assert_eq!(err.code, "INVALID_INPUT");
    // A lone surrogate escape (what JSON.stringify writes for invalid UTF-16) is refused too.
    let err = request::call_json(&conn, r#"{"slug":"a","name":"\ud800"}"#, orgs::create).unwrap_err();
    assert_eq!(err.code, "INVALID_INPUT");
}

/// A small deterministic generator for the randomized tests.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn raw_sum(conn: &Db, org: &str, project: Option<&str>, metric: &str, since: i64, until: i64) -> f64 {
    let sql = conn.pick(Both {
        sqlite: "SELECT TOTAL(quantity) FROM _smithers_cp_usage_events WHERE org_id = ?1 AND (?2 IS NULL OR project_id = ?2)
           AND metric = ?3 AND unit = 'count' AND observed_at_ms >= ?4 AND observed_at_ms <= ?5",
        postgres: "SELECT COALESCE(SUM(quantity), 0.0) AS q FROM _smithers_cp_usage_events WHERE org_id = ?1
           AND (CAST(?2 AS TEXT) IS NULL OR project_id = ?2)
           AND metric = ?3 AND unit = 'count' AND observed_at_ms >= ?4 AND observed_at_ms <= ?5",
    });
    conn.one(sql, crate::params![org, project, metric, since, until], |r| r.get(0)).unwrap()
}

fn assert_rollups_match_raw(conn: &Db, rng: &mut Rng, span: i64, fractional: bool) {
    let events: i64 = count(conn, "_smithers_cp_usage_events");
    // Half the window ends fall on, or next to, an event's time: the cases where an edge
    // splits a second's events, or an event sits exactly at an end.
    let end = |rng: &mut Rng, base: i64| -> i64 {
        if events == 0 || rng.below(2) == 0 {
            return base + rng.below(span as u64) as i64;
        }
        let at: i64 = conn
            .one(
                "SELECT observed_at_ms FROM _smithers_cp_usage_events ORDER BY id LIMIT 1 OFFSET ?1",
                crate::params![rng.below(events as u64) as i64],
                |r| r.get(0),
            )
            .unwrap();
        (at + rng.below(3) as i64 - 1).max(base)
    };
    for _ in 0..300 {
        let since = end(rng, 0);
        let until = end(rng, since);
        let project = [None, Some("web"), Some("api")][rng.below(3) as usize];
        let metric = ["tok", "cpu"][rng.below(2) as usize];
        let window = crate::metering::usage::Window { since_ms: since, until_ms: until };
        let fast = crate::metering::usage::used(conn, "acme", project, metric, "count", window).unwrap();
        let slow = raw_sum(conn, "acme", project, metric, since, until);
        assert_close(fast, slow, fractional, &format!("window [{since}, {until}] {project:?} {metric}"));
    }
    // consumeUsage's two windows of every limit that applies, read in one statement: limits
    // of 0 refuse every event, so nothing is recorded and the raw sums stay put.
    for metric in ["tok", "cpu"] {
        for (project, period) in [(Some("web"), "daily"), (Some("web"), "weekly"), (None, "monthly"), (None, "daily")] {
            let limit = json!({ "orgId": "acme", "projectId": project, "metric": metric, "period": period, "limitQuantity": 0 });
            call(conn, limits::set, limit).unwrap();
        }
    }
    for _ in 0..50 {
        let metric = ["tok", "cpu"][rng.below(2) as usize];
        let project = [None, Some("web")][rng.below(2) as usize];
        let at = end(rng, 0);
        let out = call(conn, consume::consume, json!({ "orgId": "acme", "projectId": project, "metric": metric, "quantity": 1, "observedAtMs": at }))
            .unwrap();
        assert_eq!(out["allowed"], json!(false));
        let checks = out["checks"].as_array().unwrap();
        assert_eq!(checks.len(), if project.is_some() { 4 } else { 2 });
        for check in checks {
            let scope = check["projectId"].as_str();
            let period = crate::validate::period_ms(check["period"].as_str().unwrap()).unwrap();
            assert_eq!(check["sinceMs"], json!((at - period).max(0)));
            let what = format!("consume at {at}: {scope:?} {metric} {}", check["period"]);
            let used = raw_sum(conn, "acme", scope, metric, (at - period).max(0), at);
            assert_close(check["usedQuantity"].as_f64().unwrap(), used, fractional, &what);
            let later = raw_sum(conn, "acme", scope, metric, at + 1, at + period);
            assert_close(check["laterQuantity"].as_f64().unwrap(), later, fractional, &what);
        }
    }
}

fn assert_close(fast: f64, slow: f64, fractional: bool, what: &str) {
    if fractional {
        assert!((fast - slow).abs() <= 1e-9 * slow.abs().max(1.0), "{fast} vs {slow} in {what}");
    } else {
        assert_eq!(fast, slow, "{what}");
    }
}

on_both! {
fn rollup_sums_equal_raw_sums_for_random_windows() {
    let day = crate::metering::rollups::DAY;
    // Spread over 40 days (seconds rarely hold two events), and packed into 20 seconds
    // (every second holds dozens, so window edges cut between a second's events).
    for (fractional, span) in [(false, 40 * day), (true, 40 * day), (false, 20_000), (true, 20_000)] {
        let conn = seeded_any();
        call(&conn, projects::create, json!({ "orgId": "acme", "projectId": "api", "slug": "api", "name": "A" })).unwrap();
        call(&conn, orgs::create, json!({ "orgId": "other", "slug": "other", "name": "O" })).unwrap();
        let mut rng = Rng(0x9E3779B97F4A7C15 ^ fractional as u64 ^ span as u64);
        let mut batch = Vec::new();
        for i in 0..3_000 {
            let quantity = if fractional { (rng.below(1_000_000) as f64) / 997.0 } else { rng.below(50) as f64 };
            let org = if i % 10 == 0 { "other" } else { "acme" };
            let project = if org == "other" { None } else { [None, Some("web"), Some("api")][rng.below(3) as usize] };
            let metric = ["tok", "cpu"][rng.below(2) as usize];
            let at = rng.below(span as u64);
            let event = json!({ "orgId": org, "projectId": project, "metric": metric, "quantity": quantity, "observedAtMs": at });
            // Half the events one by one (trigger), half in batches (accumulated in Rust).
            if i % 2 == 0 {
                call(&conn, usage::record, event).unwrap();
            } else {
                batch.push(event);
                if batch.len() == 50 {
                    call(&conn, usage::record_batch, json!({ "events": batch, "returning": "ids" })).unwrap();
                    batch.clear();
                }
            }
        }
        // A row written by another writer (the documented store) leaves a tail to read.
        conn.execute(
            "INSERT INTO _smithers_cp_usage_events (org_id, project_id, metric, quantity, unit, observed_at_ms)
             VALUES ('acme', 'web', 'tok', 3, 'count', ?1)",
            crate::params![span / 2],
        )
        .unwrap();
        assert!(crate::metering::rollups::tail(&conn, "acme").unwrap().1 > crate::metering::rollups::tail(&conn, "acme").unwrap().0);
        assert_rollups_match_raw(&conn, &mut rng, span, fractional);

        // Deletes, updates and a cascade keep them exact.
        conn.execute("DELETE FROM _smithers_cp_usage_events WHERE id % 7 = 0", &[]).unwrap();
        conn.execute("UPDATE _smithers_cp_usage_events SET quantity = quantity + 1, observed_at_ms = observed_at_ms + 3600001 WHERE id % 5 = 0", &[]).unwrap();
        conn.execute("DELETE FROM _smithers_cp_projects WHERE project_id = 'api'", &[]).unwrap();
        assert_rollups_match_raw(&conn, &mut rng, span, fractional);
        crate::metering::rollups::catch_up(&conn).unwrap();
        assert!(crate::metering::rollups::consistent(&conn).unwrap());
    }
}}

/// A connection of ours to a new, empty file, alone in a folder of its own named after
/// `name` (the caller removes the folder).
pub(crate) fn empty_file(name: &str) -> (std::path::PathBuf, SqliteEngine) {
    let dir = std::env::temp_dir().join(format!("cp-core-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let conn = SqliteEngine::open(dir.join("store.db").to_str().unwrap()).unwrap();
    (dir, conn)
}

/// `seeded`, on a file: a file's rollups are guarded by triggers in the file, which another
/// connection may drop (an in-memory database's are its one connection's own).
fn seeded_file(name: &str) -> (std::path::PathBuf, SqliteEngine) {
    let (dir, conn) = empty_file(name);
    schema::ensure(&conn).unwrap();
    seed(&conn);
    (dir, conn)
}

#[test]
fn stale_rollups_are_detected_and_rebuilt() {
    let (dir, conn) = seeded_file("stale-rollups");
    for at in [5, 90_000, 4_000_000] {
        call(&conn, usage::record, json!({ "orgId": "acme", "metric": "tok", "quantity": 2, "observedAtMs": at })).unwrap();
    }
    // A row written by another writer joins the tail and counts at once.
    conn.execute(
        "INSERT INTO _smithers_cp_usage_events (org_id, metric, quantity, unit, observed_at_ms) VALUES ('acme', 'tok', 5, 'count', 100)",
        [],
    )
    .unwrap();
    let window = crate::metering::usage::Window { since_ms: 0, until_ms: 10_000_000 };
    assert_eq!(crate::metering::usage::used(&conn, "acme", None, "tok", "count", window).unwrap(), 11.0);
    // Opening trusts the rollups: it folds nothing and checks nothing.
    schema::ensure(&conn).unwrap();
    assert_eq!(crate::metering::rollups::tail(&conn, "acme").unwrap(), (0, 4));
    // The check folds the tail in and finds the rollups right.
    assert_eq!(call(&conn, rollups::check, json!({})).unwrap(), json!({ "consistent": true, "repaired": false }));
    assert_eq!(crate::metering::rollups::tail(&conn, "acme").unwrap(), (4, 4));

    // Rollups that disagree with the rows (damaged, or a row slipped in under the watermark)
    // are found, and rebuilt unless told not to.
    conn.execute_batch("UPDATE _smithers_cp_usage_rollups SET quantity = 0 WHERE level = 86400000").unwrap();
    schema::ensure(&conn).unwrap();
    assert!(!crate::metering::rollups::consistent(&conn).unwrap());
    assert_eq!(call(&conn, rollups::check, json!({ "repair": false })).unwrap(), json!({ "consistent": false, "repaired": false }));
    assert!(!crate::metering::rollups::consistent(&conn).unwrap());
    assert_eq!(call(&conn, rollups::check, json!({})).unwrap(), json!({ "consistent": false, "repaired": true }));
    assert!(crate::metering::rollups::consistent(&conn).unwrap());
    assert_eq!(crate::metering::usage::used(&conn, "acme", None, "tok", "count", window).unwrap(), 11.0);
    assert_eq!(call(&conn, rollups::check, json!({ "repair": "yes" })).unwrap_err().summary, "repair must be true or false.");

    // Rollups left without their triggers (someone dropped them) are checked on open: rows
    // deleted meanwhile are no longer in them.
    conn.execute_batch("DROP TRIGGER _smithers_cp_usage_rollup_delete; DELETE FROM _smithers_cp_usage_events WHERE observed_at_ms = 100;").unwrap();
    assert!(!crate::metering::rollups::consistent(&conn).unwrap());
    schema::ensure(&conn).unwrap();
    assert!(crate::metering::rollups::consistent(&conn).unwrap());
    assert_eq!(crate::metering::usage::used(&conn, "acme", None, "tok", "count", window).unwrap(), 6.0);
    drop(conn);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn rollups_of_an_earlier_version_are_rebuilt_keyed_by_series_with_time_bounds() {
    let conn = seeded();
    for at in [5, 1_500, 1_700] {
        call(&conn, usage::record, json!({ "orgId": "acme", "metric": "tok", "quantity": 2, "observedAtMs": at })).unwrap();
    }
    schema::ensure(&conn).unwrap();
    // The version 4 layout: keyed by strings, no time bounds, and a covering index over the events.
    conn.execute_batch(
        "DROP TABLE _smithers_cp_usage_rollups;
         DROP TABLE _smithers_cp_usage_series;
         CREATE TABLE _smithers_cp_usage_series (org_id TEXT NOT NULL, scope TEXT NOT NULL, metric TEXT NOT NULL,
           unit TEXT NOT NULL, PRIMARY KEY (org_id, scope, metric, unit)) WITHOUT ROWID;
         CREATE TABLE _smithers_cp_usage_rollups (org_id TEXT NOT NULL, metric TEXT NOT NULL, unit TEXT NOT NULL,
           scope TEXT NOT NULL, level INTEGER NOT NULL, bucket_start_ms INTEGER NOT NULL, quantity REAL NOT NULL,
           events INTEGER NOT NULL, PRIMARY KEY (org_id, metric, unit, scope, level, bucket_start_ms)) WITHOUT ROWID;
         CREATE INDEX _smithers_cp_usage_series_time_idx
           ON _smithers_cp_usage_events(org_id, metric, unit, observed_at_ms, project_id, quantity);
         UPDATE _smithers_cp_native_meta SET value = '4' WHERE key = 'schema_version';",
    )
    .unwrap();
    schema::ensure(&conn).unwrap();
    assert!(crate::db::has_column(&conn, "_smithers_cp_usage_rollups", "min_at_ms").unwrap());
    assert!(crate::db::has_column(&conn, "_smithers_cp_usage_rollups", "series").unwrap());
    assert!(crate::db::has_column(&conn, "_smithers_cp_usage_series", "id").unwrap());
    let index: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name = '_smithers_cp_usage_series_time_idx'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(index, 0);
    assert!(crate::metering::rollups::consistent(&conn).unwrap());
    // An edge inside the second [1000, 2000) that splits its two events.
    let window = crate::metering::usage::Window { since_ms: 1_600, until_ms: 10_000 };
    assert_eq!(crate::metering::usage::used(&conn, "acme", None, "tok", "count", window).unwrap(), 2.0);
}

on_both! {
fn the_tail_is_folded_in_once_it_is_long() {
    let conn = seeded_any();
    let n = crate::metering::rollups::TAIL_MAX + 10;
    for i in 0..n {
        call(&conn, usage::record, json!({ "orgId": "acme", "metric": "tok", "quantity": 1, "observedAtMs": i * 1_000 })).unwrap();
    }
    let (watermark, max_id) = crate::metering::rollups::tail(&conn, "acme").unwrap();
    assert_eq!(max_id, n);
    assert!(max_id - watermark < crate::metering::rollups::TAIL_MAX, "tail {watermark}..{max_id}");
    assert!(watermark >= crate::metering::rollups::TAIL_MAX);
    let window = crate::metering::usage::Window { since_ms: 0, until_ms: n * 1_000 };
    assert_eq!(crate::metering::usage::used(&conn, "acme", None, "tok", "count", window).unwrap(), n as f64);
}}

on_both! {
fn the_audit_chain_detects_edits_deletions_and_forged_inserts() {
    let verify = |conn: &Db| call(conn, audit::verify, json!({ "orgId": "acme" })).unwrap();
    let fresh = || {
        let conn = seeded_any(); // org.create, project.create
        for i in 0..5 {
            call(&conn, audit::record, json!({ "orgId": "acme", "action": format!("a{i}"), "targetType": "t" })).unwrap();
        }
        conn
    };
    let conn = fresh();
    assert_eq!(verify(&conn), json!({ "ok": true, "checked": 7, "unchained": 0, "redacted": 0 }));

    // An event written by a store that does not chain: reported, not tampering.
    conn.script("INSERT INTO _smithers_cp_audit_events (org_id, action, target_type, occurred_at_ms) VALUES ('acme', 'ts', 't', 1)").unwrap();
    assert_eq!(verify(&conn), json!({ "ok": true, "checked": 7, "unchained": 1, "redacted": 0 }));

    conn.script("UPDATE _smithers_cp_audit_events SET actor_id = 'mallory' WHERE id = 4").unwrap();
    assert_eq!(verify(&conn)["firstBadId"], json!(4));

    let conn = fresh();
    conn.script("DELETE FROM _smithers_cp_audit_events WHERE id = 3").unwrap();
    assert_eq!(verify(&conn)["firstBadId"], json!(4));

    let conn = fresh();
    conn.script("DELETE FROM _smithers_cp_audit_events WHERE id = 7").unwrap();
    assert_eq!(verify(&conn)["firstBadId"], json!(7), "a deleted last event is caught by the chain head");

    let conn = fresh();
    conn.script(
        "INSERT INTO _smithers_cp_audit_events (org_id, action, target_type, occurred_at_ms, chain_prev, chain_hash)
         VALUES ('acme', 'forged', 't', 1, 'x', 'y')",
    )
    .unwrap();
    assert_eq!(verify(&conn)["ok"], json!(false));

    // Removing a project on purpose keeps the chain verifiable across the gap.
    let conn = fresh();
    call(&conn, audit::record, json!({ "orgId": "acme", "projectId": "web", "action": "p", "targetType": "t" })).unwrap();
    call(&conn, audit::record, json!({ "orgId": "acme", "action": "after", "targetType": "t" })).unwrap();
    call(&conn, crate::deletion::delete_project, json!({ "orgId": "acme", "projectId": "web" })).unwrap();
    let report = verify(&conn);
    assert_eq!(report["ok"], json!(true), "{report}");
    assert_eq!(report["redacted"], json!(2)); // project.create and "p"
}}

on_both! {
fn consume_admits_no_event_that_leaves_any_window_over_the_limit() {
    const DAY: i64 = 86_400_000;
    let conn = seeded_any();
    call(&conn, limits::set, json!({ "orgId": "acme", "metric": "tok", "period": "daily", "limitQuantity": 10 })).unwrap();
    let consume = |at: i64| call(&conn, consume::consume, json!({ "orgId": "acme", "metric": "tok", "quantity": 1, "observedAtMs": at })).unwrap();
    let t = 100 * DAY;
    // Ten events at t + 5: another process, whose clock read later, committed them first.
    for _ in 0..10 {
        assert_eq!(consume(t + 5)["allowed"], json!(true));
    }
    // An event at t (read before those landed) sees them after its own time.
    let racing = consume(t);
    assert_eq!(racing["allowed"], json!(false));
    assert_eq!(racing["checks"][0]["usedQuantity"], json!(0.0));
    assert_eq!(racing["checks"][0]["laterQuantity"], json!(10.0));
    assert_eq!(racing["checks"][0]["remainingQuantity"], json!(0.0));
    // Backdated an hour: the period ending at it is empty, but the one ending at t + 5
    // would hold 11 events.
    assert_eq!(consume(t - 3_600_000)["allowed"], json!(false));
    // Outside every period holding the ten: admitted.
    assert_eq!(consume(t - DAY)["allowed"], json!(true));
    assert_eq!(consume(t + 5 + DAY + 1)["allowed"], json!(true));
    // No window of one day, wherever it ends, holds more than the limit.
    let ends: Vec<i64> = conn
        .rows("SELECT observed_at_ms + d AS until FROM _smithers_cp_usage_events, (SELECT 0 AS d UNION ALL SELECT 86400000) AS ds WHERE metric = 'tok'", &[], |r| r.get(0))
        .unwrap();
    assert_eq!(ends.len(), 24);
    for until in ends {
        let check = call(&conn, limits::check, json!({ "orgId": "acme", "metric": "tok", "period": "daily", "untilMs": until })).unwrap();
        assert!(check["usedQuantity"].as_f64().unwrap() <= 10.0, "window ending at {until}: {check}");
    }
}}

on_both! {
fn idempotency_keys_record_an_event_once() {
    let conn = seeded_any();
    let event = json!({ "orgId": "acme", "projectId": "web", "metric": "tok", "quantity": 2, "observedAtMs": 10, "idempotencyKey": "k1" });
    let first = call(&conn, usage::record, event.clone()).unwrap();
    assert_eq!(first["duplicate"], json!(false));
    let again = call(&conn, usage::record, event.clone()).unwrap();
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["duplicate"], json!(true));
    let mut changed = event.clone();
    changed["quantity"] = json!(3);
    let conflict = call(&conn, usage::record, changed).unwrap_err();
    assert_eq!(conflict.code, "IDEMPOTENCY_CONFLICT");
    assert_eq!(conflict.details.unwrap()["existingId"], first["id"]);
    // The same key in a batch, and through consumeUsage, returns the original too.
    let batch = call(&conn, usage::record_batch, json!({ "events": [event.clone(), { "orgId": "acme", "metric": "tok", "quantity": 1, "idempotencyKey": "k2" }] })).unwrap();
    assert_eq!(batch[0]["id"], first["id"]);
    assert_eq!(batch[0]["duplicate"], json!(true));
    assert_eq!(batch[1]["duplicate"], json!(false));
    let consumed = call(&conn, consume::consume, event).unwrap();
    assert_eq!(consumed["event"]["id"], first["id"]);
    // Another org may use the same key.
    call(&conn, orgs::create, json!({ "orgId": "beta", "slug": "beta", "name": "Beta" })).unwrap();
    let other = call(&conn, usage::record, json!({ "orgId": "beta", "metric": "tok", "quantity": 2, "idempotencyKey": "k1" })).unwrap();
    assert_ne!(other["id"], first["id"]);
    let rows: Vec<(String, i64)> = conn
        .rows("SELECT org_id, COUNT(*) AS n FROM _smithers_cp_usage_events WHERE idempotency_key IS NOT NULL GROUP BY org_id ORDER BY org_id", &[], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    assert_eq!(rows, vec![("acme".to_string(), 2), ("beta".to_string(), 1)]);
    assert_eq!(call(&conn, usage::summarize, json!({ "orgId": "acme" })).unwrap()[0]["quantity"], json!(3.0));
}}

on_both! {
/// On PostgreSQL a create is one call of a server-side function (`create_postgres`): the
/// same refusals, with the same details, and nothing written when it refuses.
fn creates_refuse_alike_and_write_nothing_when_they_refuse() {
    let conn = seeded_any(); // acme, with the project "web"
    call(&conn, quotas::set, json!({ "orgId": "acme", "maxTeams": 1, "maxProjects": 2 })).unwrap();
    let team = call(&conn, teams::create, json!({ "orgId": "acme", "teamId": "core", "slug": "core", "name": "Core", "actorId": "ann" })).unwrap();
    assert_eq!(team["teamId"], json!("core"));
    let events = count(&conn, "_smithers_cp_audit_events");
    let err = |r: Result<Value, CpError>| {
        let e = r.unwrap_err();
        (e.code, e.details.unwrap_or(Value::Null))
    };
    assert_eq!(
        err(call(&conn, teams::create, json!({ "orgId": "acme", "slug": "more", "name": "More" }))),
        ("QUOTA_EXCEEDED".into(), json!({ "orgId": "acme", "resource": "maxTeams", "limit": 1, "used": 1 }))
    );
    let (code, details) = err(call(&conn, projects::create, json!({ "orgId": "acme", "slug": "web", "name": "Again" })));
    assert_eq!((code, &details["slug"]), ("DUPLICATE_ID", &json!("web")));
    let (code, details) = err(call(&conn, projects::create, json!({ "orgId": "acme", "projectId": "web", "slug": "web2", "name": "Again" })));
    assert_eq!((code, &details["id"]), ("DUPLICATE_ID", &json!("web")));
    assert_eq!(
        err(call(&conn, projects::create, json!({ "orgId": "nobody", "slug": "x", "name": "X" }))),
        ("INVALID_INPUT".into(), json!({ "orgId": "nobody" }))
    );
    assert_eq!(count(&conn, "_smithers_cp_audit_events"), events, "a refused create writes no audit event");
    assert_eq!(count(&conn, "_smithers_cp_teams"), 1);
    // The second project fits the quota of 2; a third does not.
    call(&conn, projects::create, json!({ "orgId": "acme", "projectId": "api", "slug": "api", "name": "Api" })).unwrap();
    assert_eq!(err(call(&conn, projects::create, json!({ "orgId": "acme", "slug": "third", "name": "T" }))).0, "QUOTA_EXCEEDED");
    let (action, actor, target): (String, Option<String>, Option<String>) = conn
        .one("SELECT action, actor_id, target_id FROM _smithers_cp_audit_events ORDER BY id DESC LIMIT 1", &[], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap();
    assert_eq!((action.as_str(), actor, target.as_deref()), ("project.create", None, Some("api")));
    call(&conn, orgs::suspend, json!({ "orgId": "acme", "reason": "billing" })).unwrap();
    assert_eq!(
        err(call(&conn, teams::create, json!({ "orgId": "acme", "slug": "s", "name": "S" }))),
        ("ORG_SUSPENDED".into(), json!({ "orgId": "acme", "reason": "billing" }))
    );
    call(&conn, orgs::unsuspend, json!({ "orgId": "acme" })).unwrap();
    call(&conn, quotas::set, json!({ "orgId": "acme", "maxTeams": null })).unwrap();
    call(&conn, teams::create, json!({ "orgId": "acme", "slug": "s", "name": "S" })).unwrap();
    assert_eq!(call(&conn, audit::verify, json!({ "orgId": "acme" })).unwrap()["ok"], json!(true));
}}

on_both! {
/// The chain's hash is computed by Rust on SQLite and by the server on PostgreSQL
/// (`chain::postgres`); `verify` recomputes it in Rust, so every character the JSON
/// escapes, and the origin's forms, must hash alike.
fn the_audit_chain_hashes_every_character_alike() {
    let conn = seeded_any();
    let odd = "q\"b\\s/n\nt\tr\rb\u{8}f\u{c}c\u{1}\u{1f}d\u{7f} é 日本 🦀 '";
    let inputs = [
        json!({ "orgId": "acme", "action": odd, "targetType": odd, "targetId": "t-1", "metadata": { "k": odd, odd: [1, 2.5, null] } }),
        json!({ "orgId": "acme", "projectId": "web", "actorId": "a-1", "action": "x", "targetType": "y", "ipAddress": odd }),
        json!({ "orgId": "acme", "action": "x", "targetType": "y", "userAgent": "Mozilla/5.0 \"quoted\"", "requestId": "r-1" }),
        json!({ "orgId": "acme", "action": "a", "targetType": "b", "occurredAtMs": 9_007_199_254_740_991_i64 }),
    ];
    for input in inputs {
        call(&conn, audit::record, input).unwrap();
    }
    let report = call(&conn, audit::verify, json!({ "orgId": "acme" })).unwrap();
    assert_eq!(report, json!({ "ok": true, "checked": 6, "unchained": 0, "redacted": 0 }));
}}

on_both! {
fn purge_removes_expired_audit_events_in_batches_and_the_chain_still_verifies() {
    const DAY: i64 = 86_400_000;
    let conn = seeded_any();
    call(&conn, orgs::create, json!({ "orgId": "keep", "slug": "keep", "name": "Keep", "createdAtMs": 1 })).unwrap();
    for i in 0..25 {
        for org in ["acme", "keep"] {
            call(&conn, audit::record, json!({ "orgId": org, "action": "run.start", "targetType": "run", "occurredAtMs": i * DAY })).unwrap();
        }
    }
    let retention = call(&conn, retention::set, json!({ "orgId": "acme", "auditDays": 10, "updatedAtMs": 30 * DAY })).unwrap();
    assert_eq!(retention, json!({ "orgId": "acme", "auditDays": 10, "usageDays": null, "updatedAtMs": 30 * DAY }));
    let now = 30 * DAY;
    let old = |org: &str| -> i64 {
        conn.one("SELECT COUNT(*) AS n FROM _smithers_cp_audit_events WHERE org_id = ?1 AND occurred_at_ms < ?2", crate::params![org, now - 10 * DAY], |r| r.get(0)).unwrap()
    };
    // The org and project events at time 1 and 2, and days 0 to 19: 22 events past the cutoff.
    assert_eq!(old("acme"), 22);
    let dry = call(&conn, retention::purge, json!({ "nowMs": now, "dryRun": true })).unwrap();
    assert_eq!(dry["deleted"]["_smithers_cp_audit_events"], json!(22));
    assert_eq!(old("acme"), 22);
    // Two batches of 8, then stopped; then the rest.
    let first = call(&conn, retention::purge, json!({ "nowMs": now, "batchSize": 8, "maxBatches": 2 })).unwrap();
    assert_eq!((first["done"].clone(), first["deleted"]["_smithers_cp_audit_events"].clone()), (json!(false), json!(16)));
    assert_eq!(call(&conn, audit::verify, json!({ "orgId": "acme" })).unwrap()["ok"], json!(true));
    let rest = call(&conn, retention::purge, json!({ "nowMs": now, "batchSize": 8 })).unwrap();
    assert_eq!((rest["done"].clone(), rest["deleted"]["_smithers_cp_audit_events"].clone()), (json!(true), json!(6)));
    assert_eq!(old("acme"), 0);
    assert_eq!(old("keep"), 21); // no retention: untouched
    let report = call(&conn, audit::verify, json!({ "orgId": "acme" })).unwrap();
    assert_eq!((report["ok"].clone(), report["redacted"].clone()), (json!(true), json!(22)));
    assert_eq!(call(&conn, audit::verify, json!({ "orgId": "keep" })).unwrap()["ok"], json!(true));
}}

on_both! {
fn purging_usage_keeps_every_window_total_exact() {
    const DAY: i64 = 86_400_000;
    let conn = seeded_any();
    call(&conn, projects::create, json!({ "orgId": "acme", "projectId": "api", "slug": "api", "name": "API" })).unwrap();
    let mut rng = Rng(0x5EED_CAFE);
    // 60 days: sparse events over all of it, and dense bursts (ms apart) on a few days.
    let mut events = Vec::new();
    for i in 0..1_500 {
        let at = if i % 3 == 0 { (rng.below(5) as i64 + 20) * DAY + rng.below(2_000) as i64 } else { rng.below(60 * DAY as u64) as i64 };
        let project = match rng.below(3) { 0 => Value::Null, 1 => json!("web"), _ => json!("api") };
        events.push(json!({ "orgId": "acme", "projectId": project, "metric": "tok", "quantity": 1 + rng.below(9), "observedAtMs": at }));
    }
    for chunk in events.chunks(500) {
        call(&conn, usage::record_batch, json!({ "events": chunk, "returning": "ids" })).unwrap();
    }
    let mut windows = Vec::new();
    for _ in 0..300 {
        let a = rng.below(62 * DAY as u64) as i64;
        // Ends near event times, to split tenths of a second.
        let b = if rng.below(2) == 0 { a + rng.below(3 * DAY as u64) as i64 } else { events[rng.below(1_500) as usize]["observedAtMs"].as_i64().unwrap() + rng.below(3) as i64 - 1 };
        windows.push((a.min(b).max(0), a.max(b)));
    }
    let totals = |conn: &Db| -> Vec<(f64, f64, f64)> {
        windows
            .iter()
            .map(|&(since, until)| {
                let window = crate::metering::usage::Window { since_ms: since, until_ms: until };
                (
                    crate::metering::usage::used(conn, "acme", None, "tok", "count", window).unwrap(),
                    crate::metering::usage::used(conn, "acme", Some("web"), "tok", "count", window).unwrap(),
                    call(conn, usage::summarize, json!({ "orgId": "acme", "sinceMs": since, "untilMs": until, "groupBy": [] })).unwrap()
                        .as_array().unwrap().first().map_or(0.0, |r| r["quantity"].as_f64().unwrap()),
                )
            })
            .collect()
    };
    let before = totals(&conn);
    call(&conn, retention::set, json!({ "orgId": "acme", "usageDays": 30 })).unwrap();
    let now = 60 * DAY + 5;
    let purged = call(&conn, retention::purge, json!({ "nowMs": now, "batchSize": 200 })).unwrap();
    let gone = purged["deleted"]["_smithers_cp_usage_events"].as_i64().unwrap();
    assert!(gone > 500, "{purged}");
    let left: i64 = conn.one("SELECT COUNT(*) AS n FROM _smithers_cp_usage_events WHERE observed_at_ms < ?1", crate::params![30 * DAY], |r| r.get(0)).unwrap();
    assert_eq!(left, 0);
    assert_eq!(totals(&conn), before);
    // The check counts the purged sums, and a rebuild keeps them.
    assert_eq!(call(&conn, rollups::check, json!({})).unwrap(), json!({ "consistent": true, "repaired": false }));
    conn.script("UPDATE _smithers_cp_usage_rollups SET quantity = 0 WHERE level = 86400000").unwrap();
    assert_eq!(call(&conn, rollups::check, json!({})).unwrap()["repaired"], json!(true));
    assert_eq!(totals(&conn), before);
    // Deleting a project takes its purged sums out of the org's too.
    let web_total = before.iter().map(|t| t.1).fold(0.0, f64::max);
    assert!(web_total > 0.0);
    call(&conn, crate::deletion::delete_project, json!({ "orgId": "acme", "projectId": "web" })).unwrap();
    let whole = crate::metering::usage::Window { since_ms: 0, until_ms: 70 * DAY };
    let expected: f64 = events.iter().filter(|e| e["projectId"] != json!("web")).map(|e| e["quantity"].as_f64().unwrap()).sum();
    assert_eq!(crate::metering::usage::used(&conn, "acme", None, "tok", "count", whole).unwrap(), expected);
    assert_eq!(crate::metering::usage::used(&conn, "acme", Some("web"), "tok", "count", whole).unwrap(), 0.0);
    assert_eq!(call(&conn, rollups::check, json!({})).unwrap(), json!({ "consistent": true, "repaired": false }));
}}

on_both! {
fn purge_removes_soft_deleted_orgs_past_their_grace_period() {
    const DAY: i64 = 86_400_000;
    let conn = seeded_any();
    call(&conn, orgs::create, json!({ "orgId": "recent", "slug": "recent", "name": "Recent" })).unwrap();
    call(&conn, orgs::delete, json!({ "orgId": "acme", "atMs": DAY })).unwrap();
    call(&conn, orgs::delete, json!({ "orgId": "recent", "atMs": 40 * DAY })).unwrap();
    let purge = call(&conn, retention::purge, json!({ "nowMs": 45 * DAY })).unwrap();
    assert_eq!(purge["orgs"], json!(["acme"]));
    assert_eq!(purge["deleted"]["_smithers_cp_orgs"], json!(1));
    assert_eq!(purge["deleted"]["_smithers_cp_projects"], json!(1));
    assert!(call(&conn, orgs::get_org, json!({ "orgId": "acme" })).unwrap().is_null());
    assert_eq!(call(&conn, orgs::get_org, json!({ "orgId": "recent" })).unwrap()["status"], json!("deleted"));
    let shorter = call(&conn, retention::purge, json!({ "nowMs": 45 * DAY, "deletedOrgGraceDays": 1 })).unwrap();
    assert_eq!(shorter["orgs"], json!(["recent"]));
}}

#[test]
fn fine_levels_are_kept_only_in_dense_minutes_and_a_version_5_file_is_rebuilt_so() {
    let conn = seeded();
    // A sparse minute (3 events) and a dense one (100 events, 10 ms apart).
    for at in [5_000, 20_000, 40_000] {
        call(&conn, usage::record, json!({ "orgId": "acme", "metric": "tok", "quantity": 1, "observedAtMs": at })).unwrap();
    }
    let dense: Vec<Value> = (0..100).map(|i| json!({ "orgId": "acme", "metric": "tok", "quantity": 1, "observedAtMs": 120_000 + 10 * i })).collect();
    call(&conn, usage::record_batch, json!({ "events": dense, "returning": "ids" })).unwrap();
    call(&conn, rollups::check, json!({})).unwrap();
    let fine_rows = |conn: &SqliteEngine, minute: i64| -> i64 {
        conn.query_row(
            "SELECT COUNT(*) FROM _smithers_cp_usage_rollups WHERE level IN (100, 1000) AND bucket_start_ms >= ?1 AND bucket_start_ms < ?1 + 60000",
            [minute],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(fine_rows(&conn, 0), 0);
    assert!(fine_rows(&conn, 120_000) > 0);
    let marked: Vec<i64> = conn
        .prepare("SELECT minute_start_ms FROM _smithers_cp_usage_dense_minutes")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(marked, vec![120_000]);
    // Every window over both minutes, edges inside them included, sums like the raw rows.
    for (since, until) in [(0, 200_000), (4_000, 30_000), (19_999, 20_000), (121_005, 121_555), (0, 120_499), (120_500, 500_000)] {
        let window = crate::metering::usage::Window { since_ms: since, until_ms: until };
        assert_eq!(crate::metering::usage::used(&conn, "acme", None, "tok", "count", window).unwrap(), raw_sum(&conn, "acme", None, "tok", since, until), "{since}..{until}");
    }
    // A version 5 file (fine levels everywhere, no dense minutes) is rebuilt on open.
    conn.execute_batch(
        "DROP TABLE _smithers_cp_usage_dense_minutes;
         INSERT INTO _smithers_cp_usage_rollups (series, level, bucket_start_ms, quantity, events, min_at_ms, max_at_ms)
           SELECT series, 1000, 5000, 1, 1, 5000, 5000 FROM _smithers_cp_usage_rollups WHERE level = 60000 AND bucket_start_ms = 0;
         UPDATE _smithers_cp_native_meta SET value = '5' WHERE key = 'schema_version';",
    )
    .unwrap();
    schema::ensure(&conn).unwrap();
    assert_eq!(fine_rows(&conn, 0), 0);
    assert!(fine_rows(&conn, 120_000) > 0);
    assert_eq!(call(&conn, rollups::check, json!({})).unwrap(), json!({ "consistent": true, "repaired": false }));
}

/// Our connection, binding every integer parameter as REAL, as a JavaScript handle may
/// (better-sqlite3 binds numbers so): the window sums must not change.
struct RealNumbers(SqliteEngine);

impl crate::engine::Engine for RealNumbers {
    fn run(&self, sql: &str, params: &[crate::engine::SqlValue]) -> crate::error::Result<crate::engine::Done> {
        self.0.run(sql, &reals(params))
    }
    fn query(
        &self,
        sql: &str,
        params: &[crate::engine::SqlValue],
        each: &mut dyn FnMut(&dyn crate::engine::Row) -> crate::error::Result<bool>,
    ) -> crate::error::Result<()> {
        self.0.query(sql, &reals(params), each)
    }
    fn script(&self, sql: &str) -> crate::error::Result<()> {
        self.0.script(sql)
    }
    fn begin(&self, scope: crate::engine::Scope<'_>) -> crate::error::Result<crate::engine::Opened> {
        self.0.begin(scope)
    }
    fn end(&self, opened: crate::engine::Opened, commit: bool) -> crate::error::Result<()> {
        self.0.end(opened, commit)
    }
}

fn reals<'a>(params: &[crate::engine::SqlValue<'a>]) -> Vec<crate::engine::SqlValue<'a>> {
    use crate::engine::SqlValue;
    params.iter().map(|v| if let SqlValue::Int(i) = v { SqlValue::Real(*i as f64) } else { *v }).collect()
}

#[test]
fn window_sums_hold_when_numbers_are_bound_as_real() {
    let conn = RealNumbers(seeded());
    let day = crate::metering::rollups::DAY;
    let start = 20_000 * day + 12_345;
    for i in 0..300i64 {
        let at = start + if i < 150 { i * 997_331 } else { 150 * 997_331 + (i - 150) * 211 };
        let event = json!({ "orgId": "acme", "projectId": if i % 3 == 0 { None } else { Some("web") }, "metric": "tok", "quantity": 1 + i % 5, "observedAtMs": at });
        request::call(&conn, &event, usage::record).unwrap();
    }
    for (project, period) in [(Some("web"), "daily"), (None, "weekly")] {
        let limit = json!({ "orgId": "acme", "projectId": project, "metric": "tok", "period": period, "limitQuantity": 0 });
        request::call(&conn, &limit, limits::set).unwrap();
    }
    for k in 0..40i64 {
        let until = start + k * 3 * day / 40 + (k % 7) * 13_337;
        let check = json!({ "orgId": "acme", "projectId": "web", "metric": "tok", "period": "daily", "untilMs": until });
        let out = serde_json::to_value(request::call(&conn, &check, limits::check).unwrap()).unwrap();
        assert_eq!(out["usedQuantity"].as_f64().unwrap(), raw_sum(&conn.0, "acme", Some("web"), "tok", (until - day).max(0), until), "until {until}");
        let consume = json!({ "orgId": "acme", "projectId": "web", "metric": "tok", "quantity": 1, "observedAtMs": until });
        let out = serde_json::to_value(request::call(&conn, &consume, consume::consume).unwrap()).unwrap();
        for c in out["checks"].as_array().unwrap() {
            let period = crate::validate::period_ms(c["period"].as_str().unwrap()).unwrap();
            let scope = c["projectId"].as_str();
            assert_eq!(c["usedQuantity"].as_f64().unwrap(), raw_sum(&conn.0, "acme", scope, "tok", (until - period).max(0), until));
            assert_eq!(c["laterQuantity"].as_f64().unwrap(), raw_sum(&conn.0, "acme", scope, "tok", until + 1, until + period));
        }
    }
}
