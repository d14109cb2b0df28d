//! Feeds arbitrary bytes to the store as a method's JSON input: validation, metadata
//! parsing and every method's checks must answer with a result or a typed error, never
//! panic. The first byte picks the method.
#![no_main]

use control_plane_core::{schema, store};
use control_plane_core::engine::sqlite::SqliteEngine;
use libfuzzer_sys::fuzz_target;

thread_local! {
    static CONN: SqliteEngine = open();
}

fn open() -> SqliteEngine {
    let conn = SqliteEngine::open(":memory:").expect("open");
    schema::ensure(&conn).expect("schema");
    store::call(&conn, "createOrg", r#"{"orgId":"acme","slug":"acme","name":"Acme"}"#).expect("org");
    store::call(&conn, "createProject", r#"{"orgId":"acme","projectId":"web","slug":"web","name":"Web"}"#).expect("project");
    conn
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let method = store::METHODS[pick as usize % store::METHODS.len()];
    let Ok(text) = std::str::from_utf8(rest) else { return };
    CONN.with(|conn| {
        let _ = store::call(conn, method, text);
        assert!(conn.is_autocommit(), "{method} left a transaction open");
    });
});
