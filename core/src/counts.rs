//! Rows per table, in the order they were counted, written as one JSON object
//! (`{"_smithers_cp_teams": 2, ...}`): what a hard delete or a purge removed.

use serde::ser::{Serialize, SerializeMap, Serializer};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableCounts(pub Vec<(String, i64)>);

impl TableCounts {
    /// Adds `n` to a table's count, appending the table the first time.
    pub(crate) fn add(&mut self, table: &str, n: i64) {
        match self.0.iter_mut().find(|(t, _)| t == table) {
            Some((_, count)) => *count += n,
            None => self.0.push((table.to_string(), n)),
        }
    }
}

impl Serialize for TableCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (table, n) in &self.0 {
            map.serialize_entry(table, n)?;
        }
        map.end()
    }
}

impl ts_rs::TS for TableCounts {
    type WithoutGenerics = Self;
    type OptionInnerType = Self;
    fn name() -> String {
        "Record<string, number>".into()
    }
    fn inline() -> String {
        Self::name()
    }
    fn inline_flattened() -> String {
        Self::name()
    }
    fn decl() -> String {
        panic!("TableCounts is written inline")
    }
    fn decl_concrete() -> String {
        panic!("TableCounts is written inline")
    }
}
