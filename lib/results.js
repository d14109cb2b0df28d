"use strict";
// The results of the request path, built from their fields: the addon calls these with
// the fields as arguments, and they make the objects of this realm at the cost of a call
// rather than of JSON text and its parse. The order of the arguments is the addon's
// (src/binding/results.rs, `resultShapes()`): each record's keys in its factory's order,
// `key?` for one left out when `undefined`, `key:json` for one handed over as JSON text
// (parsed here, a fresh object). From those lists this file writes each factory's code
// once per realm, object literals with the keys in place, so that a call builds its result
// as fast as a factory written by hand.

const parse = JSON.parse;
/** `metadata`'s JSON text as a fresh object. */
const metadataOf = (text) => (text === "{}" ? {} : parse(text));

/** A record's keys: each key's name, whether it may be left out, whether it is JSON text. */
function fieldsOf(keys) {
  return keys.map((key) => {
    const json = key.endsWith(":json");
    const optional = key.endsWith("?");
    const name = json ? key.slice(0, -5) : optional ? key.slice(0, -1) : key;
    return { name, optional, json };
  });
}

/**
 * The code of an object literal of `fields`, field i's value `value(i, field)`: one
 * literal per combination of the optional fields given (at most two per record), so that
 * no key is added or deleted after the literal (a key left out is absent, as JSON has it).
 */
function literal(fields, value) {
  const optional = fields.map((field, i) => (field.optional ? i : -1)).filter((i) => i >= 0);
  const make = (present) =>
    `{ ${fields
      .map((field, i) => (field.optional && !present.has(i) ? null : `${JSON.stringify(field.name)}: ${value(i, field)}`))
      .filter((part) => part !== null)
      .join(", ")} }`;
  const branch = (j, present) => {
    if (j === optional.length) return make(present);
    const i = optional[j];
    return `(${value(i, fields[i])} === undefined ? ${branch(j + 1, present)} : ${branch(j + 1, new Set([...present, i]))})`;
  };
  return branch(0, new Set());
}

/** The addon's shapes read: each record's fields, and the keys of the results that hold them. */
function layout(shapes) {
  const [allowedKey, eventKey, checksKey] = shapes.consumption;
  const [countKey, idsKey] = shapes.usageIds;
  return {
    event: fieldsOf(shapes.usageEvent),
    check: fieldsOf(shapes.usageLimitCheck),
    consumeCheck: fieldsOf(shapes.consumeCheck),
    org: fieldsOf(shapes.org),
    allowedKey,
    eventKey,
    checksKey,
    countKey,
    idsKey,
  };
}

/** Argument names `p0`..`p(n-1)`. */
const params = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** The factories the addon builds the request path's results with (`useRealm`), from its shapes. */
function factories(shapes) {
  const { event, check, consumeCheck, org, allowedKey, eventKey, checksKey, countKey, idsKey } = layout(shapes);
  const e = params("e", event.length);
  const asEvent = (i, field) => (field.json ? `metadataOf(${e[i]})` : e[i]);
  // A batch's events come without their metadata (an array's JSON text of its own).
  const batched = event.filter((field) => !field.json);
  const stride = consumeCheck.length;
  // Object literals only (no assignment, which a setter on Object.prototype would see), as
  // JSON.parse defines its keys; arrays filled by index, not by a `push` one could replace.
  const code = `
    function usageEvent(${e.join(", ")}) {
      return ${literal(event, asEvent)};
    }
    function usageLimitCheck(${params("c", check.length).join(", ")}) {
      return ${literal(check, (i) => `c${i}`)};
    }
    function consumption(allowed, ${e.join(", ")}, ...c) {
      const recorded = ${e[0]} === null ? null : ${literal(event, asEvent)};
      const made = [];
      for (let i = 0; i < c.length; i += ${stride}) {
        made[made.length] = ${literal(consumeCheck, (k) => `c[i + ${k}]`)};
      }
      return { ${JSON.stringify(allowedKey)}: allowed, ${JSON.stringify(eventKey)}: recorded, ${JSON.stringify(checksKey)}: made };
    }
    function org(${params("o", org.length).join(", ")}) {
      return ${literal(org, (i) => `o${i}`)};
    }
    function usageEvents(into, metadata, ...f) {
      const events = into === undefined ? [] : into;
      const all = metadata === undefined ? undefined : parse(metadata);
      for (let i = 0, k = 0; i < f.length; i += ${batched.length}, k++) {
        events[events.length] = ${literal(event, (_, field) =>
          field.json ? "(all === undefined ? {} : all[k])" : `f[i + ${batched.indexOf(field)}]`,
        )};
      }
      return events;
    }
    function usageIds(into, count, ...ids) {
      if (into === undefined) return { ${JSON.stringify(countKey)}: count, ${JSON.stringify(idsKey)}: ids };
      const all = into[${JSON.stringify(idsKey)}];
      for (let i = 0; i < ids.length; i++) all[all.length] = ids[i];
      return into;
    }
    return { usageEvent, usageLimitCheck, consumption, org, usageEvents, usageIds };`;
  try {
    return new Function("parse", "metadataOf", code)(parse, metadataOf);
  } catch (error) {
    // A process that forbids code from strings (`--disallow-code-generation-from-strings`,
    // a policy of the embedder) gets the same results, built field by field.
    if (error instanceof EvalError) return generic(shapes);
    throw error;
  }
}

/**
 * The factories without generated code: the same objects (keys in the same order, a key
 * left out when `undefined`, defined as JSON.parse defines them, no setter run), slower.
 */
function generic(shapes) {
  const { event, check, consumeCheck, org, allowedKey, eventKey, checksKey, countKey, idsKey } = layout(shapes);
  const batched = event.filter((field) => !field.json).length;
  // `value(i)` is field i's argument; a JSON field's is its text, parsed here.
  const record = (fields, value) => {
    const entries = [];
    for (let i = 0; i < fields.length; i++) {
      const v = value(i, fields[i]);
      if (fields[i].optional && v === undefined) continue;
      entries[entries.length] = [fields[i].name, v];
    }
    return Object.fromEntries(entries);
  };
  const eventOf = (args, offset) => record(event, (i, field) => (field.json ? metadataOf(args[offset + i]) : args[offset + i]));
  return {
    usageEvent: (...a) => eventOf(a, 0),
    usageLimitCheck: (...a) => record(check, (i) => a[i]),
    consumption: (allowed, ...rest) => {
      const recorded = rest[0] === null ? null : eventOf(rest, 0);
      const made = [];
      for (let i = event.length; i < rest.length; i += consumeCheck.length) made[made.length] = record(consumeCheck, (k) => rest[i + k]);
      return Object.fromEntries([[allowedKey, allowed], [eventKey, recorded], [checksKey, made]]);
    },
    org: (...a) => record(org, (i) => a[i]),
    usageEvents: (into, metadata, ...f) => {
      const events = into === undefined ? [] : into;
      const all = metadata === undefined ? undefined : parse(metadata);
      for (let i = 0, k = 0; i < f.length; i += batched, k++) {
        let j = 0;
        events[events.length] = record(event, (_, field) => (field.json ? (all === undefined ? {} : all[k]) : f[i + j++]));
      }
      return events;
    },
    usageIds: (into, count, ...ids) => {
      if (into === undefined) return Object.fromEntries([[countKey, count], [idsKey, ids]]);
      const all = into[idsKey];
      for (let i = 0; i < ids.length; i++) all[all.length] = ids[i];
      return into;
    },
  };
}

module.exports = { factories, generic };
