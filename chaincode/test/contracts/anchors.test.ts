import { describe, expect, it } from 'vitest';
import { merkleRoot, sha256Hex } from '@credex/core';
import { fixtureAnchorBatch, validate, type LedgerRecord as RecordState } from '@credex/schemas';
import { json, OTHER, standardWorld, SUBJECT } from '../support/world';


function batchOf(entryId: string, leaves: string[], batchId = 'batch-x', extra: { supersedes?: string }[] = []) {
  return fixtureAnchorBatch(entryId, leaves.map((leafHash, index) => ({ recordId: `${batchId}-r${index}`, leafHash, ...extra[index] })), merkleRoot(leaves), batchId);
}

describe('anchors', () => {
  it('anchors a batch: one record key each with batch, index, leaf, entry data and active status', async () => {
    const { world, licence } = await standardWorld();
    const batch = await world.cc.evaluate<{ root: string; size: number; publisher: string; subject: string }>('AuditMSP', 'anchors:GetBatch', 'batch-1');
    expect(batch).toMatchObject({ size: 2, publisher: 'GovMSP', subject: SUBJECT, catalogueEntryId: licence.entryId });
    expect(batch.root).toBe(merkleRoot(licence.records.map((r) => r.leafHash)));
    const second = licence.records[1]!;
    const record = await world.cc.evaluate<RecordState>('BankMSP', 'anchors:GetRecord', second.recordId);
    // The shapes the gateway reads are the schemas' (schemas/json/ledger-batch, ledger-record).
    expect(() => validate('ledger-batch', batch)).not.toThrow();
    expect(() => validate('ledger-record', record)).not.toThrow();
    expect(record).toMatchObject({
      recordId: second.recordId,
      batchId: 'batch-1',
      index: 1,
      leafHash: second.leafHash,
      publisher: 'GovMSP',
      subject: SUBJECT,
      recordType: 'gov.admin-licence',
      catalogueEntryId: licence.entryId,
      status: 'active',
    });
    expect(record.history).toEqual([{ status: 'active', at: '2026-11-02T02:00:00.000Z', txId: expect.any(String) }]);
  });

  it('refuses bad batches and changes nothing', async () => {
    const { world, licence, receivable } = await standardWorld();
    const leaves = [sha256Hex('a'), sha256Hex('b'), sha256Hex('c')];
    const good = batchOf(licence.entryId, leaves);
    await world.cc.expectRejected('FORBIDDEN', 'CoreMSP', 'anchors:AnchorBatch', json(good));
    await world.cc.expectRejected('NOT_FOUND', 'GovMSP', 'anchors:AnchorBatch', json({ ...good, catalogueEntryId: 'cat-missing' }));
    await world.cc.expectRejected('BATCH_INVALID', 'GovMSP', 'anchors:AnchorBatch', json({ ...good, root: merkleRoot(leaves.slice(0, 2)) }));
    await world.cc.expectRejected('BATCH_INVALID', 'GovMSP', 'anchors:AnchorBatch', json({ ...good, size: 4 }));
    await world.cc.expectRejected('BATCH_INVALID', 'GovMSP', 'anchors:AnchorBatch', json({ ...good, records: [...good.records].reverse() }));
    await world.cc.expectRejected('ALREADY_EXISTS', 'GovMSP', 'anchors:AnchorBatch', json({ ...good, batchId: 'batch-1' }));
    const reused = { ...good, records: good.records.map((r, i) => (i === 1 ? { ...r, recordId: licence.records[0]!.recordId } : r)) };
    await world.cc.expectRejected('RECORD_EXISTS', 'GovMSP', 'anchors:AnchorBatch', json(reused));
    const twice = { ...good, records: good.records.map((r, i) => (i === 2 ? { ...r, recordId: good.records[0]!.recordId } : r)) };
    await world.cc.expectRejected('RECORD_EXISTS', 'GovMSP', 'anchors:AnchorBatch', json(twice));
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'anchors:AnchorBatch', json({ ...good, root: 'ABC' }));
    await world.cc.expectRejected('JSON_INVALID', 'GovMSP', 'anchors:AnchorBatch', json(good).slice(0, -1));
    const huge = batchOf(licence.entryId, Array.from({ length: 9000 }, (_, i) => sha256Hex(String(i))), 'batch-huge-with-a-long-identifier');
    await world.cc.expectRejected('PAYLOAD_TOO_LARGE', 'GovMSP', 'anchors:AnchorBatch', json(huge));
    await world.cc.submit('CoreMSP', 'catalogue:RetireEntry', receivable.entryId);
    await world.cc.expectRejected('ENTRY_RETIRED', 'CoreMSP', 'anchors:AnchorBatch', json(batchOf(receivable.entryId, leaves)));
    await world.cc.expectRejected('NOT_FOUND', 'GovMSP', 'anchors:GetBatch', 'batch-missing');
    await world.cc.expectRejected('RECORD_UNKNOWN', 'GovMSP', 'anchors:GetRecord', 'rec-missing');
  });

  it('supersedes a record at once, linking both ways, only for the same publisher and subject and a live record', async () => {
    const { world, licence, penalty, receivable } = await standardWorld();
    const old = licence.records[0]!;
    world.cc.setTime('2026-11-10T00:00:00.000Z');
    const leaves = [sha256Hex('corrected licence')];
    await world.cc.expectRejected('RECORD_UNKNOWN', 'GovMSP', 'anchors:AnchorBatch', json(batchOf(licence.entryId, leaves, 'fix-1', [{ supersedes: 'rec-missing' }])));
    await world.cc.expectRejected('FORBIDDEN', 'CoreMSP', 'anchors:AnchorBatch', json(batchOf(receivable.entryId, leaves, 'fix-1', [{ supersedes: old.recordId }])));

    await world.cc.submit('GovMSP', 'anchors:AnchorBatch', json(batchOf(licence.entryId, leaves, 'fix-1', [{ supersedes: old.recordId }])));
    const oldState = await world.cc.evaluate<RecordState>('BankMSP', 'anchors:GetRecord', old.recordId);
    expect(oldState).toMatchObject({ status: 'superseded', supersededBy: 'fix-1-r0' });
    expect(oldState.history.map((h) => [h.status, h.at])).toEqual([
      ['active', '2026-11-02T02:00:00.000Z'],
      ['superseded', '2026-11-10T00:00:00.000Z'],
    ]);
    expect(await world.cc.evaluate<RecordState>('BankMSP', 'anchors:GetRecord', 'fix-1-r0')).toMatchObject({ status: 'active', supersedes: old.recordId });
    await world.cc.expectRejected('SUPERSESSION_INVALID', 'GovMSP', 'anchors:AnchorBatch', json(batchOf(licence.entryId, [sha256Hex('again')], 'fix-2', [{ supersedes: old.recordId }])));
    // Two corrections of one record in one batch: the second finds it already superseded.
    const pair = batchOf(penalty.entryId, [sha256Hex('p1'), sha256Hex('p2')], 'fix-3', [{ supersedes: penalty.records[0]!.recordId }, { supersedes: penalty.records[0]!.recordId }]);
    await world.cc.expectRejected('SUPERSESSION_INVALID', 'GovMSP', 'anchors:AnchorBatch', json(pair));
  });

  it('refuses to supersede a record about another subject', async () => {
    const { world, licence } = await standardWorld();
    const otherEntry = await world.createEntry('GovMSP', 'gov.admin-licence', { subject: OTHER });
    await world.cc.expectRejected('SUPERSESSION_INVALID', 'GovMSP', 'anchors:AnchorBatch', json(batchOf(otherEntry, [sha256Hex('x')], 'fix-o', [{ supersedes: licence.records[0]!.recordId }])));
  });

  it('withdraws a record by its publisher only, once', async () => {
    const { world, receivable } = await standardWorld();
    const id = receivable.records[0]!.recordId;
    await world.cc.expectRejected('FORBIDDEN', 'GovMSP', 'anchors:WithdrawRecord', id);
    await world.cc.expectRejected('RECORD_UNKNOWN', 'CoreMSP', 'anchors:WithdrawRecord', 'rec-missing');
    const { result } = await world.cc.submit<RecordState>('CoreMSP', 'anchors:WithdrawRecord', id);
    expect(result.status).toBe('withdrawn');
    await world.cc.expectRejected('RECORD_WITHDRAWN', 'CoreMSP', 'anchors:WithdrawRecord', id);
    await world.cc.expectRejected('SUPERSESSION_INVALID', 'CoreMSP', 'anchors:AnchorBatch', json(batchOf(receivable.entryId, [sha256Hex('y')], 'fix-w', [{ supersedes: id }])));
  });
});
