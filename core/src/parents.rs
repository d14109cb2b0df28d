//! Typed errors for rows whose parent is missing. Inserts rely on SQLite's foreign keys to
//! refuse an orphan; only when one does refuse do we look up which parent is missing, so
//! the common path pays for no extra query.

use crate::error::{is_constraint, Constraint, CpError, Result};
use crate::params;
use crate::db::Db;
use crate::engine::SqlValue;

/// Whether the query finds a row.
pub(crate) fn row_exists(conn: &Db, sql: &str, params: &[SqlValue]) -> Result<bool> {
    Ok(conn.row(sql, params, |_| Ok(()))?.is_some())
}

fn org_exists(conn: &Db, org_id: &str) -> Result<bool> {
    row_exists(conn, "SELECT 1 AS found FROM _smithers_cp_orgs WHERE org_id = ?1", params![org_id])
}

pub(crate) fn project_exists(conn: &Db, org_id: &str, project_id: &str) -> Result<bool> {
    row_exists(
        conn,
        "SELECT 1 AS found FROM _smithers_cp_projects WHERE org_id = ?1 AND project_id = ?2",
        params![org_id, project_id],
    )
}

pub(crate) fn team_exists(conn: &Db, org_id: &str, team_id: &str) -> Result<bool> {
    row_exists(conn, "SELECT 1 AS found FROM _smithers_cp_teams WHERE org_id = ?1 AND team_id = ?2", params![org_id, team_id])
}

/// The parents a new row points at.
#[derive(Clone, Copy, Default)]
pub(crate) struct Parents<'a> {
    pub(crate) org_id: &'a str,
    pub(crate) project_id: Option<&'a str>,
    pub(crate) team_id: Option<&'a str>,
}

impl<'a> Parents<'a> {
    pub(crate) fn org(org_id: &'a str) -> Self {
        Parents { org_id, ..Default::default() }
    }

    pub(crate) fn project(org_id: &'a str, project_id: Option<&'a str>) -> Self {
        Parents { org_id, project_id, team_id: None }
    }

    /// The first missing parent as a typed error, or `Ok` when all exist.
    pub(crate) fn check(&self, conn: &Db) -> Result<()> {
        if !org_exists(conn, self.org_id)? {
            return Err(CpError::org_not_found(self.org_id));
        }
        if let Some(project_id) = self.project_id {
            if !project_exists(conn, self.org_id, project_id)? {
                return Err(CpError::project_not_found(self.org_id, project_id));
            }
        }
        if let Some(team_id) = self.team_id {
            if !team_exists(conn, self.org_id, team_id)? {
                return Err(CpError::team_not_found(self.org_id, team_id));
            }
        }
        Ok(())
    }

    /// Maps a failed insert: a foreign-key refusal becomes the missing parent's error.
    pub(crate) fn explain(&self, conn: &Db, err: CpError) -> CpError {
        if is_constraint(&err, Constraint::ForeignKey) {
            if let Err(typed) = self.check(conn) {
                return typed;
            }
        }
        err
    }
}
