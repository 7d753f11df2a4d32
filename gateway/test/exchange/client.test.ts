import { describe, expect, it } from 'vitest';
import { buildMerkleTree, newBoxKeyPair, newSigningKeyPair, sealRecord, verifyInclusion, verifyStatement } from '@credex/core';
import { fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import type { AccessRequest, OrganizationProfile } from '@credex/schemas';
import { boxJson } from '../../src/exchange/box';
import { createExchangeClient } from '../../src/exchange/client';
import { verifyRequest } from '../../src/exchange/httpsig';
import { reduceToScope } from '../../src/exchange/scope';
import type { AnchoredBatch, AnchoredRecord, ConsentOnChain, ExchangePayload } from '../../src/exchange/types';
import type { AnchorSource } from '../../src/exchange/verify';
import { codeOf } from '../helpers';

// The layer under the client: the ledger (consent), the registry, anchors, and HTTP to a publisher.
const subject = fixtureEnterprises.subject.uscc;
const bankKeys = { requestKey: newSigningKeyPair(), boxKey: newBoxKeyPair() };
const govKeys = { requestKey: newSigningKeyPair(), boxKey: newBoxKeyPair() };
const consentId = 'a'.repeat(64);
const consent = {
  consentId, subject, grantee: 'BankMSP', status: 'active', uses: 0,
  statement: { subject, grantee: 'BankMSP', scope: { recordTypes: ['gov.admin-licence'] }, purpose: 'LOAN_APPLICATION', fieldScope: { maxGrade: 2 }, notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2027-01-01T00:00:00.000Z', maxUses: 5, nonce: 'bm9uY2Vub25jZW5vbmNl' },
} as ConsentOnChain;
const gov: OrganizationProfile = { mspId: 'GovMSP', name: '西安市信用信息共享平台', role: 'government', gatewayUrl: 'http://127.0.0.1:9/', requestKey: govKeys.requestKey.publicKey, boxKey: govKeys.boxKey.publicKey };

const seals = ['r1', 'r2', 'r3'].map((id) => {
  const r = fixtureRecord('gov.admin-licence', subject);
  return sealRecord({ recordId: id, recordType: 'gov.admin-licence', subject, publisher: 'GovMSP', catalogueEntryId: 'cat', issuedAt: r.issuedAt }, r.fields as unknown as Record<string, unknown>);
});
const tree = buildMerkleTree(seals.map((s) => s.leafHash));
const batch: AnchoredBatch = { batchId: 'b', catalogueEntryId: 'cat', publisher: 'GovMSP', subject, recordType: 'gov.admin-licence', root: tree.root, size: 3, anchoredAt: '2026-11-01T08:00:00.000Z', txId: 't' };
const anchors: AnchorSource = {
  batch: () => Promise.resolve(batch),
  // As the ledger resolves a RecordRef: proven against the batch root, else unknown.
  record: (ref) => {
    const proven = ref.batchId === 'b' && verifyInclusion(ref.leafHash, ref.index, batch.size, ref.proof, batch.root);
    return Promise.resolve(!proven ? undefined : { recordId: ref.recordId, batchId: 'b', index: ref.index, leafHash: ref.leafHash, publisher: 'GovMSP', subject, recordType: 'gov.admin-licence', catalogueEntryId: 'cat', status: 'active' } satisfies AnchoredRecord);
  },
};
const served = (i: number): ExchangePayload['records'][number] => ({ record: reduceToScope(seals[i] as never, { maxGrade: 2 }), batchId: 'b', index: i, proof: tree.proof(i), root: tree.root });

type Publisher = (path: string, body: { consentId: string; request?: { statement: AccessRequest; signature: string } }) => { status: number; json: unknown };

function client(publisher: Publisher): ReturnType<typeof createExchangeClient> {
  const nonces = new Set<string>();
  return createExchangeClient({
    mspId: 'BankMSP', keys: bankKeys, anchors,
    ledger: { evaluate: <T>(contract: string, tx: string) => (contract === 'consents' && tx === 'GetConsent' ? Promise.resolve(consent as T) : Promise.reject(new Error(`unexpected ${tx}`))) },
    registry: { organization: (id: string) => Promise.resolve(id === 'GovMSP' ? gov : undefined) },
    http: (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : input);
      const bytes = init?.body as Uint8Array;
      // The publisher's view: a valid RFC 9421 signature by the bank's registered key.
      await verifyRequest({ method: 'POST', path: url.pathname, headers: init?.headers as Record<string, string>, body: bytes }, (k) => Promise.resolve(k === 'BankMSP' ? bankKeys.requestKey.publicKey : undefined), {
        now: Date.now(), skewSeconds: 300, nonces: { claim: (k, n) => Promise.resolve(!nonces.has(k + n) && Boolean(nonces.add(k + n))) },
      });
      const { status, json } = publisher(url.pathname, JSON.parse(new TextDecoder().decode(bytes)) as never);
      return new Response(JSON.stringify(json), { status, headers: { 'content-type': 'application/json' } });
    }),
  });
}

function answer(payload: Omit<ExchangePayload, 'accessId' | 'txId'>, boxTo = bankKeys.boxKey.publicKey): { status: number; json: unknown } {
  const full = { accessId: 'acc-1', txId: 'tx-1', ...payload };
  return { status: 200, json: { accessId: 'acc-1', txId: 'tx-1', ...boxJson(full, boxTo, govKeys.boxKey.secretKey) } };
}

describe('createExchangeClient', () => {
  it('lists, signs the access request with the bank\'s key, opens the box and verifies every record', async () => {
    const seen: AccessRequest[] = [];
    const c = client((path, body) => {
      if (path === '/v1/exchange/records') return { status: 200, json: { recordIds: ['r1', 'r2'] } };
      const request = body.request as { statement: AccessRequest; signature: string };
      expect(verifyStatement('access-request', request.statement, request.signature, bankKeys.requestKey.publicKey)).toBe(true);
      seen.push(request.statement);
      return answer({ records: [served(0), served(1)], notServed: [] });
    });
    const result = await c.fetch({ consentId, publisher: 'GovMSP' });
    expect(seen[0]).toMatchObject({ consentId, grantee: 'BankMSP', purpose: 'LOAN_APPLICATION', recordIds: ['r1', 'r2'] });
    expect(result).toMatchObject({ publisher: 'GovMSP', accessId: 'acc-1', txId: 'tx-1', notServed: [] });
    expect(result.records.map((r) => [r.report.recordId, r.report.ok, r.record?.header.recordId])).toEqual([['r1', true, 'r1'], ['r2', true, 'r2']]);
    expect(result.records[0]?.report.checks[0]).toEqual({ name: 'decrypt', ok: true });
    // Each verified record keeps its place in the batch, for offline verification later.
    expect(result.records.map((r) => [r.batchId, r.index, r.proof, r.root])).toEqual([0, 1].map((i) => ['b', i, tree.proof(i), tree.root]));
  });

  it('returns an unrequested record only as a failing report, and names requested records that did not come back', async () => {
    const c = client(() => answer({ records: [served(0), served(2)], notServed: [] }));
    const result = await c.fetch({ consentId, publisher: 'GovMSP', recordIds: ['r1', 'r2'] });
    expect(result.records.map((r) => [r.report.recordId, r.report.ok, r.record === undefined])).toEqual([['r1', true, false], ['r3', false, true]]);
    expect(result.notServed).toEqual([{ recordId: 'r2', code: 'NOT_SERVED', message: expect.stringMatching(/returned nothing/) as unknown }]);
  });

  it('a tampered record comes back as its failing report only', async () => {
    const bad = served(1);
    const f = bad.record.fields.content as { value: string };
    f.value = `${f.value}。`;
    const c = client(() => answer({ records: [served(0), bad], notServed: [] }));
    const result = await c.fetch({ consentId, publisher: 'GovMSP', recordIds: ['r1', 'r2'] });
    expect(result.records[1]).toEqual({ report: expect.objectContaining({ recordId: 'r2', ok: false }) as unknown });
  });

  it('passes on the publisher\'s refusal code; a box it cannot open is DECRYPT_FAILED', async () => {
    expect(await codeOf(client(() => ({ status: 403, json: { code: 'CONSENT_REVOKED', message: 'revoked' } })).fetch({ consentId, publisher: 'GovMSP', recordIds: ['r1'] }))).toBe('CONSENT_REVOKED');
    expect(await codeOf(client(() => answer({ records: [served(0)], notServed: [] }, newBoxKeyPair().publicKey)).fetch({ consentId, publisher: 'GovMSP', recordIds: ['r1'] }))).toBe('DECRYPT_FAILED');
    expect(await codeOf(client(() => ({ status: 502, json: 'nope' })).fetch({ consentId, publisher: 'GovMSP', recordIds: ['r1'] }))).toBe('PUBLISHER_ANSWER_INVALID');
    expect(await codeOf(client(() => answer({ records: [], notServed: [] })).fetch({ consentId, publisher: 'NoMSP', recordIds: ['r1'] }))).toBe('ORG_UNKNOWN');
  });
});
