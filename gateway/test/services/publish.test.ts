import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCredexError, leafHash, verifyInclusion } from '@credex/core';
import { fixtureCatalogueEntry, fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import type { SealPool } from '../../src/services/seal-pool';
import { createSealPool } from '../../src/services/seal-pool';
import type { Publisher } from '../../src/services/publish';
import { createPublisher, POOL_MIN_RECORDS } from '../../src/services/publish';
import type { Store } from '../../src/store/store';
import { openStore } from '../../src/store/store';
import { FakeLedger, tempDir } from '../helpers';

const subject = fixtureEnterprises.subject.uscc;
const entry = fixtureCatalogueEntry({ recordType: 'gov.admin-penalty', subject, publisher: 'GovMSP', entryId: 'cat-penalty-1' });
// Dies on a chunk holding a record with the id `crash`.
const crashingWorker = new URL('./crashing-seal-worker.ts', import.meta.url);

function records(n: number, prefix = 'pen'): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({ ...fixtureRecord('gov.admin-penalty', subject), recordId: `${prefix}-${i}` }));
}

describe('publisher with seal workers', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let ledger: FakeLedger;
  let pool: SealPool;
  let publisher: Publisher;
  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore(tmp.dir);
    ledger = new FakeLedger('GovMSP');
    ledger.entries.set(entry.entryId, entry);
    pool = createSealPool({ size: 2, workerUrl: crashingWorker });
    publisher = createPublisher({ mspId: 'GovMSP', ledger, store, sealPool: pool });
    await publisher.startSealWorkers();
  });
  afterEach(async () => {
    await publisher.close();
    await pool.close();
    await store.close();
    tmp.remove();
  });

  it('fails a publish whose worker dies with a plain error (500 INTERNAL), stores nothing, and replaces the worker', async () => {
    const batch = records(POOL_MIN_RECORDS * 4);
    batch[batch.length - 2] = { ...batch[batch.length - 2], recordId: 'crash' };
    const error = await publisher.publish({ catalogueEntryId: entry.entryId, records: batch }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    // Not a coded error: the error handler answers 500 INTERNAL and logs it.
    expect(isCredexError(error)).toBe(false);
    expect((error as Error).message).toMatch(/seal worker stopped/);
    expect(await store.getRecord('pen-0')).toBeUndefined();
    expect(await store.outbox()).toEqual([]);
    expect(ledger.submitted('AnchorBatch')).toHaveLength(0);
    expect(pool.threads).toBe(1);

    const out = await publisher.publish({ catalogueEntryId: entry.entryId, records: records(POOL_MIN_RECORDS * 4) });
    expect(out).toHaveLength(POOL_MIN_RECORDS * 4);
    expect(pool.threads).toBe(2);
    expect((await store.getRecord('pen-0'))?.anchored).toBe(true);
  });

  it('stores records sealed in the workers as sealed, with supersession, idempotency and conflicts as on the main thread', async () => {
    const n = POOL_MIN_RECORDS + 44;
    const first = await publisher.publish({ catalogueEntryId: entry.entryId, records: records(n, 'old') });
    expect(first).toHaveLength(n);
    const stored = await store.getRecord('old-7');
    expect(stored?.sealed.header).toEqual({ ...records(8, 'old')[7], fields: undefined, recordType: 'gov.admin-penalty', publisher: 'GovMSP', catalogueEntryId: entry.entryId });
    expect(stored?.sealed.fields).toEqual(records(8, 'old')[7]?.fields);
    expect(leafHash(stored!.sealed.header, stored!.sealed.fieldDigests)).toBe(first[7]?.leafHash);
    expect(verifyInclusion(first[7]!.leafHash, first[7]!.index, n, stored!.proof, stored!.root)).toBe(true);
    expect((await store.listRecordsBySubject(subject)).length).toBe(n);
    // Same ids, same content: the same places; one changed: 409.
    expect(await publisher.publish({ catalogueEntryId: entry.entryId, records: records(n, 'old') })).toEqual(first);
    const changed = records(n, 'old');
    changed[9] = { ...changed[9], issuedAt: '2020-01-01T00:00:00.000Z' };
    await expect(publisher.publish({ catalogueEntryId: entry.entryId, records: changed })).rejects.toMatchObject({ code: 'RECORD_CONFLICT', details: { recordIds: ['old-9'] } });

    const fixes = records(n, 'new');
    fixes[3] = { ...fixes[3], supersedes: 'old-3' };
    fixes[200] = { ...fixes[200], supersedes: 'old-200' };
    const second = await publisher.publish({ catalogueEntryId: entry.entryId, records: fixes });
    const anchored = ledger.submitted('AnchorBatch').at(-1);
    const request = JSON.parse(anchored!.args[0]!) as { supersessions?: { record: { recordId: string; index: number; leafHash: string }; supersedes: { recordId: string } }[] };
    expect(request.supersessions?.map((x) => [x.record.recordId, x.record.index, x.record.leafHash, x.supersedes.recordId])).toEqual([
      ['new-3', second[3]?.index, second[3]?.leafHash, 'old-3'], ['new-200', second[200]?.index, second[200]?.leafHash, 'old-200'],
    ]);
    expect((await store.getRecord('new-3'))?.sealed.header.supersedes).toBe('old-3');
    expect((await store.getRecord('new-4'))?.sealed.header.supersedes).toBeUndefined();
    // Every record of a publish superseding one: more than allowed, as on the main thread.
    await expect(publisher.publish({ catalogueEntryId: entry.entryId, records: records(n, 'newer') }, { supersedes: 'old-5' })).rejects.toMatchObject({ code: 'SUPERSESSIONS_TOO_MANY' });
  });

  it('leaves a pool it was given open on close', async () => {
    await publisher.close();
    expect(pool.threads).toBe(2);
  });
});

describe('publisher with its own seal workers', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  let publisher: Publisher;
  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore(tmp.dir);
    const ledger = new FakeLedger('GovMSP');
    ledger.entries.set(entry.entryId, entry);
    publisher = createPublisher({ mspId: 'GovMSP', ledger, store });
  });
  afterEach(async () => {
    await publisher.close();
    await store.close();
    tmp.remove();
  });

  it('starts no workers once closed, also when no large publish had started them: a publish under way works on the main thread', async () => {
    await publisher.close();
    const out = await publisher.publish({ catalogueEntryId: entry.entryId, records: records(POOL_MIN_RECORDS) });
    expect(out).toHaveLength(POOL_MIN_RECORDS);
    expect(publisher.sealThreads).toBe(0);
    await expect(publisher.startSealWorkers()).rejects.toThrow(/closed/);
  });
});
