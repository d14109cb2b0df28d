//! The burn-down rule written as the slow reference the balances are held to: every
//! grant and every event replayed from the start, one event at a time, in time order. It
//! shares no code with `balance`, which computes the same from interval sums; the property
//! test (`tests`) compares the two.
//!
//! The rule:
//! - A grant is active from `effective_at_ms` until its expiry or its voiding, whichever is
//!   first (a voided or expired grant still counted for the time it was active).
//! - A recurring grant resets every `period_ms` from its anchor (`anchor + k·period`, after
//!   it took effect): its remaining becomes its amount plus what carries over,
//!   `min(max_amount, max(min_amount, left))` with a rollover, nothing without one. A reset
//!   at an event's instant comes before the event.
//! - An event burns the grants active at its time in a fixed order: a project's event its
//!   project's grants first, then the org's; an org-wide event the org's only. Within each,
//!   lower `priority` first, then the earliest expiry (none last), then the oldest
//!   (`effective_at_ms`, then the grant's id). What no grant covers is overage, never a
//!   negative remaining. Overage is the account's: every event's, whichever scope is asked.
//! - An event counts with its quantity as corrected (a void makes it 0, an amendment its new
//!   quantity), at its own time: a correction or a backdated event re-burns from that time on.

/// A grant as the rule reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub grant_id: String,
    /// `None`: the org's, for every event of the org.
    pub project_id: Option<String>,
    pub amount: f64,
    pub priority: i64,
    pub effective_at_ms: i64,
    pub expires_at_ms: Option<i64>,
    pub voided_at_ms: Option<i64>,
    /// `(period_ms, anchor_ms)`.
    pub recurrence: Option<(i64, i64)>,
    /// `(max_amount, min_amount)`.
    pub rollover: Option<(f64, f64)>,
}

impl Grant {
    /// When it stops counting: its expiry or its voiding, the first of them.
    fn end(&self) -> Option<i64> {
        match (self.expires_at_ms, self.voided_at_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn active_at(&self, at: i64) -> bool {
        self.effective_at_ms <= at && self.end().is_none_or(|end| at < end)
    }

    /// Its resets in `(after, up_to]`, in order.
    fn resets(&self, after: i64, up_to: i64) -> Vec<i64> {
        let Some((period, anchor)) = self.recurrence else { return Vec::new() };
        if period <= 0 {
            return Vec::new();
        }
        let from = after.max(self.effective_at_ms);
        // The first `anchor + k·period` above `from`.
        let k = (from - anchor).div_euclid(period) + 1;
        let mut at = anchor + k * period;
        let mut out = Vec::new();
        while at <= up_to && self.end().is_none_or(|end| at < end) {
            out.push(at);
            at += period;
        }
        out
    }

    fn carry(&self, left: f64) -> f64 {
        match self.rollover {
            Some((max, min)) => max.min(min.max(left)),
            None => 0.0,
        }
    }
}

/// A usage event as the rule reads it: its quantity as corrected.
#[derive(Debug, Clone, PartialEq)]
pub struct Usage {
    pub at_ms: i64,
    pub project_id: Option<String>,
    pub quantity: f64,
}

/// A grant's remaining at an instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Remaining {
    pub grant_id: String,
    pub remaining: f64,
    pub expires_at_ms: Option<i64>,
}

/// The balance of a scope at an instant: the grants it may draw on that are active then,
/// what they hold, and the usage no grant covered up to then.
#[derive(Debug, Clone, PartialEq)]
pub struct Balance {
    pub balance: f64,
    pub overage: f64,
    pub grants: Vec<Remaining>,
}

/// The order an event of `project` burns the grants in (those it may draw on, active or
/// not: the caller keeps the active ones).
fn burn_order<'g>(grants: &'g [Grant], project: Option<&str>) -> Vec<&'g Grant> {
    let mut order: Vec<&Grant> = grants
        .iter()
        .filter(|g| g.project_id.is_none() || (project.is_some() && g.project_id.as_deref() == project))
        .collect();
    order.sort_by(|a, b| {
        // The project's own grants before the org's.
        (a.project_id.is_none(), a.priority, a.expires_at_ms.unwrap_or(i64::MAX), a.effective_at_ms, &a.grant_id).cmp(&(
            b.project_id.is_none(),
            b.priority,
            b.expires_at_ms.unwrap_or(i64::MAX),
            b.effective_at_ms,
            &b.grant_id,
        ))
    });
    order
}

/// The balance of `project` (or of the org, `None`) at `at_ms`: every grant and every event
/// replayed from the start.
pub fn replay(grants: &[Grant], usage: &[Usage], project: Option<&str>, at_ms: i64) -> Balance {
    let mut remaining: Vec<f64> = grants.iter().map(|g| g.amount).collect();
    let index = |g: &Grant| grants.iter().position(|x| std::ptr::eq(x, g)).expect("one of the grants");
    let mut events: Vec<&Usage> = usage.iter().filter(|u| u.at_ms <= at_ms).collect();
    // In time order; events at one instant in the order they were given.
    events.sort_by_key(|u| u.at_ms);
    let mut overage = 0.0;
    let mut clock = i64::MIN;
    // Resets up to `to`, in time order across the grants.
    let reset_until = |remaining: &mut [f64], from: i64, to: i64| {
        let mut due: Vec<(i64, usize)> =
            grants.iter().enumerate().flat_map(|(i, g)| g.resets(from, to).into_iter().map(move |at| (at, i))).collect();
        due.sort();
        for (_, i) in due {
            let g = &grants[i];
            remaining[i] = g.amount + g.carry(remaining[i]);
        }
    };
    for event in events {
        reset_until(&mut remaining, clock, event.at_ms);
        clock = event.at_ms;
        let mut left = event.quantity;
        for g in burn_order(grants, event.project_id.as_deref()) {
            if left <= 0.0 {
                break;
            }
            if !g.active_at(event.at_ms) {
                continue;
            }
            let i = index(g);
            let take = left.min(remaining[i]);
            remaining[i] -= take;
            left -= take;
        }
        // Overage is the account's: every event's, whichever scope is asked for.
        overage += left.max(0.0);
    }
    reset_until(&mut remaining, clock, at_ms);
    let held: Vec<Remaining> = burn_order(grants, project)
        .into_iter()
        .filter(|g| g.active_at(at_ms) && (project.is_some() || g.project_id.is_none()))
        .map(|g| Remaining { grant_id: g.grant_id.clone(), remaining: remaining[index(g)], expires_at_ms: g.end() })
        .collect();
    Balance { balance: held.iter().map(|r| r.remaining).sum(), overage, grants: held }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400_000;

    fn grant(id: &str, amount: f64) -> Grant {
        Grant {
            grant_id: id.into(),
            project_id: None,
            amount,
            priority: 0,
            effective_at_ms: 0,
            expires_at_ms: None,
            voided_at_ms: None,
            recurrence: None,
            rollover: None,
        }
    }

    fn used(at_ms: i64, quantity: f64) -> Usage {
        Usage { at_ms, project_id: None, quantity }
    }

    fn remaining(b: &Balance, id: &str) -> f64 {
        b.grants.iter().find(|r| r.grant_id == id).map_or(f64::NAN, |r| r.remaining)
    }

    #[test]
    fn lower_priority_then_earliest_expiry_then_oldest_burns_first() {
        let grants = vec![
            Grant { priority: 1, ..grant("late-priority", 10.0) },
            Grant { expires_at_ms: Some(50 * DAY), ..grant("expires-later", 10.0) },
            Grant { expires_at_ms: Some(20 * DAY), ..grant("expires-first", 10.0) },
            Grant { effective_at_ms: 5, ..grant("newer", 10.0) },
            grant("older", 10.0),
        ];
        let order: Vec<&str> = burn_order(&grants, None).iter().map(|g| g.grant_id.as_str()).collect();
        assert_eq!(order, ["expires-first", "expires-later", "older", "newer", "late-priority"]);
        let b = replay(&grants, &[used(DAY, 25.0)], None, DAY);
        assert_eq!((remaining(&b, "expires-first"), remaining(&b, "expires-later"), remaining(&b, "older")), (0.0, 0.0, 5.0));
        assert_eq!((b.balance, b.overage), (25.0, 0.0));
    }

    #[test]
    fn a_project_draws_on_its_own_grants_first_and_past_all_grants_is_overage() {
        let grants = vec![grant("org", 10.0), Grant { project_id: Some("web".into()), ..grant("web", 5.0) }];
        let usage = vec![Usage { at_ms: DAY, project_id: Some("web".into()), quantity: 12.0 }, used(2 * DAY, 6.0)];
        let web = replay(&grants, &usage, Some("web"), 3 * DAY);
        assert_eq!((remaining(&web, "web"), remaining(&web, "org")), (0.0, 0.0));
        // The project's 12: 5 of its own, 7 of the org's; the org's 6: 3 left, 3 over,
        // the account's overage whichever scope is asked for.
        assert_eq!(web.overage, 3.0);
        let org = replay(&grants, &usage, None, 3 * DAY);
        assert_eq!((org.balance, org.overage), (0.0, 3.0));
        assert_eq!(org.grants.len(), 1, "the org's balance holds the org's grants only");
    }

    #[test]
    fn expired_and_voided_grants_count_for_the_time_they_were_active() {
        let grants = vec![
            Grant { expires_at_ms: Some(2 * DAY), ..grant("expiring", 10.0) },
            Grant { voided_at_ms: Some(3 * DAY), ..grant("voided", 10.0) },
        ];
        let usage = vec![used(DAY, 4.0), used(2 * DAY + 1, 8.0), used(4 * DAY, 1.0)];
        // Day 1: 4 from "expiring" (it expires first); after its expiry, 8 from "voided";
        // after the voiding, 1 over.
        let b = replay(&grants, &usage, None, 5 * DAY);
        assert_eq!((b.balance, b.overage), (0.0, 1.0));
        assert!(b.grants.is_empty());
        let before = replay(&grants, &usage, None, 2 * DAY + 1);
        assert_eq!(remaining(&before, "voided"), 2.0);
    }

    /// The worked example of the rollover rule: 100 a month, at most 30 and at least 10
    /// carried over.
    #[test]
    fn a_recurring_grant_resets_with_what_carries_over() {
        let month = 30 * DAY;
        let g = Grant { recurrence: Some((month, 0)), rollover: Some((30.0, 10.0)), ..grant("monthly", 100.0) };
        let usage = vec![used(DAY, 40.0), used(month + DAY, 125.0), used(2 * month + DAY, 5.0)];
        // First month: 60 left; at the reset 30 carry (at most 30): 130.
        assert_eq!(replay(&[g.clone()], &usage[..1], None, month).balance, 130.0);
        // Second month: 125 of 130, 5 left; at least 10 carry: 110; then 5 used.
        let b = replay(&[g.clone()], &usage, None, 2 * month + DAY);
        assert_eq!((b.balance, b.overage), (105.0, 0.0));
        // Without a rollover nothing carries: 100 each month.
        let plain = Grant { rollover: None, ..g };
        assert_eq!(replay(&[plain], &usage[..1], None, month).balance, 100.0);
    }

    #[test]
    fn a_correction_at_an_events_time_reburns_from_there() {
        let grants = vec![Grant { expires_at_ms: Some(2 * DAY), ..grant("short", 10.0) }, grant("long", 10.0)];
        // The day-1 event of 10 burned "short"; amended to 4, "short" keeps 6 until it
        // expires, and the day-3 event of 8 burns "long".
        let amended = vec![used(DAY, 4.0), used(3 * DAY, 8.0)];
        let b = replay(&grants, &amended, None, 3 * DAY);
        assert_eq!((b.balance, b.overage), (2.0, 0.0));
        let voided = vec![used(DAY, 0.0), used(3 * DAY, 8.0)];
        assert_eq!(replay(&grants, &voided, None, DAY).balance, 20.0);
    }
}
