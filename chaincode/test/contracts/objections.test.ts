import { describe, expect, it } from 'vitest';
import { sha256Hex, statementId } from '@credex/core';
import { fixtureObjection, fixtureObjectionResolution, type LedgerRecord as RecordState, type RecordRef } from '@credex/schemas';
import type { ObjectionState } from '../../src/contracts/objections';
import { json, signed, standardWorld, OTHER, SUBJECT, type World } from '../support/world';

async function file(world: World, ref: RecordRef, overrides = {}): Promise<ObjectionState> {
  const objection = signed('objection', fixtureObjection(ref.recordId, overrides), world.enterpriseKey(SUBJECT));
  return (await world.cc.submit<ObjectionState>('BankMSP', 'objections:FileObjection', json(objection), json(ref))).result;
}

function status(world: World, ref: RecordRef): Promise<RecordState> {
  return world.cc.evaluate<RecordState>('AuditMSP', 'anchors:GetRecord', json(ref));
}

describe('objections', () => {
  it('files a signed objection: the record is disputed at once with a 20-day deadline, and an event is emitted', async () => {
    const { world, penalty } = await standardWorld();
    const { recordId, ref } = penalty.records[0]!;
    world.cc.setTime('2026-11-05T08:00:00.000Z');
    const objection = signed('objection', fixtureObjection(recordId), world.enterpriseKey(SUBJECT));
    const { result, event } = await world.cc.submit<ObjectionState>('CoreMSP', 'objections:FileObjection', json(objection), json(ref));
    expect(result).toMatchObject({
      objectionId: statementId('objection', objection.statement),
      subject: SUBJECT,
      recordId,
      batchId: ref.batchId,
      index: ref.index,
      leafHash: ref.leafHash,
      publisher: 'GovMSP',
      status: 'open',
      filedAt: '2026-11-05T08:00:00.000Z',
      deadline: '2026-11-25T08:00:00.000Z',
    });
    expect(event?.name).toBe('ObjectionFiled');
    expect(await status(world, ref)).toMatchObject({ status: 'disputed', history: [{ status: 'active' }, { status: 'disputed', at: '2026-11-05T08:00:00.000Z' }] });
    expect(await world.cc.evaluate('AuditMSP', 'objections:GetObjection', result.objectionId)).toEqual(result);
    expect((await world.cc.evaluate<ObjectionState[]>('AuditMSP', 'objections:ListBySubject', SUBJECT)).map((o) => o.objectionId)).toEqual([result.objectionId]);
    expect(await world.cc.evaluate('AuditMSP', 'objections:ListBySubject', OTHER)).toEqual([]);
    expect((await world.cc.evaluate<ObjectionState[]>('GovMSP', 'objections:ListByPublisher', 'GovMSP')).map((o) => o.objectionId)).toEqual([result.objectionId]);
    expect(await world.cc.evaluate('CoreMSP', 'objections:ListByPublisher', 'CoreMSP')).toEqual([]);
  });

  it('refuses objections by another enterprise, with bad signatures or references, replayed nonces, or against records that are not active', async () => {
    const { world, penalty, licence } = await standardWorld();
    const { recordId, ref } = penalty.records[0]!;
    const fileAs = (statement: ReturnType<typeof fixtureObjection>, key = world.enterpriseKey(SUBJECT), reference: unknown = ref) =>
      ['BankMSP', 'objections:FileObjection', json(signed('objection', statement, key)), json(reference)] as const;
    await world.cc.expectRejected('SIGNATURE_INVALID', ...fileAs(fixtureObjection(recordId), world.enterpriseKey(OTHER)));
    await world.cc.expectRejected('FORBIDDEN', ...fileAs(fixtureObjection(recordId, { subject: OTHER }), world.enterpriseKey(OTHER)));
    await world.cc.expectRejected('RECORD_MISMATCH', ...fileAs(fixtureObjection(recordId), undefined, penalty.records[1]!.ref));
    await world.cc.expectRejected('RECORD_UNKNOWN', ...fileAs(fixtureObjection(recordId), undefined, { ...ref, batchId: 'batch-missing' }));
    await world.cc.expectRejected('RECORD_PROOF_INVALID', ...fileAs(fixtureObjection(recordId), undefined, { ...ref, leafHash: sha256Hex('forged') }));
    await world.cc.expectRejected('SCHEMA_INVALID', ...fileAs(fixtureObjection(recordId), undefined, { ...ref, proof: undefined }));
    await world.cc.expectRejected('USCC_INVALID', ...fileAs(fixtureObjection(recordId, { subject: '91350100M000100Y4Z' })));
    await world.cc.expectRejected('SCHEMA_INVALID', ...fileAs(fixtureObjection(recordId, { reason: '' })));
    await world.cc.expectRejected('JSON_INVALID', 'BankMSP', 'objections:FileObjection', 'objection', json(ref));
    await world.cc.expectRejected('PAYLOAD_TOO_LARGE', ...fileAs(fixtureObjection(recordId, { reason: '异'.repeat(25_000) })));

    const objection = signed('objection', fixtureObjection(recordId), world.enterpriseKey(SUBJECT));
    await world.cc.submit('BankMSP', 'objections:FileObjection', json(objection), json(ref));
    await world.cc.expectRejected('NONCE_REPLAYED', 'BankMSP', 'objections:FileObjection', json(objection), json(ref));
    await world.cc.expectRejected('RECORD_NOT_ACTIVE', ...fileAs(fixtureObjection(recordId)));
    await world.cc.submit('GovMSP', 'anchors:WithdrawRecord', json(licence.records[0]!.ref));
    await world.cc.expectRejected('RECORD_NOT_ACTIVE', ...fileAs(fixtureObjection(licence.records[0]!.recordId), undefined, licence.records[0]!.ref));
    await world.cc.expectRejected('OBJECTION_UNKNOWN', 'BankMSP', 'objections:GetObjection', 'c'.repeat(64));
  });

  it('the publisher rejects an objection: the record is active again and the objection closed', async () => {
    const { world, penalty } = await standardWorld();
    const { ref } = penalty.records[0]!;
    const filed = await file(world, ref);
    const rejection = json(fixtureObjectionResolution(filed.objectionId));
    await world.cc.expectRejected('FORBIDDEN', 'CoreMSP', 'objections:ResolveObjection', rejection);
    await world.cc.expectRejected('OBJECTION_UNKNOWN', 'GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution('d'.repeat(64))));
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'objections:ResolveObjection', json({ ...fixtureObjectionResolution(filed.objectionId), supersededBy: 'x' }));
    world.cc.setTime('2026-11-10T00:00:00.000Z');
    const { result, event } = await world.cc.submit<ObjectionState>('GovMSP', 'objections:ResolveObjection', rejection);
    expect(result).toMatchObject({ status: 'rejected', resolution: { outcome: 'rejected', resolvedAt: '2026-11-10T00:00:00.000Z' } });
    expect(event?.name).toBe('ObjectionResolved');
    const record = await status(world, ref);
    expect(record.history.map((h) => h.status)).toEqual(['active', 'disputed', 'active']);
    await world.cc.expectRejected('OBJECTION_CLOSED', 'GovMSP', 'objections:ResolveObjection', rejection);
  });

  it('the publisher corrects a record: the correction must be anchored first, superseding it; links go both ways', async () => {
    const { world, penalty } = await standardWorld();
    const [target, other] = penalty.records.map((r) => r.ref) as [RecordRef, RecordRef];
    const filed = await file(world, target);
    // Not anchored yet, or anchored without superseding this record: anchor the correction first.
    await world.cc.expectRejected('SUPERSESSION_INVALID', 'GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution(filed.objectionId, 'rec-not-anchored')));
    await world.cc.expectRejected('SUPERSESSION_INVALID', 'GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution(filed.objectionId, other.recordId)));

    world.cc.setTime('2026-11-06T00:00:00.000Z');
    const [fix] = await world.anchor('GovMSP', { entryId: penalty.entryId, recordType: 'gov.admin-penalty', subject: SUBJECT }, 1, [target]);
    // The anchor superseded the disputed record at once.
    const superseded = await status(world, target);
    expect(superseded).toMatchObject({ status: 'superseded', supersededBy: fix!.recordId });
    expect(superseded.history.map((h) => h.status)).toEqual(['active', 'disputed', 'superseded']);
    await world.cc.expectRejected('SUPERSESSION_INVALID', 'GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution(filed.objectionId, other.recordId)));
    const { result } = await world.cc.submit<ObjectionState>('GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution(filed.objectionId, fix!.recordId)));
    expect(result).toMatchObject({ status: 'corrected', resolution: { outcome: 'corrected', supersededBy: fix!.recordId } });
    expect(await status(world, target)).toEqual(superseded);
    expect(await status(world, fix!.ref)).toMatchObject({ status: 'active', supersedes: target.recordId });
    expect(await world.cc.evaluate<ObjectionState[]>('AuditMSP', 'objections:ListOverdue')).toEqual([]);
  });

  it('lists open objections past their deadline at ledger time', async () => {
    const { world, licence, penalty } = await standardWorld();
    world.cc.setTime('2026-11-01T00:00:00.000Z');
    const early = await file(world, penalty.records[0]!.ref);
    world.cc.setTime('2026-11-03T00:00:00.000Z');
    const late = await file(world, licence.records[0]!.ref);
    const resolved = await file(world, licence.records[1]!.ref);
    await world.cc.submit('GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution(resolved.objectionId)));

    world.cc.setTime('2026-11-21T00:00:00.000Z');
    expect(await world.cc.evaluate('AuditMSP', 'objections:ListOverdue')).toEqual([]);
    world.cc.setTime('2026-11-21T00:00:00.001Z');
    expect((await world.cc.evaluate<ObjectionState[]>('AuditMSP', 'objections:ListOverdue')).map((o) => o.objectionId)).toEqual([early.objectionId]);
    world.cc.setTime('2027-01-01T00:00:00.000Z');
    expect((await world.cc.evaluate<ObjectionState[]>('AuditMSP', 'objections:ListOverdue')).map((o) => o.objectionId)).toEqual([early.objectionId, late.objectionId]);
  });
});
