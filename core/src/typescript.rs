//! The TypeScript types of the requests and results, generated from the structs that
//! define them (ts-rs) into `native-types.d.ts` at the repository's root. The napi build
//! puts that file at the head of the generated `native.d.ts` (package.json's
//! `napi.dtsHeaderFile`), whose classes name these types. `cargo test` fails when the file
//! is not what the structs say; `UPDATE_TYPES=1 cargo test -p control-plane-core
//! typescript` writes it anew.

use ts_rs::TS;

/// Written by hand: the types that are not a struct of the core.
const PREAMBLE: &str = r#"// Generated, do not edit: the request and result types from the core's Rust types
// (`UPDATE_TYPES=1 cargo test -p control-plane-core typescript`), then the classes from the
// binding's #[napi] definitions (`npm run build`). index.d.ts adds the rest.
import type { ControlPlaneSqlite } from "./index";

/** Where a request came from, written on every audit event the call writes. */
export type ControlPlaneRequestOrigin = Omit<ControlPlaneRequestContext, "actorId">;
/** An org-level method's input on a handle scoped to one org: `orgId` put in by the handle. */
export type ScopedInput<I> = Omit<I, "orgId"> & { orgId?: string } & ControlPlaneRequestOrigin;
/** What `recordUsageBatch` returns for its `returning` option: the events, or their ids. */
export type ControlPlaneUsageBatchOf<R> = R extends "ids" ? ControlPlaneUsageIds : ControlPlaneUsageEvent[];
/**
 * What `summarizeUsage` returns for its input: the default summary (per metric and unit)
 * unless the input groups (`groupBy`) or buckets (`bucket`) the rows.
 */
export type ControlPlaneUsageRows<I> = I extends { groupBy?: undefined | null; bucket?: undefined | null; [field: string]: unknown }
  ? ControlPlaneUsageSummary[]
  : ControlPlaneUsageGroup[];
"#;

/// One type's declaration, with its doc comment, exported.
fn declaration<T: TS>() -> String {
    let docs = T::docs().map(|d| format!("{}\n", d.trim_end())).unwrap_or_default();
    format!("{docs}export {}\n", T::decl())
}

macro_rules! declarations {
    ($($ty:ty),* $(,)?) => {
        vec![$(declaration::<$ty>()),*]
    };
}

/// Every request and result type, in the order they are written.
fn declarations() -> String {
    use crate::audit::{self, export, retention};
    use crate::metering::{limits, rollups, usage};
    use crate::page::{Page, PageRequest};
    use crate::request::RequestContext;
    use crate::settings::{billing, identity, secrets};
    use crate::tenancy::{access, orgs, projects, quotas, teams};
    let types: Vec<String> = declarations![
        RequestContext,
        Page<()>,
        PageRequest,
        orgs::Org,
        orgs::OrgStatus,
        orgs::CreateOrg,
        orgs::OrgRef,
        orgs::OrgSlug,
        orgs::ListOrgs,
        orgs::SuspendOrg,
        orgs::UnsuspendOrg,
        orgs::DeleteMode,
        orgs::DeleteOrg,
        orgs::OrgDeletion,
        teams::Team,
        teams::TeamMember,
        teams::CreateTeam,
        teams::AddTeamMember,
        teams::ListTeams,
        teams::GetTeam,
        teams::ListTeamMembers,
        teams::RemoveTeamMember,
        teams::DeleteTeam,
        projects::Project,
        projects::ProjectTeam,
        projects::CreateProject,
        projects::AddProjectTeam,
        projects::ListProjects,
        projects::GetProject,
        projects::ListProjectTeams,
        projects::RemoveProjectTeam,
        projects::DeleteProject,
        access::Grant,
        access::ProjectAccess,
        access::ListProjectAccess,
        access::GetProjectAccess,
        quotas::QuotaLimits,
        quotas::QuotaUsage,
        quotas::OrgQuota,
        quotas::SetOrgQuota,
        billing::BillingAccount,
        billing::UpsertBillingAccount,
        identity::IdentityProvider,
        identity::UpsertIdentityProvider,
        identity::ListIdentityProviders,
        identity::DeleteIdentityProvider,
        secrets::SecretRef,
        secrets::PutSecretRef,
        secrets::ListSecretRefs,
        secrets::DeleteSecretRef,
        crate::storage::TableRows,
        crate::storage::Stats,
        crate::storage::Integrity,
        usage::UsageEvent,
        usage::NewUsage,
        usage::Returning,
        usage::RecordUsageBatch,
        usage::UsageBatch,
        usage::UsageIds,
        usage::Window,
        usage::Dimension,
        usage::Bucket,
        usage::SummarizeUsage,
        usage::UsageGroup,
        usage::UsageSummary,
        limits::UsagePeriod,
        limits::UsageLimit,
        limits::UsageLimitCheck,
        limits::SetUsageLimit,
        limits::CheckUsageLimit,
        limits::ConsumeCheck,
        limits::Consumption,
        limits::ListUsageLimits,
        limits::DeleteUsageLimit,
        limits::BalanceCheck,
        crate::metering::consume::ConsumeOptions,
        crate::metering::credits::grants::Recurrence,
        crate::metering::credits::grants::Rollover,
        crate::metering::credits::grants::CreditGrant,
        crate::metering::credits::grants::RecurrenceInput,
        crate::metering::credits::grants::RolloverInput,
        crate::metering::credits::grants::GrantCredits,
        crate::metering::credits::grants::VoidGrant,
        crate::metering::credits::grants::ListGrants,
        crate::metering::credits::balance::GrantRemaining,
        crate::metering::credits::balance::Balance,
        crate::metering::credits::balance::GetBalance,
        crate::metering::credits::corrections::Kind,
        crate::metering::credits::corrections::UsageCorrection,
        crate::metering::credits::corrections::CorrectUsage,
        crate::metering::credits::corrections::AmendUsage,
        rollups::CheckRollups,
        rollups::RollupCheck,
        audit::AuditEvent,
        audit::RecordAuditEvent,
        audit::AuditOrder,
        audit::AuditQuery,
        audit::ChainReport,
        export::OrgExport,
        export::ExportOrgAudit,
        export::ExportFormat,
        export::ExportOrgAuditToFile,
        export::FileExport,
        retention::Retention,
        retention::SetRetention,
        retention::PurgeExpired,
        retention::Purge,
        crate::transfer::Progress,
        crate::transfer::TableCount,
        crate::transfer::Verification,
    ];
    // Every integer the store hands over fits a JS number (at most 2^53 - 1): ts-rs writes
    // 64-bit integers as `bigint`.
    format!("{PREAMBLE}\n{}", types.join("\n")).replace("bigint", "number")
}

#[test]
fn typescript_types_are_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../native-types.d.ts");
    let fresh = declarations();
    if std::env::var_os("UPDATE_TYPES").is_some() {
        std::fs::write(path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(committed == fresh, "native-types.d.ts is not what the core's types say: run UPDATE_TYPES=1 cargo test -p control-plane-core typescript");
}

/// The top-level fields of a type's TypeScript declaration (`{ a: ..., b?: ... }`), doc
/// comments left out.
#[cfg(test)]
fn ts_fields<T: TS>() -> Vec<String> {
    let decl = T::decl();
    let body = &decl[decl.find('{').expect("an object type") + 1..];
    let (mut depth, mut fields, mut word, mut comment) = (0i32, Vec::new(), String::new(), false);
    let chars: Vec<char> = body.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if comment {
            if c == '*' && chars.get(i + 1) == Some(&'/') {
                comment = false;
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            comment = true;
        } else if matches!(c, '{' | '<' | '(' | '[') {
            depth += 1;
        } else if matches!(c, '}' | '>' | ')' | ']') {
            depth -= 1;
        } else if depth == 0 && (c == ':' || (c == '?' && chars.get(i + 1) == Some(&':'))) && !word.is_empty() {
            fields.push(std::mem::take(&mut word));
        }
        if depth == 0 && !comment && (c.is_alphanumeric() || c == '_') {
            word.push(c);
        } else if !(c == '?' && chars.get(i + 1) == Some(&':')) {
            word.clear();
        }
        i += 1;
    }
    fields
}

/// The requests read by their fields (`FromInput::FIELDS`, the binding's request path)
/// list exactly the fields of their TypeScript type: a field added to the type and not to
/// the list would never reach the core on that path.
#[test]
fn requests_read_by_fields_list_their_types_fields() {
    use crate::request::FromInput;
    fn check<T: TS + FromInput>() {
        let mut listed: Vec<String> = T::FIELDS.iter().map(|f| f.to_string()).collect();
        let mut declared = ts_fields::<T>();
        listed.sort();
        declared.sort();
        assert_eq!(listed, declared, "{}'s FIELDS", T::name());
    }
    check::<crate::metering::usage::NewUsage>();
    check::<crate::metering::limits::CheckUsageLimit>();
    check::<crate::tenancy::orgs::CreateOrg>();
}
