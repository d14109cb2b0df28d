//! The one error type of the core. The binding turns it into a JS `ControlPlaneError`
//! carrying the same `code`, `summary` and `details`.

use serde_json::{json, Map, Value};
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct CpError {
    pub code: &'static str,
    pub summary: String,
    pub details: Option<Value>,
    /// For a statement the database refused on a constraint: which kind, so the domain
    /// can turn it into its own error (a duplicate, a missing parent).
    pub constraint: Option<Constraint>,
    /// The engine's token for the error underneath, where it is a value the core cannot
    /// hold (an error the caller's JS handle threw): the binding finds it again by this
    /// token and hands it to JS as the error's `cause`.
    pub cause: Option<u64>,
}

/// The constraints the domain tells apart, whichever engine reported them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    Unique,
    PrimaryKey,
    ForeignKey,
    Other,
}

pub type Result<T> = std::result::Result<T, CpError>;

impl CpError {
    pub fn new(code: &'static str, summary: impl Into<String>, details: Option<Value>) -> Self {
        CpError { code, summary: summary.into(), details, constraint: None, cause: None }
    }

    pub fn with_cause(mut self, cause: Option<u64>) -> Self {
        self.cause = cause;
        self
    }

    pub(crate) fn invalid(summary: impl Into<String>, details: Option<Value>) -> Self {
        CpError::new("INVALID_INPUT", summary, details)
    }

    /// `INVALID_INPUT` naming the field at fault, the shape every validation error has.
    pub fn field(field: &str, summary: impl Into<String>) -> Self {
        CpError::invalid(summary, Some(json!({ "field": field })))
    }

    pub(crate) fn org_not_found(org_id: &str) -> Self {
        CpError::invalid(format!("Control-plane org not found: {org_id}"), Some(json!({ "orgId": org_id })))
    }

    pub(crate) fn project_not_found(org_id: &str, project_id: &str) -> Self {
        CpError::invalid(
            format!("Control-plane project not found: {project_id}"),
            Some(json!({ "orgId": org_id, "projectId": project_id })),
        )
    }

    pub(crate) fn team_not_found(org_id: &str, team_id: &str) -> Self {
        CpError::invalid(
            format!("Control-plane team not found: {team_id}"),
            Some(json!({ "orgId": org_id, "teamId": team_id })),
        )
    }

    /// `DUPLICATE_ID` for an entity's slug or id. `org_id` is given for entities scoped to an org.
    pub(crate) fn duplicate(entity: &str, what: &str, value: &str, org_id: Option<&str>) -> Self {
        let mut details = Map::new();
        details.insert("kind".into(), Value::String(format!("control-plane.{entity}")));
        details.insert("id".into(), Value::String(value.to_string()));
        if what == "slug" {
            details.insert("slug".into(), Value::String(value.to_string()));
        }
        if let Some(org_id) = org_id {
            details.insert("orgId".into(), Value::String(org_id.to_string()));
        }
        CpError::new(
            "DUPLICATE_ID",
            format!("Duplicate control-plane {entity} {what}: {value}"),
            Some(Value::Object(details)),
        )
    }
}

impl fmt::Display for CpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.summary)
    }
}

impl std::error::Error for CpError {}

/// True when the error is the database refusing a statement on that kind of constraint.
pub(crate) fn is_constraint(err: &CpError, kind: Constraint) -> bool {
    err.constraint == Some(kind)
}
