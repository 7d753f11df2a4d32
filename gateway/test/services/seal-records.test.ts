import { describe, expect, it } from 'vitest';
import { isCredexError, leafHash } from '@credex/core';
import { fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import type { PreparedRecord, SealContext } from '../../src/services/seal-records';
import { prepareRecord, sealChunk, unpackChunk } from '../../src/services/seal-records';

const subject = fixtureEnterprises.subject.uscc;
const ctx: SealContext = { mspId: 'GovMSP', catalogueEntryId: 'cat-1', entry: { entryId: 'cat-1', recordType: 'gov.admin-penalty', subject } };

function records(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({ ...fixtureRecord('gov.admin-penalty', subject), recordId: `pen-${i}` }));
}

describe('seal-records packed form', () => {
  it('carries hashes, salts and digests of every record; the rebuilt records are sealed records that verify', () => {
    const chunk = records(3);
    const result = sealChunk(chunk, 10, ctx);
    expect(result.count).toBe(3);
    const out: PreparedRecord[] = [];
    unpackChunk(chunk, 10, ctx, result, out);
    for (let k = 0; k < 3; k++) {
      const p = out[10 + k]!;
      expect(p.contentHash).toBe(prepareRecord(chunk[k], 10 + k, ctx).contentHash);
      expect(Object.keys(p.sealed!.salts)).toEqual(Object.keys(chunk[k]!.fields as object));
      expect(leafHash(p.sealed!.header, p.sealed!.fieldDigests)).toBe(p.sealed!.leafHash);
    }
  });

  it('keeps the records before a failing one and marks a record whose sealing failed, to be thrown only if it is sealed', () => {
    const chunk = records(3);
    const good = sealChunk(chunk.slice(1), 1, ctx);
    // Record 0 prepared but not sealed: its content hash only, and why.
    const hash0 = prepareRecord(chunk[0], 0, ctx).contentHash;
    const result = {
      packed: `${hash0},${good.packed}`,
      count: 3,
      sealErrors: [{ index: 0, error: { code: 'SALT_INVALID', text: 'no salt', details: { field: 'x' } } }],
    };
    const out: PreparedRecord[] = [];
    unpackChunk(chunk, 0, ctx, result, out);
    expect(out[0]!.sealed).toBeUndefined();
    expect(isCredexError(out[0]!.sealError, 'SALT_INVALID')).toBe(true);
    expect(out[0]!.sealError!.message).toBe('SALT_INVALID: no salt');
    expect(out[2]!.sealed!.header.recordId).toBe('pen-2');

    const bad = [...chunk, { ...chunk[0], recordType: 'gov.nothing' }];
    const failed = sealChunk(bad, 0, ctx);
    expect(failed.count).toBe(3);
    expect(failed.error?.index).toBe(3);
    const into: PreparedRecord[] = [];
    expect(() => {
      unpackChunk(bad, 0, ctx, failed, into);
    }).toThrow(/^SCHEMA_INVALID: records\[3\]/);
    expect(into.filter((p) => p.sealed !== undefined)).toHaveLength(3);
  });
});
