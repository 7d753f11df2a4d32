import type { Context } from 'fabric-contract-api';
import { canonicalize, isCredexError } from '@credex/core';
import { fail } from './errors';
import { idOfIndexKey, type KeyPrefix } from './keys';
import type { SchemaTypes } from '@credex/schemas';
import { checkSchema, type ArgumentSchema } from './validation';

/**
 * The one way state goes in and out of the ledger. Writes are RFC 8785 canonical JSON, so the
 * same object gives the same bytes on every endorsing peer (no dependence on property order);
 * results returned to clients are canonical JSON too.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
// Fabric treats an empty value as a delete, so index entries carry one byte.
const INDEX_MARKER = Uint8Array.of(0);

/** Arguments above this many UTF-8 bytes are refused before parsing. */
export const MAX_ARGUMENT_BYTES = 64 * 1024;
/** Batches and access groups may carry many items. */
export const MAX_BULK_ARGUMENT_BYTES = 1024 * 1024;

/** The canonical JSON text of a value, as written to the ledger and returned to clients. */
export function encode(value: unknown): string {
  return canonicalize(value);
}

/** Orders strings by UTF-16 code units, as `Array.prototype.sort` and RFC 8785 do: the same on every peer. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Writes `value` as canonical JSON under `key`. */
export async function putJson(ctx: Context, key: string, value: unknown): Promise<void> {
  await ctx.stub.putState(key, encoder.encode(encode(value)));
}

/** Writes an index entry (a one-byte marker: the key itself carries the data). */
export async function putIndex(ctx: Context, key: string): Promise<void> {
  await ctx.stub.putState(key, INDEX_MARKER);
}

/** Deletes a key. */
export async function remove(ctx: Context, key: string): Promise<void> {
  await ctx.stub.deleteState(key);
}

/** True when the key holds a value. */
export async function exists(ctx: Context, key: string): Promise<boolean> {
  const bytes = await ctx.stub.getState(key);
  return bytes.length > 0;
}

/** The JSON object under `key`, or undefined when the key is absent. */
export async function getJson<T>(ctx: Context, key: string): Promise<T | undefined> {
  const bytes = await ctx.stub.getState(key);
  if (bytes.length === 0) {
    return undefined;
  }
  return JSON.parse(decoder.decode(bytes)) as T;
}

/** Every key under a partial composite key, in ledger (sorted) order. */
export async function listKeys(ctx: Context, range: KeyPrefix): Promise<string[]> {
  const found: string[] = [];
  for await (const kv of ctx.stub.getStateByPartialCompositeKey(range.objectType, range.attributes)) {
    found.push(kv.key);
  }
  return found;
}

/** The objects an index points to, in index order; `primaryKey` maps an id to its object's key. */
export async function listIndexed<T>(ctx: Context, range: KeyPrefix, primaryKey: (id: string) => string): Promise<T[]> {
  const objects: T[] = [];
  for (const indexKey of await listKeys(ctx, range)) {
    const id = idOfIndexKey(ctx.stub, indexKey);
    const object = await getJson<T>(ctx, primaryKey(id));
    if (object === undefined) {
      fail('INTERNAL', `index entry points to a missing object ${id}`);
    }
    objects.push(object);
  }
  return objects;
}

/** The objects stored directly under a partial composite key, in key order. */
export async function listJson<T>(ctx: Context, range: KeyPrefix): Promise<T[]> {
  const objects: T[] = [];
  for await (const kv of ctx.stub.getStateByPartialCompositeKey(range.objectType, range.attributes)) {
    objects.push(JSON.parse(decoder.decode(kv.value)) as T);
  }
  return objects;
}

/**
 * Reads one JSON argument: refuses it above `maxBytes` (PAYLOAD_TOO_LARGE), when it is not
 * JSON a ledger write can hold (JSON_INVALID), or when it does not match its schema
 * (SCHEMA_INVALID).
 */
export function parseArgument<K extends ArgumentSchema>(schema: K, text: string, maxBytes = MAX_ARGUMENT_BYTES): SchemaTypes[K] {
  return checkSchema(schema, parseJson(text, maxBytes));
}

/** Reads one JSON argument without its schema check: PAYLOAD_TOO_LARGE, JSON_INVALID. */
export function parseJson(text: string, maxBytes = MAX_ARGUMENT_BYTES): unknown {
  const size = encoder.encode(text).length;
  if (size > maxBytes) {
    fail('PAYLOAD_TOO_LARGE', `argument is ${size} bytes, the limit is ${maxBytes}`);
  }
  try {
    const value: unknown = JSON.parse(text);
    // What cannot be canonicalized (lone surrogates) could never be written or signed.
    canonicalize(value);
    return value;
  } catch (err) {
    const reason = isCredexError(err) || err instanceof SyntaxError ? err.message : String(err);
    fail('JSON_INVALID', `argument is not valid JSON: ${reason}`);
  }
}

/** Reads a plain string argument (an id), bounded like a key attribute. */
export function parseId(name: string, text: string): string {
  if (text.length === 0 || text.length > 256) {
    fail('SCHEMA_INVALID', `${name} must be 1-256 characters`);
  }
  return text;
}
