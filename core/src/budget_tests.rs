//! The statements each call on the request path runs, counted on a wrapper around our
//! connection: the core runs the same statements on every engine, so these are the
//! budgets on the caller's handle too (where every statement is a call into JS).

use crate::db::Db;
use crate::engine::sqlite::SqliteEngine;
use crate::engine::{sqlite_scope, Done, Engine, Memo, Opened, Row, Scope, SqlValue};
use crate::error::Result;
use crate::metering::{limits, usage};
use crate::request::{self, FromInput, RequestContext};
use crate::tenancy::{orgs, projects};
use serde::Serialize;
use serde_json::{json, Value};
use std::cell::Cell;

/// Our connection, counting the statements run through it (BEGIN and COMMIT included).
struct Counting {
    inner: SqliteEngine,
    statements: Cell<usize>,
}

impl Engine for Counting {
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
        self.statements.set(self.statements.get() + sqlite_scope::closing(opened, commit).len());
        self.inner.end(opened, commit)
    }
    fn memo(&self) -> Option<&Memo> {
        self.inner.memo()
    }
}

impl Counting {
    fn open() -> Counting {
        let conn = Counting { inner: SqliteEngine::open(":memory:").unwrap(), statements: Cell::new(0) };
        crate::schema::ensure(&conn).unwrap();
        conn
    }

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

    // recordUsage: one INSERT; every 16th id also one fold.
    let mut folds = 0;
    for i in 0..200 {
        let (out, n) = conn.call(usage::record, event(i, None));
        let crossed = out["id"].as_i64().unwrap() % crate::metering::rollups::TAIL_MAX == 0;
        folds += usize::from(crossed);
        assert_eq!(n, 1 + usize::from(crossed), "recordUsage {i}");
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
        let (out, n) = conn.call(limits::consume, event(1_000 + i, None));
        assert_eq!(out["allowed"], json!(true));
        assert_eq!(out["checks"].as_array().unwrap().len(), 2);
        let crossed = out["event"]["id"].as_i64().unwrap() % crate::metering::rollups::TAIL_MAX == 0;
        assert_eq!(n, 6 + usize::from(crossed), "consumeUsage {i}");
    }
}
