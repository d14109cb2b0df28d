//! Core behaviour through `store::call`, without Node: the same contract the JS suites
//! check, at the Rust level.

use super::error::CpError;
use super::{db, schema, store};
use rusqlite::Connection;
use serde_json::{json, Value};

fn open() -> Connection {
    let conn = db::open(":memory:").unwrap();
    schema::ensure(&conn).unwrap();
    conn
}

fn call(conn: &Connection, method: &str, input: Value) -> Result<Value, CpError> {
    store::call_value(conn, method, &input).map(|out| serde_json::from_str(&out).unwrap())
}

fn count(conn: &Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

fn seeded() -> Connection {
    let conn = open();
    call(&conn, "createOrg", json!({ "orgId": "acme", "slug": "acme", "name": "Acme", "createdAtMs": 1 })).unwrap();
    call(&conn, "createProject", json!({ "orgId": "acme", "projectId": "web", "slug": "web", "name": "Web", "createdAtMs": 2 }))
        .unwrap();
    conn
}

#[test]
fn every_documented_method_is_dispatched() {
    let conn = seeded();
    for method in store::METHODS {
        let err = call(&conn, method, json!({ "orgId": "bad id" }));
        // Each method validates its input rather than being unknown.
        if let Err(e) = err {
            assert!(!e.summary.starts_with("Unknown"), "{method}: {}", e.summary);
        }
    }
    assert_eq!(call(&conn, "nope", json!({})).unwrap_err().summary, "Unknown control-plane method: nope");
}

#[test]
fn create_org_writes_the_row_and_its_audit_event() {
    let conn = open();
    let org = call(&conn, "createOrg", json!({ "orgId": "acme", "slug": "acme", "name": " Acme ", "createdAtMs": 5.7 })).unwrap();
    assert_eq!(org, json!({ "orgId": "acme", "slug": "acme", "name": "Acme", "createdAtMs": 5 }));
    let (action, actor, at): (String, String, i64) = conn
        .query_row("SELECT action, actor_id, occurred_at_ms FROM _smithers_cp_audit_events", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .unwrap();
    assert_eq!((action.as_str(), actor.as_str(), at), ("org.create", "system", 5));
    assert_eq!(call(&conn, "getOrg", json!({ "orgId": "acme" })).unwrap(), org);
    assert_eq!(call(&conn, "getOrg", json!({ "orgId": "nope" })).unwrap(), Value::Null);
}

#[test]
fn duplicates_and_missing_parents_are_typed() {
    let conn = seeded();
    let dup = call(&conn, "createOrg", json!({ "slug": "acme", "name": "X" })).unwrap_err();
    assert_eq!((dup.code, dup.summary.as_str()), ("DUPLICATE_ID", "Duplicate control-plane org slug: acme"));
    let dup = call(&conn, "createProject", json!({ "orgId": "acme", "projectId": "web", "slug": "w2", "name": "W" })).unwrap_err();
    assert_eq!(dup.details, Some(json!({ "kind": "control-plane.project", "id": "web", "orgId": "acme" })));
    let missing = call(&conn, "createTeam", json!({ "orgId": "ghost", "slug": "t", "name": "T" })).unwrap_err();
    assert_eq!(missing, CpError::org_not_found("ghost"));
    let missing = call(&conn, "recordUsage", json!({ "orgId": "acme", "projectId": "x", "metric": "m", "quantity": 1 })).unwrap_err();
    assert_eq!(missing, CpError::project_not_found("acme", "x"));
    let missing = call(&conn, "addTeamMember", json!({ "orgId": "acme", "teamId": "t", "userId": "u" })).unwrap_err();
    assert_eq!(missing, CpError::team_not_found("acme", "t"));
    assert_eq!(count(&conn, "_smithers_cp_teams") + count(&conn, "_smithers_cp_usage_events"), 0);
    assert_eq!(count(&conn, "_smithers_cp_audit_events"), 2);
}

#[test]
fn a_failing_audit_insert_rolls_back_the_row() {
    let conn = seeded();
    conn.execute_batch(
        "CREATE TRIGGER fail BEFORE INSERT ON _smithers_cp_audit_events BEGIN SELECT RAISE(ABORT, 'no audit'); END;",
    )
    .unwrap();
    let err = call(&conn, "createTeam", json!({ "orgId": "acme", "slug": "t", "name": "T" })).unwrap_err();
    assert_eq!(err.code, "STORAGE_ERROR");
    assert_eq!(count(&conn, "_smithers_cp_teams"), 0);
    assert!(conn.is_autocommit(), "the transaction was closed");
}

#[test]
fn usage_limits_check_the_inclusive_window_per_scope() {
    let conn = seeded();
    call(&conn, "setUsageLimit", json!({ "orgId": "acme", "metric": "tok", "period": "daily", "limitQuantity": 10 })).unwrap();
    call(&conn, "setUsageLimit", json!({ "orgId": "acme", "projectId": "web", "metric": "tok", "period": "daily", "limitQuantity": 3 }))
        .unwrap();
    let day = 86_400_000i64;
    for (project, quantity, at) in [(Some("web"), 2.0, 10 * day), (None, 5.0, 9 * day), (Some("web"), 1.5, 9 * day - 1)] {
        call(&conn, "recordUsage", json!({ "orgId": "acme", "projectId": project, "metric": "tok", "quantity": quantity, "observedAtMs": at }))
            .unwrap();
    }
    let org = call(&conn, "checkUsageLimit", json!({ "orgId": "acme", "metric": "tok", "period": "daily", "untilMs": 10 * day })).unwrap();
    assert_eq!(org["usedQuantity"], json!(7.0));
    assert_eq!(org["remainingQuantity"], json!(3.0));
    let web = call(
        &conn,
        "checkUsageLimit",
        json!({ "orgId": "acme", "projectId": "web", "metric": "tok", "period": "daily", "untilMs": 10 * day, "sinceMs": 0 }),
    )
    .unwrap();
    assert_eq!((web["usedQuantity"].as_f64(), web["exceeded"].as_bool()), (Some(3.5), Some(true)));
    assert_eq!(call(&conn, "checkUsageLimit", json!({ "orgId": "acme", "metric": "tok" })).unwrap(), Value::Null);
}

#[test]
fn secret_refs_are_listed_by_scope() {
    let conn = seeded();
    for (project, name) in [(None, "B"), (Some("web"), "A"), (Some("web"), "B")] {
        call(&conn, "putSecretRef", json!({ "orgId": "acme", "projectId": project, "name": name, "provider": "vault", "ref": "vault://x" }))
            .unwrap();
    }
    let names = |input: Value| -> Vec<String> {
        call(&conn, "listSecretRefs", input).unwrap().as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(json!({ "orgId": "acme" })), ["A", "B", "B"]);
    assert_eq!(names(json!({ "orgId": "acme", "projectId": null })), ["B"]);
    assert_eq!(names(json!({ "orgId": "acme", "projectId": "web" })), ["A", "B"]);
}

#[test]
fn export_reads_one_org_in_documented_order() {
    let conn = seeded();
    call(&conn, "createOrg", json!({ "orgId": "other", "slug": "other", "name": "O" })).unwrap();
    call(&conn, "createProject", json!({ "orgId": "acme", "projectId": "api", "slug": "api", "name": "A", "createdAtMs": 3 })).unwrap();
    call(&conn, "recordAuditEvent", json!({ "orgId": "other", "action": "x", "targetType": "y", "occurredAtMs": 2 })).unwrap();
    let out = call(&conn, "exportOrgAudit", json!({ "orgId": "acme", "exportedAtMs": 9 })).unwrap();
    assert_eq!(out["exportedAtMs"], json!(9));
    let slugs: Vec<&str> = out["projects"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["api", "web"]);
    let actions: Vec<&str> = out["auditEvents"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["org.create", "project.create", "project.create"]);
    assert_eq!(call(&conn, "exportOrgAudit", json!({ "orgId": "ghost" })).unwrap_err(), CpError::org_not_found("ghost"));
}

#[test]
fn malformed_input_json_is_invalid_input() {
    let conn = open();
    let err = store::call(&conn, "createOrg", "{not json").unwrap_err();
    assert_eq!(err.code, "INVALID_INPUT");
    // A lone surrogate escape (what JSON.stringify writes for invalid UTF-16) is refused too.
    let err = store::call(&conn, "createOrg", r#"{"slug":"a","name":"\ud800"}"#).unwrap_err();
    assert_eq!(err.code, "INVALID_INPUT");
}
