import { describe, expect, it } from 'vitest';
import { sha256Hex, statementId, merkleRoot } from '@credex/core';
import { fixtureObjection, fixtureObjectionResolution, type LedgerRecord as RecordState } from '@credex/schemas';
import { json, signed, standardWorld, OTHER, SUBJECT, type World } from '../support/world';

interface ObjectionState {
  objectionId: string;
  subject: string;
  recordId: string;
  publisher: string;
  status: string;
  filedAt: string;
  deadline: string;
  resolution?: { outcome: string; reason: string; supersededBy?: string; resolvedAt: string };
}

async function file(world: World, recordId: string, overrides = {}): Promise<ObjectionState> {
  const objection = signed('objection', fixtureObjection(recordId, overrides), world.enterpriseKey(SUBJECT));
  return (await world.cc.submit<ObjectionState>('BankMSP', 'objections:FileObjection', json(objection))).result;
}

function status(world: World, recordId: string): Promise<RecordState> {
  return world.cc.evaluate<RecordState>('AuditMSP', 'anchors:GetRecord', recordId);
}

describe('objections', () => {
  it('files a signed objection: the record is disputed at once with a 20-day deadline, and an event is emitted', async () => {
    const { world, penalty } = await standardWorld();
    const recordId = penalty.records[0]!.recordId;
    world.cc.setTime('2026-11-05T08:00:00.000Z');
    const objection = signed('objection', fixtureObjection(recordId), world.enterpriseKey(SUBJECT));
    const { result, event } = await world.cc.submit<ObjectionState>('CoreMSP', 'objections:FileObjection', json(objection));
    expect(result).toMatchObject({
      objectionId: statementId('objection', objection.statement),
      subject: SUBJECT,
      recordId,
      publisher: 'GovMSP',
      status: 'open',
      filedAt: '2026-11-05T08:00:00.000Z',
      deadline: '2026-11-25T08:00:00.000Z',
    });
    expect(event?.name).toBe('ObjectionFiled');
    expect((await status(world, recordId)).status).toBe('disputed');
    expect(await world.cc.evaluate('AuditMSP', 'objections:GetObjection', result.objectionId)).toEqual(result);
    expect((await world.cc.evaluate<ObjectionState[]>('AuditMSP', 'objections:ListBySubject', SUBJECT)).map((o) => o.objectionId)).toEqual([result.objectionId]);
    expect(await world.cc.evaluate('AuditMSP', 'objections:ListBySubject', OTHER)).toEqual([]);
    expect((await world.cc.evaluate<ObjectionState[]>('GovMSP', 'objections:ListByPublisher', 'GovMSP')).map((o) => o.objectionId)).toEqual([result.objectionId]);
    expect(await world.cc.evaluate('CoreMSP', 'objections:ListByPublisher', 'CoreMSP')).toEqual([]);
  });

  it('refuses objections by another enterprise, with bad signatures, replayed nonces, or against records that are not active', async () => {
    const { world, penalty, licence } = await standardWorld();
    const recordId = penalty.records[0]!.recordId;
    await world.cc.expectRejected('SIGNATURE_INVALID', 'BankMSP', 'objections:FileObjection', json(signed('objection', fixtureObjection(recordId), world.enterpriseKey(OTHER))));
    await world.cc.expectRejected('FORBIDDEN', 'BankMSP', 'objections:FileObjection', json(signed('objection', fixtureObjection(recordId, { subject: OTHER }), world.enterpriseKey(OTHER))));
    await world.cc.expectRejected('RECORD_UNKNOWN', 'BankMSP', 'objections:FileObjection', json(signed('objection', fixtureObjection('rec-missing'), world.enterpriseKey(SUBJECT))));
    await world.cc.expectRejected('USCC_INVALID', 'BankMSP', 'objections:FileObjection', json(signed('objection', fixtureObjection(recordId, { subject: '91350100M000100Y4Z' }), world.enterpriseKey(SUBJECT))));
    await world.cc.expectRejected('SCHEMA_INVALID', 'BankMSP', 'objections:FileObjection', json(signed('objection', fixtureObjection(recordId, { reason: '' }), world.enterpriseKey(SUBJECT))));
    await world.cc.expectRejected('JSON_INVALID', 'BankMSP', 'objections:FileObjection', 'objection');
    await world.cc.expectRejected('PAYLOAD_TOO_LARGE', 'BankMSP', 'objections:FileObjection', json(signed('objection', fixtureObjection(recordId, { reason: '异'.repeat(25_000) }), world.enterpriseKey(SUBJECT))));

    const objection = signed('objection', fixtureObjection(recordId), world.enterpriseKey(SUBJECT));
    await world.cc.submit('BankMSP', 'objections:FileObjection', json(objection));
    await world.cc.expectRejected('NONCE_REPLAYED', 'BankMSP', 'objections:FileObjection', json(objection));
    await world.cc.expectRejected('RECORD_NOT_ACTIVE', 'BankMSP', 'objections:FileObjection', json(signed('objection', fixtureObjection(recordId), world.enterpriseKey(SUBJECT))));
    await world.cc.submit('GovMSP', 'anchors:WithdrawRecord', licence.records[0]!.recordId);
    await world.cc.expectRejected('RECORD_NOT_ACTIVE', 'BankMSP', 'objections:FileObjection', json(signed('objection', fixtureObjection(licence.records[0]!.recordId), world.enterpriseKey(SUBJECT))));
    await world.cc.expectRejected('OBJECTION_UNKNOWN', 'BankMSP', 'objections:GetObjection', 'c'.repeat(64));
  });

  it('the publisher rejects an objection: the record is active again and the objection closed', async () => {
    const { world, penalty } = await standardWorld();
    const recordId = penalty.records[0]!.recordId;
    const filed = await file(world, recordId);
    const rejection = json(fixtureObjectionResolution(filed.objectionId));
    await world.cc.expectRejected('FORBIDDEN', 'CoreMSP', 'objections:ResolveObjection', rejection);
    await world.cc.expectRejected('OBJECTION_UNKNOWN', 'GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution('d'.repeat(64))));
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'objections:ResolveObjection', json({ ...fixtureObjectionResolution(filed.objectionId), supersededBy: 'x' }));
    world.cc.setTime('2026-11-10T00:00:00.000Z');
    const { result, event } = await world.cc.submit<ObjectionState>('GovMSP', 'objections:ResolveObjection', rejection);
    expect(result).toMatchObject({ status: 'rejected', resolution: { outcome: 'rejected', resolvedAt: '2026-11-10T00:00:00.000Z' } });
    expect(event?.name).toBe('ObjectionResolved');
    const record = await status(world, recordId);
    expect(record.history.map((h) => h.status)).toEqual(['active', 'disputed', 'active']);
    await world.cc.expectRejected('OBJECTION_CLOSED', 'GovMSP', 'objections:ResolveObjection', rejection);
  });

  it('the publisher corrects a record: the superseding record must be anchored and supersede it; links go both ways', async () => {
    const { world, penalty } = await standardWorld();
    const [target, other] = penalty.records.map((r) => r.recordId) as [string, string];
    const filed = await file(world, target);
    await world.cc.expectRejected('RECORD_UNKNOWN', 'GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution(filed.objectionId, 'rec-not-anchored')));
    await world.cc.expectRejected('SUPERSESSION_INVALID', 'GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution(filed.objectionId, other)));

    const [fix] = await world.anchor('GovMSP', { entryId: penalty.entryId, recordType: 'gov.admin-penalty', subject: SUBJECT }, 1, [target]);
    const { result } = await world.cc.submit<ObjectionState>('GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution(filed.objectionId, fix!.recordId)));
    expect(result).toMatchObject({ status: 'corrected', resolution: { outcome: 'corrected', supersededBy: fix!.recordId } });
    expect(await status(world, target)).toMatchObject({ status: 'superseded', supersededBy: fix!.recordId });
    expect(await status(world, fix!.recordId)).toMatchObject({ status: 'active', supersedes: target });
  });

  it('accepts a correction anchored before the resolution: the anchor already superseded the disputed record', async () => {
    const { world, licence } = await standardWorld();
    const target = licence.records[1]!.recordId;
    const filed = await file(world, target);
    // Anchor a correction directly (the record is disputed, so anchoring supersedes it at once).
    const leaf = sha256Hex('corrected');
    await world.cc.submit('GovMSP', 'anchors:AnchorBatch', json({ batchId: 'fix', catalogueEntryId: licence.entryId, root: merkleRoot([leaf]), size: 1, records: [{ recordId: 'fix-0', leafHash: leaf, index: 0, supersedes: target }] }));
    const before = await status(world, target);
    await world.cc.submit('GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution(filed.objectionId, 'fix-0')));
    expect(await status(world, target)).toEqual(before);
    expect(before).toMatchObject({ status: 'superseded', supersededBy: 'fix-0' });
  });

  it('lists open objections past their deadline at ledger time', async () => {
    const { world, licence, penalty } = await standardWorld();
    world.cc.setTime('2026-11-01T00:00:00.000Z');
    const early = await file(world, penalty.records[0]!.recordId);
    world.cc.setTime('2026-11-03T00:00:00.000Z');
    const late = await file(world, licence.records[0]!.recordId);
    const resolved = await file(world, licence.records[1]!.recordId);
    await world.cc.submit('GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution(resolved.objectionId)));

    world.cc.setTime('2026-11-21T00:00:00.000Z');
    expect(await world.cc.evaluate('AuditMSP', 'objections:ListOverdue')).toEqual([]);
    world.cc.setTime('2026-11-21T00:00:00.001Z');
    expect((await world.cc.evaluate<ObjectionState[]>('AuditMSP', 'objections:ListOverdue')).map((o) => o.objectionId)).toEqual([early.objectionId]);
    world.cc.setTime('2027-01-01T00:00:00.000Z');
    expect((await world.cc.evaluate<ObjectionState[]>('AuditMSP', 'objections:ListOverdue')).map((o) => o.objectionId)).toEqual([early.objectionId, late.objectionId]);
  });
});
