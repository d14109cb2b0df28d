//! Usage inputs read straight from JSON text into the fields the store reads, instead of
//! into a map per event: a batch of thousands of events then costs one small struct each.
//! The fields keep their JSON values, so validation (`validate::Input`) is the same code,
//! with the same messages, as for any other input. Text that is not shaped as expected
//! (not an object, `events` not an array) is left to the general path, which reports it.

use super::validate::Fields;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// The fields of one usage event (`recordUsage`, `consumeUsage`, an element of a batch).
#[derive(Default)]
pub struct UsageFields {
    org_id: Option<Value>,
    project_id: Option<Value>,
    run_id: Option<Value>,
    metric: Option<Value>,
    quantity: Option<Value>,
    unit: Option<Value>,
    observed_at_ms: Option<Value>,
    metadata: Option<Value>,
    idempotency_key: Option<Value>,
}

impl UsageFields {
    fn slot(&mut self, name: &str) -> Option<&mut Option<Value>> {
        Some(match name {
            "orgId" => &mut self.org_id,
            "projectId" => &mut self.project_id,
            "runId" => &mut self.run_id,
            "metric" => &mut self.metric,
            "quantity" => &mut self.quantity,
            "unit" => &mut self.unit,
            "observedAtMs" => &mut self.observed_at_ms,
            "metadata" => &mut self.metadata,
            "idempotencyKey" => &mut self.idempotency_key,
            _ => return None,
        })
    }
}

impl Fields for UsageFields {
    fn field(&self, name: &str) -> Option<&Value> {
        match name {
            "orgId" => self.org_id.as_ref(),
            "projectId" => self.project_id.as_ref(),
            "runId" => self.run_id.as_ref(),
            "metric" => self.metric.as_ref(),
            "quantity" => self.quantity.as_ref(),
            "unit" => self.unit.as_ref(),
            "observedAtMs" => self.observed_at_ms.as_ref(),
            "metadata" => self.metadata.as_ref(),
            "idempotencyKey" => self.idempotency_key.as_ref(),
            _ => None,
        }
    }
}

/// Reads an object's entries into `fields`; other keys are parsed (so malformed text is
/// refused as it would be anywhere) and dropped. A repeated key keeps its last value.
fn read_fields<'de, A: MapAccess<'de>>(mut map: A) -> Result<UsageFields, A::Error> {
    let mut fields = UsageFields::default();
    while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
        match fields.slot(&key) {
            Some(slot) => *slot = Some(map.next_value::<Value>()?),
            None => {
                map.next_value::<Value>()?;
            }
        }
    }
    Ok(fields)
}

impl<'de> Deserialize<'de> for UsageFields {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectOnly;
        impl<'de> Visitor<'de> for ObjectOnly {
            type Value = UsageFields;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<UsageFields, A::Error> {
                read_fields(map)
            }
        }
        deserializer.deserialize_map(ObjectOnly)
    }
}

/// One element of a batch: an event's fields, or something that is not an object (which
/// validation reports with its index).
pub enum BatchItem {
    Event(UsageFields),
    NotObject,
}

impl<'de> Deserialize<'de> for BatchItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AnyItem;
        impl<'de> Visitor<'de> for AnyItem {
            type Value = BatchItem;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a usage event")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<BatchItem, A::Error> {
                read_fields(map).map(BatchItem::Event)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<BatchItem, A::Error> {
                while seq.next_element::<Value>()?.is_some() {}
                Ok(BatchItem::NotObject)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<BatchItem, E> {
                Ok(BatchItem::NotObject)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<BatchItem, E> {
                Ok(BatchItem::NotObject)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<BatchItem, E> {
                Ok(BatchItem::NotObject)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<BatchItem, E> {
                Ok(BatchItem::NotObject)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<BatchItem, E> {
                Ok(BatchItem::NotObject)
            }
            fn visit_unit<E: de::Error>(self) -> Result<BatchItem, E> {
                Ok(BatchItem::NotObject)
            }
        }
        deserializer.deserialize_any(AnyItem)
    }
}

/// `recordUsageBatch`'s input when `events` is an array; anything else fails to parse here
/// and takes the general path.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchInput {
    pub events: Vec<BatchItem>,
    #[serde(default)]
    returning: Option<Value>,
}

impl Fields for BatchInput {
    fn field(&self, name: &str) -> Option<&Value> {
        match name {
            "returning" => self.returning.as_ref(),
            _ => None,
        }
    }
}
