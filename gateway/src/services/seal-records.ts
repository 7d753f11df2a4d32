/**
 * The per-record work of a publish — validate, check against the catalogue entry, content hash,
 * seal — in one place for both paths: the main thread (small publishes) and the seal workers
 * (chunks of large ones, see seal-pool.ts). A worker answers a chunk in a packed text form
 * (hashes, salts and digests only); the main thread rebuilds the sealed records from it and
 * from the records it already holds, since validation does not change a record.
 */
import type { RecordHeader, SealedRecord } from '@credex/core';
import { assertUscc, canonicalize, credexError, isCredexError, sealRecord, sha256Hex } from '@credex/core';
import type { CreditRecord } from '@credex/schemas';
import { validate } from '@credex/schemas';
import { errorText } from '../errors';

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

/** A validated record, its content hash and (when sealed in a worker) its sealed form. */
export interface PreparedRecord {
  record: CreditRecord;
  contentHash: string;
  sealed?: SealedRecord;
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
  return { record, contentHash: sha256Hex(canonicalize({ catalogueEntryId: ctx.catalogueEntryId, record })) };
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
   * Per record prepared, in order, up to the first failing one, comma-separated: `contentHash,leafHash`
   * then `salt,digest` per field in the order of the record's fields; a record whose sealing
   * failed has its content hash only. (One string crosses threads far cheaper than objects.)
   */
  packed: string;
  /** How many records `packed` holds. */
  count: number;
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

/** The worker's part: prepares and seals `records` (at `offset` in the publish) up to the first failure. */
export function sealChunk(records: readonly unknown[], offset: number, ctx: SealContext): ChunkResult {
  const parts: string[] = [];
  const result: ChunkResult = { packed: '', count: 0 };
  for (let k = 0; k < records.length; k++) {
    const index = offset + k;
    let prepared: PreparedRecord;
    try {
      prepared = prepareRecord(records[k], index, ctx);
    } catch (e) {
      result.error = { index, error: toWireError(e) };
      break;
    }
    let sealed: SealedRecord;
    try {
      sealed = sealPrepared(prepared.record, ctx);
    } catch (e) {
      (result.sealErrors ??= []).push({ index, error: toWireError(e) });
      parts.push(prepared.contentHash);
      continue;
    }
    parts.push(prepared.contentHash, sealed.leafHash);
    for (const name of Object.keys(sealed.fieldDigests)) parts.push(sealed.salts[name] ?? '', sealed.fieldDigests[name] ?? '');
  }
  result.count = result.error === undefined ? records.length : result.error.index - offset;
  result.packed = parts.join(',');
  return result;
}

/**
 * The main thread's part: the prepared records of a chunk (at `offset`) from the worker's answer
 * and the records as the main thread holds them (the ones the worker validated).
 *
 * @throws the chunk's first preparation error, as `prepareRecord` threw it in the worker
 */
export function unpackChunk(records: readonly unknown[], offset: number, ctx: SealContext, result: ChunkResult, into: PreparedRecord[]): void {
  const parts = result.count === 0 ? [] : result.packed.split(',');
  const sealErrors = new Map(result.sealErrors?.map((s) => [s.index, s.error]));
  let p = 0;
  for (let k = 0; k < result.count; k++) {
    const index = offset + k;
    const record = withSupersedes(records[k] as CreditRecord, ctx);
    const contentHash = parts[p++] as string;
    const sealError = sealErrors.get(index);
    if (sealError !== undefined) {
      into[index] = { record, contentHash, sealError: fromWireError(sealError) };
      continue;
    }
    const leafHash = parts[p++] as string;
    const fields = record.fields as unknown as Record<string, unknown>;
    const salts: Record<string, string> = {};
    const fieldDigests: Record<string, string> = {};
    for (const name of Object.keys(fields)) {
      salts[name] = parts[p++] as string;
      fieldDigests[name] = parts[p++] as string;
    }
    into[index] = { record, contentHash, sealed: { header: headerOf(record, ctx), fields, salts, fieldDigests, leafHash } };
  }
  if (result.error !== undefined) throw fromWireError(result.error.error);
}
