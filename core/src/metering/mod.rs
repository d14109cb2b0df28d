//! Metering: usage events, limits and their checks (`consumeUsage` among them), and the
//! rollups that keep checks and summaries flat as events grow.

pub mod limits;
pub mod rollups;
pub mod usage;
