//! Deletions that reach across concerns: a project with everything it holds, its usage's
//! sums in the rollups among them. Tenancy, below metering, cannot reach the rollups; this
//! stands above both.

use crate::chain::{self, NewEvent};
use crate::db::{self, Db};
use crate::error::Result;
use crate::metering::rollups;
use crate::params;
use crate::parents;
use crate::request::RequestContext;
use crate::tenancy::orgs::{self, WriteKind};
use crate::tenancy::projects::DeleteProject;
use crate::tenancy::removal::not_found;
use crate::validate::now_ms;
use serde_json::json;

/// `deleteProject({orgId, projectId, actorId?, atMs?})`: with its usage, limits, secret
/// refs, grants and project-scoped audit events (the schema cascades them); the
/// `project.delete` event is written org-wide so that it outlives the project.
pub fn delete_project(conn: &Db, ctx: &RequestContext, req: DeleteProject) -> Result<()> {
    let DeleteProject { org_id, project_id, actor_id, at_ms } = req;
    let at = at_ms.unwrap_or_else(now_ms);
    db::write_org(conn, &org_id, |c| {
        orgs::guard(c, &org_id, WriteKind::Other)?;
        if !parents::project_exists(c, &org_id, &project_id)? {
            return Err(not_found("project", json!({ "orgId": org_id, "projectId": project_id })));
        }
        chain::redact_project(c, &org_id, &project_id)?;
        // Limits have no foreign key to projects in the documented schema.
        c.execute("DELETE FROM _smithers_cp_usage_limits WHERE org_id = ?1 AND project_key = ?2", params![org_id, project_id])?;
        c.execute("DELETE FROM _smithers_cp_projects WHERE org_id = ?1 AND project_id = ?2", params![org_id, project_id])?;
        // The cascade took the project's events (and the triggers their sums); the sums of
        // its purged events go too.
        rollups::forget_project(c, &org_id, &project_id)?;
        // The project's grants went with it, and its usage's sums: the org's balances start
        // from the beginning again.
        c.execute("DELETE FROM _smithers_cp_credit_ledger WHERE org_id = ?1", params![org_id])?;
        chain::insert(
            c,
            ctx,
            &NewEvent {
                org_id: &org_id,
                project_id: None,
                actor_id: actor_id.as_deref(),
                action: "project.delete",
                target_type: "project",
                target_id: Some(&project_id),
                occurred_at_ms: at,
                metadata: json!({}),
            },
        )?;
        Ok(())
    })
}
