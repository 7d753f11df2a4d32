import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newBoxKeyPair, newSigningKeyPair, verifyInclusion } from '@credex/core';
import { fixtureCatalogueEntry, fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import type { OrganizationProfile } from '@credex/schemas';
import { verifyRequest } from '../../src/exchange/httpsig';
import { createRecordRefs } from '../../src/services/record-refs';
import type { PublishedRecord } from '../../src/services/publish';
import type { RecordRef } from '../../src/store/store';
import type { TestGateway } from '../helpers';
import { auth, codeOf, testGateway } from '../helpers';

const subject = fixtureEnterprises.subject.uscc;
const entry = fixtureCatalogueEntry({ recordType: 'gov.admin-penalty', subject, publisher: 'GovMSP', entryId: 'cat-penalty-1' });
const bankKey = newSigningKeyPair();
const bank: OrganizationProfile = {
  mspId: 'BankMSP', name: 'bank', role: 'bank', gatewayUrl: 'http://127.0.0.1:9/bank', requestKey: bankKey.publicKey, boxKey: newBoxKeyPair().publicKey,
  registeredAt: '2026-11-01T00:00:00.000Z', updatedAt: '2026-11-01T00:00:00.000Z',
} as OrganizationProfile;

describe('record refs', () => {
  let gw: TestGateway;
  let published: PublishedRecord;
  beforeEach(async () => {
    gw = await testGateway();
    gw.ledger.entries.set(entry.entryId, entry);
    const res = await gw.app.inject({ method: 'POST', url: '/v1/records', headers: auth, payload: { catalogueEntryId: entry.entryId, records: [0, 1, 2].map((i) => ({ ...fixtureRecord('gov.admin-penalty', subject), recordId: `pen-${i}` })) } });
    published = res.json<{ records: PublishedRecord[] }>().records[1] as PublishedRecord;
  });
  afterEach(async () => {
    await gw.close();
  });

  it('gives this gateway\'s own records\' refs from its store; they prove against the anchored root', async () => {
    const ref = await gw.app.recordRefs.resolve('pen-1');
    expect(ref).toEqual({ recordId: 'pen-1', batchId: published.batchId, index: 1, leafHash: published.leafHash, proof: published.proof });
    expect(verifyInclusion(ref.leafHash, ref.index, published.size, ref.proof, published.root)).toBe(true);
  });

  it('checks a given ref (schema, same record) and asks nobody', async () => {
    const ref = await gw.app.recordRefs.resolve('pen-1');
    expect(await gw.app.recordRefs.resolve('elsewhere-1', { record: { ...ref, recordId: 'elsewhere-1' } })).toMatchObject({ recordId: 'elsewhere-1' });
    expect(await codeOf(gw.app.recordRefs.resolve('pen-2', { record: ref }))).toBe('RECORD_MISMATCH');
    expect(await codeOf(gw.app.recordRefs.resolve('pen-1', { record: { ...ref, proof: 'x' } }))).toBe('SCHEMA_INVALID');
  });

  it('refuses a record it does not hold without a publisher to ask (RECORD_REF_REQUIRED), and itself as that publisher (RECORD_UNKNOWN)', async () => {
    expect(await codeOf(gw.app.recordRefs.resolve('not-here'))).toBe('RECORD_REF_REQUIRED');
    expect(await codeOf(gw.app.recordRefs.resolve('not-here', { publisher: 'GovMSP' }))).toBe('RECORD_UNKNOWN');
  });

  it('asks the publisher\'s gateway with a signed GET, and refuses an answer about another record', async () => {
    const govRef = await gw.app.recordRefs.resolve('pen-1');
    const asked: string[] = [];
    const answerWith = (ref: RecordRef) => async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const headers = init?.headers as Record<string, string>;
      const u = new URL(url);
      const who = await verifyRequest({ method: init?.method ?? 'GET', path: u.pathname, headers, body: new Uint8Array(0) }, (k) => Promise.resolve(k === 'BankMSP' ? bankKey.publicKey : undefined), { now: Date.now(), skewSeconds: 300, nonces: { claim: () => Promise.resolve(true) } });
      asked.push(`${who.keyId} ${init?.method ?? ''} ${u.pathname}`);
      return new Response(JSON.stringify({ record: ref }), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const gov: OrganizationProfile = { ...bank, mspId: 'GovMSP', gatewayUrl: 'http://127.0.0.1:9/gov' };
    const refs = (ref: RecordRef) => createRecordRefs({
      mspId: 'BankMSP', keys: { requestKey: bankKey }, store: { getRecords: (ids) => Promise.resolve(ids.map(() => undefined)) },
      registry: { organization: (id) => Promise.resolve(id === 'GovMSP' ? gov : undefined) }, http: answerWith(ref),
    });
    expect(await refs(govRef).resolve('pen-1', { publisher: 'GovMSP' })).toEqual(govRef);
    expect(asked).toEqual(['BankMSP GET /gov/v1/exchange/anchors/pen-1']);
    expect(await codeOf(refs({ ...govRef, recordId: 'pen-2' }).resolve('pen-1', { publisher: 'GovMSP' }))).toBe('PUBLISHER_ANSWER_INVALID');
    expect(await codeOf(refs(govRef).resolve('pen-1', { publisher: 'NoMSP' }))).toBe('ORG_UNKNOWN');
  });
});
