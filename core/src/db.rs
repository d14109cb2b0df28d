//! Running the core's work in transactions, on whichever engine the store was built on.

pub use crate::engine::Db;
use crate::error::Result;
use crate::engine::Scope;
use crate::params;

/// Runs `f` as one atomic write. Outside the owner's transaction this is a transaction
/// that takes the write lock up front (`BEGIN IMMEDIATE` on SQLite), so two processes
/// cannot both read and then both write. Inside the owner's transaction (a shared handle
/// or `Database`) it is a savepoint, so our work commits or rolls back with theirs and a
/// failure of ours undoes only our part.
pub(crate) fn write<T>(db: &Db, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
    scoped(db, Scope::Write, f)
}

/// Runs `f` as one atomic write of `org_id`'s rows: `write`, except that on PostgreSQL it
/// waits only for writers of the same org (and for work that spans orgs), never for
/// writers of other orgs. Everything `f` writes must belong to that org.
pub(crate) fn write_org<T>(db: &Db, org_id: &str, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
    scoped(db, Scope::WriteOrg(org_id), f)
}

/// Runs several reads against one snapshot of the database.
pub(crate) fn read<T>(db: &Db, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
    scoped(db, Scope::Read, f)
}

fn scoped<T>(db: &Db, scope: Scope<'_>, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
    let opened = db.begin(scope)?;
    match f(db) {
        Ok(value) => match db.end(opened, true) {
            Ok(()) => Ok(value),
            Err(err) => {
                let _ = db.end(opened, false);
                Err(err)
            }
        },
        Err(err) => {
            let _ = db.end(opened, false);
            Err(err)
        }
    }
}

/// Whether the database has a table of that name (SQLite's catalog: the upgrade steps read
/// what an earlier version left).
pub(crate) fn table_exists(conn: &Db, name: &str) -> Result<bool> {
    conn.exists("SELECT 1 AS found FROM sqlite_master WHERE type = 'table' AND name = ?1", params![name])
}

pub(crate) fn has_column(conn: &Db, table: &str, column: &str) -> Result<bool> {
    conn.exists("SELECT 1 AS found FROM pragma_table_info(?1) WHERE name = ?2", params![table, column])
}
