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
type WellFormedString = string & { isWellFormed(): boolean };
/**
 * True when `s` has no lone surrogate. String.prototype.isWellFormed (Node ≥ 20) answers the
 * same question several times faster than the regex, which older Nodes (a Fabric peer's
 * chaincode runtime) still use.
 */
const isWellFormedString: (s: string) => boolean =
  typeof (String.prototype as Partial<WellFormedString>).isWellFormed === 'function'
    ? (s) => (s as WellFormedString).isWellFormed()
    : (s) => !LONE_SURROGATE.test(s);
// What JSON.stringify escapes (", \, U+0000–U+001F) and any surrogate half. A string without
// any is its own literal between quotes; testing this is several times cheaper than
// JSON.stringify on the short strings records are made of (ids, dates, hex digests, names).
// eslint-disable-next-line no-control-regex
const ESCAPE_OR_SURROGATE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** The JSON literal of a string, or undefined when it has a lone surrogate. */
function quote(s: string): string | undefined {
  if (!ESCAPE_OR_SURROGATE.test(s)) return `"${s}"`;
  return isWellFormedString(s) ? JSON.stringify(s) : undefined;
}

/**
 * Object.keys(value) in UTF-16 code-unit order. Records of one type share their key lists, so
 * the last sorted order of each short list is kept (looked up by the list's first key) instead
 * of sorting the same few names again for every record. Long lists are not kept, so hostile
 * input cannot pin much memory.
 */
const SORTED_KEYS_LIMIT = 1024;
const KEPT_LIST_MAX_KEYS = 32;
const KEPT_LIST_MAX_CHARS = 1024;
const sortedKeyLists = new Map<string, { keys: string[]; sorted: string[] }>();
function sortedKeysOf(value: object): string[] {
  const keys = Object.keys(value);
  const first = keys[0];
  if (first === undefined || keys.length === 1) return keys;
  const hit = sortedKeyLists.get(first);
  if (hit !== undefined && sameList(hit.keys, keys)) return hit.sorted;
  // Array.prototype.sort without a comparator orders by UTF-16 code units, as RFC 8785 asks.
  const sorted = keys.slice().sort();
  if (keys.length <= KEPT_LIST_MAX_KEYS && charsOf(keys) <= KEPT_LIST_MAX_CHARS) {
    if (sortedKeyLists.size >= SORTED_KEYS_LIMIT) sortedKeyLists.clear();
    sortedKeyLists.set(first, { keys, sorted });
  }
  return sorted;
}

function charsOf(keys: readonly string[]): number {
  let n = 0;
  for (const k of keys) n += k.length;
  return n;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
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
  // Most field values are plain strings: no serializer state needed.
  if (typeof value === 'string') {
    const literal = quote(value);
    if (literal !== undefined) return literal;
  }
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
  // A caller outside TypeScript may pass a non-string: it keeps JSON.stringify's answer.
  const literal = typeof s === 'string' ? quote(s) : LONE_SURROGATE.test(s) ? undefined : (JSON.stringify(s) as string | undefined);
  if (literal === undefined) {
    throw credexError('JCS_INVALID', 'cannot canonicalize a string with a lone surrogate', { reason: 'lone surrogate' });
  }
  return literal;
}

/**
 * The JSON literal of a name that recurs (object keys, field names), remembered: records of one
 * type share their names. Long names are not kept, so hostile input cannot pin much memory.
 * Inside core only (not exported from the package).
 *
 * @throws CredexError `JCS_INVALID` for a name with a lone surrogate
 */
export function nameLiteral(name: string): string {
  return (typeof name === 'string' ? keyLiteral(name) : undefined) ?? canonicalString(name);
}
const NAME_LITERALS_LIMIT = 4096;
const KEPT_NAME_MAX_CHARS = 128;
const nameLiterals = new Map<string, string>();

/** {@link quote} of a name, remembered (see {@link nameLiteral}). */
function keyLiteral(name: string): string | undefined {
  let literal = nameLiterals.get(name);
  if (literal === undefined) {
    literal = quote(name);
    if (literal !== undefined && name.length <= KEPT_NAME_MAX_CHARS) {
      if (nameLiterals.size >= NAME_LITERALS_LIMIT) nameLiterals.clear();
      nameLiterals.set(name, literal);
    }
  }
  return literal;
}

/**
 * {@link canonicalize} of a plain object whose values are all strings (a record header, field
 * digests), without the general serializer's bookkeeping; undefined for anything else (another
 * prototype, a value that is not a string, a lone surrogate), so the caller falls back to
 * {@link canonicalize}, which gives the same text or says what is wrong. Inside core only.
 *
 * @param valuesAreHex - every string value is known to be lowercase hex, so needs no escaping
 */
export function flatStringObjectText(value: object, valuesAreHex: boolean): string | undefined {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const keys = sortedKeysOf(value);
  const record = value as Record<string, unknown>;
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const v = record[key];
    if (typeof v !== 'string') return undefined;
    const keyText = keyLiteral(key);
    const valueText = valuesAreHex ? `"${v}"` : quote(v);
    if (keyText === undefined || valueText === undefined) return undefined;
    out += i === 0 ? `${keyText}:${valueText}` : `,${keyText}:${valueText}`;
  }
  return `${out}}`;
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
    case 'string': {
      const literal = quote(value);
      if (literal === undefined) throw new JcsFailure('string contains a lone surrogate');
      return literal;
    }
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
  const keys = sortedKeysOf(value);
  const record = value as Record<string, unknown>;
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0) out += ',';
    try {
      const literal = keyLiteral(key);
      if (literal === undefined) throw new JcsFailure('string contains a lone surrogate');
      out += `${literal}:${serialize(record[key], ancestors)}`;
    } catch (e) {
      if (e instanceof JcsFailure) e.segments.push(`.${key}`);
      throw e;
    }
  }
  ancestors.pop();
  return `${out}}`;
}
