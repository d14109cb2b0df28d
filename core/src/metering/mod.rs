//! Metering: usage events, limits and their checks (`consumeUsage` among them), and the
//! rollups that keep checks and summaries flat as events grow.

pub mod credits;
pub mod consume;
mod consume_postgres;
pub mod limits;
pub mod rollups;
pub mod usage;

/// The server-side functions of metering's calls on PostgreSQL, for the schema to create.
pub(crate) fn postgres_functions() -> String {
    consume_postgres::functions()
}
