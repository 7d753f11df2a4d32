import { describe, expect, it } from 'vitest';
import { merkleRoot, sha256Hex } from '@credex/core';
import { fixtureAnchorBatch, fixtureRecordRefs, fixtureSupersession, validate, type AnchorBatch, type LedgerRecord as RecordState, type RecordRef } from '@credex/schemas';
import { json, OTHER, standardWorld, SUBJECT } from '../support/world';

/** A batch of records with these leaf hashes (ids `${batchId}-r${i}`); record i supersedes `supersedes[i]` when given. */
function batchOf(entryId: string, leaves: string[], batchId = 'batch-x', supersedes: (RecordRef | undefined)[] = []): { batch: AnchorBatch; refs: RecordRef[] } {
  const { root, refs } = fixtureRecordRefs(batchId, leaves.map((leafHash, i) => ({ recordId: `${batchId}-r${i}`, leafHash })));
  const supersessions = refs.flatMap((ref, i) => {
    const old = supersedes[i];
    return old === undefined ? [] : [fixtureSupersession(ref, old)];
  });
  return { batch: fixtureAnchorBatch(entryId, root, leaves.length, { batchId, supersessions }), refs };
}

describe('anchors', () => {
  it('anchors a batch by its root and size alone; a record reads as anchored, proven by its reference', async () => {
    const { world, licence } = await standardWorld();
    const batch = await world.cc.evaluate<{ root: string; size: number; publisher: string; subject: string }>('AuditMSP', 'anchors:GetBatch', 'batch-1');
    expect(batch).toMatchObject({ size: 2, publisher: 'GovMSP', subject: SUBJECT, catalogueEntryId: licence.entryId });
    expect(batch.root).toBe(merkleRoot(licence.records.map((r) => r.leafHash)));
    const second = licence.records[1]!;
    const record = await world.cc.evaluate<RecordState>('BankMSP', 'anchors:GetRecord', json(second.ref));
    // The shapes the gateway reads are the schemas' (schemas/json/ledger-batch, ledger-record).
    expect(() => validate('ledger-batch', batch)).not.toThrow();
    expect(() => validate('ledger-record', record)).not.toThrow();
    expect(record).toEqual({
      recordId: second.recordId,
      batchId: 'batch-1',
      index: 1,
      leafHash: second.leafHash,
      publisher: 'GovMSP',
      subject: SUBJECT,
      recordType: 'gov.admin-licence',
      catalogueEntryId: licence.entryId,
      status: 'active',
      history: [{ status: 'active', at: '2026-11-02T02:00:00.000Z', txId: expect.any(String) as unknown }],
    });
  });

  it('writes one key per batch, whatever its size: no key per record', async () => {
    const { world, licence } = await standardWorld();
    const { batch } = batchOf(licence.entryId, Array.from({ length: 10_000 }, (_, i) => sha256Hex(String(i))), 'batch-big');
    const before = world.cc.ledger.size;
    const { ops } = await world.cc.submit('GovMSP', 'anchors:AnchorBatch', json(batch));
    expect(world.cc.ledger.size).toBe(before + 1);
    // The entry, then the batch key (new?); then the batch is written.
    expect(ops).toEqual({ getState: 2, putState: 1, deleteState: 0, rangeQuery: 0 });
  });

  it('refuses bad batches and changes nothing', async () => {
    const { world, licence, receivable } = await standardWorld();
    const { batch: good } = batchOf(licence.entryId, [sha256Hex('a'), sha256Hex('b'), sha256Hex('c')]);
    await world.cc.expectRejected('FORBIDDEN', 'CoreMSP', 'anchors:AnchorBatch', json(good));
    await world.cc.expectRejected('NOT_FOUND', 'GovMSP', 'anchors:AnchorBatch', json({ ...good, catalogueEntryId: 'cat-missing' }));
    await world.cc.expectRejected('ALREADY_EXISTS', 'GovMSP', 'anchors:AnchorBatch', json({ ...good, batchId: 'batch-1' }));
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'anchors:AnchorBatch', json({ ...good, root: 'ABC' }));
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'anchors:AnchorBatch', json({ ...good, size: 10_001 }));
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'anchors:AnchorBatch', json({ ...good, size: 0 }));
    // The old form with a records array is refused, not ignored.
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'anchors:AnchorBatch', json({ ...good, records: [{ recordId: 'r', leafHash: sha256Hex('a'), index: 0 }] }));
    await world.cc.expectRejected('JSON_INVALID', 'GovMSP', 'anchors:AnchorBatch', json(good).slice(0, -1));
    await world.cc.expectRejected('PAYLOAD_TOO_LARGE', 'GovMSP', 'anchors:AnchorBatch', json({ ...good, batchId: 'b'.repeat(1024 * 1024) }));
    await world.cc.submit('CoreMSP', 'catalogue:RetireEntry', receivable.entryId);
    await world.cc.expectRejected('ENTRY_RETIRED', 'CoreMSP', 'anchors:AnchorBatch', json(batchOf(receivable.entryId, [sha256Hex('a')]).batch));
    await world.cc.expectRejected('NOT_FOUND', 'GovMSP', 'anchors:GetBatch', 'batch-missing');
  });

  it('reads a record only with a reference that proves it against its batch root', async () => {
    const { world, licence, penalty } = await standardWorld();
    const [first, second] = licence.records.map((r) => r.ref) as [RecordRef, RecordRef];
    const get = (ref: unknown) => ['BankMSP', 'anchors:GetRecord', json(ref)] as const;
    await world.cc.expectRejected('RECORD_UNKNOWN', ...get({ ...first, batchId: 'batch-missing' }));
    await world.cc.expectRejected('RECORD_PROOF_INVALID', ...get({ ...first, leafHash: sha256Hex('forged') }));
    await world.cc.expectRejected('RECORD_PROOF_INVALID', ...get({ ...first, index: 1 }));
    await world.cc.expectRejected('RECORD_PROOF_INVALID', ...get({ ...first, index: 2 }));
    await world.cc.expectRejected('RECORD_PROOF_INVALID', ...get({ ...first, proof: [] }));
    await world.cc.expectRejected('RECORD_PROOF_INVALID', ...get({ ...first, proof: [...first.proof, first.leafHash] }));
    // A leaf of another batch is not in this one.
    await world.cc.expectRejected('RECORD_PROOF_INVALID', ...get({ ...penalty.records[0]!.ref, batchId: first.batchId }));
    await world.cc.expectRejected('SCHEMA_INVALID', ...get({ ...first, proof: 'x' }));
    await world.cc.expectRejected('SCHEMA_INVALID', ...get({ recordId: first.recordId }));
    await world.cc.expectRejected('JSON_INVALID', 'BankMSP', 'anchors:GetRecord', first.recordId);

    // Once a record has a status key, a reference must name that key's leaf.
    await world.cc.submit('GovMSP', 'anchors:WithdrawRecord', json(first));
    await world.cc.expectRejected('RECORD_PROOF_INVALID', ...get({ ...second, recordId: first.recordId }));
    expect(await world.cc.evaluate<RecordState>('BankMSP', 'anchors:GetRecord', json(second))).toMatchObject({ recordId: second.recordId, status: 'active' });
    // A batch's status list names every record with a status key; a list naming a record without one is corrupt.
    world.cc.ledger.apply(new Map([[`\u0000record~status\u0000${second.batchId}\u0000`, Buffer.from(JSON.stringify([first.recordId, second.recordId]))]]));
    expect(await world.cc.expectRejected('INTERNAL', 'BankMSP', 'anchors:GetRecord', json(second))).toContain(second.recordId);
  });

  it('keeps statuses per batch: equal record ids in two batches never collide', async () => {
    const { world, licence, receivable } = await standardWorld();
    const { batch: govBatch, refs: [govRef] } = batchOf(licence.entryId, [sha256Hex('gov')], 'same-batch-a');
    const { batch: coreBatch, refs: [coreRef] } = batchOf(receivable.entryId, [sha256Hex('core')], 'same-batch-b');
    const sameId = { ...coreRef!, recordId: govRef!.recordId };
    await world.cc.submit('GovMSP', 'anchors:AnchorBatch', json(govBatch));
    await world.cc.submit('CoreMSP', 'anchors:AnchorBatch', json(coreBatch));
    await world.cc.submit('CoreMSP', 'anchors:WithdrawRecord', json(sameId));
    expect(await world.cc.evaluate<RecordState>('BankMSP', 'anchors:GetRecord', json(sameId))).toMatchObject({ status: 'withdrawn', publisher: 'CoreMSP' });
    expect(await world.cc.evaluate<RecordState>('BankMSP', 'anchors:GetRecord', json(govRef))).toMatchObject({ status: 'active', publisher: 'GovMSP' });
  });

  it('supersedes a record at once, linking both ways, only for the same publisher and subject and a live record', async () => {
    const { world, licence, penalty, receivable } = await standardWorld();
    const old = licence.records[0]!;
    world.cc.setTime('2026-11-10T00:00:00.000Z');
    const leaves = [sha256Hex('corrected licence')];
    await world.cc.expectRejected('RECORD_UNKNOWN', 'GovMSP', 'anchors:AnchorBatch', json(batchOf(licence.entryId, leaves, 'fix-1', [{ ...old.ref, batchId: 'batch-missing' }]).batch));
    await world.cc.expectRejected('RECORD_PROOF_INVALID', 'GovMSP', 'anchors:AnchorBatch', json(batchOf(licence.entryId, leaves, 'fix-1', [{ ...old.ref, leafHash: sha256Hex('x') }]).batch));
    await world.cc.expectRejected('FORBIDDEN', 'CoreMSP', 'anchors:AnchorBatch', json(batchOf(receivable.entryId, leaves, 'fix-1', [old.ref]).batch));
    const { batch: fix } = batchOf(licence.entryId, leaves, 'fix-1', [old.ref]);
    // The new record must be proven against the batch's own root.
    const unproven = { ...fix, supersessions: fix.supersessions!.map((s) => ({ ...s, record: { ...s.record, leafHash: sha256Hex('not in the batch') } })) };
    await world.cc.expectRejected('RECORD_PROOF_INVALID', 'GovMSP', 'anchors:AnchorBatch', json(unproven));

    const { ops } = await world.cc.submit('GovMSP', 'anchors:AnchorBatch', json(fix));
    // The old record's status and its batch's status list, the new record's and its list, the batch.
    expect(ops.putState).toBe(5);
    const oldState = await world.cc.evaluate<RecordState>('BankMSP', 'anchors:GetRecord', json(old.ref));
    expect(oldState).toMatchObject({ status: 'superseded', supersededBy: 'fix-1-r0' });
    expect(oldState.history.map((h) => [h.status, h.at])).toEqual([
      ['active', '2026-11-02T02:00:00.000Z'],
      ['superseded', '2026-11-10T00:00:00.000Z'],
    ]);
    const fixRef = batchOf(licence.entryId, leaves, 'fix-1').refs[0]!;
    expect(await world.cc.evaluate<RecordState>('BankMSP', 'anchors:GetRecord', json(fixRef))).toMatchObject({ status: 'active', supersedes: old.recordId, batchId: 'fix-1', index: 0 });
    await world.cc.expectRejected('SUPERSESSION_INVALID', 'GovMSP', 'anchors:AnchorBatch', json(batchOf(licence.entryId, [sha256Hex('again')], 'fix-2', [old.ref]).batch));
    // Two corrections of one record in one batch: the second finds it already superseded.
    const target = penalty.records[0]!.ref;
    const pair = batchOf(penalty.entryId, [sha256Hex('p1'), sha256Hex('p2')], 'fix-3', [target, target]).batch;
    await world.cc.expectRejected('SUPERSESSION_INVALID', 'GovMSP', 'anchors:AnchorBatch', json(pair));
    // One new record listed twice.
    const { batch: one, refs: [fixed] } = batchOf(penalty.entryId, [sha256Hex('p3')], 'fix-4', [target]);
    const twice = { ...one, supersessions: [...one.supersessions!, fixtureSupersession(fixed!, penalty.records[1]!.ref)] };
    await world.cc.expectRejected('SUPERSESSION_INVALID', 'GovMSP', 'anchors:AnchorBatch', json(twice));
  });

  it('refuses to supersede a record about another subject', async () => {
    const { world, licence } = await standardWorld();
    const otherEntry = await world.createEntry('GovMSP', 'gov.admin-licence', { subject: OTHER });
    await world.cc.expectRejected('SUPERSESSION_INVALID', 'GovMSP', 'anchors:AnchorBatch', json(batchOf(otherEntry, [sha256Hex('x')], 'fix-o', [licence.records[0]!.ref]).batch));
  });

  it('withdraws a record by its publisher only, once', async () => {
    const { world, receivable } = await standardWorld();
    const ref = receivable.records[0]!.ref;
    await world.cc.expectRejected('FORBIDDEN', 'GovMSP', 'anchors:WithdrawRecord', json(ref));
    await world.cc.expectRejected('RECORD_UNKNOWN', 'CoreMSP', 'anchors:WithdrawRecord', json({ ...ref, batchId: 'batch-missing' }));
    await world.cc.expectRejected('RECORD_PROOF_INVALID', 'CoreMSP', 'anchors:WithdrawRecord', json({ ...ref, index: 1 }));
    const { result } = await world.cc.submit<RecordState>('CoreMSP', 'anchors:WithdrawRecord', json(ref));
    expect(result.status).toBe('withdrawn');
    expect(result.history.map((h) => h.status)).toEqual(['active', 'withdrawn']);
    await world.cc.expectRejected('RECORD_WITHDRAWN', 'CoreMSP', 'anchors:WithdrawRecord', json(ref));
    await world.cc.expectRejected('SUPERSESSION_INVALID', 'CoreMSP', 'anchors:AnchorBatch', json(batchOf(receivable.entryId, [sha256Hex('y')], 'fix-w', [ref]).batch));
  });
});
