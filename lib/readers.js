"use strict";
// The request path's methods read their input here, in JS, where reading an object is
// cheap, and hand its fields to the addon as arguments (src/binding/gathered.rs): only an
// input read here exactly as the addon would read it (not a proxy; its own enumerable
// keys all among the method's fields and all data properties, so no getter runs; its
// strings well-formed; at most one of its values an object, which the addon reads).
// Anything else goes to the addon's own method as given. Each load of this file puts its
// methods on the classes' prototypes, in place of the last load's.
const { types } = require("node:util");
const { isProxy, isDate, isTypedArray, isArrayBuffer } = types;
const prototypeOf = Object.getPrototypeOf;
const ObjectPrototype = Object.prototype;
const keysOf = Object.keys;
const ownDescriptor = Object.getOwnPropertyDescriptor;
const hasOwn = Object.hasOwn;
const isArray = Array.isArray;
const apply = Reflect.apply;
// Node 18 has no isWellFormed: there the addon reads every input.
const wellFormed = typeof String.prototype.isWellFormed === "function" ? Function.prototype.call.bind(String.prototype.isWellFormed) : undefined;

/**
 * `[input, ...values]` for `call`, or `undefined` when the addon must read `input` itself.
 * Nothing here runs code of the caller's (no getter, no trap: a proxy is not read), and
 * whatever is not surely read alike goes to the addon.
 */
function gather(input, slots, count) {
  if (typeof input !== "object" || input === null || isArray(input) || isProxy(input)) return undefined;
  const args = new Array(count + 1);
  args[0] = input;
  for (let i = 1; i <= count; i++) args[i] = undefined;
  let objects = 0;
  try {
    const keys = keysOf(input);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const slot = slots[key];
      if (slot === undefined) return undefined;
      const own = ownDescriptor(input, key);
      if (own === undefined || !hasOwn(own, "value")) return undefined;
      const value = own.value;
      if (typeof value === "string") {
        if (!wellFormed(value)) return undefined;
      } else if (typeof value === "object" && value !== null && ++objects > 1) {
        return undefined;
      }
      args[slot + 1] = value;
    }
  } catch {
    return undefined; // an exotic object (a module namespace): read by the addon
  }
  const metadata = slots.metadata === undefined ? undefined : args[slots.metadata + 1];
  if (typeof metadata === "object" && metadata !== null) flatten(metadata, args);
  return args;
}

/**
 * A `metadata` that is a plain object of scalars (finite numbers, well-formed strings,
 * booleans, nulls, under well-formed keys): its keys and values, added after the fields.
 * Anything else is left for the addon to read.
 */
function flatten(metadata, args) {
  // A proxy first: asking for its prototype would run its trap.
  if (isProxy(metadata) || isArray(metadata) || isDate(metadata) || isTypedArray(metadata) || isArrayBuffer(metadata)) return;
  const proto = prototypeOf(metadata);
  if (proto !== ObjectPrototype && proto !== null) return;
  const count = args.length;
  try {
    const keys = keysOf(metadata);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      const own = ownDescriptor(metadata, key);
      if (own === undefined || !hasOwn(own, "value") || !wellFormed(key)) return void (args.length = count);
      const value = own.value;
      const scalar =
        value === null || typeof value === "boolean" || typeof value === "undefined" ||
        (typeof value === "number" && value - value === 0) || (typeof value === "string" && wellFormed(value));
      if (!scalar) return void (args.length = count);
      args[args.length] = key;
      args[args.length] = value;
    }
  } catch {
    args.length = count;
  }
}

/** Puts the request path's readers on the addon's classes, in place of the last load's. */
function installReaders(native) {
  if (wellFormed === undefined || typeof isProxy !== "function" || !Array.isArray(native.gathered)) return;
  for (const { of, name, fields, call, original } of native.gathered) {
    const slots = Object.create(null);
    fields.forEach((field, i) => {
      slots[field] = i;
    });
    const count = fields.length;
    const method = {
      [name](input, options) {
        // With options (`consumeUsage(input, {requireBalance})`), the method reads both.
        if (options === undefined) {
          const args = gather(input, slots, count);
          if (args !== undefined) {
            const out = apply(call, this, args);
            if (out !== undefined) return out;
          }
        }
        return apply(original, this, arguments);
      },
    }[name];
    Object.defineProperty(native[of].prototype, name, { value: method, writable: true, enumerable: true, configurable: true });
  }
}

module.exports = { installReaders };
