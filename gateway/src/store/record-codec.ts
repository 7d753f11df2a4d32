/**
 * The bytes of a stored record's value: what `records` holds under a record id.
 *
 * A value is written in a compact form: what is binary as raw bytes, only the header and the
 * fields as JSON text. Compared with the JSON value it replaces (~2.4 KB for a record of a dozen
 * fields), it is a third smaller and costs a fraction to write: one JSON.stringify of the header
 * and fields instead of the whole record with its salts and digests as text, and bytes the
 * database copies as they are instead of a two-byte string it converts to UTF-8.
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
 *     75+32n 18n  salts, in the fields' order: each its 16 bytes and two zero bytes, so the n
 *                 salts are one base64url text (24 characters a salt, the last two 'AA')
 *     75+50n      JSON text, UTF-8: [batchId, header, fields]
 *
 * The field names are those of `fields`, in their order, so salts and digests carry none. A
 * record the compact form cannot hold exactly (a salt not of 16 bytes, a digest or hash not 64
 * lowercase hex, salts or digests not keyed as its fields) is written as JSON, as before. A JSON
 * value starts with `{` (0x7b), never a version byte, so values written by earlier versions —
 * JSON, some with `proof` and `root`, some without `contentHash` — are read as they are.
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
  let slab = Buffer.allocUnsafe(0);
  let offset = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as NewRecordValue;
    const text = JSON.stringify([value.batchId, value.sealed.header, value.sealed.fields]);
    const names = Object.keys(value.sealed.fields);
    // At most 3 UTF-8 bytes per UTF-16 unit; a JSON value, if it comes to that, fits too.
    const bound = FIXED + names.length * (HASH + SALT_SLOT) + 3 * text.length + 4096;
    if (slab.length - offset < bound) {
      slab = Buffer.allocUnsafe(Math.max(SLAB, bound));
      offset = 0;
    }
    const start = offset;
    offset = writeCompact(slab, start, value, names, text);
    if (offset < 0) offset = start + slab.write(jsonText(value), start, 'utf8');
    out[i] = slab.subarray(start, offset);
  }
  return out;
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
  if (b[0] === JSON_START) return JSON.parse(b.toString('utf8')) as RecordValue;
  const n = compactFieldCount(b);
  const textStart = FIXED + n * (HASH + SALT_SLOT);
  const [batchId, header, fields] = JSON.parse(b.toString('utf8', textStart)) as [string, RecordHeader, Record<string, unknown>];
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
  if (b[0] === JSON_START) return (JSON.parse(b.toString('utf8')) as RecordValue).contentHash;
  compactFieldCount(b);
  return b.toString('hex', 11 + HASH, 11 + 2 * HASH);
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
  let at = start + 11;
  if (!writeHex(leafHash, slab, at) || !writeHex(value.contentHash, slab, at + HASH)) return -1;
  at += 2 * HASH;
  for (const name of names) {
    // A field JSON would leave out (undefined) would not come back; nor would a field named __proto__.
    if (fields[name] === undefined || name === '__proto__' || !writeHex(fieldDigests[name], slab, at)) return -1;
    at += HASH;
  }
  for (const name of names) {
    if (!writeSalt(salts[name], slab, at)) return -1;
    at += SALT_SLOT;
  }
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

// Hand-written decoders: each checks its text is the canonical form (lowercase hex; base64url
// of exactly 16 bytes), which the native ones do not, at a third of the cost of a RegExp first.
const NIBBLE = new Int8Array(128).fill(-1);
for (let c = 0; c < 16; c++) NIBBLE['0123456789abcdef'.charCodeAt(c)] = c;
const SEXTET = new Int8Array(128).fill(-1);
for (let c = 0; c < 64; c++) SEXTET['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.charCodeAt(c)] = c;

/** 64 lowercase hex characters as 32 bytes at `at`; false for anything else. */
function writeHex(hex: string | undefined, out: Buffer, at: number): boolean {
  if (typeof hex !== 'string' || hex.length !== 2 * HASH) return false;
  for (let i = 0; i < HASH; i++) {
    const hi = NIBBLE[hex.charCodeAt(2 * i)] ?? -1;
    const lo = NIBBLE[hex.charCodeAt(2 * i + 1)] ?? -1;
    if ((hi | lo) < 0) return false;
    out[at + i] = (hi << 4) | lo;
  }
  return true;
}

/** The 22 base64url characters of a 16-byte salt as its bytes and two zero bytes at `at`; false for anything else. */
function writeSalt(salt: string | undefined, out: Buffer, at: number): boolean {
  if (typeof salt !== 'string' || salt.length !== SALT_CHARS) return false;
  let o = at;
  for (let i = 0; i < 20; i += 4) {
    const a = SEXTET[salt.charCodeAt(i)] ?? -1;
    const b = SEXTET[salt.charCodeAt(i + 1)] ?? -1;
    const c = SEXTET[salt.charCodeAt(i + 2)] ?? -1;
    const d = SEXTET[salt.charCodeAt(i + 3)] ?? -1;
    if ((a | b | c | d) < 0) return false;
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >> 16;
    out[o++] = (v >> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  const a = SEXTET[salt.charCodeAt(20)] ?? -1;
  const b = SEXTET[salt.charCodeAt(21)] ?? -1;
  // The last character's low four bits are past the 16 bytes: zero in the canonical text.
  if ((a | b) < 0 || (b & 0x0f) !== 0) return false;
  out[o++] = (a << 2) | (b >> 4);
  out[o++] = 0;
  out[o] = 0;
  return true;
}

function corrupt(why: string): Error {
  return credexError('STORE_CORRUPT', `a stored record value is not readable: ${why}`);
}
