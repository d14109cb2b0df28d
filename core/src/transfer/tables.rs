//! What a move copies, in which order, and how each table's rows go in.

/// The tables copied, parents before children (the target checks its foreign keys on
/// every insert), each row as it is in the source. Left out: `_smithers_cp_native_meta`
/// (the target's schema version is its own), `_smithers_cp_usage_purging` (holds a row
/// only inside a purge) and `sqlite_sequence` (set by `finish`, as it is not a table of
/// rows on PostgreSQL) and `_smithers_cp_credit_ledger` (derived: the balances' state at a
/// cut, which the target's first balance-checked write makes again).
pub(crate) const TABLES: [&str; 21] = [
    "_smithers_cp_orgs",
    "_smithers_cp_teams",
    "_smithers_cp_team_members",
    "_smithers_cp_projects",
    "_smithers_cp_project_teams",
    "_smithers_cp_billing_accounts",
    "_smithers_cp_identity_providers",
    "_smithers_cp_usage_limits",
    "_smithers_cp_secret_refs",
    "_smithers_cp_org_quotas",
    "_smithers_cp_retention",
    "_smithers_cp_credit_grants",
    "_smithers_cp_usage_events",
    "_smithers_cp_usage_corrections",
    "_smithers_cp_audit_events",
    // After the events: the target's head trigger moves each org's head as its events go
    // in; the source's heads (their counts take in purged events) then replace those.
    "_smithers_cp_audit_chain_heads",
    "_smithers_cp_audit_chain_redactions",
    // The rollups as they stand, with their watermark: the same layout on both engines,
    // so nothing is folded again.
    "_smithers_cp_usage_series",
    "_smithers_cp_usage_rollups",
    "_smithers_cp_usage_dense_minutes",
    "_smithers_cp_usage_rollup_state",
];

/// The store's tables a move leaves out, each for the reason `TABLES` gives.
#[cfg(test)]
pub(crate) const LEFT_OUT: [&str; 4] = ["_smithers_cp_native_meta", "_smithers_cp_usage_purging", "_smithers_cp_sequence", "_smithers_cp_credit_ledger"];

/// Tables the target's schema gives rows of its own before anything is copied: they do
/// not make it "a target holding data".
pub(crate) const SEEDED: [&str; 1] = ["_smithers_cp_usage_rollup_state"];

/// The rollups: copied as they stand, but checked after a move by their agreement with the
/// raw events, since the check folds in the events not yet folded (which adds rows).
pub(crate) const ROLLUPS: [&str; 4] =
    ["_smithers_cp_usage_series", "_smithers_cp_usage_rollups", "_smithers_cp_usage_dense_minutes", "_smithers_cp_usage_rollup_state"];

/// The AUTOINCREMENT tables, whose highest id ever (SQLite's `sqlite_sequence`) the target
/// keeps in `_smithers_cp_sequence`.
pub(crate) const NUMBERED: [&str; 2] = ["_smithers_cp_usage_events", "_smithers_cp_audit_events"];

/// How many parameters one INSERT binds at most (PostgreSQL allows 65,535).
const PARAMETERS: usize = 8_000;

/// One table's columns and primary key, read from the source.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub name: &'static str,
    pub columns: Vec<String>,
    /// Indexes into `columns`, in the key's order.
    pub key: Vec<usize>,
}

impl Layout {
    fn list(&self, of: impl Iterator<Item = usize>) -> String {
        of.map(|i| format!("\"{}\"", self.columns[i])).collect::<Vec<_>>().join(", ")
    }

    fn key_list(&self) -> String {
        self.list(self.key.iter().copied())
    }

    /// Rows one INSERT takes.
    pub fn rows_per_insert(&self) -> usize {
        (PARAMETERS / self.columns.len()).max(1)
    }

    /// The source's next rows after a key (`after`: none before the first), in key order.
    /// SQLite compares the row values by the key's index, text by its bytes, as the
    /// target's `COLLATE "C"` does.
    pub fn select_after(&self, after: bool) -> String {
        let n = self.key.len();
        let filter = if after {
            let params = (1..=n).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
            format!(" WHERE ({}) > ({params})", self.key_list())
        } else {
            String::new()
        };
        format!(
            "SELECT {} FROM {}{filter} ORDER BY {} LIMIT ?{}",
            self.list(0..self.columns.len()),
            self.name,
            self.key_list(),
            if after { n + 1 } else { 1 }
        )
    }

    /// An INSERT of `rows` rows; a row already there (one the target's triggers wrote, or
    /// a seeded one) takes the source's values.
    pub fn insert(&self, rows: usize) -> String {
        let width = self.columns.len();
        let values = (0..rows)
            .map(|r| format!("({})", (1..=width).map(|c| format!("?{}", r * width + c)).collect::<Vec<_>>().join(", ")))
            .collect::<Vec<_>>()
            .join(", ");
        let rest: Vec<usize> = (0..width).filter(|i| !self.key.contains(i)).collect();
        let on_conflict = if rest.is_empty() {
            "DO NOTHING".to_string()
        } else {
            format!(
                "DO UPDATE SET {}",
                rest.iter().map(|&i| format!("\"{c}\" = excluded.\"{c}\"", c = self.columns[i])).collect::<Vec<_>>().join(", ")
            )
        };
        format!(
            "INSERT INTO {} ({}) VALUES {values} ON CONFLICT ({}) {on_conflict}",
            self.name,
            self.list(0..width),
            self.key_list()
        )
    }
}
