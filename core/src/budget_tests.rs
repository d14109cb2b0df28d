//! The statements each call on the request path runs, counted on a wrapper around a
//! connection: on SQLite the core runs the same statements on our connection and on a
//! caller's handle, so these are the budgets on the handle too (where every statement is a
//! call into JS); on PostgreSQL each statement, `BEGIN` and `COMMIT` is a round trip to
//! the server, so there the count is the call's round trips.

use crate::db::Db;
use crate::engine::sqlite::SqliteEngine;
use crate::engine::{sqlite_scope, Done, Engine, Memo, Opened, Row, Scope, SqlValue};
use crate::error::Result;
use crate::metering::{consume, limits, usage};
use crate::request::{self, FromInput, RequestContext};
use crate::tenancy::{orgs, projects};
use serde::Serialize;
use serde_json::{json, Value};
use std::cell::Cell;

/// A connection, counting the statements run through it (BEGIN and COMMIT included).
struct Counting<E: Engine = SqliteEngine> {
    inner: E,
    statements: Cell<usize>,
}

impl<E: Engine> Engine for Counting<E> {
    fn dialect(&self) -> crate::engine::Dialect {
        self.inner.dialect()
    }
    fn run(&self, sql: &str, params: &[SqlValue]) -> Result<Done> {
        self.statements.set(self.statements.get() + 1);
        self.inner.run(sql, params)
    }
    fn query(&self, sql: &str, params: &[SqlValue], each: &mut dyn FnMut(&dyn Row) -> Result<bool>) -> Result<()> {
        self.statements.set(self.statements.get() + 1);
        self.inner.query(sql, params, each)
    }
    fn script(&self, sql: &str) -> Result<()> {
        self.statements.set(self.statements.get() + 1);
        self.inner.script(sql)
    }
    fn begin(&self, scope: Scope<'_>) -> Result<Opened> {
        let opened = self.inner.begin(scope)?;
        self.statements.set(self.statements.get() + usize::from(opened != Opened::Nothing));
        Ok(opened)
    }
    fn end(&self, opened: Opened, commit: bool) -> Result<()> {
        let closing = match self.inner.dialect() {
            crate::engine::Dialect::Sqlite => sqlite_scope::closing(opened, commit).len(),
            // One batch: `COMMIT`, `ROLLBACK` or a savepoint's release.
            crate::engine::Dialect::Postgres => usize::from(opened != Opened::Nothing),
        };
        self.statements.set(self.statements.get() + closing);
        self.inner.end(opened, commit)
    }
    fn memo(&self) -> Option<&Memo> {
        self.inner.memo()
    }
    fn statement_lock_timeout(&self) -> Option<String> {
        self.inner.statement_lock_timeout()
    }
}

impl Counting {
    fn open() -> Counting {
        let conn = Counting { inner: SqliteEngine::open(":memory:").unwrap(), statements: Cell::new(0) };
        crate::schema::ensure(&conn).unwrap();
        conn
    }

}

impl<E: Engine> Counting<E> {
    /// Runs an operation; its result and the statements it ran.
    fn call<R: FromInput, T: Serialize>(&self, op: fn(&Db, &RequestContext, R) -> Result<T>, input: Value) -> (Value, usize) {
        let before = self.statements.get();
        let out = request::call(self, &input, op).map(|out| serde_json::to_value(out).unwrap()).unwrap();
        (out, self.statements.get() - before)
    }
}

fn event(i: i64, key: Option<String>) -> Value {
    json!({ "orgId": "acme", "projectId": "web", "metric": "tok", "unit": "token", "quantity": 1 + i % 7,
            "observedAtMs": 1_000_000 + i * 250, "metadata": { "model": "m" }, "idempotencyKey": key })
}

#[test]
fn the_request_path_runs_its_budget_of_statements() {
    let conn = Counting::open();
    // createOrg: BEGIN, the org, its audit event (hash and head in the one INSERT), COMMIT;
    // the connection's first audit event reads the chain's state once more.
    let (_, first) = conn.call(orgs::create, json!({ "orgId": "acme", "slug": "acme", "name": "Acme", "createdAtMs": 1 }));
    assert_eq!(first, 5);
    for i in 0..20 {
        let (_, n) = conn.call(orgs::create, json!({ "slug": format!("org-{i}"), "name": "O", "createdAtMs": 2 }));
        assert_eq!(n, 4, "createOrg {i}");
    }
    conn.call(projects::create, json!({ "orgId": "acme", "projectId": "web", "slug": "web", "name": "Web", "createdAtMs": 2 }));
    for (project, period) in [(Some("web"), "daily"), (None, "monthly")] {
        let limit = json!({ "orgId": "acme", "projectId": project, "metric": "tok", "unit": "token", "period": period, "limitQuantity": 1e12 });
        conn.call(limits::set, limit);
    }

    // recordUsage: one INSERT; every 16th id also one fold. The connection's first fold
    // finds no fold view (a new store's schema has none), reads what the connection lacks
    // and creates it (`ready_to_fold`), then runs again: three more.
    let mut folds = 0;
    for i in 0..200 {
        let (out, n) = conn.call(usage::record, event(i, None));
        let crossed = out["id"].as_i64().unwrap() % crate::metering::rollups::TAIL_MAX == 0;
        let first_fold = crossed && folds == 0;
        folds += usize::from(crossed);
        assert_eq!(n, 1 + usize::from(crossed) + 3 * usize::from(first_fold), "recordUsage {i}");
    }
    assert!(folds >= 12);
    // With a key: the same one statement the first time; a repeat looks up the original.
    let (first, n) = conn.call(usage::record, event(500, Some("k-1".into())));
    assert_eq!((first["duplicate"].clone(), n), (json!(false), 1));
    let (again, n) = conn.call(usage::record, event(500, Some("k-1".into())));
    assert_eq!((again["duplicate"].clone(), again["id"].clone(), n), (json!(true), first["id"].clone(), 3));

    // checkUsageLimit: one statement, no transaction.
    for until in [1_020_000, 1_050_321, 80_000_000] {
        let check = json!({ "orgId": "acme", "projectId": "web", "metric": "tok", "unit": "token", "period": "daily", "untilMs": until });
        let (out, n) = conn.call(limits::check, check);
        assert!(out["usedQuantity"].as_f64().unwrap() > 0.0);
        assert_eq!(n, 1, "checkUsageLimit until {until}");
    }
    let missing = json!({ "orgId": "acme", "metric": "other", "unit": "token" });
    assert_eq!(conn.call(limits::check, missing), (Value::Null, 1));

    // consumeUsage: BEGIN, one read of the org, key and limits, each limit's window (two
    // here; nothing lies after the events), the INSERT, COMMIT (plus a fold on every 16th id).
    for i in 0..100 {
        let (out, n) = conn.call(consume::consume, event(1_000 + i, None));
        assert_eq!(out["allowed"], json!(true));
        assert_eq!(out["checks"].as_array().unwrap().len(), 2);
        let crossed = out["event"]["id"].as_i64().unwrap() % crate::metering::rollups::TAIL_MAX == 0;
        assert_eq!(n, 6 + usize::from(crossed), "consumeUsage {i}");
    }
}

/// On PostgreSQL the request path's calls are one round trip each once the connection has
/// prepared its statements: `recordUsage` and `consumeUsage` (a server-side function) and
/// `checkUsageLimit`, whatever the limits; a fold never adds one.
#[test]
fn on_postgres_the_request_path_is_one_round_trip_a_call() {
    use crate::engine::postgres::{testing, PgOptions, PostgresPool};
    let url = testing::shared().fresh_database();
    let pool = PostgresPool::connect(&url, PgOptions { pool_size: 1, ..Default::default() }).unwrap();
    let conn = Counting { inner: pool.get().unwrap(), statements: Cell::new(0) };
    crate::schema::ensure(&conn).unwrap();
    conn.call(orgs::create, json!({ "orgId": "acme", "slug": "acme", "name": "Acme", "createdAtMs": 1 }));
    conn.call(projects::create, json!({ "orgId": "acme", "projectId": "web", "slug": "web", "name": "Web", "createdAtMs": 2 }));
    for (project, period) in [(Some("web"), "daily"), (None, "monthly")] {
        let limit = json!({ "orgId": "acme", "projectId": project, "metric": "tok", "unit": "token", "period": period, "limitQuantity": 1e12 });
        conn.call(limits::set, limit);
    }
    // The first call of each prepares its statement on the connection (one more trip).
    conn.call(usage::record, event(0, None));
    conn.call(consume::consume, event(1, None));
    let check = json!({ "orgId": "acme", "projectId": "web", "metric": "tok", "unit": "token", "period": "daily", "untilMs": 2_000_000 });
    conn.call(limits::check, check.clone());

    // Forty of each, two orgs taking turns (ids are numbered across orgs): each call is one
    // round trip, and folds the org's tail in it once it holds `TAIL_MAX` events, so
    // neither org's tail ever reaches that.
    let tail_max = crate::metering::rollups::TAIL_MAX;
    conn.call(orgs::create, json!({ "orgId": "beta", "slug": "beta", "name": "Beta", "createdAtMs": 1 }));
    let beta = |i: i64| json!({ "orgId": "beta", "metric": "tok", "unit": "token", "quantity": 1, "observedAtMs": 1_000_000 + i });
    let tails_short = |after: &str| {
        for org in ["acme", "beta"] {
            let (watermark, max_id) = crate::metering::rollups::tail(&conn, org).unwrap();
            assert!(max_id - watermark < tail_max, "{org}'s tail after {after}: ({watermark}, {max_id}]");
        }
    };
    for i in 0..40 {
        assert_eq!(conn.call(usage::record, event(2 + i, None)).1, 1, "recordUsage {i}");
        assert_eq!(conn.call(usage::record, beta(i)).1, 1, "recordUsage of beta {i}");
        tails_short(&format!("recordUsage {i}"));
    }
    for i in 0..40 {
        let (out, n) = conn.call(consume::consume, event(42 + i, None));
        assert_eq!((out["allowed"].clone(), out["checks"].as_array().unwrap().len()), (json!(true), 2));
        assert_eq!(n, 1, "consumeUsage {i}");
        assert_eq!(conn.call(consume::consume, beta(40 + i)).1, 1, "consumeUsage of beta {i}");
        tails_short(&format!("consumeUsage {i}"));
    }
    for i in 0..40 {
        let (out, n) = conn.call(limits::check, check.clone());
        assert!(out["usedQuantity"].as_f64().unwrap() > 0.0);
        assert_eq!(n, 1, "checkUsageLimit {i}");
    }
    // recordAuditEvent: one call of a server-side function, the chain's hash included.
    let audit = |i: i64| json!({ "orgId": "acme", "action": format!("a{i}"), "targetType": "t", "occurredAtMs": 5 + i });
    conn.call(crate::audit::record, audit(0));
    for i in 1..10 {
        assert_eq!(conn.call(crate::audit::record, audit(i)).1, 1, "recordAuditEvent {i}");
    }
    // createTeam and createProject: one call of a server-side function (the org's locks,
    // its state and quota, the row, its audit event), with a quota set.
    conn.call(crate::tenancy::quotas::set, json!({ "orgId": "acme", "maxTeams": 10, "maxProjects": 10 }));
    conn.call(crate::tenancy::teams::create, json!({ "orgId": "acme", "slug": "t", "name": "T" }));
    for i in 0..3 {
        let (_, n) = conn.call(crate::tenancy::teams::create, json!({ "orgId": "acme", "slug": format!("t{i}"), "name": "T" }));
        assert_eq!(n, 1, "createTeam {i}");
        let (_, n) = conn.call(projects::create, json!({ "orgId": "acme", "slug": format!("p{i}"), "name": "P" }));
        assert_eq!(n, 1, "createProject {i}");
    }
    // A refused event is one round trip too, and says why.
    let limit = json!({ "orgId": "acme", "metric": "tok", "unit": "token", "period": "daily", "limitQuantity": 1 });
    conn.call(limits::set, limit);
    let (out, n) = conn.call(consume::consume, event(500, None));
    assert_eq!((out["allowed"].clone(), out["event"].clone(), n), (json!(false), Value::Null, 1));
    assert!(out["checks"].as_array().unwrap().iter().any(|c| c["allowed"] == json!(false)));
}
