#!/usr/bin/env node
"use strict";
// control-plane: look into and operate a control-plane store without writing code: a
// SQLite file (--db) or any URL the async store connects to (--url, or CONTROL_PLANE_URL:
// postgres://..., sqlite:path); and move a SQLite file's store to PostgreSQL (migrate).
// Exit codes: 0 done; 1 the store refused (a ControlPlaneError, its code on stderr);
// 2 a command line that does not parse; 3 not found (orgs show).

const fs = require("node:fs");
const path = require("node:path");
const { Command, CommanderError, InvalidArgumentError } = require("commander");
const { ControlPlaneStore, ControlPlaneError, startMigration } = require("..");

const EXIT = { ok: 0, refused: 1, usage: 2, notFound: 3 };

// A reader that stops early (`control-plane orgs list | head -1`) closes the pipe: what is
// left to print has no reader, so stop quietly, as command-line tools do. Output is
// printed after the store's work is done, so nothing is left half-done.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(process.exitCode ?? EXIT.ok);
  });
}

const program = new Command("control-plane")
  .description("Inspect and operate a Smithers control-plane store: a SQLite file or a PostgreSQL database.")
  .option("--db <path>", "the database file", "./control-plane.db")
  .option("--url <url>", "the store's URL instead of --db: postgres://..., postgresql://... or sqlite:<path> (default: $CONTROL_PLANE_URL)")
  .option("--json", "print JSON instead of tables")
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

function number(value) {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError("Not a number.");
  return n;
}

/** A number of seconds from 1 s to a day. */
function seconds(value) {
  const n = number(value);
  if (n < 1 || n > 86_400) throw new InvalidArgumentError("Between 1 and 86400 seconds.");
  return n;
}

function list(value) {
  return value.split(",").map((s) => s.trim()).filter(Boolean);
}

function globals() {
  return program.opts();
}

/**
 * The store the command works on: --url, else --db when given, else $CONTROL_PLANE_URL,
 * else ./control-plane.db. A file is named as `sqlite:<absolute path>`.
 */
function storeUrl() {
  const { url, db } = globals();
  if (url !== undefined) {
    if (program.getOptionValueSource("db") === "cli") program.error("error: give --db or --url, not both", { exitCode: EXIT.usage });
    return url;
  }
  if (program.getOptionValueSource("db") !== "cli" && process.env.CONTROL_PLANE_URL) return process.env.CONTROL_PLANE_URL;
  return `sqlite:${path.resolve(db)}`;
}

/** The file a `sqlite:` URL names (null for PostgreSQL and memory). */
function fileOf(url) {
  const file = url.startsWith("sqlite:") ? url.slice("sqlite:".length) : null;
  return file && file !== ":memory:" ? path.resolve(file) : null;
}

/** What the command works on, to print: `{ db: file }`, or `{ url }` without its password. */
function where() {
  const url = storeUrl();
  const file = fileOf(url);
  return file ? { db: file } : { url: redacted(url) };
}

function redacted(url) {
  return url.replace(/^([a-z]+:\/\/[^:/@]*:)[^@]*@/i, "$1***@");
}

/**
 * Opens the store for one command and closes it afterwards: the async store
 * (`ControlPlaneStore.connect`), so every command runs the same on either engine.
 */
async function withStore(fn) {
  const store = await ControlPlaneStore.connect(storeUrl());
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function table(rows, columns) {
  if (rows.length === 0) return "(none)";
  const cell = (v) => (v === null || v === undefined ? "-" : typeof v === "object" ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values) => values.map((v, i) => v.padEnd(widths[i])).join("  ").trimEnd();
  return [line(columns), line(widths.map((w) => "-".repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join("\n");
}

/** Prints a result: JSON with --json, else a table of `columns` (or key: value lines). */
function show(value, columns) {
  if (globals().json) {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  } else if (Array.isArray(value)) {
    process.stdout.write(`${table(value, columns ?? Object.keys(value[0] ?? {}))}\n`);
  } else if (value && typeof value === "object") {
    const width = Math.max(...Object.keys(value).map((k) => k.length));
    for (const [k, v] of Object.entries(value)) {
      process.stdout.write(`${k.padEnd(width)}  ${v !== null && typeof v === "object" ? JSON.stringify(v) : v}\n`);
    }
  } else {
    process.stdout.write(`${value}\n`);
  }
}

/** Every org's id, deleted ones too, page by page. */
async function allOrgIds(store) {
  const ids = [];
  for (const status of ["active", "suspended", "deleted"]) {
    let cursor = null;
    do {
      const page = await store.listOrgs({ status, cursor, limit: 1000 });
      ids.push(...page.items.map((org) => org.orgId));
      cursor = page.nextCursor;
    } while (cursor);
  }
  return ids.sort();
}

function showPage(page, columns) {
  show(globals().json ? page : page.items, columns);
  if (!globals().json && page.nextCursor) process.stdout.write(`(more: --cursor ${page.nextCursor})\n`);
}

const paging = (cmd) => cmd.option("--limit <n>", "rows per page (1-1000)", number).option("--cursor <cursor>", "continue after this cursor");

program
  .command("init")
  .description("create or upgrade the control-plane tables in the file")
  .action(() =>
    withStore(async (s) => show({ ...where(), schemaVersion: (await s.stats()).schemaVersion })),
  );

const orgs = program.command("orgs").description("organizations");
paging(orgs.command("list").description("list orgs (deleted ones only with --status deleted)").option("--status <status>", "active, suspended or deleted")).action((o) =>
  withStore(async (s) => showPage(await s.listOrgs({ status: o.status, limit: o.limit, cursor: o.cursor }), ["orgId", "slug", "name", "status", "createdAtMs"])),
);
orgs
  .command("show <orgIdOrSlug>")
  .description("one org, by id or slug")
  .action((key) =>
    withStore(async (s) => {
      const bySlug = async () => {
        try {
          return await s.getOrgBySlug(key);
        } catch {
          return null; // not a slug at all
        }
      };
      const org = (await s.getOrg(key)) ?? (await bySlug());
      if (!org) {
        process.stderr.write(`No org with id or slug ${key}.\n`);
        process.exitCode = EXIT.notFound;
        return;
      }
      show(org);
    }),
  );
orgs
  .command("create")
  .description("create an org")
  .requiredOption("--slug <slug>", "lowercase slug")
  .requiredOption("--name <name>", "display name")
  .option("--id <orgId>", "org id (default: a UUID)")
  .action((o) => withStore(async (s) => show(await s.createOrg({ orgId: o.id, slug: o.slug, name: o.name }))));
orgs
  .command("suspend <orgId>")
  .description("suspend an org: no new resources, metering continues")
  .requiredOption("--reason <reason>", "why")
  .option("--actor <actorId>", "who")
  .action((orgId, o) => withStore(async (s) => show(await s.suspendOrg({ orgId, reason: o.reason, actorId: o.actor }))));
orgs
  .command("unsuspend <orgId>")
  .description("lift a suspension")
  .option("--actor <actorId>", "who")
  .action((orgId, o) => withStore(async (s) => show(await s.unsuspendOrg({ orgId, actorId: o.actor }))));
orgs
  .command("delete <orgId>")
  .description("soft-delete an org (--hard removes every row it holds)")
  .option("--hard", "remove the org and all its rows")
  .option("--actor <actorId>", "who")
  .action((orgId, o) => withStore(async (s) => show(await s.deleteOrg({ orgId, mode: o.hard ? "hard" : "soft", actorId: o.actor }))));

const projects = program.command("projects").description("projects");
paging(projects.command("list").description("list an org's projects").requiredOption("--org <orgId>", "org")).action((o) =>
  withStore(async (s) => showPage(await s.listProjects({ orgId: o.org, limit: o.limit, cursor: o.cursor }), ["projectId", "slug", "name", "createdAtMs"])),
);
projects
  .command("create")
  .description("create a project")
  .requiredOption("--org <orgId>", "org")
  .requiredOption("--slug <slug>", "lowercase slug")
  .requiredOption("--name <name>", "display name")
  .option("--id <projectId>", "project id (default: a UUID)")
  .action((o) => withStore(async (s) => show(await s.createProject({ orgId: o.org, projectId: o.id, slug: o.slug, name: o.name }))));

const teams = program.command("teams").description("teams and members");
paging(teams.command("list").description("list an org's teams").requiredOption("--org <orgId>", "org")).action((o) =>
  withStore(async (s) => showPage(await s.listTeams({ orgId: o.org, limit: o.limit, cursor: o.cursor }), ["teamId", "slug", "name", "createdAtMs"])),
);
teams
  .command("create")
  .description("create a team")
  .requiredOption("--org <orgId>", "org")
  .requiredOption("--slug <slug>", "lowercase slug")
  .requiredOption("--name <name>", "display name")
  .option("--id <teamId>", "team id (default: a UUID)")
  .action((o) => withStore(async (s) => show(await s.createTeam({ orgId: o.org, teamId: o.id, slug: o.slug, name: o.name }))));
teams
  .command("add-member")
  .description("add a user to a team, or change their role")
  .requiredOption("--org <orgId>", "org")
  .requiredOption("--team <teamId>", "team")
  .requiredOption("--user <userId>", "user")
  .option("--role <role>", "role", "member")
  .action((o) =>
    withStore(async (s) => {
      await s.addTeamMember({ orgId: o.org, teamId: o.team, userId: o.user, role: o.role });
      show((await s.listTeamMembers({ orgId: o.org, teamId: o.team, limit: 1000 })).items, ["userId", "role", "createdAtMs"]);
    }),
  );

const usage = program.command("usage").description("usage events");
usage
  .command("record")
  .description("record a usage event")
  .requiredOption("--org <orgId>", "org")
  .requiredOption("--metric <metric>", "metric")
  .requiredOption("--quantity <n>", "quantity", number)
  .option("--project <projectId>", "project")
  .option("--unit <unit>", "unit", "count")
  .option("--run <runId>", "run")
  .option("--key <idempotencyKey>", "idempotency key")
  .action((o) =>
    withStore(async (s) =>
      show(await s.recordUsage({ orgId: o.org, projectId: o.project, metric: o.metric, quantity: o.quantity, unit: o.unit, runId: o.run, idempotencyKey: o.key })),
    ),
  );
usage
  .command("summary")
  .description("usage summed over a window")
  .requiredOption("--org <orgId>", "org")
  .option("--since <ms>", "window start (ms)", number)
  .option("--until <ms>", "window end (ms)", number)
  .option("--project <projectId>", "one project's usage")
  .option("--metric <metric>", "one metric")
  .option("--group-by <dims>", "comma list of projectId, metric, unit", list)
  .option("--bucket <bucket>", "hour, day or month")
  .action((o) =>
    withStore(async (s) =>
      show(await s.summarizeUsage({ orgId: o.org, sinceMs: o.since, untilMs: o.until, projectId: o.project, metric: o.metric, groupBy: o.groupBy, bucket: o.bucket })),
    ),
  );

const credits = program.command("credits").description("credit grants and balances");
credits
  .command("grant")
  .description("grant credits on a metric")
  .requiredOption("--org <orgId>", "org")
  .requiredOption("--metric <metric>", "metric")
  .requiredOption("--amount <n>", "amount", number)
  .option("--project <projectId>", "project (default: the org's)")
  .option("--unit <unit>", "unit", "count")
  .option("--priority <n>", "lower burns first", number)
  .option("--effective <ms>", "takes effect (ms; default now)", number)
  .option("--expires <ms>", "expires (ms)", number)
  .option("--every <period>", "resets every daily, weekly or monthly period")
  .option("--rollover-max <n>", "at most this carries over at a reset", number)
  .option("--rollover-min <n>", "at least this carries over at a reset", number)
  .option("--id <grantId>", "grant id (default: a new one)")
  .option("--key <idempotencyKey>", "idempotency key")
  .action((o) =>
    withStore(async (s) =>
      show(
        await s.grantCredits({
          orgId: o.org,
          projectId: o.project,
          metric: o.metric,
          unit: o.unit,
          amount: o.amount,
          priority: o.priority,
          effectiveAtMs: o.effective,
          expiresAtMs: o.expires,
          recurrence: o.every ? { period: o.every } : undefined,
          rollover: o.rolloverMax === undefined ? undefined : { maxAmount: o.rolloverMax, minAmount: o.rolloverMin },
          grantId: o.id,
          idempotencyKey: o.key,
        }),
      ),
    ),
  );
credits
  .command("list")
  .description("an org's grants")
  .requiredOption("--org <orgId>", "org")
  .option("--metric <metric>", "one metric")
  .option("--active-at <ms>", "only the grants active then", number)
  .action((o) =>
    withStore(async (s) =>
      show((await s.listGrants({ orgId: o.org, metric: o.metric, activeAtMs: o.activeAt, limit: 1000 })).items, ["grantId", "projectId", "metric", "unit", "amount", "priority", "effectiveAtMs", "expiresAtMs", "voidedAtMs"]),
    ),
  );
credits
  .command("balance")
  .description("a scope's balance at an instant (default now)")
  .requiredOption("--org <orgId>", "org")
  .requiredOption("--metric <metric>", "metric")
  .option("--project <projectId>", "project (default: the org's)")
  .option("--unit <unit>", "unit", "count")
  .option("--at <ms>", "instant (ms)", number)
  .action((o) => withStore(async (s) => show(await s.getBalance({ orgId: o.org, projectId: o.project, metric: o.metric, unit: o.unit, atMs: o.at }))));
credits
  .command("void")
  .description("void a grant from now on")
  .requiredOption("--org <orgId>", "org")
  .requiredOption("--grant <grantId>", "grant")
  .requiredOption("--reason <reason>", "why")
  .action((o) => withStore(async (s) => show(await s.voidGrant({ orgId: o.org, grantId: o.grant, reason: o.reason }))));

const quota = program.command("quota").description("usage limits");
quota
  .command("set")
  .description("set a usage limit")
  .requiredOption("--org <orgId>", "org")
  .requiredOption("--metric <metric>", "metric")
  .requiredOption("--limit <n>", "limit quantity", number)
  .option("--project <projectId>", "project (default: org-wide)")
  .option("--unit <unit>", "unit", "count")
  .option("--period <period>", "daily, weekly or monthly", "monthly")
  .action((o) =>
    withStore(async (s) => show(await s.setUsageLimit({ orgId: o.org, projectId: o.project, metric: o.metric, unit: o.unit, period: o.period, limitQuantity: o.limit }))),
  );
quota
  .command("check")
  .description("check usage against a limit (exit 1 when exceeded)")
  .requiredOption("--org <orgId>", "org")
  .requiredOption("--metric <metric>", "metric")
  .option("--project <projectId>", "project (default: org-wide)")
  .option("--unit <unit>", "unit", "count")
  .option("--period <period>", "daily, weekly or monthly", "monthly")
  .action((o) =>
    withStore(async (s) => {
      const check = await s.checkUsageLimit({ orgId: o.org, projectId: o.project, metric: o.metric, unit: o.unit, period: o.period });
      if (!check) {
        process.stderr.write("No limit is set for that scope, metric, unit and period.\n");
        process.exitCode = EXIT.notFound;
        return;
      }
      show(check);
      if (check.exceeded) process.exitCode = EXIT.refused;
    }),
  );

const secrets = program.command("secrets").description("secret references (never values)");
secrets
  .command("list")
  .description("list an org's secret references")
  .requiredOption("--org <orgId>", "org")
  .option("--project <projectId>", "one project's")
  .action((o) =>
    withStore(async (s) => show(await s.listSecretRefs(o.project ? { orgId: o.org, projectId: o.project } : { orgId: o.org }), ["name", "projectId", "provider", "ref", "createdBy", "createdAtMs"])),
  );
secrets
  .command("put")
  .description("store a reference to a secret held in a secret manager")
  .requiredOption("--org <orgId>", "org")
  .requiredOption("--name <name>", "name")
  .requiredOption("--provider <provider>", "secret manager")
  .requiredOption("--ref <ref>", "the reference (never the value)")
  .option("--project <projectId>", "project (default: org-wide)")
  .option("--by <userId>", "who")
  .action((o) => withStore(async (s) => show(await s.putSecretRef({ orgId: o.org, projectId: o.project, name: o.name, provider: o.provider, ref: o.ref, createdBy: o.by }))));

const audit = program.command("audit").description("audit log");
paging(
  audit
    .command("query")
    .description("query an org's audit log")
    .requiredOption("--org <orgId>", "org")
    .option("--actor <actorId>", "actor")
    .option("--action <action>", "action")
    .option("--target-type <type>", "target type")
    .option("--target <targetId>", "target id")
    .option("--since <ms>", "window start (ms)", number)
    .option("--until <ms>", "window end (ms)", number)
    .option("--order <order>", "asc or desc", "asc"),
).action((o) =>
  withStore(async (s) =>
    showPage(
      await s.queryAuditLog({ orgId: o.org, actorId: o.actor, action: o.action, targetType: o.targetType, targetId: o.target, sinceMs: o.since, untilMs: o.until, order: o.order, limit: o.limit, cursor: o.cursor }),
      ["id", "occurredAtMs", "action", "targetType", "targetId", "actorId", "projectId"],
    ),
  ),
);
audit
  .command("export")
  .description("stream an org's audit export to a file (atomically)")
  .requiredOption("--org <orgId>", "org")
  .requiredOption("--out <path>", "output file")
  .option("--format <format>", "json, ndjson or csv", "ndjson")
  .option("--since <ms>", "window start (ms)", number)
  .option("--until <ms>", "window end (ms)", number)
  .action((o) =>
    withStore(async (s) => {
      const out = path.resolve(o.out);
      const stopProgress = process.stderr.isTTY ? progress(out) : () => {};
      try {
        show(await s.exportOrgAuditToFile({ orgId: o.org, path: out, format: o.format, sinceMs: o.since, untilMs: o.until }));
      } finally {
        stopProgress();
      }
    }),
  );

/** On a terminal: a line showing how much of the export has been written, redrawn as it grows. */
function progress(out) {
  const started = Date.now();
  const dir = path.dirname(out);
  const prefix = `${path.basename(out)}.tmp-${process.pid}-`;
  const frames = ["|", "/", "-", "\\"];
  let frame = 0;
  const timer = setInterval(() => {
    const tmp = fs.readdirSync(dir).find((f) => f.startsWith(prefix));
    const bytes = tmp ? fs.statSync(path.join(dir, tmp)).size : 0;
    const width = 30;
    const filled = Math.min(width, Math.floor((Date.now() - started) / 250) % (width + 1));
    process.stderr.write(`\r${frames[frame++ % 4]} exporting [${"#".repeat(filled).padEnd(width)}] ${(bytes / 1e6).toFixed(1)} MB written, ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 100);
  return () => {
    clearInterval(timer);
    process.stderr.write("\r\x1b[K");
  };
}

program
  .command("purge")
  .description("remove the audit events past each org's retention and the soft-deleted orgs past their grace period, in short batches")
  .option("--dry-run", "only count what would be removed")
  .option("--grace-days <days>", "days a soft-deleted org is kept (default 30)", number)
  .action((o) =>
    withStore(async (s) => {
      const nowMs = Date.now();
      const total = { deleted: {}, orgs: [], batches: 0 };
      const tty = process.stderr.isTTY;
      for (;;) {
        const step = await s.purgeExpired({ nowMs, dryRun: Boolean(o.dryRun), deletedOrgGraceDays: o.graceDays, maxBatches: 20 });
        for (const [table, n] of Object.entries(step.deleted)) total.deleted[table] = (total.deleted[table] ?? 0) + n;
        total.orgs.push(...step.orgs);
        total.batches += step.batches;
        const rows = Object.values(total.deleted).reduce((a, b) => a + b, 0);
        if (tty) process.stderr.write(`\r${o.dryRun ? "counting" : "purging"}: ${total.batches} batches, ${rows} rows, ${total.orgs.length} orgs`);
        if (step.done) break;
      }
      if (tty) process.stderr.write("\r\x1b[K");
      show({ dryRun: Boolean(o.dryRun), batches: total.batches, orgs: total.orgs, ...total.deleted });
    }),
  );

program
  .command("doctor")
  .description("check the usage rollups against the raw events (a pass over every event) and rebuild them if they disagree; verify every org's audit chain")
  .option("--no-repair", "only report")
  .action((o) =>
    withStore(async (s) => {
      const rollups = await s.checkRollups({ repair: o.repair });
      const orgIds = await allOrgIds(s);
      const { integrity } = await s.checkIntegrity();
      const broken = [];
      for (const orgId of orgIds) if (!(await s.verifyAuditChain({ orgId })).ok) broken.push(orgId);
      show({ integrity, rollupsConsistent: rollups.consistent, rollupsRepaired: rollups.repaired, orgs: orgIds.length, brokenAuditChains: broken });
      if (integrity !== "ok" || broken.length > 0 || (!rollups.consistent && !rollups.repaired)) process.exitCode = EXIT.refused;
    }),
  );

program
  .command("stats")
  .description("rows per table, file size (SQLite) and schema version")
  .action(() =>
    withStore(async (s) => {
      const { schemaVersion, tables } = await s.stats();
      const place = where();
      const { db: file, url } = place;
      const bytes = file && ["", "-wal"].reduce((n, suffix) => n + (fs.existsSync(file + suffix) ? fs.statSync(file + suffix).size : 0), 0);
      if (globals().json) show({ ...place, ...(file ? { bytes } : {}), schemaVersion, tables });
      else {
        show(tables, ["table", "rows"]);
        process.stdout.write(file ? `\n${file}: ${bytes} bytes (with WAL), schema version ${schemaVersion}\n` : `\n${url}: schema version ${schemaVersion}\n`);
      }
    }),
  );

program
  .command("migrate")
  .description("move a SQLite file's store into an empty PostgreSQL database, with a progress line; run it again to go on after an interruption")
  .requiredOption("--from <url>", "the source: sqlite:<path>")
  .requiredOption("--to <url>", "the target: postgres://... or postgresql://...")
  .option("--rows <n>", "rows copied per step (one transaction each)", number, 5000)
  .option("--lease <seconds>", "how long the move's hold on the target lasts after each step: a move that stopped is taken over then", seconds, 60)
  .action(async (o) => {
    const tty = process.stderr.isTTY;
    const began = Date.now();
    const transfer = await startMigration(o.from, o.to, { leaseSeconds: o.lease });
    try {
      let progress = await transfer.progress();
      if (progress.resumed && !progress.done) process.stderr.write(`going on with the interrupted move: ${progress.copied} of ${progress.rows} rows were copied\n`);
      if (progress.done) process.stderr.write("this move was done already: checking the target again\n");
      let lastTable = null;
      let lastLine = 0;
      const line = (p) => {
        const percent = p.rows === 0 ? 100 : Math.floor((100 * p.copied) / p.rows);
        return `migrating: ${p.copied}/${p.rows} rows (${percent}%), table ${p.tablesDone + (p.done ? 0 : 1)}/${p.tables} ${p.table} ${p.tableCopied}/${p.tableRows}, ${((Date.now() - began) / 1000).toFixed(1)} s`;
      };
      const tell = (p) => {
        if (tty) process.stderr.write(`\r\x1b[K${line(p)}`);
        else if (p.table !== lastTable || p.done || Date.now() - lastLine >= 5_000) {
          // Piped: a line as each table begins (the first before its first step), every
          // 5 s within one, and at the end.
          process.stderr.write(`${line(p)}\n`);
          lastTable = p.table;
          lastLine = Date.now();
        }
      };
      if (!progress.done) tell(progress);
      while (!progress.done) {
        progress = await transfer.step(o.rows);
        tell(progress);
      }
      if (tty) process.stderr.write("\r\x1b[K");
      const report = await transfer.verify();
      show({
        from: o.from,
        to: redacted(o.to),
        ok: report.ok,
        rows: progress.rows,
        tables: report.tables.length,
        orgs: report.orgs,
        brokenAuditChains: report.brokenAuditChains,
        rollupsConsistent: report.rollupsConsistent,
        ...(report.differing.length ? { tablesDiffering: report.tables.filter((t) => report.differing.includes(t.table)) } : {}),
        seconds: Number(((Date.now() - began) / 1000).toFixed(1)),
      });
      if (!report.ok) process.exitCode = EXIT.refused;
    } finally {
      transfer.close();
    }
  });

async function main() {
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else if (error instanceof ControlPlaneError) {
      process.stderr.write(`${error.code}: ${error.message}\n`);
      if (globals().json) process.stdout.write(`${JSON.stringify({ error: { code: error.code, message: error.message, details: error.details } })}\n`);
      process.exitCode = EXIT.refused;
    } else {
      throw error;
    }
  }
}

main();
