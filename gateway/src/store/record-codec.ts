/**
 * The bytes of a stored record's value: what `records` holds under a record id.
 *
 * A value is written in a compact form: what is binary as raw bytes, only the header and the
 * fields as JSON text. For a record of a dozen fields (gov.admin-penalty) it is ~1.45 KB where
 * the JSON value it replaces is ~2.45 KB, and it is cheaper to make: JSON.stringify of the
 * header and fields only, and bytes the database copies as they are rather than a two-byte
 * string it converts to UTF-8 (twice: once to measure it).
 *
 * Layout (version 1; integers little-endian):
 *
 *     0      u8   version (1)
 *     1      u32  index in the batch
 *     5      u16  n, the number of fields
 *     7      u32  length of the JSON text, bytes
 *     11     32   leaf hash
 *     43     32   content hash
 *     75     32n  field digests, in the fields' order
 *     75+32n 18n  salts, in the fields' order: the base64url text of the n salts, each followed
 *                 by 'AA' (24 characters, 18 bytes a salt: its 16 bytes, the bits its 22nd
 *                 character has beyond them, zeros)
 *     75+50n      JSON text, UTF-8: [batchId, header, fields]
 *
 * The field names are those of `fields`, in their order, so salts and digests carry none. A
 * record the compact form cannot hold exactly (a salt not of 22 base64url characters, a digest or
 * hash not 64 lowercase hex, salts or digests not keyed as its fields) is written as JSON, as
 * before. A JSON value starts with `{` (0x7b), never a version byte, so values written by
 * earlier versions — JSON, some with `proof` and `root`, some without `contentHash` — are read
 * as they are.
 *
 * Pure: no database here, so it could run in a worker thread.
 */
import type { RecordHeader, SealedRecord } from '@credex/core';
import { credexError } from '@credex/core';

/** A record's value as stored: its sealed form and its place in its batch. */
export interface RecordValue {
  sealed: SealedRecord;
  /** Hash of the record as it was posted (absent in stores written before session 2: see content-hashes). */
  contentHash?: string;
  batchId: string;
  index: number;
  /** Only in values written before the batch trees: now read from the batch's tree. */
  proof?: string[];
  /** Only in values written before the batch trees: now the batch's root. */
  root?: string;
}

/** What is written about a new record. */
export interface NewRecordValue {
  sealed: SealedRecord;
  contentHash: string;
  batchId: string;
  index: number;
}

const VERSION = 1;
const JSON_START = 0x7b;
const FIXED = 75;
const HASH = 32;
const SALT_SLOT = 18;
const SALT_TEXT = 24;
const SALT_CHARS = 22;
/** Values are written into shared slabs of this many bytes (a value larger gets its own). */
const SLAB = 1 << 20;

/** The stored bytes of one record's value. */
export function encodeRecordValue(value: NewRecordValue): Uint8Array {
  return encodeRecordValues([value])[0] as Uint8Array;
}

/**
 * The stored bytes of many records' values, as views of a few shared buffers (one allocation
 * per megabyte rather than one per record); each view is the value's bytes alone.
 */
export function encodeRecordValues(values: readonly NewRecordValue[]): Uint8Array[] {
  const out = new Array<Uint8Array>(values.length);
  let slab: Buffer = Buffer.allocUnsafe(0);
  let offset = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as NewRecordValue;
    const text = JSON.stringify([value.batchId, value.sealed.header, value.sealed.fields]);
    const names = Object.keys(value.sealed.fields);
    // At most 3 UTF-8 bytes per UTF-16 unit.
    const room = FIXED + names.length * (HASH + SALT_SLOT) + 3 * text.length;
    if (slab.length - offset < room) [slab, offset] = newSlab(room, values.length - i);
    let start = offset;
    offset = writeCompact(slab, start, value, names, text);
    if (offset < 0) {
      const json = jsonText(value);
      if (slab.length - start < 3 * json.length) [slab, start] = newSlab(3 * json.length, values.length - i);
      offset = start + slab.write(json, start, 'utf8');
    }
    out[i] = slab.subarray(start, offset);
  }
  return out;
}

/** A new shared buffer and its start: room for this value, and for the next ones up to a slab. */
function newSlab(room: number, values: number): [Buffer, number] {
  return [Buffer.allocUnsafe(Math.max(room, Math.min(SLAB, room * values))), 0];
}

/**
 * A stored value read back: exactly the record that was written, salts and digests keyed by
 * the fields' names in their order.
 *
 * @throws CredexError `STORE_CORRUPT` for bytes that are no value this codec or an earlier
 *   version wrote
 */
export function decodeRecordValue(bytes: Uint8Array): RecordValue {
  const b = asBuffer(bytes);
  if (b[0] === JSON_START) return parse(b, 0) as RecordValue;
  const n = compactFieldCount(b);
  const textStart = FIXED + n * (HASH + SALT_SLOT);
  const text = parse(b, textStart);
  if (!Array.isArray(text) || text.length !== 3) throw corrupt('its text is not [batchId, header, fields]');
  const [batchId, header, fields] = text as [string, RecordHeader, Record<string, unknown>];
  const names = Object.keys(fields);
  if (names.length !== n) throw corrupt(`${names.length} fields, not ${n}`);
  const hashes = b.toString('hex', 11, FIXED + HASH * n);
  const saltText = b.toString('base64url', FIXED + HASH * n, textStart);
  const salts: Record<string, string> = {};
  const fieldDigests: Record<string, string> = {};
  for (let k = 0; k < n; k++) {
    const name = names[k] as string;
    salts[name] = saltText.slice(k * SALT_TEXT, k * SALT_TEXT + SALT_CHARS);
    fieldDigests[name] = hashes.slice(2 * HASH * (k + 2), 2 * HASH * (k + 3));
  }
  const sealed: SealedRecord = { header, fields, salts, fieldDigests, leafHash: hashes.slice(0, 2 * HASH) };
  return { sealed, batchId, index: b.readUInt32LE(1), contentHash: hashes.slice(2 * HASH, 4 * HASH) };
}

/** The content hash in a stored value, read without decoding the rest (idempotency checks). */
export function contentHashOf(bytes: Uint8Array): string | undefined {
  const b = asBuffer(bytes);
  if (b[0] === JSON_START) return (parse(b, 0) as RecordValue).contentHash;
  compactFieldCount(b);
  return b.toString('hex', 11 + HASH, 11 + 2 * HASH);
}

function parse(b: Buffer, start: number): unknown {
  try {
    return JSON.parse(b.toString('utf8', start));
  } catch (e) {
    throw corrupt(`its JSON does not parse (${(e as Error).message})`);
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The field count of a compact value, once its version and length are checked. */
function compactFieldCount(b: Buffer): number {
  if (b[0] !== VERSION || b.length < FIXED) throw corrupt(`version ${String(b[0])}, ${b.length} bytes`);
  const n = b.readUInt16LE(5);
  const end = FIXED + n * (HASH + SALT_SLOT) + b.readUInt32LE(7);
  if (end !== b.length) throw corrupt(`${b.length} bytes, not ${end}`);
  return n;
}

/** The JSON value (as earlier versions wrote every record). */
function jsonText(value: NewRecordValue): string {
  return JSON.stringify({ sealed: value.sealed, batchId: value.batchId, index: value.index, contentHash: value.contentHash });
}

/**
 * Writes the compact value at `start` and returns where it ends, or -1 when the compact form
 * would not give the record back exactly (then what was written there is garbage).
 */
function writeCompact(slab: Buffer, start: number, value: NewRecordValue, names: string[], text: string): number {
  const { fields, salts, fieldDigests, leafHash } = value.sealed;
  const n = names.length;
  if (!Number.isInteger(value.index) || value.index < 0 || value.index > 0xffffffff || n > 0xffff) return -1;
  if (!sameKeys(names, salts) || !sameKeys(names, fieldDigests)) return -1;
  // A field JSON would leave out (undefined) would not come back, nor one named __proto__.
  if (names.includes('__proto__') || Object.values(fields).includes(undefined)) return -1;
  let hashes = leafHash + value.contentHash;
  if (leafHash.length !== 2 * HASH || value.contentHash.length !== 2 * HASH) return -1;
  for (const digest of Object.values(fieldDigests)) {
    if (digest.length !== 2 * HASH) return -1;
    hashes += digest;
  }
  let saltText = '';
  for (const salt of Object.values(salts)) {
    if (salt.length !== SALT_CHARS) return -1;
    saltText += `${salt}AA`;
  }
  let at = start + 11;
  // Each text in one native call; read back, it must be the same text (lowercase hex; the
  // base64url alphabet, no padding), else the compact form would change it.
  if (!writeExactly(slab, at, hashes, 'hex', HASH * (n + 2))) return -1;
  at += HASH * (n + 2);
  if (!writeExactly(slab, at, saltText, 'base64url', SALT_SLOT * n)) return -1;
  at += SALT_SLOT * n;
  const textBytes = slab.write(text, at, 'utf8');
  slab[start] = VERSION;
  slab.writeUInt32LE(value.index, start + 1);
  slab.writeUInt16LE(n, start + 5);
  slab.writeUInt32LE(textBytes, start + 7);
  return at + textBytes;
}

function sameKeys(names: string[], o: Record<string, string>): boolean {
  const keys = Object.keys(o);
  if (keys.length !== names.length) return false;
  for (let k = 0; k < keys.length; k++) if (keys[k] !== names[k]) return false;
  return true;
}

/** Writes `text` decoded as `bytes` bytes at `at`, and whether they encode back to `text` exactly. */
function writeExactly(out: Buffer, at: number, text: string, encoding: 'hex' | 'base64url', bytes: number): boolean {
  return out.write(text, at, bytes, encoding) === bytes && out.toString(encoding, at, at + bytes) === text;
}

function corrupt(why: string): Error {
  return credexError('STORE_CORRUPT', `a stored record value is not readable: ${why}`);
}
