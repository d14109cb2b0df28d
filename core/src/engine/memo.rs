//! What the core remembers of a connection between calls, to save a read on the next one.
//!
//! Only guesses: a statement that relies on one checks it against the database in its own
//! WHERE clause and does nothing when it is wrong (another connection, or the owner of a
//! shared handle, wrote in between; or the transaction that made it rolled back), and the
//! caller then reads the truth and tries again. So a memo can be stale, never wrong in
//! effect, and needs no invalidation.

use std::collections::HashMap;
use std::sync::Mutex;

/// How many orgs' chain heads are remembered before the memo starts afresh.
const HEADS_KEPT: usize = 4_096;

#[derive(Default)]
pub struct Memo {
    audit: Mutex<AuditGuess>,
}

#[derive(Default)]
struct AuditGuess {
    /// The id the next audit event will get.
    next_id: Option<i64>,
    /// The hash of each org's last chained event.
    heads: HashMap<String, String>,
}

impl Memo {
    /// The guessed id of the next audit event, and the guessed head of the org's chain (an
    /// org never seen is guessed to have none: a new org).
    pub(crate) fn audit_guess(&self, org_id: &str) -> Option<(i64, String)> {
        let guess = self.audit.lock().ok()?;
        Some((guess.next_id?, guess.heads.get(org_id).cloned().unwrap_or_default()))
    }

    /// After an audit event `id` with `hash` was written to the org's chain.
    pub(crate) fn audit_written(&self, org_id: &str, id: i64, hash: &str) {
        if let Ok(mut guess) = self.audit.lock() {
            guess.next_id = Some(id + 1);
            if guess.heads.len() >= HEADS_KEPT && !guess.heads.contains_key(org_id) {
                guess.heads.clear();
            }
            guess.heads.insert(org_id.to_string(), hash.to_string());
        }
    }
}
