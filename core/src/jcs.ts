/**
 * Canonical JSON per RFC 8785 (JSON Canonicalization Scheme, JCS).
 *
 * Every ledger write and every signed or hashed object goes through {@link canonicalize}, so
 * the same value gives the same bytes on every machine. Anything without a JSON meaning
 * (NaN, ±Infinity, undefined, functions, symbols, bigint, non-plain objects, cycles, lone
 * surrogates) is rejected with `JCS_INVALID` rather than silently dropped or coerced.
 */
import { credexError } from './errors';

// In /u mode a surrogate pair is one code point, so this matches only lone surrogates,
// which I-JSON (required by RFC 8785) forbids.
const LONE_SURROGATE = /\p{Cs}/u;
const encoder = new TextEncoder();
/** Deeper nesting is refused, so hostile input gets JCS_INVALID instead of a stack overflow. */
export const MAX_JSON_DEPTH = 200;

/**
 * The RFC 8785 canonical JSON text of `value`.
 *
 * @throws CredexError `JCS_INVALID` (with `details.path`, e.g. `$.fields.amount`) for values
 *   JSON cannot represent
 */
export function canonicalize(value: unknown): string {
  try {
    return serialize(value, []);
  } catch (e) {
    if (!(e instanceof JcsFailure)) throw e;
    const path = `$${e.segments.reverse().join('')}`;
    throw credexError('JCS_INVALID', `cannot canonicalize ${path}: ${e.reason}`, { path, reason: e.reason });
  }
}

/** UTF-8 bytes of {@link canonicalize}(value). */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}

/**
 * The JSON string literal of `s` (RFC 8785 uses ECMAScript's JSON.stringify string rules).
 *
 * @throws CredexError `JCS_INVALID` for a string with a lone surrogate
 */
export function canonicalString(s: string): string {
  if (LONE_SURROGATE.test(s)) {
    throw credexError('JCS_INVALID', 'cannot canonicalize a string with a lone surrogate', { reason: 'lone surrogate' });
  }
  return JSON.stringify(s);
}

/**
 * Thrown inside the serializer; each enclosing level adds its key on the way out, so paths are
 * only built when something fails.
 */
class JcsFailure extends Error {
  readonly segments: string[] = [];
  constructor(readonly reason: string) {
    super(reason);
  }
}

function serialize(value: unknown, ancestors: object[]): string {
  switch (typeof value) {
    case 'string':
      if (LONE_SURROGATE.test(value)) throw new JcsFailure('string contains a lone surrogate');
      return JSON.stringify(value);
    case 'number':
      // ECMAScript Number::toString is the RFC 8785 number format; it also prints -0 as "0".
      if (!Number.isFinite(value)) throw new JcsFailure(`${String(value)} is not a JSON number`);
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? serializeArray(value, ancestors) : serializeObject(value, ancestors);
    default:
      throw new JcsFailure(`${typeof value} has no JSON form`);
  }
}

function enter(value: object, ancestors: object[]): void {
  if (ancestors.includes(value)) throw new JcsFailure('cycle');
  if (ancestors.length >= MAX_JSON_DEPTH) throw new JcsFailure(`nested deeper than ${MAX_JSON_DEPTH}`);
  ancestors.push(value);
}

function serializeArray(value: unknown[], ancestors: object[]): string {
  enter(value, ancestors);
  let out = '[';
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out += ',';
    try {
      out += serialize(value[i], ancestors);
    } catch (e) {
      if (e instanceof JcsFailure) e.segments.push(`[${i}]`);
      throw e;
    }
  }
  ancestors.pop();
  return `${out}]`;
}

function serializeObject(value: object, ancestors: object[]): string {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    throw new JcsFailure(`${typeof name === 'string' ? name : 'object'} is not a plain object`);
  }
  enter(value, ancestors);
  // Array.prototype.sort without a comparator orders by UTF-16 code units, as RFC 8785 asks.
  const keys = Object.keys(value).sort();
  const record = value as Record<string, unknown>;
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0) out += ',';
    try {
      out += `${serialize(key, ancestors)}:${serialize(record[key], ancestors)}`;
    } catch (e) {
      if (e instanceof JcsFailure) e.segments.push(`.${key}`);
      throw e;
    }
  }
  ancestors.pop();
  return `${out}}`;
}
