import { describe, expect, it } from 'vitest';
import { isCredexError, leafHash } from '@credex/core';
import { fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import type { PreparedRecord, SealContext } from '../../src/services/seal-records';
import { prepareRecord, sealChunk, sealedEntry, unpackChunk } from '../../src/services/seal-records';
import { bodyAt, decodeRecordBody, decodeRecordValue, joinRecordValues } from '../../src/store/record-codec';
import { encodeRecordValue } from '../store/record-values';

const subject = fixtureEnterprises.subject.uscc;
const ctx: SealContext = { mspId: 'GovMSP', catalogueEntryId: 'cat-1', entry: { entryId: 'cat-1', recordType: 'gov.admin-penalty', subject } };

function records(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({ ...fixtureRecord('gov.admin-penalty', subject), recordId: `pen-${i}` }));
}

describe('seal-records chunk form', () => {
  it('carries what the publish path needs of every record and its value body, which holds a sealed record that verifies', () => {
    const chunk = records(3);
    chunk[1] = { ...chunk[1], supersedes: 'pen-old' };
    const result = sealChunk(chunk, 10, ctx);
    expect(result.count).toBe(3);
    expect(result.ends).toHaveLength(3);
    const out: PreparedRecord[] = [];
    unpackChunk(10, ctx, result, out);
    for (let k = 0; k < 3; k++) {
      const p = out[10 + k]!;
      const inline = prepareRecord(chunk[k], 10 + k, ctx);
      expect(p.contentHash).toBe(inline.contentHash);
      expect(p.record).toBeUndefined();
      const { sealed, contentHash } = decodeRecordBody(p.sealed!.body!);
      expect(contentHash).toBe(inline.contentHash);
      expect(p.sealed).toEqual({ ...sealedEntry(sealed, contentHash), sealed: undefined, body: p.sealed!.body });
      expect(sealed.header).toEqual({ ...inline.record!, fields: undefined, recordType: 'gov.admin-penalty', publisher: 'GovMSP', catalogueEntryId: 'cat-1' });
      expect(Object.keys(sealed.salts)).toEqual(Object.keys(chunk[k]!.fields as object));
      expect(leafHash(sealed.header, sealed.fieldDigests)).toBe(sealed.leafHash);
    }
    expect(out[11]!.sealed!.supersedes).toBe('pen-old');
    expect(out[10]!.sealed!.supersedes).toBeUndefined();
  });

  it('writes the same value bytes as the main thread does for the same sealed record', () => {
    const chunk = records(4);
    const result = sealChunk(chunk, 0, ctx);
    for (let k = 0; k < 4; k++) {
      const body = bodyAt(result.bodies, result.ends, k);
      const { sealed, contentHash } = decodeRecordBody(body);
      const onMain = encodeRecordValue({ sealed, contentHash, batchId: 'GovMSP.b1.0123456789abcdef', index: 7 + k });
      const [fromWorker] = joinRecordValues([{ batchId: 'GovMSP.b1.0123456789abcdef', index: 7 + k, body }]);
      expect(Buffer.from(fromWorker!).equals(Buffer.from(onMain))).toBe(true);
      expect(decodeRecordValue(fromWorker!)).toEqual({ sealed, contentHash, batchId: 'GovMSP.b1.0123456789abcdef', index: 7 + k });
    }
  });

  it('keeps the records before a failing one and marks a record whose sealing failed, to be thrown only if it is sealed', () => {
    const chunk = records(3);
    const good = sealChunk(chunk.slice(1), 1, ctx);
    // Record 0 prepared but not sealed: its id and content hash only, and why.
    const hash0 = prepareRecord(chunk[0], 0, ctx).contentHash;
    const result = {
      ...good,
      meta: `pen-0,${hash0},,,${good.meta}`,
      count: 3,
      sealErrors: [{ index: 0, error: { code: 'SALT_INVALID', text: 'no salt', details: { field: 'x' } } }],
    };
    const out: PreparedRecord[] = [];
    unpackChunk(0, ctx, result, out);
    expect(out[0]!.sealed).toBeUndefined();
    expect(out[0]!.recordId).toBe('pen-0');
    expect(isCredexError(out[0]!.sealError, 'SALT_INVALID')).toBe(true);
    expect(out[0]!.sealError!.message).toBe('SALT_INVALID: no salt');
    expect(out[2]!.sealed!.recordId).toBe('pen-2');
    expect(decodeRecordBody(out[2]!.sealed!.body!).sealed.header.recordId).toBe('pen-2');

    const bad = [...chunk, { ...chunk[0], recordType: 'gov.nothing' }];
    const failed = sealChunk(bad, 0, ctx);
    expect(failed.count).toBe(3);
    expect(failed.error?.index).toBe(3);
    const into: PreparedRecord[] = [];
    expect(() => {
      unpackChunk(0, ctx, failed, into);
    }).toThrow(/^SCHEMA_INVALID: records\[3\]/);
    expect(into.filter((p) => p.sealed !== undefined)).toHaveLength(3);
  });
});
