/**
 * The staff routes over node-sim with real HTTP: enterprise registration (government only),
 * consents and revocations, objections resolved by rejection or by a superseding record,
 * the auditor's access history and fee views.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSigningKeyPair, signed, statementId } from '@credex/core';
import { fixtureConsent, fixtureEnterprises, fixtureObjection, fixtureRecord, fixtureRevocation } from '@credex/schemas';
import type { PublishedRecord } from '@credex/gateway';
import type { Harness, RunningGateway } from './gateway-harness';
import { call, startGateway, startHarness } from './gateway-harness';
import { signRequest } from '../gateway/src/exchange/httpsig';

const X = fixtureEnterprises.subject;
const enterpriseKey = newSigningKeyPair();

describe('gateway staff routes over node-sim', () => {
  let h: Harness;
  let gov: RunningGateway;
  let bank: RunningGateway;
  let entryId: string;

  beforeAll(async () => {
    h = await startHarness();
    [gov, bank] = await Promise.all([startGateway(h.config('GovMSP')), startGateway(h.config('BankMSP'))]);
    const entry = await call<{ entry: { entryId: string } }>(gov.url, 'POST', '/v1/catalogue', {
      subject: X.uscc, recordType: 'gov.admin-penalty', title: '行政处罚信息', pricePerAccess: 300,
    });
    entryId = entry.body.entry.entryId;
  }, 120_000);

  afterAll(async () => {
    await Promise.all([gov.close(), bank.close()]);
    await h.stop();
  });

  it('registers an enterprise\'s key through the government gateway only', async () => {
    const body = { uscc: X.uscc, name: X.name, publicKey: enterpriseKey.publicKey };
    const byBank = await call<{ code: string }>(bank.url, 'POST', '/v1/enterprises', body);
    expect(byBank.status).toBe(403);
    expect(byBank.body.code).toBe('FORBIDDEN');
    const byGov = await call<{ enterprise: { uscc: string; publicKey: string }; txId: string }>(gov.url, 'POST', '/v1/enterprises', body);
    expect(byGov.status).toBe(201);
    expect(byGov.body.enterprise).toMatchObject({ uscc: X.uscc, publicKey: enterpriseKey.publicKey });
    const again = await call<{ code: string }>(gov.url, 'POST', '/v1/enterprises', body);
    expect(again.status).toBe(409);
    const read = await call<{ publicKey: string }>(bank.url, 'GET', `/v1/enterprises/${X.uscc}`);
    expect(read.body.publicKey).toBe(enterpriseKey.publicKey);
  });

  it('submits a signed consent, lists it, refuses a forged one, and revokes it', async () => {
    const statement = fixtureConsent({ subject: X.uscc, grantee: 'BankMSP' });
    const forged = await call<{ code: string }>(bank.url, 'POST', '/v1/consents', signed('consent', statement, newSigningKeyPair().secretKey));
    expect(forged.status).toBe(401);
    expect(forged.body.code).toMatch(/^SIGNATURE_/);

    const created = await call<{ consentId: string; consent: { status: string }; txId: string }>(bank.url, 'POST', '/v1/consents', signed('consent', statement, enterpriseKey.secretKey));
    expect(created.status).toBe(201);
    expect(created.body.consentId).toBe(statementId('consent', statement));
    expect(created.body.consent.status).toBe('active');

    const bySubject = await call<{ consents: { consentId: string }[] }>(gov.url, 'GET', `/v1/consents?subject=${X.uscc}`);
    expect(bySubject.body.consents.map((c) => c.consentId)).toContain(created.body.consentId);
    const byGrantee = await call<{ consents: { consentId: string }[] }>(gov.url, 'GET', '/v1/consents?grantee=BankMSP');
    expect(byGrantee.body.consents.map((c) => c.consentId)).toContain(created.body.consentId);
    const neither = await call<{ code: string }>(gov.url, 'GET', '/v1/consents');
    expect(neither.status).toBe(400);

    const revocation = fixtureRevocation(created.body.consentId, { subject: X.uscc });
    const revoked = await call<{ consent: { status: string } }>(gov.url, 'POST', '/v1/consents/revoke', signed('revocation', revocation, enterpriseKey.secretKey));
    expect(revoked.status).toBe(200);
    expect(revoked.body.consent.status).toBe('revoked');
    const read = await call<{ status: string }>(gov.url, 'GET', `/v1/consents/${created.body.consentId}`);
    expect(read.body.status).toBe('revoked');
  });

  it('rejects a malformed consent with SCHEMA_INVALID and submits nothing', async () => {
    const statement = { ...fixtureConsent({ subject: X.uscc }), purpose: 'SPECULATION' };
    const res = await call<{ code: string }>(bank.url, 'POST', '/v1/consents', signed('consent', statement, enterpriseKey.secretKey));
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('SCHEMA_INVALID');
    const list = await call<{ consents: { statement: { purpose: string } }[] }>(gov.url, 'GET', `/v1/consents?subject=${X.uscc}`);
    expect(list.body.consents.every((c) => c.statement.purpose !== 'SPECULATION')).toBe(true);
  });

  it('files an objection (record disputed), rejects one, and corrects one with a superseding record', async () => {
    const published = await call<{ records: PublishedRecord[] }>(gov.url, 'POST', '/v1/records', {
      catalogueEntryId: entryId,
      records: ['obj-a', 'obj-b'].map((recordId) => ({ ...fixtureRecord('gov.admin-penalty', X.uscc), recordId })),
    });
    expect(published.status).toBe(200);

    // Filed through the bank's gateway, which does not hold the record: without its publisher it cannot name it to the ledger.
    const unnamed = fixtureObjection('obj-a', { subject: X.uscc });
    const refused = await call<{ code: string }>(bank.url, 'POST', '/v1/objections', signed('objection', unnamed, enterpriseKey.secretKey));
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('RECORD_REF_REQUIRED');
    const file = async (recordId: string): Promise<string> => {
      const statement = fixtureObjection(recordId, { subject: X.uscc });
      // The bank's gateway asks GovMSP's (GET /v1/exchange/anchors/:recordId, signed) for the record's RecordRef.
      const res = await call<{ objection: { objectionId: string; status: string } }>(bank.url, 'POST', '/v1/objections', { ...signed('objection', statement, enterpriseKey.secretKey), publisher: 'GovMSP' });
      expect(res.status).toBe(201);
      expect(res.body.objection.status).toBe('open');
      return res.body.objection.objectionId;
    };
    const first = await file('obj-a');
    expect((await call<{ record: { status: string } }>(gov.url, 'GET', '/v1/audit/records/obj-a')).body.record.status).toBe('disputed');
    // Another organization's audit view asks the publisher for the ref; the publisher's anchors route answers only signed requests.
    const elsewhere = await call<{ record: { status: string }; ref: { recordId: string; batchId: string } }>(bank.url, 'GET', '/v1/audit/records/obj-a?publisher=GovMSP');
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.body.record.status).toBe('disputed');
    expect(elsewhere.body.ref).toMatchObject({ recordId: 'obj-a', batchId: published.body.records[0]?.batchId });
    const unsigned = await fetch(`${gov.url}/v1/exchange/anchors/obj-a`);
    expect(unsigned.status).toBe(401);

    const notMine = await call<{ code: string }>(bank.url, 'POST', `/v1/objections/${first}/resolve`, { outcome: 'rejected', reason: '不是我的记录' });
    expect(notMine.status).toBe(403);
    const rejected = await call<{ objection: { status: string } }>(gov.url, 'POST', `/v1/objections/${first}/resolve`, { outcome: 'rejected', reason: '经核查，原处罚决定未被撤销' });
    expect(rejected.status).toBe(200);
    const closed = await call<{ code: string }>(gov.url, 'POST', `/v1/objections/${first}/resolve`, { outcome: 'rejected', reason: '再次' });
    expect(closed.status).toBe(409);
    expect(closed.body.code).toBe('OBJECTION_CLOSED');

    const second = await file('obj-b');
    const correction = { ...fixtureRecord('gov.admin-penalty', X.uscc), recordId: 'obj-b-v2', issuedAt: '2026-11-20T08:00:00.000Z' };
    const corrected = await call<{ objection: { status: string }; published: PublishedRecord }>(gov.url, 'POST', `/v1/objections/${second}/resolve`, {
      outcome: 'corrected', reason: '经核查属实，已发布更正记录', record: correction,
    });
    expect(corrected.status).toBe(200);
    expect(corrected.body.published.recordId).toBe('obj-b-v2');
    const old = await call<{ record: { status: string; supersededBy: string } }>(gov.url, 'GET', '/v1/audit/records/obj-b');
    expect(old.body.record).toMatchObject({ status: 'superseded', supersededBy: 'obj-b-v2' });
    const fresh = await call<{ record: { status: string; supersedes: string }; offChain: Record<string, boolean> }>(gov.url, 'GET', '/v1/audit/records/obj-b-v2');
    expect(fresh.body.record).toMatchObject({ status: 'active', supersedes: 'obj-b' });
    expect(fresh.body.offChain).toEqual({ anchored: true, leafMatches: true, proofVerifies: true });
    const list = await call<{ objections: { objectionId: string }[] }>(gov.url, 'GET', `/v1/objections?subject=${X.uscc}`);
    expect(list.body.objections.map((o) => o.objectionId).sort()).toEqual([first, second].sort());

    // The chaincode events of both objections, through the ledger client's event stream.
    const filed: string[] = [];
    for await (const event of gov.app.ledger.chaincodeEvents({ startBlock: 0n })) {
      if (event.eventName === 'ObjectionFiled') filed.push((event.payload as { objectionId: string }).objectionId);
      if (filed.length === 2) break;
    }
    expect(filed.sort()).toEqual([first, second].sort());
  });

  it('lists catalogue entries and retires one: no more records under it', async () => {
    const created = await call<{ entry: { entryId: string; dataGrade: number } }>(gov.url, 'POST', '/v1/catalogue', {
      subject: X.uscc, recordType: 'gov.tax-grade', title: '纳税信用等级', pricePerAccess: 50,
    });
    expect(created.status).toBe(201);
    const id = created.body.entry.entryId;
    const mine = await call<{ entries: { entryId: string }[] }>(gov.url, 'GET', '/v1/catalogue');
    expect(mine.body.entries.map((e) => e.entryId)).toEqual(expect.arrayContaining([entryId, id]));
    const bySubject = await call<{ entries: { entryId: string }[] }>(bank.url, 'GET', `/v1/catalogue?subject=${X.uscc}`);
    expect(bySubject.body.entries.map((e) => e.entryId)).toEqual(expect.arrayContaining([entryId, id]));
    const byBank = await call<{ code: string }>(bank.url, 'POST', `/v1/catalogue/${id}/retire`);
    expect(byBank.status).toBe(403);
    const retired = await call<{ entry: { status: string } }>(gov.url, 'POST', `/v1/catalogue/${id}/retire`);
    expect(retired.status).toBe(200);
    expect(retired.body.entry.status).toBe('retired');
    const publish = await call<{ code: string }>(gov.url, 'POST', '/v1/records', { catalogueEntryId: id, records: [{ ...fixtureRecord('gov.tax-grade', X.uscc), recordId: 'tax-1' }] });
    expect(publish.status).toBe(409);
    expect(publish.body.code).toBe('ENTRY_RETIRED');
  });

  it('shows the enterprise its own access history when it signs the request with its key', async () => {
    const path = `/v1/subjects/${X.uscc}/accesses`;
    const signedHeaders = (keyId: string, secretKey: string, p = path): Record<string, string> =>
      signRequest({ method: 'GET', url: p, body: new Uint8Array() }, { keyId, secretKey });
    const get = async (headers: Record<string, string>, p = path): Promise<{ status: number; body: { code?: string; accesses?: unknown[] } }> => {
      const res = await fetch(gov.url + p, { headers });
      return { status: res.status, body: (await res.json()) as { code?: string; accesses?: unknown[] } };
    };
    const headers = signedHeaders(`enterprise:${X.uscc}`, enterpriseKey.secretKey);
    const ok = await get(headers);
    expect(ok.status).toBe(200);
    expect(ok.body.accesses).toEqual([]);
    expect(await get(headers)).toMatchObject({ status: 401, body: { code: 'NONCE_REPLAYED' } });
    expect(await get(signedHeaders(`enterprise:${X.uscc}`, newSigningKeyPair().secretKey))).toMatchObject({ status: 401, body: { code: 'SIGNATURE_INVALID' } });
    const other = `/v1/subjects/${fixtureEnterprises.other.uscc}/accesses`;
    expect(await get(signedHeaders(`enterprise:${X.uscc}`, enterpriseKey.secretKey, other), other)).toMatchObject({ status: 401, body: { code: 'KEY_UNKNOWN' } });
    expect((await get({})).status).toBe(401);
  });

  it('shows the auditor a subject\'s access history and the month\'s fees', async () => {
    const accesses = await call<{ subject: string; accesses: unknown[] }>(gov.url, 'GET', `/v1/audit/subjects/${X.uscc.toLowerCase()}/accesses`);
    expect(accesses.status).toBe(200);
    expect(accesses.body).toEqual({ subject: X.uscc, accesses: [] });
    const fees = await call<{ period: string; totals: unknown[] }>(gov.url, 'GET', '/v1/audit/fees?period=2026-11');
    expect(fees.body).toEqual({ period: '2026-11', totals: [] });
    const bad = await call<{ code: string }>(gov.url, 'GET', '/v1/audit/fees?period=2026-13');
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('PERIOD_INVALID');
  });
});
