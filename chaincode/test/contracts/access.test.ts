import { describe, expect, it } from 'vitest';
import { newSigningKeyPair, sha256Hex, statementId } from '@credex/core';
import { fixtureRevocation, validate, type LedgerAccess as AccessState, type LedgerAccessResult as Result, type RecordRef } from '@credex/schemas';
import { json, signed, standardWorld, OTHER, SUBJECT, type World } from '../support/world';

type Access = ReturnType<World['access']>;


async function record(world: World, publisher: string, accesses: Access[]) {
  return world.cc.submit<{ results: Result[] }>(publisher, 'access:RecordAccess', json({ accesses }));
}

/** A group whose only access must fail with `code`: the transaction succeeds, but nothing changes. */
async function expectRefused(world: World, publisher: string, access: Access, code: string): Promise<void> {
  const before = world.cc.ledger.dump();
  const { result, event } = await record(world, publisher, [access]);
  expect(result.results).toEqual([{ accessId: access.accessId, ok: false, code, message: expect.stringMatching(new RegExp(`^${code}: `)) }]);
  expect(event).toBeUndefined();
  expect(world.cc.ledger.dump()).toBe(before);
}

describe('access register', () => {
  it('registers who, what, when, why and the fee, counts the use, indexes it and emits AccessRegistered', async () => {
    const { world, licence, penalty } = await standardWorld();
    const consentId = await world.createConsent();
    world.cc.setTime('2026-11-15T03:04:05.678Z');
    const access = world.access(consentId, [penalty.records[0]!.ref, licence.records[0]!.ref, licence.records[1]!.ref]);
    const { result, event, txId } = await record(world, 'GovMSP', [access]);
    // Two distinct entries: licence (200) + penalty (300).
    const sortedIds = [...access.recordIds].sort();
    expect(result.results).toEqual([{ accessId: access.accessId, ok: true, fee: 500, usesLeft: 9, records: sortedIds.map((recordId) => ({ recordId, status: 'active' })) }]);
    expect(event?.name).toBe('AccessRegistered');
    expect(JSON.parse(Buffer.from(event!.payload).toString('utf8'))).toEqual({ accessIds: [access.accessId], publisher: 'GovMSP', txId });

    const stored = await world.cc.evaluate<AccessState>('AuditMSP', 'access:GetAccess', access.accessId);
    expect(() => validate('ledger-access', stored)).not.toThrow();
    expect(() => validate('ledger-access-result', result.results[0])).not.toThrow();
    expect(stored).toMatchObject({
      accessId: access.accessId,
      consentId,
      subject: SUBJECT,
      grantee: 'BankMSP',
      publisher: 'GovMSP',
      purpose: 'LOAN_APPLICATION',
      recordIds: sortedIds,
      records: sortedIds.map((recordId) => ({ recordId, batchId: access.records.find((r) => r.recordId === recordId)!.batchId })),
      catalogueEntryIds: [licence.entryId, penalty.entryId].sort(),
      fee: 500,
      at: '2026-11-15T03:04:05.678Z',
      period: '2026-11',
      txId,
    });
    expect(await world.cc.evaluate<{ uses: number }>('BankMSP', 'consents:GetConsent', consentId)).toMatchObject({ uses: 1 });
    for (const [fn, arg] of [['ListBySubject', SUBJECT], ['ListByGrantee', 'BankMSP'], ['ListByPublisher', 'GovMSP']] as const) {
      expect((await world.cc.evaluate<AccessState[]>('AuditMSP', `access:${fn}`, arg)).map((a) => a.accessId)).toEqual([access.accessId]);
    }
    expect(await world.cc.evaluate<AccessState[]>('AuditMSP', 'access:ListBySubject', OTHER)).toEqual([]);
    expect(await world.cc.evaluate<AccessState[]>('AuditMSP', 'access:ListByPublisher', 'CoreMSP')).toEqual([]);
    await world.cc.expectRejected('NOT_FOUND', 'AuditMSP', 'access:GetAccess', 'acc-missing');
    await world.cc.expectRejected('USCC_INVALID', 'AuditMSP', 'access:ListBySubject', '91350100M000100Y4Z');
  });

  it('group commit: checks each access on its own, counts uses within the transaction, lists failures and registers the rest', async () => {
    const { world, licence, receivable } = await standardWorld();
    const consentId = await world.createConsent({ maxUses: 2 });
    const [r0, r1] = licence.records.map((r) => r.ref) as [RecordRef, RecordRef];
    const first = world.access(consentId, [r0]);
    const duplicateId = first;
    const second = world.access(consentId, [r1]);
    const sameNonce = world.access(consentId, [r0], { nonce: second.request.statement.nonce });
    const third = world.access(consentId, [r0, r1]);
    const foreign = world.access(consentId, [receivable.records[0]!.ref]);
    const { result, event } = await record(world, 'GovMSP', [first, duplicateId, second, sameNonce, third, foreign]);
    expect(result.results.map((r) => (r.ok ? ['ok', r.accessId, r.usesLeft] : [r.code, r.accessId]))).toEqual([
      ['ok', first.accessId, 1],
      ['ALREADY_EXISTS', first.accessId],
      ['ok', second.accessId, 0],
      ['NONCE_REPLAYED', sameNonce.accessId],
      ['CONSENT_EXHAUSTED', third.accessId],
      ['FORBIDDEN', foreign.accessId],
    ]);
    expect(JSON.parse(Buffer.from(event!.payload).toString('utf8')).accessIds).toEqual([first.accessId, second.accessId]);
    expect(await world.cc.evaluate<{ uses: number }>('BankMSP', 'consents:GetConsent', consentId)).toMatchObject({ uses: 2 });
    expect((await world.cc.evaluate<AccessState[]>('AuditMSP', 'access:ListByGrantee', 'BankMSP')).map((a) => a.accessId).sort()).toEqual([first.accessId, second.accessId].sort());
    await world.cc.expectRejected('NOT_FOUND', 'AuditMSP', 'access:GetAccess', third.accessId);
    // Across transactions: the consent is exhausted, the nonce and the access id are used.
    await expectRefused(world, 'GovMSP', world.access(consentId, [r0]), 'CONSENT_EXHAUSTED');
    await expectRefused(world, 'GovMSP', second, 'ALREADY_EXISTS');
    // An access id is its request's statement id: any other id is refused.
    await expectRefused(world, 'GovMSP', { ...world.access(consentId, [r0]), accessId: second.accessId }, 'REQUEST_MISMATCH');
    await expectRefused(world, 'GovMSP', { ...world.access(consentId, [r0]), accessId: 'acc-chosen-by-the-gateway' }, 'REQUEST_MISMATCH');
    await expectRefused(world, 'GovMSP', world.access(consentId, [r1], { nonce: first.request.statement.nonce }), 'NONCE_REPLAYED');
  });

  it('refuses a revoked, expired, not yet valid, wrong-grantee, wrong-purpose or out-of-scope consent', async () => {
    const { world, licence, penalty, receivable } = await standardWorld();
    const r0 = licence.records[0]!.ref;
    const consentId = await world.createConsent({ notBefore: '2026-11-01T00:00:00.000Z', notAfter: '2026-11-30T23:59:59.999Z' });
    await expectRefused(world, 'GovMSP', world.access('a'.repeat(64), [r0]), 'CONSENT_UNKNOWN');
    await expectRefused(world, 'GovMSP', world.access(consentId, [r0], { grantee: 'Bank2MSP' }), 'CONSENT_WRONG_GRANTEE');
    await expectRefused(world, 'GovMSP', world.access(consentId, [r0], { purpose: 'GUARANTEE' }), 'CONSENT_WRONG_PURPOSE');

    // Scope by record type: the redblack-list type is not in the fixture consent.
    const redblack = await world.createEntry('GovMSP', 'gov.redblack-list');
    const [listed] = await world.anchor('GovMSP', { entryId: redblack, recordType: 'gov.redblack-list', subject: SUBJECT }, 1);
    await expectRefused(world, 'GovMSP', world.access(consentId, [r0, listed!.ref]), 'CONSENT_OUT_OF_SCOPE');
    // Scope by subject: a licence of another enterprise, though its type is in scope.
    const otherEntry = await world.createEntry('GovMSP', 'gov.admin-licence', { subject: OTHER });
    const [ofOther] = await world.anchor('GovMSP', { entryId: otherEntry, recordType: 'gov.admin-licence', subject: OTHER }, 1);
    await expectRefused(world, 'GovMSP', world.access(consentId, [ofOther!.ref]), 'CONSENT_OUT_OF_SCOPE');
    // Scope by catalogue entry: only the penalty entry.
    const byEntry = await world.createConsent({ scope: { catalogueEntryIds: [penalty.entryId] } });
    await expectRefused(world, 'GovMSP', world.access(byEntry, [r0]), 'CONSENT_OUT_OF_SCOPE');
    expect((await record(world, 'GovMSP', [world.access(byEntry, [penalty.records[0]!.ref])])).result.results[0]).toMatchObject({ ok: true, fee: 300 });

    world.cc.setTime('2026-10-31T23:59:59.999Z');
    await expectRefused(world, 'GovMSP', world.access(consentId, [r0]), 'CONSENT_NOT_YET_VALID');
    world.cc.setTime('2026-12-01T00:00:00.000Z');
    await expectRefused(world, 'GovMSP', world.access(consentId, [r0]), 'CONSENT_EXPIRED');
    world.cc.setTime('2026-11-30T23:59:59.999Z');
    expect((await record(world, 'GovMSP', [world.access(consentId, [r0])])).result.results[0]).toMatchObject({ ok: true });

    await world.cc.submit('BankMSP', 'consents:RevokeConsent', json(signed('revocation', fixtureRevocation(consentId), world.enterpriseKey(SUBJECT))));
    await expectRefused(world, 'GovMSP', world.access(consentId, [r0]), 'CONSENT_REVOKED');
    expect(receivable.records).toHaveLength(2);
  });

  it('checks the request signature against the grantee org\'s registered key and the request against the access', async () => {
    const { world, licence } = await standardWorld();
    const r0 = licence.records[0]!.ref;
    const consentId = await world.createConsent();
    await expectRefused(world, 'GovMSP', world.access(consentId, [r0], {}, world.requestKey('Bank2MSP')), 'SIGNATURE_INVALID');
    await expectRefused(world, 'GovMSP', world.access(consentId, [r0], {}, newSigningKeyPair()), 'SIGNATURE_INVALID');
    const tampered = world.access(consentId, [r0]);
    const changed = { ...tampered.request.statement, purpose: 'GUARANTEE' as const };
    await expectRefused(world, 'GovMSP', { ...tampered, accessId: statementId('access-request', changed), request: { ...tampered.request, statement: changed } }, 'SIGNATURE_INVALID');
    await expectRefused(world, 'GovMSP', world.access(consentId, [r0], { grantee: 'Bank9MSP' }, newSigningKeyPair()), 'ORG_UNKNOWN');
    await expectRefused(world, 'GovMSP', { ...world.access(consentId, [r0]), recordIds: [licence.records[1]!.recordId] }, 'REQUEST_MISMATCH');
    // The references must name exactly the records of the access: not another, not one twice, not one less.
    await expectRefused(world, 'GovMSP', { ...world.access(consentId, [r0]), records: [licence.records[1]!.ref] }, 'REQUEST_MISMATCH');
    await expectRefused(world, 'GovMSP', { ...world.access(consentId, [r0, licence.records[1]!.ref]), records: [r0, r0] }, 'REQUEST_MISMATCH');
    await expectRefused(world, 'GovMSP', { ...world.access(consentId, [r0, licence.records[1]!.ref]), records: [r0] }, 'REQUEST_MISMATCH');
    await expectRefused(world, 'GovMSP', { ...world.access(consentId, [r0]), consentId: 'b'.repeat(64) }, 'REQUEST_MISMATCH');
  });

  it('serves only the caller\'s own, existing, withdrawn-free records of active entries', async () => {
    const { world, licence, receivable } = await standardWorld();
    const consentId = await world.createConsent();
    const ref = licence.records[0]!.ref;
    await expectRefused(world, 'GovMSP', world.access(consentId, [{ ...ref, batchId: 'batch-missing' }]), 'RECORD_UNKNOWN');
    await expectRefused(world, 'GovMSP', world.access(consentId, [{ ...ref, leafHash: sha256Hex('forged') }]), 'RECORD_PROOF_INVALID');
    await expectRefused(world, 'GovMSP', world.access(consentId, [{ ...ref, index: 1 }]), 'RECORD_PROOF_INVALID');
    await expectRefused(world, 'CoreMSP', world.access(consentId, [licence.records[0]!.ref]), 'FORBIDDEN');
    // Superseded records are served (the verifier reports it), with their status in the result.
    const [fix] = await world.anchor('GovMSP', { entryId: licence.entryId, recordType: 'gov.admin-licence', subject: SUBJECT }, 1, [licence.records[1]!.ref]);
    const served = await record(world, 'GovMSP', [world.access(consentId, [fix!.ref, licence.records[1]!.ref])]);
    expect(served.result.results[0]).toMatchObject({ ok: true, records: [{ recordId: licence.records[1]!.recordId, status: 'superseded' }, { recordId: fix!.recordId, status: 'active' }] });
    await world.cc.submit('GovMSP', 'anchors:WithdrawRecord', json(licence.records[0]!.ref));
    await expectRefused(world, 'GovMSP', world.access(consentId, [licence.records[0]!.ref]), 'RECORD_WITHDRAWN');
    await world.cc.submit('CoreMSP', 'catalogue:RetireEntry', receivable.entryId);
    await expectRefused(world, 'CoreMSP', world.access(consentId, [receivable.records[0]!.ref]), 'ENTRY_RETIRED');
  });

  it('rejects a malformed, invalid or oversized group, or a non-member caller, as a whole', async () => {
    const { world, licence } = await standardWorld();
    const consentId = await world.createConsent();
    const access = world.access(consentId, [licence.records[0]!.ref]);
    await world.cc.expectRejected('JSON_INVALID', 'GovMSP', 'access:RecordAccess', '{"accesses": [');
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'access:RecordAccess', json({ accesses: [] }));
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'access:RecordAccess', json({ accesses: [{ ...access, extra: 1 }] }));
    await world.cc.expectRejected('PAYLOAD_TOO_LARGE', 'GovMSP', 'access:RecordAccess', json({ accesses: Array.from({ length: 256 }, () => ({ ...access, recordIds: Array.from({ length: 40 }, (_, i) => `${'r'.repeat(100)}${i}`) })) }));
    await world.cc.expectRejected('FORBIDDEN', 'EvilMSP', 'access:RecordAccess', json({ accesses: [access] }));
  });

  it('registers a group in few state ops: per access its key and its nonce; per transaction one index key per distinct value', async () => {
    const { world, licence, penalty } = await standardWorld();
    const bank = await world.createConsent({ maxUses: 100 });
    const bank2 = await world.createConsent({ grantee: 'Bank2MSP', maxUses: 100 });
    const n = 16;
    const accesses = Array.from({ length: n }, (_, i) =>
      i % 2 === 0 ? world.access(bank, [licence.records[i % 4 === 0 ? 0 : 1]!.ref]) : world.access(bank2, [penalty.records[0]!.ref], { grantee: 'Bank2MSP' }),
    );
    const before = world.cc.ledger.size;
    const { result, ops } = await record(world, 'GovMSP', accesses);
    expect(result.results.every((r) => r.ok)).toBe(true);
    // Written: each access and its request nonce; each consent once; the indexes by subject (1),
    // grantee (2), publisher (1) and period (1).
    expect(ops.putState).toBe(2 * n + 2 + 5);
    expect(world.cc.ledger.size).toBe(before + 2 * n + 5);
    // Read: each request nonce (new? then so is the access id, the request's statement id); once per
    // transaction each grantee org (2), consent (2), catalogue entry (2), batch (2) and its status list (2).
    // No record of these has a status key, so none is read.
    expect(ops.getState).toBe(n + 10);
    expect(ops.rangeQuery).toBe(0);
    // Every access is in the register once, under each of its values.
    const ids = accesses.map((a) => a.accessId).sort();
    expect((await world.cc.evaluate<AccessState[]>('AuditMSP', 'access:ListBySubject', SUBJECT)).map((a) => a.accessId).sort()).toEqual(ids);
    expect((await world.cc.evaluate<AccessState[]>('AuditMSP', 'access:ListByPublisher', 'GovMSP')).map((a) => a.accessId).sort()).toEqual(ids);
    expect((await world.cc.evaluate<AccessState[]>('AuditMSP', 'access:ListByGrantee', 'Bank2MSP')).map((a) => a.grantee)).toEqual(Array<string>(n / 2).fill('Bank2MSP'));
  });

  it('lists accesses in ledger-time order, one entry per access, across transactions', async () => {
    const { world, licence } = await standardWorld();
    const consentId = await world.createConsent({ maxUses: 100 });
    const registered: string[][] = [];
    for (const time of ['2026-11-20T00:00:00.000Z', '2026-11-03T00:00:00.000Z', '2026-11-10T00:00:00.000Z']) {
      world.cc.setTime(time);
      const group = [world.access(consentId, [licence.records[0]!.ref]), world.access(consentId, [licence.records[1]!.ref])];
      await record(world, 'GovMSP', group);
      registered.push(group.map((a) => a.accessId).sort());
    }
    const inTimeOrder = [registered[1]!, registered[2]!, registered[0]!].flat();
    for (const [fn, arg] of [['ListBySubject', SUBJECT], ['ListByGrantee', 'BankMSP'], ['ListByPublisher', 'GovMSP']] as const) {
      expect((await world.cc.evaluate<AccessState[]>('AuditMSP', `access:${fn}`, arg)).map((a) => a.accessId)).toEqual(inTimeOrder);
    }
    // An index entry naming an access that is not there is a corrupted register: INTERNAL, not a short list.
    const dangling = '\u0000access~subject\u0000' + SUBJECT + '\u00002026-12-01T00:00:00.000Z\u0000tx-x\u0000';
    world.cc.ledger.apply(new Map([[dangling, Buffer.from('["acc-missing"]')]]));
    expect(await world.cc.expectRejected('INTERNAL', 'AuditMSP', 'access:ListBySubject', SUBJECT)).toContain('acc-missing');
  });

  it('totals fees per grantee and publisher pair for a month', async () => {
    const { world, licence, penalty, receivable } = await standardWorld();
    const bank = await world.createConsent({ maxUses: 100, scope: { recordTypes: ['gov.admin-licence', 'gov.admin-penalty', 'sc.receivable-confirmation'] } });
    const bank2 = await world.createConsent({ grantee: 'Bank2MSP', maxUses: 100 });
    world.cc.setTime('2026-11-20T00:00:00.000Z');
    await record(world, 'GovMSP', [world.access(bank, [licence.records[0]!.ref]), world.access(bank, [licence.records[1]!.ref, penalty.records[0]!.ref])]);
    await record(world, 'CoreMSP', [world.access(bank, [receivable.records[0]!.ref])]);
    await record(world, 'GovMSP', [world.access(bank2, [licence.records[0]!.ref], { grantee: 'Bank2MSP' })]);
    world.cc.setTime('2026-12-01T00:00:00.000Z');
    await record(world, 'GovMSP', [world.access(bank, [licence.records[0]!.ref])]);

    expect(await world.cc.evaluate('AuditMSP', 'access:FeeTotals', '2026-11')).toEqual({
      period: '2026-11',
      totals: [
        { grantee: 'Bank2MSP', publisher: 'GovMSP', accesses: 1, fee: 200 },
        { grantee: 'BankMSP', publisher: 'CoreMSP', accesses: 1, fee: 500 },
        { grantee: 'BankMSP', publisher: 'GovMSP', accesses: 2, fee: 700 },
      ],
    });
    expect(await world.cc.evaluate('AuditMSP', 'access:FeeTotals', '2026-12')).toEqual({ period: '2026-12', totals: [{ grantee: 'BankMSP', publisher: 'GovMSP', accesses: 1, fee: 200 }] });
    expect(await world.cc.evaluate('AuditMSP', 'access:FeeTotals', '2027-01')).toEqual({ period: '2027-01', totals: [] });
    await world.cc.expectRejected('SCHEMA_INVALID', 'AuditMSP', 'access:FeeTotals', '2026-13');
  });
});
