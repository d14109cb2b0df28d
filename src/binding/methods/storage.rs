//! The database as a whole: what the CLI's `init`, `stats` and `doctor` read.

use control_plane_core::storage;

crate::binding::declare::operations! {
    /// The schema version and the rows of each of the store's tables.
    stats: value None Optional storage::stats, [Store Async],
        "" => "ControlPlaneStats";
    /// SQLite's integrity check of the whole database: `{integrity: "ok"}` when sound.
    checkIntegrity: value None Optional storage::check_integrity, [Store Async],
        "" => "ControlPlaneIntegrity";
}
