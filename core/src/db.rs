//! Running the core's work in transactions, on whichever engine the store was built on.

pub use crate::engine::Db;
use crate::error::Result;
use crate::engine::Scope;

/// Runs `f` as one atomic write. Outside the owner's transaction this is a transaction
/// that takes the write lock up front (`BEGIN IMMEDIATE` on SQLite), so two processes
/// cannot both read and then both write. Inside the owner's transaction (a shared handle
/// or `Database`) it is a savepoint, so our work commits or rolls back with theirs and a
/// failure of ours undoes only our part.
pub(crate) fn write<T>(db: &Db, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
    scoped(db, Scope::Write, f)
}

/// Runs several reads against one snapshot of the database.
pub(crate) fn read<T>(db: &Db, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
    scoped(db, Scope::Read, f)
}

fn scoped<T>(db: &Db, scope: Scope, f: impl FnOnce(&Db) -> Result<T>) -> Result<T> {
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
