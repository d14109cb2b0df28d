//! Feeds arbitrary bytes to the store as an operation's JSON input: validation, metadata
//! parsing and every operation's checks must answer with a result or a typed error, never
//! panic. The first byte picks the operation.
#![no_main]

use control_plane_core::audit::{self, export, retention};
use control_plane_core::db::Db;
use control_plane_core::engine::sqlite::SqliteEngine;
use control_plane_core::error::Result;
use control_plane_core::metering::{consume, limits, rollups, usage};
use control_plane_core::request;
use control_plane_core::settings::{billing, identity, secrets};
use control_plane_core::storage;
use control_plane_core::tenancy::{access, orgs, projects, quotas, teams};
use control_plane_core::schema;
use libfuzzer_sys::fuzz_target;

/// One operation on its JSON input text, its result dropped.
type Op = Box<dyn Fn(&Db, &str) -> Result<()>>;

/// The typed operations, each through `request::call_json` as a Rust caller runs one.
macro_rules! typed {
    ($($op:path),* $(,)?) => {
        vec![$((stringify!($op), Box::new(|db: &Db, text: &str| request::call_json(db, text, $op).map(drop)) as Op)),*]
    };
}

/// Every operation, with a name to report it by.
fn operations() -> Vec<(&'static str, Op)> {
    typed![
        orgs::create, orgs::get_org, orgs::get_by_slug, orgs::list, orgs::suspend, orgs::unsuspend, orgs::delete,
        usage::record, usage::record_batch, usage::summarize, consume::consume, limits::set, limits::check,
        limits::list_page, limits::delete, rollups::check, audit::record, audit::query, audit::explain, audit::verify,
        export::export, export::export_to_file, retention::set, retention::get, retention::purge,
        teams::create, teams::add_member, teams::list_page, teams::get, teams::list_members, teams::remove_member, teams::delete,
        projects::create, projects::add_team, projects::list_page, projects::get, projects::list_teams, projects::remove_team,
        control_plane_core::deletion::delete_project, access::list, access::get, quotas::set, quotas::get,
        billing::upsert, billing::get_account, identity::upsert, identity::list, identity::delete,
        secrets::put, secrets::list, secrets::delete, storage::stats, storage::check_integrity,
    ]
}

thread_local! {
    static CONN: SqliteEngine = open();
    static OPS: Vec<(&'static str, Op)> = operations();
}

fn open() -> SqliteEngine {
    let conn = SqliteEngine::open(":memory:").expect("open");
    schema::ensure(&conn).expect("schema");
    request::call_json(&conn, r#"{"orgId":"acme","slug":"acme","name":"Acme"}"#, orgs::create).expect("org");
    request::call_json(&conn, r#"{"orgId":"acme","projectId":"web","slug":"web","name":"Web"}"#, projects::create).expect("project");
    conn
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    OPS.with(|ops| {
        let (name, op) = &ops[pick as usize % ops.len()];
        CONN.with(|conn| {
            let _ = op(conn, text);
            assert!(conn.is_autocommit(), "{name} left a transaction open");
        });
    });
});
