import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCredexError } from '@credex/core';
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

  it('leaves a pool it was given open on close', async () => {
    await publisher.close();
    expect(pool.threads).toBe(2);
  });
});
