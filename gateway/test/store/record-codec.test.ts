import { describe, expect, it } from 'vitest';
import type { RecordHeader, SealedRecord } from '@credex/core';
import { canonicalize, sealRecord, sha256Hex } from '@credex/core';
import { fixtureEnterprises, fixtureRecord, recordTypes } from '@credex/schemas';
import { bodyAt, contentHashOf, decodeRecordBody, decodeRecordValue, encodeRecordBodies, joinRecordValues } from '../../src/store/record-codec';
import type { NewRecordValue } from './record-values';
import { encodeRecordValue, encodeRecordValues } from './record-values';

const JSON_START = '{'.charCodeAt(0);
const VERSION = 2;
const COMPACT = 0;

/** The first byte of a value's body (after version, index, batch id). */
function bodyKind(bytes: Uint8Array): number | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return b[7 + b.readUInt16LE(5)];
}

/** One sealed fixture record of each type, as the publisher seals them; the second of each pair supersedes the first. */
function values(): NewRecordValue[] {
  return recordTypes.flatMap((recordType, t) => {
    const record = fixtureRecord(recordType, fixtureEnterprises.subject.uscc);
    const header: RecordHeader = { recordId: record.recordId, recordType, subject: record.subject, publisher: 'GovMSP', catalogueEntryId: `e-${recordType}`, issuedAt: record.issuedAt };
    const fields = record.fields as unknown as Record<string, unknown>;
    const sealed = sealRecord(header, fields);
    const correction = sealRecord({ ...header, recordId: `${record.recordId}-c`, supersedes: record.recordId }, fields);
    const contentHash = (s: SealedRecord): string => sha256Hex(canonicalize(s.header));
    return [
      { sealed, batchId: `GovMSP.b${t}.0123456789abcdef`, index: t, contentHash: contentHash(sealed) },
      { sealed: correction, batchId: `GovMSP.c${t}`, index: 70_000 + t, contentHash: contentHash(correction) },
    ];
  });
}

/** The value as the JSON text earlier versions wrote (level's json encoding). */
function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

describe('record codec', () => {
  it('gives back every record type exactly, key order included, supersedes included', () => {
    const all = values();
    expect(all.some((v) => v.sealed.header.supersedes !== undefined)).toBe(true);
    const encoded = encodeRecordValues(all);
    encoded.forEach((bytes, i) => {
      const value = all[i] as NewRecordValue;
      expect(bytes[0]).toBe(VERSION);
      expect(bodyKind(bytes)).toBe(COMPACT);
      const decoded = decodeRecordValue(bytes);
      expect(decoded).toEqual(value);
      expect(JSON.stringify(decoded)).toBe(JSON.stringify({ sealed: value.sealed, batchId: value.batchId, index: value.index, contentHash: value.contentHash }));
      expect(contentHashOf(bytes)).toBe(value.contentHash);
      const alone = encodeRecordValue(value);
      expect(Buffer.from(alone).equals(bytes)).toBe(true);
      // Alone, a value takes a buffer of its own size (or Node's small pool), not a megabyte slab.
      expect(alone.buffer.byteLength).toBeLessThanOrEqual(Math.max(Buffer.poolSize, 3 * alone.byteLength));
    });
  });

  it('writes a record smaller than its JSON value', () => {
    for (const value of values()) {
      expect(encodeRecordValue(value).length).toBeLessThan(jsonBytes(value).length * 0.8);
    }
  });

  it('writes many values into one buffer, each view its own value', () => {
    const one = values()[0] as NewRecordValue;
    const many = Array.from({ length: 800 }, (_, i) => ({ ...one, index: i, sealed: { ...one.sealed, header: { ...one.sealed.header, recordId: `r${i}` } } }));
    const encoded = encodeRecordValues(many);
    expect(new Set(encoded.map((b) => b.buffer)).size).toBe(1);
    encoded.forEach((bytes, i) => { expect(decodeRecordValue(bytes)).toEqual(many[i]); });
    // A view that is not a Buffer reads the same.
    const last = encoded[799] as Uint8Array;
    expect(decodeRecordValue(new Uint8Array(last.buffer, last.byteOffset, last.byteLength))).toEqual(many[799]);
  });

  it('writes a JSON body larger than its first buffer whole, between compact ones', () => {
    const [a, b] = values() as [NewRecordValue, NewRecordValue];
    const hugeSalts = Object.fromEntries(Object.keys(a.sealed.fields).map((name, i) => [name, String.fromCharCode(65 + i).repeat(100_000)]));
    const huge = { ...a, sealed: sealRecord(a.sealed.header, a.sealed.fields, hugeSalts) };
    const all = [a, huge, b, huge, a];
    const encoded = encodeRecordValues(all);
    expect(encoded.map((bytes) => bytes[0])).toEqual([VERSION, VERSION, VERSION, VERSION, VERSION]);
    expect(encoded.map(bodyKind)).toEqual([COMPACT, JSON_START, COMPACT, JSON_START, COMPACT]);
    encoded.forEach((bytes, i) => { expect(decodeRecordValue(bytes)).toEqual(all[i]); });
  });

  it('writes as JSON a record the compact form cannot hold exactly, and reads it back', () => {
    const base = values()[0] as NewRecordValue;
    const { fields } = base.sealed;
    const [first] = Object.keys(fields);
    const longSalts = Object.fromEntries(Object.keys(fields).map((name) => [name, 'A'.repeat(32)]));
    const odd: NewRecordValue[] = [
      { ...base, contentHash: 'h-r1' },
      { ...base, contentHash: base.contentHash.toUpperCase() },
      { ...base, sealed: sealRecord(base.sealed.header, fields, longSalts) },
      { ...base, sealed: { ...base.sealed, fieldDigests: { ...base.sealed.fieldDigests, [first as string]: 'A'.repeat(64) } } },
      { ...base, sealed: { ...base.sealed, leafHash: 'ab' } },
      // Salts in another order than the fields.
      { ...base, sealed: { ...base.sealed, salts: Object.fromEntries(Object.entries(base.sealed.salts).reverse()) } },
    ];
    for (const value of odd) {
      const bytes = encodeRecordValue(value);
      expect(bytes[0]).toBe(VERSION);
      expect(bodyKind(bytes)).toBe(JSON_START);
      expect(decodeRecordValue(bytes)).toEqual(value);
      expect(contentHashOf(bytes)).toBe(value.contentHash);
    }
    // 22 characters whose last carries bits past the 16 bytes: they ride in the salt's two spare bytes.
    const offCanonical = { ...base, sealed: { ...base.sealed, salts: { ...base.sealed.salts, [first as string]: 'AAAAAAAAAAAAAAAAAAAAAB' } } };
    const bytes = encodeRecordValue(offCanonical);
    expect(bodyKind(bytes)).toBe(COMPACT);
    expect(decodeRecordValue(bytes)).toEqual(offCanonical);
  });

  it('refuses a value it cannot place: an index no u32, a batch id over 65,535 bytes', () => {
    const base = values()[0] as NewRecordValue;
    expect(() => encodeRecordValue({ ...base, index: 2 ** 32 })).toThrow(expect.objectContaining({ code: 'INDEX_INVALID' }));
    expect(() => encodeRecordValue({ ...base, index: -1 })).toThrow(expect.objectContaining({ code: 'INDEX_INVALID' }));
    expect(() => encodeRecordValue({ ...base, batchId: 'b'.repeat(70_000) })).toThrow(expect.objectContaining({ code: 'BATCH_ID_INVALID' }));
    const long = { ...base, batchId: 'é'.repeat(30_000), index: 2 ** 32 - 1 };
    expect(decodeRecordValue(encodeRecordValue(long))).toEqual(long);
  });

  it('encodes bodies apart from their prefix to the same value bytes, and reads a body alone', () => {
    const all = values();
    const { bytes, ends } = encodeRecordBodies(all);
    const joined = joinRecordValues(all.map((v, i) => ({ batchId: v.batchId, index: v.index, body: bodyAt(bytes, ends, i) })));
    all.forEach((v, i) => {
      expect(Buffer.from(joined[i]!).equals(Buffer.from(encodeRecordValue(v)))).toBe(true);
      expect(decodeRecordBody(bodyAt(bytes, ends, i))).toEqual({ sealed: v.sealed, contentHash: v.contentHash });
    });
  });

  it('reads the JSON values of earlier versions as they are: with proof and root, without content hash', () => {
    const { sealed, batchId, index } = values()[1] as NewRecordValue;
    const withProof = { sealed, batchId, index, proof: ['ab'.repeat(32)], root: 'cd'.repeat(32) };
    expect(decodeRecordValue(jsonBytes(withProof))).toEqual(withProof);
    expect(contentHashOf(jsonBytes(withProof))).toBeUndefined();
    const withHash = { sealed, contentHash: 'ef'.repeat(32), batchId, index };
    expect(decodeRecordValue(jsonBytes(withHash))).toEqual(withHash);
    expect(contentHashOf(jsonBytes(withHash))).toBe(withHash.contentHash);
  });

  it('refuses bytes no version wrote', () => {
    const bytes = Buffer.from(encodeRecordValue(values()[0] as NewRecordValue));
    expect(() => decodeRecordValue(bytes.subarray(0, bytes.length - 1))).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
    expect(() => contentHashOf(bytes.subarray(0, 40))).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
    const other = Buffer.from(bytes);
    other[0] = 1;
    expect(() => decodeRecordValue(other)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
    expect(() => decodeRecordValue(Buffer.from('{"sealed":'))).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
    const garbled = Buffer.from(bytes);
    garbled[garbled.length - 1] = 0x7b;
    expect(() => decodeRecordValue(garbled)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
    // One field count too many: the lengths no longer add up.
    const fewer = Buffer.from(bytes);
    const body = 7 + fewer.readUInt16LE(5);
    fewer.writeUInt16LE(fewer.readUInt16LE(body + 1) + 1, body + 1);
    expect(() => decodeRecordValue(fewer)).toThrow(expect.objectContaining({ code: 'STORE_CORRUPT' }));
  });
});
