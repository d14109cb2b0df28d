"use strict";
// The results of the request path, built from their fields (the addon calls these
// with the fields as arguments, in the order the result has its keys): objects of this
// realm, made at the cost of a call rather than of JSON text and its parse. A field the
// result leaves out when it has none is `undefined` here, and left out.
const parse = JSON.parse;
/** `metadata`'s JSON text as a fresh object. */
const metadataOf = (text) => (text === "{}" ? {} : parse(text));

// Object literals only (no assignment, which a setter on Object.prototype would see), as
// JSON.parse defines its keys; arrays filled by index, not by a `push` one could replace.
function usageEvent(id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata, idempotencyKey, duplicate) {
  return event(id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadataOf(metadata), idempotencyKey, duplicate);
}

function event(id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, m, idempotencyKey, duplicate) {
  if (idempotencyKey === undefined && duplicate === undefined) return { id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata: m };
  if (duplicate === undefined) return { id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata: m, idempotencyKey };
  if (idempotencyKey === undefined) return { id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata: m, duplicate };
  return { id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata: m, idempotencyKey, duplicate };
}

function usageLimitCheck(orgId, projectId, metric, unit, period, limitQuantity, updatedAtMs, usedQuantity, remainingQuantity, exceeded) {
  return { orgId, projectId, metric, unit, period, limitQuantity, updatedAtMs, usedQuantity, remainingQuantity, exceeded };
}

/** `consumption(allowed, ...event (11, its id null when none), ...checks (14 each))`. */
function consumption(allowed, id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata, idempotencyKey, duplicate, ...checks) {
  const recorded = id === null ? null : usageEvent(id, orgId, projectId, runId, metric, quantity, unit, observedAtMs, metadata, idempotencyKey, duplicate);
  const made = [];
  for (let i = 0; i < checks.length; i += 14) {
    const c = checks;
    made[made.length] = {
      orgId: c[i], projectId: c[i + 1], metric: c[i + 2], unit: c[i + 3], period: c[i + 4], limitQuantity: c[i + 5], updatedAtMs: c[i + 6],
      usedQuantity: c[i + 7], remainingQuantity: c[i + 8], exceeded: c[i + 9], sinceMs: c[i + 10], untilMs: c[i + 11], laterQuantity: c[i + 12], allowed: c[i + 13],
    };
  }
  return { allowed, event: recorded, checks: made };
}

function org(orgId, slug, name, createdAtMs, status, suspendedAtMs, suspendReason, deletedAtMs) {
  return { orgId, slug, name, createdAtMs, status, suspendedAtMs, suspendReason, deletedAtMs };
}

/**
 * `usageEvents(into, metadata, ...events (10 each, no metadata))`: adds to `into`, a new
 * array at first; `metadata` is the JSON text of the events' metadata, an array, or
 * `undefined` when each is `{}`.
 */
function usageEvents(into, metadata, ...fields) {
  const events = into === undefined ? [] : into;
  const all = metadata === undefined ? undefined : parse(metadata);
  for (let i = 0, k = 0; i < fields.length; i += 10, k++) {
    const f = fields;
    events[events.length] = event(f[i], f[i + 1], f[i + 2], f[i + 3], f[i + 4], f[i + 5], f[i + 6], f[i + 7], all === undefined ? {} : all[k], f[i + 8], f[i + 9]);
  }
  return events;
}

/** `usageIds(into, count, ...ids)`: adds to `into`'s ids, a new result at first. */
function usageIds(into, count, ...ids) {
  if (into === undefined) return { count, ids };
  const all = into.ids;
  for (let i = 0; i < ids.length; i++) all[all.length] = ids[i];
  return into;
}

/** The factories the addon builds the request path's results with (`useRealm`). */
module.exports = { usageEvent, usageLimitCheck, consumption, org, usageEvents, usageIds };
