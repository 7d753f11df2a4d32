/**
 * The exchange between organizations over node-sim, one gateway per organization, real HTTP on
 * 127.0.0.1: the 信易贷 path, BOLA for every (caller × record) pair, field scope by grade,
 * signature failures (nothing registered), flipped bits (clear reports), revocation.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64u, newSigningKeyPair, signed } from '@credex/core';
import type { DisclosedRecord } from '@credex/core';
import { fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import type { Consent, CreditRecord, RecordType } from '@credex/schemas';
import { randomBytes } from 'node:crypto';
import { openJson } from '../gateway/src/exchange/box';
import { verifySaved, type ChainView, type SavedRecord } from '../cli/src/verify';
import type { FetchResult } from '../gateway/src/exchange/client';
import type { ExchangePayload } from '../gateway/src/exchange/types';
import { accessRequest, rawExchange, signedConsent, staff, startWorld, type Enterprise, type ExchangeWorld, type Gw, type Org } from './exchange-harness';

const X: Enterprise = { ...fixtureEnterprises.subject, keys: newSigningKeyPair() };
const Y: Enterprise = { ...fixtureEnterprises.other, keys: newSigningKeyPair() };

interface Published { recordId: string; publisher: Org; subject: string; recordType: RecordType; pastRetention: boolean }

const C1_TYPES: RecordType[] = ['gov.admin-licence', 'gov.admin-penalty', 'gov.tax-grade', 'sc.receivable-confirmation'];

function record(t: RecordType, e: Enterprise, id: string, fields: Record<string, unknown> = {}): CreditRecord {
  const r = fixtureRecord(t, e.uscc);
  return { ...r, recordId: id, fields: { ...r.fields, ...fields } } as CreditRecord;
}

async function accessesOf(w: ExchangeWorld, e: Enterprise): Promise<{ accessId: string; recordIds: string[]; grantee: string; consentId: string }[]> {
  const res = await staff<{ accesses: { accessId: string; recordIds: string[]; grantee: string; consentId: string }[] }>(w.gw.AuditMSP, 'GET', `/v1/audit/subjects/${e.uscc}/accesses`);
  expect(res.status).toBe(200);
  return res.body.accesses;
}

async function accessCount(w: ExchangeWorld): Promise<number> {
  return (await accessesOf(w, X)).length + (await accessesOf(w, Y)).length;
}

describe('exchange between organizations over node-sim', () => {
  let w: ExchangeWorld;
  const published: Published[] = [];
  let c1: string;

  async function publish(g: Gw, e: Enterprise, t: RecordType, records: CreditRecord[], pastRetention: boolean[] = []): Promise<void> {
    const entry = await staff<{ entry: { entryId: string } }>(g, 'POST', '/v1/catalogue', { subject: e.uscc, recordType: t, title: `${e.name} ${t}`, pricePerAccess: 100 });
    expect(entry.status).toBe(201);
    const res = await staff<{ records: { recordId: string }[] }>(g, 'POST', '/v1/records', { catalogueEntryId: entry.body.entry.entryId, records });
    expect(res.status).toBe(200);
    records.forEach((r, i) => published.push({ recordId: r.recordId, publisher: g.mspId, subject: e.uscc, recordType: t, pastRetention: pastRetention[i] ?? false }));
  }

  async function consent(e: Enterprise, over: Partial<Consent>): Promise<string> {
    const { signed, consentId } = signedConsent(e, over);
    const res = await staff(w.gw.BankMSP, 'POST', '/v1/consents', signed);
    expect(res.status).toBe(201);
    return consentId;
  }

  beforeAll(async () => {
    w = await startWorld();
    const { GovMSP: gov, CoreMSP: core } = w.gw;
    for (const e of [X, Y]) {
      expect((await staff(gov, 'POST', '/v1/enterprises', { uscc: e.uscc, name: e.name, publicKey: e.keys.publicKey })).status).toBe(201);
    }
    await publish(gov, X, 'gov.admin-licence', [record('gov.admin-licence', X, 'g-lic-X')]);
    await publish(gov, X, 'gov.admin-penalty', [
      record('gov.admin-penalty', X, 'g-pen-X'),
      record('gov.admin-penalty', X, 'g-pen-old-X', { decisionDate: '2015-03-02', publicUntil: '2016-03-02' }),
    ], [false, true]);
    await publish(gov, X, 'gov.tax-grade', [record('gov.tax-grade', X, 'g-tax-X')]);
    await publish(gov, Y, 'gov.admin-licence', [record('gov.admin-licence', Y, 'g-lic-Y')]);
    await publish(core, X, 'sc.receivable-confirmation', [record('sc.receivable-confirmation', X, 'c-rcv-X')]);
    await publish(core, X, 'sc.payment-performance', [record('sc.payment-performance', X, 'c-pay-X')]);
    c1 = await consent(X, { grantee: 'BankMSP', scope: { recordTypes: C1_TYPES }, fieldScope: { maxGrade: 2 }, maxUses: 1000 });
  }, 240_000);

  afterAll(async () => {
    await w.stop();
  }, 60_000);

  it('信易贷: the bank fetches from Gov and Core under X\'s consent, every record verifies, and the access shows in X\'s history and the auditor\'s view', async () => {
    const bank = w.gw.BankMSP;
    const fromGov = await staff<FetchResult>(bank, 'POST', '/v1/fetch', { consentId: c1, publisher: 'GovMSP' });
    expect(fromGov.status).toBe(200);
    // Listed by the publisher: X's records of the consented types, the penalty past retention left out.
    expect(fromGov.body.records.map((r) => r.report.recordId).sort()).toEqual(['g-lic-X', 'g-pen-X', 'g-tax-X']);
    for (const r of fromGov.body.records) {
      expect(r.report.ok).toBe(true);
      expect(r.report.checks.map((c) => [c.name, c.ok])).toEqual([['decrypt', true], ['fieldDigests', true], ['leaf', true], ['merklePath', true], ['anchor', true], ['status', true], ['publisher', true], ['subject', true]]);
      expect(r.record?.header).toMatchObject({ subject: X.uscc, publisher: 'GovMSP' });
    }
    const fromCore = await staff<FetchResult>(bank, 'POST', '/v1/fetch', { consentId: c1, publisher: 'CoreMSP' });
    expect(fromCore.status).toBe(200);
    expect(fromCore.body.records.map((r) => [r.report.recordId, r.report.ok])).toEqual([['c-rcv-X', true]]);

    const history = await accessesOf(w, X);
    for (const f of [fromGov.body, fromCore.body]) {
      expect(history.find((a) => a.accessId === f.accessId)).toMatchObject({ grantee: 'BankMSP', consentId: c1 });
    }
    const provenance = await staff<{ accesses: { accessId: string }[] }>(w.gw.AuditMSP, 'GET', '/v1/audit/records/g-lic-X?publisher=GovMSP');
    expect(provenance.body.accesses.map((a) => a.accessId)).toContain(fromGov.body.accessId);
  });

  it('each fetched record carries its batch, index, proof and root, and its Merkle path verifies offline against the anchored root; a flipped bit in the proof does not', async () => {
    const res = await staff<FetchResult>(w.gw.BankMSP, 'POST', '/v1/fetch', { consentId: c1, publisher: 'GovMSP', recordIds: ['g-pen-X'] });
    expect(res.status).toBe(200);
    const [pen] = res.body.records;
    if (pen?.record === undefined) throw new Error('g-pen-X was not returned');
    // The penalty batch has two records, so g-pen-X's proof has one element.
    expect(pen.proof).toHaveLength(1);
    const saved: SavedRecord = { record: pen.record, batchId: pen.batchId, index: pen.index, proof: pen.proof, root: pen.root };
    const view = await staff<ChainView>(w.gw.AuditMSP, 'GET', '/v1/audit/records/g-pen-X?publisher=GovMSP');
    expect(view.status).toBe(200);
    expect(saved.root).toBe(view.body.batch?.root);
    const offline = verifySaved(saved, view.body);
    expect(offline.ok).toBe(true);
    expect(offline.checks.find((c) => c.name === 'merklePath')).toEqual({ name: 'merklePath', ok: true, detail: `to root ${saved.root ?? ''}` });

    const p = saved.proof?.[0] ?? '';
    const flipped = { ...saved, proof: [(parseInt(p.slice(0, 1), 16) ^ 1).toString(16) + p.slice(1)] }; // one bit of the first hex digit
    const bad = verifySaved(flipped, view.body);
    expect(bad.ok).toBe(false);
    expect(bad.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['merklePath']);
  });

  it('asks which publisher when the consent covers several', async () => {
    const res = await staff<{ code: string; details: { publishers: string[] } }>(w.gw.BankMSP, 'POST', '/v1/fetch', { consentId: c1 });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('PUBLISHER_REQUIRED');
    expect(res.body.details.publishers).toEqual(['CoreMSP', 'GovMSP']);
  });

  it('serves negative records past their 5-year retention to nobody, even when asked by id', async () => {
    const res = await staff<FetchResult>(w.gw.BankMSP, 'POST', '/v1/fetch', { consentId: c1, publisher: 'GovMSP', recordIds: ['g-pen-old-X', 'g-pen-X'] });
    expect(res.status).toBe(200);
    expect(res.body.records.map((r) => r.report.recordId)).toEqual(['g-pen-X']);
    expect(res.body.notServed).toEqual([{ recordId: 'g-pen-old-X', code: 'RETENTION_EXPIRED', message: expect.stringMatching(/第十六条/) as unknown }]);
  });

  it('scope: a grade-2 consent gets grade-3/4 fields only as digests and the records still verify; grade 4 gets them all', async () => {
    const bank = w.gw.BankMSP;
    const g2 = await staff<FetchResult>(bank, 'POST', '/v1/fetch', { consentId: c1, publisher: 'CoreMSP', recordIds: ['c-rcv-X'] });
    const rcv = g2.body.records[0];
    expect(rcv?.report.ok).toBe(true);
    const fields = (rcv?.record as DisclosedRecord).fields;
    expect(fields.contractNumber).toEqual({ digest: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown }); // grade 4
    expect(fields.amountFen).toEqual({ digest: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown }); // grade 3
    expect(fields.confirmed).toMatchObject({ value: true }); // grade 2
    expect(fields.debtorName).toHaveProperty('value'); // grade 1

    const c4 = await consent(X, { grantee: 'BankMSP', scope: { recordTypes: ['sc.receivable-confirmation'] }, fieldScope: { maxGrade: 4 } });
    const g4 = await staff<FetchResult>(bank, 'POST', '/v1/fetch', { consentId: c4, publisher: 'CoreMSP' });
    const all = (g4.body.records[0]?.record as DisclosedRecord).fields;
    expect(g4.body.records[0]?.report.ok).toBe(true);
    expect(Object.values(all).every((f) => 'value' in f)).toBe(true);

    const listed = await consent(X, { grantee: 'BankMSP', scope: { recordTypes: ['sc.receivable-confirmation'] }, fieldScope: { maxGrade: 4, fields: ['debtorName', 'amountFen'] } });
    const narrow = await staff<FetchResult>(bank, 'POST', '/v1/fetch', { consentId: listed, publisher: 'CoreMSP' });
    const nf = (narrow.body.records[0]?.record as DisclosedRecord).fields;
    expect(Object.entries(nf).filter(([, f]) => 'value' in f).map(([n]) => n).sort()).toEqual(['amountFen', 'debtorName']);
    expect(narrow.body.records[0]?.report.ok).toBe(true);
  });

  it('BOLA: for every (caller × record) pair, only a consent for that grantee, subject, purpose and record type serves anything', async () => {
    const { BankMSP: bank, Bank2MSP: bank2 } = w.gw;
    const b2Y = await consent(Y, { grantee: 'Bank2MSP', scope: { recordTypes: ['gov.admin-licence', 'gov.admin-penalty', 'gov.tax-grade'] } });
    const b2Purpose = await consent(X, { grantee: 'Bank2MSP', purpose: 'SUPPLY_CHAIN_FINANCE', scope: { recordTypes: [...C1_TYPES, 'sc.payment-performance'] } });
    const b2Type = await consent(X, { grantee: 'Bank2MSP', scope: { recordTypes: ['gov.tax-grade'] } });
    const scenarios: { name: string; caller: Gw; consentId: string; grantee: Org; subject: string; types: RecordType[]; purposeMatches: boolean; claim?: Org }[] = [
      { name: 'bank with X\'s consent', caller: bank, consentId: c1, grantee: 'BankMSP', subject: X.uscc, types: C1_TYPES, purposeMatches: true },
      { name: 'bank2 with the bank\'s consent', caller: bank2, consentId: c1, grantee: 'BankMSP', subject: X.uscc, types: C1_TYPES, purposeMatches: true },
      { name: 'bank2 claiming to be the bank', caller: bank2, consentId: c1, grantee: 'BankMSP', subject: X.uscc, types: C1_TYPES, purposeMatches: true, claim: 'BankMSP' },
      { name: 'bank2 with a consent of another enterprise', caller: bank2, consentId: b2Y, grantee: 'Bank2MSP', subject: Y.uscc, types: ['gov.admin-licence', 'gov.admin-penalty', 'gov.tax-grade'], purposeMatches: true },
      { name: 'bank2 with a consent for another purpose', caller: bank2, consentId: b2Purpose, grantee: 'Bank2MSP', subject: X.uscc, types: [...C1_TYPES, 'sc.payment-performance'], purposeMatches: false },
      { name: 'bank2 with a consent for another record type', caller: bank2, consentId: b2Type, grantee: 'Bank2MSP', subject: X.uscc, types: ['gov.tax-grade'], purposeMatches: true },
    ];
    const before = await accessCount(w);
    let registered = 0;
    const outcomes: string[] = [];
    for (const s of scenarios) {
      for (const r of published) {
        const allowed = s.claim === undefined && s.grantee === s.caller.mspId && s.subject === r.subject && s.types.includes(r.recordType) && s.purposeMatches;
        const request = accessRequest(s.caller, s.consentId, [r.recordId], s.claim === undefined ? {} : { grantee: s.claim });
        const res = await rawExchange(w.gw[r.publisher], '/v1/exchange/fetch', { consentId: s.consentId, request }, { keyId: s.caller.mspId, secretKey: s.caller.config.keys.requestKey.secretKey });
        const label = `${s.name} × ${r.recordId}`;
        if (!allowed) {
          outcomes.push(`${label}: ${res.status} ${String(res.body.code)}`);
          expect([label, res.status >= 400 && res.status < 500, 'ciphertext' in res.body]).toEqual([label, true, false]);
          continue;
        }
        expect([label, res.status]).toEqual([label, 200]);
        registered++;
        const payload = openJson(res.body as { nonce: string; ciphertext: string }, w.gw[r.publisher].config.keys.boxKey.publicKey, s.caller.config.keys.boxKey.secretKey) as ExchangePayload;
        if (r.pastRetention) {
          expect([label, payload.records, payload.notServed.map((n) => n.code)]).toEqual([label, [], ['RETENTION_EXPIRED']]);
        } else {
          expect([label, payload.records.map((x) => x.record.header.recordId)]).toEqual([label, [r.recordId]]);
        }
      }
    }
    // Refusals carry the ledger's reason.
    const refusals = (part: string): string[] => outcomes.filter((o) => o.includes(part)).map((o) => o.slice(o.lastIndexOf(': ') + 2));
    expect(new Set(refusals('bank2 with the bank\'s consent'))).toEqual(new Set(['403 CONSENT_WRONG_GRANTEE']));
    expect(new Set(refusals('claiming'))).toEqual(new Set(['403 FORBIDDEN']));
    expect(new Set(refusals('another purpose'))).toEqual(new Set(['403 CONSENT_WRONG_PURPOSE']));
    expect(new Set(refusals('another enterprise'))).toEqual(new Set(['403 CONSENT_OUT_OF_SCOPE']));
    expect(new Set(refusals('another record type'))).toEqual(new Set(['403 CONSENT_OUT_OF_SCOPE']));
    expect(refusals('bank with X')).toEqual(['403 CONSENT_OUT_OF_SCOPE', '403 CONSENT_OUT_OF_SCOPE']); // Y's licence, X's payment performance
    // Exactly the allowed pairs were registered, nothing else.
    expect(await accessCount(w)).toBe(before + registered);
    expect(registered).toBe(published.filter((r) => r.subject === X.uscc && C1_TYPES.includes(r.recordType)).length
      + published.filter((r) => r.subject === Y.uscc).length + published.filter((r) => r.recordType === 'gov.tax-grade' && r.subject === X.uscc).length);
  }, 120_000);

  it('group commit: concurrent fetches share registering transactions, and each answer names the committed transaction that registered it', async () => {
    const { BankMSP: bank, GovMSP: gov } = w.gw;
    const answers = await Promise.all(Array.from({ length: 12 }, () => rawExchange(gov, '/v1/exchange/fetch',
      { consentId: c1, request: accessRequest(bank, c1, ['g-lic-X']) }, { keyId: 'BankMSP', secretKey: bank.config.keys.requestKey.secretKey })));
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 12 }, () => 200));
    const txIds = answers.map((a) => a.body.txId as string);
    expect(new Set(answers.map((a) => a.body.accessId)).size).toBe(12);
    expect(new Set(txIds).size).toBeLessThan(12);
    for (const a of answers) {
      const onChain = await w.gw.AuditMSP.app.ledger.evaluate<{ txId: string; recordIds: string[]; grantee: string }>('access', 'GetAccess', a.body.accessId as string);
      expect(onChain).toMatchObject({ txId: a.body.txId, recordIds: ['g-lic-X'], grantee: 'BankMSP' });
    }
  });

  it('replay, stale created, wrong key, tampered body, unknown keyid, no signature → 401 and nothing registered', async () => {
    const { BankMSP: bank, Bank2MSP: bank2, GovMSP: gov } = w.gw;
    const before = await accessCount(w);
    const key = { keyId: 'BankMSP', secretKey: bank.config.keys.requestKey.secretKey };
    const body = { consentId: c1, request: accessRequest(bank, c1, ['g-lic-X']) };
    const fixed = { ...key, created: Math.floor(Date.now() / 1000), nonce: b64u(randomBytes(16)) };
    const first = await rawExchange(gov, '/v1/exchange/fetch', body, fixed);
    expect(first.status).toBe(200);
    const replay = await rawExchange(gov, '/v1/exchange/fetch', body, fixed);
    expect([replay.status, replay.body.code]).toEqual([401, 'NONCE_REPLAYED']);

    const fresh = (): unknown => ({ consentId: c1, request: accessRequest(bank, c1, ['g-lic-X']) });
    const stale = await rawExchange(gov, '/v1/exchange/fetch', fresh(), { ...key, created: Math.floor(Date.now() / 1000) - 301 });
    expect([stale.status, stale.body.code]).toEqual([401, 'SIGNATURE_EXPIRED']);
    const future = await rawExchange(gov, '/v1/exchange/fetch', fresh(), { ...key, created: Math.floor(Date.now() / 1000) + 400 });
    expect([future.status, future.body.code]).toEqual([401, 'SIGNATURE_EXPIRED']);
    const wrongKey = await rawExchange(gov, '/v1/exchange/fetch', fresh(), { keyId: 'BankMSP', secretKey: bank2.config.keys.requestKey.secretKey });
    expect([wrongKey.status, wrongKey.body.code]).toEqual([401, 'SIGNATURE_INVALID']);
    const original = fresh();
    const tampered = await rawExchange(gov, '/v1/exchange/fetch', original, key, { body: JSON.stringify({ ...(original as object), recordIds: ['g-lic-X'] }) });
    expect([tampered.status, tampered.body.code]).toEqual([401, 'DIGEST_MISMATCH']);
    const unknown = await rawExchange(gov, '/v1/exchange/fetch', fresh(), { keyId: 'EvilMSP', secretKey: newSigningKeyPair().secretKey });
    expect([unknown.status, unknown.body.code]).toEqual([401, 'KEY_UNKNOWN']);
    const unsigned = await fetch(`${gov.url}/v1/exchange/fetch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fresh()) });
    expect([unsigned.status, ((await unsigned.json()) as { code: string }).code]).toEqual([401, 'SIGNATURE_MISSING']);
    const garbled = await rawExchange(gov, '/v1/exchange/fetch', fresh(), key, { headers: { 'signature-input': 'sig1=("@method");created=1' } });
    expect([garbled.status, garbled.body.code]).toEqual([401, 'SIGNATURE_INVALID']);

    expect(await accessCount(w)).toBe(before + 1);
  });

  it('an access request signed with another key, in a body the caller signed → 401 SIGNATURE_INVALID from the ledger, nothing registered or served', async () => {
    const { BankMSP: bank, GovMSP: gov } = w.gw;
    const before = await accessCount(w);
    const key = { keyId: 'BankMSP', secretKey: bank.config.keys.requestKey.secretKey };
    // The HTTP signature is BankMSP's; the access request inside is signed by a key nobody registered.
    const forged = { consentId: c1, request: accessRequest(bank, c1, ['g-lic-X'], {}, newSigningKeyPair().secretKey) };
    // Sent together with a good request, so the two usually share one RecordAccess transaction:
    // the ledger refuses the forged access alone and registers the good one.
    const [res, good] = await Promise.all([
      rawExchange(gov, '/v1/exchange/fetch', forged, key),
      rawExchange(gov, '/v1/exchange/fetch', { consentId: c1, request: accessRequest(bank, c1, ['g-lic-X']) }, key),
    ]);
    expect([res.status, res.body.code]).toEqual([401, 'SIGNATURE_INVALID']);
    expect(res.body).not.toHaveProperty('ciphertext');
    expect(good.status).toBe(200);
    expect(await accessCount(w)).toBe(before + 1);
  });

  it('a flipped bit in a stored record or in a proof fails verification with a clear report, and nothing of it is returned as data', async () => {
    const bank = w.gw.BankMSP;
    w.govStore.tamper = (id, r) => {
      if (id !== 'g-lic-X') return;
      const v = r.sealed.fields.licenceNumber as string;
      r.sealed.fields.licenceNumber = String.fromCharCode(v.charCodeAt(0) ^ 1) + v.slice(1);
    };
    try {
      const res = await staff<FetchResult>(bank, 'POST', '/v1/fetch', { consentId: c1, publisher: 'GovMSP', recordIds: ['g-lic-X', 'g-tax-X'] });
      expect(res.status).toBe(200);
      const [lic, tax] = res.body.records;
      expect(lic?.record).toBeUndefined();
      expect(lic?.report).toMatchObject({ recordId: 'g-lic-X', ok: false });
      // The ledger reads a record only by a proven reference: a changed record is not proven, so its status is not known either.
      expect(lic?.report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['leaf', 'merklePath', 'status']);
      expect(lic?.report.checks.find((c) => c.name === 'leaf')?.detail).toMatch(/the record or its proof differs from what was anchored/);
      expect(lic?.report.checks.find((c) => c.name === 'merklePath')?.detail).toMatch(/does not lead from the leaf at index \d+ of \d+ to the anchored root/);
      expect(tax?.report.ok).toBe(true);

      w.govStore.tamper = (id, r) => {
        if (id !== 'g-pen-X') return;
        const p = r.proof[0] as string;
        r.proof[0] = (p[0] === '0' ? '1' : '0') + p.slice(1);
      };
      // A flipped proof in the publisher's store breaks the record's RecordRef: the ledger refuses to
      // register an access naming it (the ref does not prove against the batch root), so nothing is
      // registered or served, and the bank is told why. (A proof flipped after the publisher — in
      // transit — fails the bank's verifier: gateway/test/exchange/verify.test.ts and client.test.ts.)
      const before = await accessCount(w);
      const proofRes = await staff<{ code: string; message: string }>(bank, 'POST', '/v1/fetch', { consentId: c1, publisher: 'GovMSP', recordIds: ['g-pen-X', 'g-tax-X'] });
      expect(proofRes.status).toBe(400);
      expect(proofRes.body.code).toBe('RECORD_PROOF_INVALID');
      expect(proofRes.body.message).toMatch(/g-pen-X/);
      expect(await accessCount(w)).toBe(before);
    } finally {
      w.govStore.tamper = undefined;
    }
  });

  it('a revocation racing fetches is decided by the ledger: each fetch is either registered and served, or refused with nothing registered', async () => {
    const bank = w.gw.BankMSP;
    for (let round = 0; round < 3; round++) {
      const c = await consent(X, { grantee: 'BankMSP', scope: { recordTypes: ['gov.admin-licence'] } });
      const revocation = { consentId: c, subject: X.uscc, nonce: b64u(randomBytes(16)) };
      const [fetches, revoked] = await Promise.all([
        Promise.all(Array.from({ length: 4 }, () => staff<FetchResult & { code?: string }>(bank, 'POST', '/v1/fetch', { consentId: c, publisher: 'GovMSP', recordIds: ['g-lic-X'] }))),
        staff(bank, 'POST', '/v1/consents/revoke', signed('revocation', revocation, X.keys.secretKey)),
      ]);
      expect(revoked.status).toBe(200);
      const registered = (await accessesOf(w, X)).filter((a) => a.consentId === c);
      for (const f of fetches) {
        if (f.status === 200) {
          expect(f.body.records.map((r) => r.report.ok)).toEqual([true]);
          expect(registered.map((a) => a.accessId)).toContain(f.body.accessId);
        } else {
          expect([f.status, f.body.code]).toEqual([403, 'CONSENT_REVOKED']);
        }
      }
      expect(registered).toHaveLength(fetches.filter((f) => f.status === 200).length);
      const onChain = await w.gw.AuditMSP.app.ledger.evaluate<{ status: string; uses: number }>('consents', 'GetConsent', c);
      expect(onChain).toMatchObject({ status: 'revoked', uses: registered.length });
    }
  }, 60_000);

  it('revocation: once X revokes, the next fetch is refused with CONSENT_REVOKED and nothing is served or registered', async () => {
    const bank = w.gw.BankMSP;
    const c = await consent(X, { grantee: 'BankMSP', scope: { recordTypes: ['gov.admin-licence'] } });
    expect((await staff<FetchResult>(bank, 'POST', '/v1/fetch', { consentId: c, publisher: 'GovMSP' })).status).toBe(200);
    const revocation = { consentId: c, subject: X.uscc, nonce: b64u(randomBytes(16)) };
    const revoked = await staff(bank, 'POST', '/v1/consents/revoke', signed('revocation', revocation, X.keys.secretKey));
    expect(revoked.status).toBe(200);
    const before = await accessCount(w);
    const refused = await staff<{ code: string }>(bank, 'POST', '/v1/fetch', { consentId: c, publisher: 'GovMSP', recordIds: ['g-lic-X'] });
    expect([refused.status, refused.body.code]).toEqual([403, 'CONSENT_REVOKED']);
    expect(refused.body).not.toHaveProperty('records');
    // Straight to the publisher, the ledger refuses it too.
    const raw = await rawExchange(w.gw.GovMSP, '/v1/exchange/fetch', { consentId: c, request: accessRequest(bank, c, ['g-lic-X']) }, { keyId: 'BankMSP', secretKey: bank.config.keys.requestKey.secretKey });
    expect([raw.status, raw.body.code, 'ciphertext' in raw.body]).toEqual([403, 'CONSENT_REVOKED', false]);
    expect(await accessCount(w)).toBe(before);
  });
});
