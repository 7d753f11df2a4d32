/**
 * The bytes of a stored record's value: what `records` holds under a record id.
 *
 * A value is written in a compact form: what is binary as raw bytes, only the header and the
 * fields as JSON text. For a record of a dozen fields (gov.admin-penalty) it is ~1.45 KB where
 * the JSON value it replaces is ~2.45 KB, and it is cheaper to make: JSON.stringify of the
 * header and fields only, and bytes the database copies as they are rather than a two-byte
 * string it converts to UTF-8 (twice: once to measure it).
 *
 * A value is a prefix — its place in its batch, known only once the batch is formed — and a
 * body — the sealed record and its content hash, everything else. The body is made where the
 * record is sealed (a seal worker, for large publishes: see seal-records.ts), the prefix by the
 * store as it writes; both paths write the same bytes for the same record.
 *
 * Layout (version 2; integers little-endian):
 *
 *     0      u8   version (2)
 *     1      u32  index in the batch
 *     5      u16  b, length of the batch id, bytes
 *     7      b    batch id, UTF-8
 *     7+b         body
 *
 * A body is compact:
 *
 *     0      u8   0
 *     1      u16  n, the number of fields
 *     3      u32  length of the JSON text, bytes
 *     7      32   leaf hash
 *     39     32   content hash
 *     71     32n  field digests, in the fields' order
 *     71+32n 18n  salts, in the fields' order: the base64url text of the n salts, each followed
 *                 by 'AA' (24 characters, 18 bytes a salt: its 16 bytes, the bits its 22nd
 *                 character has beyond them, zeros)
 *     71+50n      JSON text, UTF-8: [header, fields]
 *
 * or, for a record the compact form cannot hold exactly (a salt not of 22 base64url characters,
 * a digest or hash not 64 lowercase hex, salts or digests not keyed as its fields), JSON text:
 * `{"sealed":…,"contentHash":…}` (its first byte `{`).
 *
 * The field names are those of `fields`, in their order, so salts and digests carry none. A
 * whole value in JSON starts with `{` (0x7b), never a version byte, so values written by
 * earlier versions — JSON, some with `proof` and `root`, some without `contentHash` — are read
 * as they are. (Version 1, a layout without the prefix, was never released.)
 *
 * Pure: no database here, so it runs in the seal workers too.
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

/** What a body holds: a sealed record and its content hash. */
export interface RecordBody {
  sealed: SealedRecord;
  contentHash: string;
}

/** Bodies encoded into one buffer: body i is `bytes[ends[i - 1] ?? 0, ends[i])`. */
export interface EncodedBodies {
  bytes: Buffer;
  ends: Uint32Array;
}

/** A value to write: its place, and its body's bytes. */
export interface ValueParts {
  batchId: string;
  index: number;
  body: Uint8Array;
}

const VERSION = 2;
const JSON_START = 0x7b;
const COMPACT = 0;
const HASH = 32;
/** Bytes of a value's prefix before its batch id: version, index, batch id length. */
const PREFIX = 7;
/** Bytes of a compact body before its hashes: kind, field count, JSON text length. */
const BODY_HEADER = 7;
/** Bytes of a compact body before its field digests: its header, leaf hash, content hash. */
const FIXED = BODY_HEADER + 2 * HASH;
const SALT_SLOT = 18;
const SALT_TEXT = 24;
const SALT_CHARS = 22;
const U32 = 0xffffffff;

/** Body `i` of encoded bodies. */
export function bodyAt(bytes: Uint8Array, ends: Uint32Array, i: number): Uint8Array {
  return bytes.subarray(i === 0 ? 0 : ends[i - 1], ends[i]);
}

/** The bodies of these records, in one buffer of their own (the seal workers hand it to the main thread). */
export function encodeRecordBodies(values: readonly RecordBody[]): EncodedBodies {
  const ends = new Uint32Array(values.length);
  // Never Node's shared pool: a worker hands this buffer over whole.
  let out: Buffer = Buffer.allocUnsafeSlow(Math.max(256, values.length * 2048));
  let offset = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as RecordBody;
    const text = JSON.stringify([value.sealed.header, value.sealed.fields]);
    const names = Object.keys(value.sealed.fields);
    // At most 3 UTF-8 bytes per UTF-16 unit.
    const room = FIXED + names.length * (HASH + SALT_SLOT) + 3 * text.length;
    if (out.length - offset < room) out = grown(out, offset, room);
    let end = writeCompact(out, offset, value, names, text);
    if (end < 0) {
      const json = JSON.stringify({ sealed: value.sealed, contentHash: value.contentHash });
      if (out.length - offset < 3 * json.length) out = grown(out, offset, 3 * json.length);
      end = offset + out.write(json, offset, 'utf8');
    }
    offset = end;
    ends[i] = offset;
  }
  return { bytes: out.subarray(0, offset), ends };
}

/** A buffer with `used` bytes of `out` and room for `room` more. */
function grown(out: Buffer, used: number, room: number): Buffer {
  const next = Buffer.allocUnsafeSlow(Math.max(2 * out.length, used + room));
  out.copy(next, 0, 0, used);
  return next;
}

/**
 * The stored values of records whose bodies are encoded: prefix and body each, as views of one
 * buffer.
 *
 * @throws CredexError `INDEX_INVALID` for an index not a u32, `BATCH_ID_INVALID` for a batch id
 *   longer than 65,535 bytes
 */
export function joinRecordValues(parts: readonly ValueParts[]): Uint8Array[] {
  // Per batch id, its prefix with the index left zero: version, index, length, batch id.
  const prefixes = new Map<string, Buffer>();
  let total = 0;
  for (const p of parts) {
    let prefix = prefixes.get(p.batchId);
    if (prefix === undefined) {
      const id = Buffer.from(p.batchId, 'utf8');
      if (id.length > 0xffff) throw credexError('BATCH_ID_INVALID', `a batch id of ${id.length} bytes`, { batchId: p.batchId.slice(0, 100) });
      prefix = Buffer.alloc(PREFIX + id.length);
      prefix[0] = VERSION;
      prefix.writeUInt16LE(id.length, 5);
      id.copy(prefix, PREFIX);
      prefixes.set(p.batchId, prefix);
    }
    if (!Number.isInteger(p.index) || p.index < 0 || p.index > U32) throw credexError('INDEX_INVALID', `leaf index ${p.index} is no u32`, { index: p.index });
    total += prefix.length + p.body.length;
  }
  const out = Buffer.allocUnsafe(total);
  const values = new Array<Uint8Array>(parts.length);
  let at = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as ValueParts;
    const prefix = prefixes.get(p.batchId) as Buffer;
    const start = at;
    out.set(prefix, at);
    const index = p.index;
    out[at + 1] = index & 0xff;
    out[at + 2] = (index >>> 8) & 0xff;
    out[at + 3] = (index >>> 16) & 0xff;
    out[at + 4] = index >>> 24;
    at += prefix.length;
    out.set(p.body, at);
    at += p.body.length;
    values[i] = out.subarray(start, at);
  }
  return values;
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
  if (b[0] === JSON_START) return parse(b, 0, b.length) as RecordValue;
  const bodyStart = bodyStartOf(b);
  const batchId = b.toString('utf8', PREFIX, bodyStart);
  const index = b.readUInt32LE(1);
  const { sealed, contentHash } = decodeBody(b, bodyStart);
  return { sealed, batchId, index, contentHash };
}

/** A body read back (as `decodeRecordValue` reads it in a value). */
export function decodeRecordBody(bytes: Uint8Array): RecordBody {
  return decodeBody(asBuffer(bytes), 0);
}

/** The content hash in a stored value, read without decoding the rest (idempotency checks). */
export function contentHashOf(bytes: Uint8Array): string | undefined {
  const b = asBuffer(bytes);
  if (b[0] === JSON_START) return (parse(b, 0, b.length) as RecordValue).contentHash;
  const at = bodyStartOf(b);
  if (b[at] === JSON_START) return (parse(b, at, b.length) as RecordBody).contentHash;
  compactFieldCount(b, at);
  return b.toString('hex', at + BODY_HEADER + HASH, at + FIXED);
}

function decodeBody(b: Buffer, at: number): RecordBody {
  if (b[at] === JSON_START) {
    const body = parse(b, at, b.length) as Partial<RecordBody> | null;
    if (typeof body !== 'object' || body === null || body.sealed === undefined || typeof body.contentHash !== 'string') throw corrupt('its JSON body is not {sealed, contentHash}');
    return { sealed: body.sealed, contentHash: body.contentHash };
  }
  const n = compactFieldCount(b, at);
  const textStart = at + FIXED + n * (HASH + SALT_SLOT);
  const text = parse(b, textStart, b.length);
  if (!Array.isArray(text) || text.length !== 2) throw corrupt('its text is not [header, fields]');
  const [header, fields] = text as [RecordHeader, Record<string, unknown>];
  const names = Object.keys(fields);
  if (names.length !== n) throw corrupt(`${names.length} fields, not ${n}`);
  const hashes = b.toString('hex', at + BODY_HEADER, at + FIXED + HASH * n);
  const saltText = b.toString('base64url', at + FIXED + HASH * n, textStart);
  const salts: Record<string, string> = {};
  const fieldDigests: Record<string, string> = {};
  for (let k = 0; k < n; k++) {
    const name = names[k] as string;
    salts[name] = saltText.slice(k * SALT_TEXT, k * SALT_TEXT + SALT_CHARS);
    fieldDigests[name] = hashes.slice(2 * HASH * (k + 2), 2 * HASH * (k + 3));
  }
  const sealed: SealedRecord = { header, fields, salts, fieldDigests, leafHash: hashes.slice(0, 2 * HASH) };
  return { sealed, contentHash: hashes.slice(2 * HASH, 4 * HASH) };
}

function parse(b: Buffer, start: number, end: number): unknown {
  try {
    return JSON.parse(b.toString('utf8', start, end));
  } catch (e) {
    throw corrupt(`its JSON does not parse (${(e as Error).message})`);
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Where the body of a value starts, once its version and prefix are checked. */
function bodyStartOf(b: Buffer): number {
  if (b[0] !== VERSION || b.length < PREFIX) throw corrupt(`version ${String(b[0])}, ${b.length} bytes`);
  const at = PREFIX + b.readUInt16LE(5);
  if (at >= b.length) throw corrupt(`${b.length} bytes, no body after a prefix of ${at}`);
  return at;
}

/** The field count of a compact body at `at`, once its kind and length are checked. */
function compactFieldCount(b: Buffer, at: number): number {
  if (b[at] !== COMPACT || b.length < at + FIXED) throw corrupt(`body kind ${String(b[at])}, ${b.length - at} bytes`);
  const n = b.readUInt16LE(at + 1);
  const end = at + FIXED + n * (HASH + SALT_SLOT) + b.readUInt32LE(at + 3);
  if (end !== b.length) throw corrupt(`${b.length} bytes, not ${end}`);
  return n;
}

/**
 * Writes the compact body at `start` and returns where it ends, or -1 when the compact form
 * would not give the record back exactly (then what was written there is garbage).
 */
function writeCompact(out: Buffer, start: number, value: RecordBody, names: string[], text: string): number {
  const { fields, salts, fieldDigests, leafHash } = value.sealed;
  const n = names.length;
  if (n > 0xffff) return -1;
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
  let at = start + BODY_HEADER;
  // Each text in one native call; read back, it must be the same text (lowercase hex; the
  // base64url alphabet, no padding), else the compact form would change it.
  if (!writeExactly(out, at, hashes, 'hex', HASH * (n + 2))) return -1;
  at += HASH * (n + 2);
  if (!writeExactly(out, at, saltText, 'base64url', SALT_SLOT * n)) return -1;
  at += SALT_SLOT * n;
  const textBytes = out.write(text, at, 'utf8');
  out[start] = COMPACT;
  out.writeUInt16LE(n, start + 1);
  out.writeUInt32LE(textBytes, start + 3);
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
