//! A result's fields in order, each with its key as serde's JSON has it, for a caller that
//! builds the result itself rather than parse its JSON (the binding's factories, which take
//! the fields as arguments). The order is written here once, beside the structs: the
//! binding hands the values over through a `Fields` of its own, and learns the keys by
//! running the same code on a `Fields` that keeps them. A field added to one of these
//! structs is a compile error here (each destructures its struct whole) until it is listed.

use crate::metering::limits::{ConsumeCheck, UsageLimit, UsageLimitCheck};
use crate::metering::usage::UsageEvent;
use crate::tenancy::orgs::Org;
use serde_json::Value;

/// Where a record's fields go, in order, each with its key.
pub trait Fields {
    type Error;
    fn int(&mut self, key: &'static str, n: i64) -> Result<(), Self::Error>;
    fn number(&mut self, key: &'static str, n: f64) -> Result<(), Self::Error>;
    fn opt_int(&mut self, key: &'static str, n: Option<i64>) -> Result<(), Self::Error>;
    fn text(&mut self, key: &'static str, s: &str) -> Result<(), Self::Error>;
    fn opt_text(&mut self, key: &'static str, s: &Option<String>) -> Result<(), Self::Error>;
    fn bool(&mut self, key: &'static str, b: bool) -> Result<(), Self::Error>;
    /// A field serde skips when it is `None` (the result has no such key then).
    fn skipped_text(&mut self, key: &'static str, s: &Option<String>) -> Result<(), Self::Error>;
    fn skipped_bool(&mut self, key: &'static str, b: Option<bool>) -> Result<(), Self::Error>;
    /// A JSON value of its own (an event's `metadata`).
    fn json(&mut self, key: &'static str, value: &Value) -> Result<(), Self::Error>;
}

/// A result whose fields go out one by one.
pub trait Record: Default {
    fn fields<F: Fields>(&self, out: &mut F) -> Result<(), F::Error>;
}

impl Record for UsageEvent {
    fn fields<F: Fields>(&self, out: &mut F) -> Result<(), F::Error> {
        let UsageEvent { id, org_id, project_id, run_id, metric, quantity, unit, observed_at_ms, metadata, idempotency_key, duplicate } = self;
        out.int("id", *id)?;
        out.text("orgId", org_id)?;
        out.opt_text("projectId", project_id)?;
        out.opt_text("runId", run_id)?;
        out.text("metric", metric)?;
        out.number("quantity", *quantity)?;
        out.text("unit", unit)?;
        out.int("observedAtMs", *observed_at_ms)?;
        out.json("metadata", metadata)?;
        out.skipped_text("idempotencyKey", idempotency_key)?;
        out.skipped_bool("duplicate", *duplicate)
    }
}

/// The limit flattened into the check, as serde has it.
impl Record for UsageLimitCheck {
    fn fields<F: Fields>(&self, out: &mut F) -> Result<(), F::Error> {
        let UsageLimitCheck { limit, used_quantity, remaining_quantity, exceeded } = self;
        let UsageLimit { org_id, project_id, metric, unit, period, limit_quantity, updated_at_ms } = limit;
        out.text("orgId", org_id)?;
        out.opt_text("projectId", project_id)?;
        out.text("metric", metric)?;
        out.text("unit", unit)?;
        out.text("period", period)?;
        out.number("limitQuantity", *limit_quantity)?;
        out.int("updatedAtMs", *updated_at_ms)?;
        out.number("usedQuantity", *used_quantity)?;
        out.number("remainingQuantity", *remaining_quantity)?;
        out.bool("exceeded", *exceeded)
    }
}

/// The limit check's fields, then its window's and its verdict.
impl Record for ConsumeCheck {
    fn fields<F: Fields>(&self, out: &mut F) -> Result<(), F::Error> {
        let ConsumeCheck { check, since_ms, until_ms, later_quantity, allowed } = self;
        check.fields(out)?;
        out.int("sinceMs", *since_ms)?;
        out.int("untilMs", *until_ms)?;
        out.number("laterQuantity", *later_quantity)?;
        out.bool("allowed", *allowed)
    }
}

impl Record for Org {
    fn fields<F: Fields>(&self, out: &mut F) -> Result<(), F::Error> {
        let Org { org_id, slug, name, created_at_ms, status, suspended_at_ms, suspend_reason, deleted_at_ms } = self;
        out.text("orgId", org_id)?;
        out.text("slug", slug)?;
        out.text("name", name)?;
        out.int("createdAtMs", *created_at_ms)?;
        out.text("status", status)?;
        out.opt_int("suspendedAtMs", *suspended_at_ms)?;
        out.opt_text("suspendReason", suspend_reason)?;
        out.opt_int("deletedAtMs", *deleted_at_ms)
    }
}

/// How a field goes out, as far as its key says (`keys`).
#[derive(Clone, Copy)]
enum Kind {
    Plain,
    /// Left out by serde when `None`.
    Skipped,
    /// A JSON value of its own.
    Json,
}

/// A sink that hands each field's key and kind to its function, its value let go: what
/// `keys` and `count` read a record through.
struct Each<F>(F);

impl<F: FnMut(&'static str, Kind)> Fields for Each<F> {
    type Error = std::convert::Infallible;
    fn int(&mut self, key: &'static str, _: i64) -> Result<(), Self::Error> {
        Ok((self.0)(key, Kind::Plain))
    }
    fn number(&mut self, key: &'static str, _: f64) -> Result<(), Self::Error> {
        Ok((self.0)(key, Kind::Plain))
    }
    fn opt_int(&mut self, key: &'static str, _: Option<i64>) -> Result<(), Self::Error> {
        Ok((self.0)(key, Kind::Plain))
    }
    fn text(&mut self, key: &'static str, _: &str) -> Result<(), Self::Error> {
        Ok((self.0)(key, Kind::Plain))
    }
    fn opt_text(&mut self, key: &'static str, _: &Option<String>) -> Result<(), Self::Error> {
        Ok((self.0)(key, Kind::Plain))
    }
    fn bool(&mut self, key: &'static str, _: bool) -> Result<(), Self::Error> {
        Ok((self.0)(key, Kind::Plain))
    }
    fn skipped_text(&mut self, key: &'static str, _: &Option<String>) -> Result<(), Self::Error> {
        Ok((self.0)(key, Kind::Skipped))
    }
    fn skipped_bool(&mut self, key: &'static str, _: Option<bool>) -> Result<(), Self::Error> {
        Ok((self.0)(key, Kind::Skipped))
    }
    fn json(&mut self, key: &'static str, _: &Value) -> Result<(), Self::Error> {
        Ok((self.0)(key, Kind::Json))
    }
}

/// A record's keys in its fields' order: `key?` for one serde may leave out, `key:json`
/// for a JSON value of its own.
pub fn keys<R: Record>() -> Vec<String> {
    let mut keys = Vec::new();
    let Ok(()) = R::default().fields(&mut Each(|key: &'static str, kind| {
        keys.push(match kind {
            Kind::Plain => key.to_string(),
            Kind::Skipped => format!("{key}?"),
            Kind::Json => format!("{key}:json"),
        })
    }));
    keys
}

/// How many fields a record has (nothing allocated: a default record, counted).
pub fn count<R: Record>() -> usize {
    let mut count = 0;
    let Ok(()) = R::default().fields(&mut Each(|_: &'static str, _| count += 1));
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each record's keys are serde's, in serde's order: what its JSON has.
    #[test]
    fn keys_are_serdes_in_order() {
        fn check<R: Record + serde::Serialize>(sample: R) {
            let json = serde_json::to_value(&sample).unwrap();
            let serde_keys: Vec<&String> = json.as_object().unwrap().keys().collect();
            let ours: Vec<String> = keys::<R>().iter().map(|k| k.trim_end_matches('?').trim_end_matches(":json").to_string()).collect();
            assert_eq!(serde_keys.iter().map(|k| k.as_str()).collect::<Vec<_>>(), ours.iter().map(|k| k.as_str()).collect::<Vec<_>>());
        }
        check(UsageEvent { idempotency_key: Some("k".into()), duplicate: Some(false), ..Default::default() });
        check(UsageLimitCheck::default());
        check(ConsumeCheck::default());
        check(Org::default());
        assert_eq!(count::<UsageEvent>(), keys::<UsageEvent>().len());
        assert_eq!(count::<ConsumeCheck>(), count::<UsageLimitCheck>() + 4);
    }
}
