//! Credits: grants that usage burns down, balances at any instant, admission against a
//! balance (`consumeUsage` with `requireBalance`), and corrections of usage.
//!
//! The rule (`rule` states it as the slow reference the tests hold `balance` to):
//! - A grant is active from its effect until its expiry or its voiding, the first of them;
//!   a voided or expired grant still counted for the time it was active.
//! - A recurring grant resets every period from its anchor: its remaining becomes its
//!   amount plus `min(maxAmount, max(minAmount, left))` with a rollover, nothing without
//!   one. A reset at an event's instant comes before the event.
//! - An event burns the grants active at its time: its project's first, then the org's;
//!   within each, lower priority first, then the earliest expiry (none last), then the
//!   oldest (effect, then id). What no grant covers is overage, never a negative grant.
//! - A correction or a backdated event counts at the event's time: the balance is computed
//!   from the rollups and the grants (`balance`), so it re-burns from there on.

pub mod balance;
pub mod corrections;
pub mod grants;
#[cfg(test)]
mod rule;
pub(crate) mod schema;
#[cfg(test)]
mod tests;
