/**
 * The per-record work of a publish — validate, check against the catalogue entry, content hash,
 * seal — in one place for both paths: the main thread (small publishes) and the seal workers
 * (chunks of large ones, see seal-pool.ts). A worker answers a chunk with the records' stored
 * value bodies, encoded (record-codec.ts), in one buffer it hands over, and a packed text of
 * what the publish path needs per record (id, content hash, leaf hash, supersedes): the main
 * thread neither rebuilds nor encodes the sealed records, it writes their bodies as they are.
 */
import type { RecordHeader, SealedRecord } from '@credex/core';
import { assertUscc, canonicalize, credexError, isCredexError, sealRecord, sha256Hex } from '@credex/core';
import type { CreditRecord } from '@credex/schemas';
import { validate } from '@credex/schemas';
import { errorText } from '../errors';
import { bodyAt, encodeRecordBodies } from '../store/record-codec';

/** What the per-record work of one publish needs to know, besides the records. */
export interface SealContext {
  mspId: string;
  /** The catalogue entry id as the publisher gave it (goes into the content hash and header). */
  catalogueEntryId: string;
  /** The entry as loaded from the ledger: what every record must match. */
  entry: { entryId: string; recordType: string; subject: string };
  /** Every record of this publish supersedes this record (an objection's correction). */
  supersedes?: string;
}

/**
 * A sealed record as the publish path uses it: what it needs to know of it, and the record
 * itself (sealed on the main thread) or its stored value's body (sealed in a worker).
 */
export interface SealedEntry {
  recordId: string;
  subject: string;
  leafHash: string;
  supersedes?: string;
  contentHash: string;
  /** Sealed on the main thread. */
  sealed?: SealedRecord;
  /** Sealed in a worker: the record codec's body of its value. */
  body?: Uint8Array;
}

/** A validated record, its content hash and either the record (to seal) or, from a worker, its sealed entry. */
export interface PreparedRecord {
  recordId: string;
  contentHash: string;
  /** The validated record (main thread), sealed when needed. */
  record?: CreditRecord;
  /** Sealed in a worker. */
  sealed?: SealedEntry;
  /** Why sealing failed in the worker; thrown only if the record is to be sealed. */
  sealError?: Error;
}

/**
 * Validates `raw` (the record at index `i` of the publish) against the schema and the entry and
 * computes its content hash.
 *
 * @throws CredexError SCHEMA_INVALID / USCC_INVALID (`records[i]: …`, details `{index: i, …}`),
 *   RECORD_TYPE_MISMATCH / SUBJECT_MISMATCH (details `{index: i}`)
 */
export function prepareRecord(raw: unknown, i: number, ctx: SealContext): PreparedRecord {
  const { entry } = ctx;
  let record: CreditRecord;
  try {
    record = validate('credit-record', raw);
    assertUscc(record.subject);
  } catch (e) {
    if (isCredexError(e)) {
      throw credexError(e.code, `records[${i}]: ${errorText(e)}`, { index: i, ...e.details });
    }
    throw e;
  }
  if (record.recordType !== entry.recordType) {
    throw credexError('RECORD_TYPE_MISMATCH', `records[${i}] is a ${record.recordType}, entry ${entry.entryId} holds ${entry.recordType}`, { index: i });
  }
  if (record.subject !== entry.subject) {
    throw credexError('SUBJECT_MISMATCH', `records[${i}] is about ${record.subject}, entry ${entry.entryId} about ${entry.subject}`, { index: i });
  }
  record = withSupersedes(record, ctx);
  return { recordId: record.recordId, record, contentHash: sha256Hex(canonicalize({ catalogueEntryId: ctx.catalogueEntryId, record })) };
}

/** The record as published: with the `supersedes` of the publish, if any. */
function withSupersedes(record: CreditRecord, ctx: SealContext): CreditRecord {
  return ctx.supersedes === undefined ? record : { ...record, supersedes: ctx.supersedes };
}

function headerOf(record: CreditRecord, ctx: SealContext): RecordHeader {
  const header: RecordHeader = {
    recordId: record.recordId,
    recordType: record.recordType,
    subject: record.subject,
    publisher: ctx.mspId,
    catalogueEntryId: ctx.catalogueEntryId,
    issuedAt: record.issuedAt,
  };
  if (record.supersedes !== undefined) header.supersedes = record.supersedes;
  return header;
}

/** Seals a prepared record: fresh salts, field digests, leaf hash. */
export function sealPrepared(record: CreditRecord, ctx: SealContext): SealedRecord {
  return sealRecord(headerOf(record, ctx), record.fields as unknown as Record<string, unknown>);
}

/** A record sealed on the main thread, as the publish path uses it. */
export function sealedEntry(sealed: SealedRecord, contentHash: string): SealedEntry {
  const { header } = sealed;
  const entry: SealedEntry = { recordId: header.recordId, subject: header.subject, leafHash: sealed.leafHash, contentHash, sealed };
  if (header.supersedes !== undefined) entry.supersedes = header.supersedes;
  return entry;
}

/** An error thrown by the per-record work, as it crosses from a worker (structured-cloneable). */
export interface WireError {
  /** Set for a CredexError. */
  code?: string;
  /** The CredexError's text without its code, or the message of any other error. */
  text: string;
  name?: string;
  details?: Record<string, unknown>;
}

/** What a worker answers for one chunk. */
export interface ChunkResult {
  /**
   * Per record prepared, in order, up to the first failing one, comma-separated (record ids
   * have no commas): `recordId,contentHash,leafHash,supersedes`; the leaf hash is empty for a
   * record whose sealing failed, `supersedes` empty for a record superseding none or when the
   * publish sets it for all (SealContext). (One string crosses threads far cheaper than objects.)
   */
  meta: string;
  /** How many records `meta` holds. */
  count: number;
  /** The value bodies of the sealed records in order (none for a record whose sealing failed): its buffer is handed over, not copied. */
  bodies: Uint8Array;
  /** Where each body ends in `bodies`. */
  ends: Uint32Array;
  /** The first record of the chunk that failed preparation: its index in the publish and why. */
  error?: { index: number; error: WireError };
  /** Records prepared but not sealed: index in the publish and why. */
  sealErrors?: { index: number; error: WireError }[];
}

/** An error as it crosses from a worker. */
export function toWireError(e: unknown): WireError {
  if (isCredexError(e)) {
    const wire: WireError = { code: e.code, text: errorText(e) };
    if (e.details !== undefined) wire.details = e.details;
    return wire;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  return { text: err.message, name: err.name };
}

// The standard classes an error handler may tell apart (a SyntaxError is a client's bad JSON).
const ERROR_CLASSES: Readonly<Record<string, ErrorConstructor>> = { TypeError, RangeError, SyntaxError };

/** An error that crossed from a worker, rebuilt: a CredexError with its code, text and details, or an error of the same class and message. */
export function fromWireError(wire: WireError): Error {
  if (wire.code !== undefined) return credexError(wire.code, wire.text, wire.details);
  const err = new (ERROR_CLASSES[wire.name ?? ''] ?? Error)(wire.text);
  if (wire.name !== undefined) err.name = wire.name;
  return err;
}

/** The worker's part: prepares and seals `records` (at `offset` in the publish) up to the first failure, and encodes the sealed records' value bodies. */
export function sealChunk(records: readonly unknown[], offset: number, ctx: SealContext): ChunkResult {
  const parts: string[] = [];
  const bodies: { sealed: SealedRecord; contentHash: string }[] = [];
  let error: ChunkResult['error'];
  let sealErrors: ChunkResult['sealErrors'];
  for (let k = 0; k < records.length; k++) {
    const index = offset + k;
    let prepared: PreparedRecord;
    try {
      prepared = prepareRecord(records[k], index, ctx);
    } catch (e) {
      error = { index, error: toWireError(e) };
      break;
    }
    const record = prepared.record as CreditRecord;
    let sealed: SealedRecord;
    try {
      sealed = sealPrepared(record, ctx);
    } catch (e) {
      (sealErrors ??= []).push({ index, error: toWireError(e) });
      parts.push(record.recordId, prepared.contentHash, '', '');
      continue;
    }
    bodies.push({ sealed, contentHash: prepared.contentHash });
    parts.push(record.recordId, prepared.contentHash, sealed.leafHash, ctx.supersedes === undefined ? (record.supersedes ?? '') : '');
  }
  const encoded = encodeRecordBodies(bodies);
  const result: ChunkResult = {
    meta: parts.join(','),
    count: error === undefined ? records.length : error.index - offset,
    bodies: encoded.bytes,
    ends: encoded.ends,
  };
  if (error !== undefined) result.error = error;
  if (sealErrors !== undefined) result.sealErrors = sealErrors;
  return result;
}

/**
 * The main thread's part: the prepared (and sealed) records of a chunk at `offset`, from the
 * worker's answer alone (every prepared record is about the entry's subject).
 *
 * @throws the chunk's first preparation error, as `prepareRecord` threw it in the worker
 */
export function unpackChunk(offset: number, ctx: SealContext, result: ChunkResult, into: PreparedRecord[]): void {
  const parts = result.count === 0 ? [] : result.meta.split(',');
  const sealErrors = new Map(result.sealErrors?.map((s) => [s.index, s.error]));
  const subject = ctx.entry.subject;
  let p = 0;
  let b = 0;
  for (let k = 0; k < result.count; k++) {
    const index = offset + k;
    const recordId = parts[p++] as string;
    const contentHash = parts[p++] as string;
    const leafHash = parts[p++] as string;
    const carried = parts[p++] ?? '';
    const sealError = sealErrors.get(index);
    if (sealError !== undefined) {
      into[index] = { recordId, contentHash, sealError: fromWireError(sealError) };
      continue;
    }
    const sealed: SealedEntry = { recordId, subject, leafHash, contentHash, body: bodyAt(result.bodies, result.ends, b++) };
    if (ctx.supersedes !== undefined) sealed.supersedes = ctx.supersedes;
    else if (carried !== '') sealed.supersedes = carried;
    into[index] = { recordId, contentHash, sealed };
  }
  if (result.error !== undefined) throw fromWireError(result.error.error);
}
