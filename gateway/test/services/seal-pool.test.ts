import { afterEach, describe, expect, it } from 'vitest';
import { fieldDigest, isCredexError, leafHash } from '@credex/core';
import { fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import type { SealPool } from '../../src/services/seal-pool';
import { createSealPool } from '../../src/services/seal-pool';
import type { PreparedRecord, SealContext } from '../../src/services/seal-records';
import { prepareRecord, unpackChunk } from '../../src/services/seal-records';
import { decodeRecordBody } from '../../src/store/record-codec';

const subject = fixtureEnterprises.subject.uscc;
const ctx: SealContext = { mspId: 'GovMSP', catalogueEntryId: 'cat-1', entry: { entryId: 'cat-1', recordType: 'gov.admin-penalty', subject } };
const crashingWorker = new URL('./crashing-seal-worker.ts', import.meta.url);

function records(n: number, prefix = 'pen'): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({ ...fixtureRecord('gov.admin-penalty', subject), recordId: `${prefix}-${i}` }));
}

/** The error `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('nothing thrown');
}

/** A chunk prepared and sealed in the pool, taken back as the publisher does. */
async function viaPool(pool: SealPool, chunk: readonly unknown[], offset: number, context: SealContext): Promise<PreparedRecord[]> {
  const out: PreparedRecord[] = [];
  unpackChunk(offset, context, await pool.run(chunk, offset, context), out);
  return out;
}

describe('seal pool', () => {
  let pool: SealPool | undefined;
  afterEach(async () => {
    await pool?.close();
  });

  it('starts no worker before it is needed, then one per slot; close stops them all', async () => {
    pool = createSealPool({ size: 2 });
    expect(pool.threads).toBe(0);
    await pool.start();
    expect(pool.threads).toBe(2);
    await pool.close();
    expect(pool.threads).toBe(0);
    await expect(pool.run(records(1), 0, ctx)).rejects.toThrow(/closed/);
  });

  it('prepares and seals as the main thread does: same content hashes, digests that verify', async () => {
    pool = createSealPool({ size: 2 });
    const chunk = records(20);
    const sealedCtx = { ...ctx, supersedes: 'pen-old' };
    const out = await viaPool(pool, chunk, 40, sealedCtx);
    expect(out).toHaveLength(60);
    for (let k = 0; k < chunk.length; k++) {
      const p = out[40 + k] as PreparedRecord;
      const inline = prepareRecord(chunk[k], 40 + k, sealedCtx);
      expect(p.recordId).toBe(inline.recordId);
      expect(p.contentHash).toBe(inline.contentHash);
      const entry = p.sealed!;
      const body = decodeRecordBody(entry.body!);
      expect(body.contentHash).toBe(inline.contentHash);
      const { sealed } = body;
      expect(entry).toMatchObject({ recordId: `pen-${k}`, subject, leafHash: sealed.leafHash, supersedes: 'pen-old', contentHash: inline.contentHash });
      expect(sealed.header).toEqual({
        recordId: `pen-${k}`, recordType: 'gov.admin-penalty', subject, publisher: 'GovMSP', catalogueEntryId: 'cat-1',
        issuedAt: inline.record!.issuedAt, supersedes: 'pen-old',
      });
      expect(sealed.fields).toEqual(inline.record!.fields);
      for (const [name, value] of Object.entries(sealed.fields)) {
        expect(sealed.fieldDigests[name]).toBe(fieldDigest(name, value, sealed.salts[name]!));
      }
      expect(sealed.leafHash).toBe(leafHash(sealed.header, sealed.fieldDigests));
    }
  });

  it('answers a chunk\'s first bad record with the error the main thread throws for it', async () => {
    pool = createSealPool({ size: 1 });
    const chunk = records(10);
    chunk[6] = { ...chunk[6], subject: subject.slice(0, 17) + (subject.endsWith('0') ? '1' : '0') };
    chunk[8] = { ...chunk[8], recordType: 'gov.nothing' };
    const expected = thrown(() => prepareRecord(chunk[6], 506, ctx));
    const out: (PreparedRecord | undefined)[] = [];
    const result = await pool.run(chunk, 500, ctx);
    const error = thrown(() => {
      unpackChunk(500, ctx, result, out as PreparedRecord[]);
    });
    expect(isCredexError(error, 'USCC_INVALID')).toBe(true);
    expect(error).toEqual(expected);
    expect((error as Error).message).toBe((expected as Error).message);
    expect((error as { details?: unknown }).details).toEqual((expected as { details?: unknown }).details);
    expect(out.filter((p) => p !== undefined)).toHaveLength(6);
  });

  it('fails the chunks of a worker that dies, and replaces the worker for the next chunk', async () => {
    pool = createSealPool({ size: 1, workerUrl: crashingWorker });
    await pool.start();
    const chunk = records(5);
    chunk[2] = { ...chunk[2], recordId: 'crash' };
    const error = await pool.run(chunk, 0, ctx).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(isCredexError(error)).toBe(false);
    expect((error as Error).message).toMatch(/seal worker stopped/);
    expect(pool.threads).toBe(0);
    const out = await viaPool(pool, records(3), 0, ctx);
    expect(out.map((p) => p.sealed?.recordId)).toEqual(['pen-0', 'pen-1', 'pen-2']);
    expect(pool.threads).toBe(1);
  });
});
