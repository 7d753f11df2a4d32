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

/**
 * The RFC 8785 canonical JSON text of `value`.
 *
 * @throws CredexError `JCS_INVALID` (with `details.path`) for values JSON cannot represent
 */
export function canonicalize(value: unknown): string {
  return serialize(value, '$', new Set<object>());
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
export function canonicalString(s: string, path = '$'): string {
  if (LONE_SURROGATE.test(s)) throw invalid(path, 'string contains a lone surrogate');
  return JSON.stringify(s);
}

function serialize(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return canonicalString(value, path);
    case 'number':
      // ECMAScript Number::toString is the RFC 8785 number format; it also prints -0 as "0".
      if (!Number.isFinite(value)) throw invalid(path, `${String(value)} is not a JSON number`);
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      return serializeContainer(value, path, ancestors);
    default:
      throw invalid(path, `${typeof value} has no JSON form`);
  }
}

function serializeContainer(value: object, path: string, ancestors: Set<object>): string {
  if (ancestors.has(value)) throw invalid(path, 'cycle');
  ancestors.add(value);
  let out: string;
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (let i = 0; i < value.length; i++) items.push(serialize(value[i] as unknown, `${path}[${i}]`, ancestors));
    out = `[${items.join(',')}]`;
  } else {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      throw invalid(path, `${typeof name === 'string' ? name : 'object'} is not a plain object`);
    }
    // Array.prototype.sort without a comparator orders by UTF-16 code units, as RFC 8785 asks.
    const keys = Object.keys(value).sort();
    const members: string[] = [];
    const record = value as Record<string, unknown>;
    for (const key of keys) {
      const memberPath = `${path}.${key}`;
      members.push(`${canonicalString(key, memberPath)}:${serialize(record[key], memberPath, ancestors)}`);
    }
    out = `{${members.join(',')}}`;
  }
  ancestors.delete(value);
  return out;
}

function invalid(path: string, reason: string): Error {
  return credexError('JCS_INVALID', `cannot canonicalize ${path}: ${reason}`, { path, reason });
}
