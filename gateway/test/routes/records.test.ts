import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fieldDigest, leafHash, verifyInclusion } from '@credex/core';
import { fixtureCatalogueEntry, fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import type { CreditRecord } from '@credex/schemas';
import { LedgerError } from '../../src/ledger/errors';
import type { PublishedRecord } from '../../src/services/publish';
import { POOL_MIN_RECORDS } from '../../src/services/publish';
import type { AnchorRequest } from '../../src/store/store';
import type { TestGateway } from '../helpers';
import { auth, testGateway } from '../helpers';

const subject = fixtureEnterprises.subject.uscc;
const entry = fixtureCatalogueEntry({ recordType: 'gov.admin-penalty', subject, publisher: 'GovMSP', entryId: 'cat-penalty-1' });

function records(n: number, prefix = 'pen'): CreditRecord[] {
  return Array.from({ length: n }, (_, i) => ({ ...fixtureRecord('gov.admin-penalty', subject), recordId: `${prefix}-${i}` }));
}

describe('POST /v1/records', () => {
  let gw: TestGateway;
  beforeEach(async () => {
    gw = await testGateway();
    gw.ledger.entries.set(entry.entryId, entry);
  });
  afterEach(async () => {
    await gw.close();
  });

  const publish = (body: unknown, headers: Record<string, string> = auth) =>
    gw.app.inject({ method: 'POST', url: '/v1/records', headers, payload: body as Record<string, unknown> });

  it('seals, batches, stores and anchors records; every proof verifies against the anchored root', async () => {
    const res = await publish({ catalogueEntryId: entry.entryId, records: records(5) });
    expect(res.statusCode).toBe(200);
    const out = res.json<{ records: PublishedRecord[] }>().records;
    expect(out.map((r) => r.recordId)).toEqual(['pen-0', 'pen-1', 'pen-2', 'pen-3', 'pen-4']);
    const anchors = gw.ledger.submitted('AnchorBatch');
    expect(anchors).toHaveLength(1);
    const anchored = JSON.parse(anchors[0]!.args[0]!) as Record<string, unknown>;
    // The anchor argument is the batch's root and size only, whatever the number of records.
    expect(Object.keys(anchored).sort()).toEqual(['batchId', 'catalogueEntryId', 'root', 'size']);
    expect(anchored.size).toBe(5);
    for (const r of out) {
      expect(r.root).toBe(anchored.root);
      expect(r.batchId).toBe(anchored.batchId);
      expect(r.size).toBe(5);
      expect(r.txId).toBe(gw.ledger.batches.get(r.batchId)?.txId);
      expect(verifyInclusion(r.leafHash, r.index, r.size, r.proof, r.root)).toBe(true);
      const stored = await gw.store.getRecord(r.recordId);
      expect(stored?.anchored).toBe(true);
      expect(leafHash(stored!.sealed.header, stored!.sealed.fieldDigests)).toBe(r.leafHash);
      expect(stored!.sealed.header).toMatchObject({ publisher: 'GovMSP', catalogueEntryId: entry.entryId, subject });
    }
    expect(await gw.store.outbox()).toEqual([]);
  });

  it('is idempotent per recordId: the same content returns the same result and anchors nothing new', async () => {
    const body = { catalogueEntryId: entry.entryId, records: records(3) };
    const first = (await publish(body)).json<{ records: PublishedRecord[] }>();
    const second = await publish(body);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(first);
    expect(gw.ledger.submitted('AnchorBatch')).toHaveLength(1);
  });

  it('publishes only the new records of a request that repeats earlier ones', async () => {
    await publish({ catalogueEntryId: entry.entryId, records: records(2) });
    const res = await publish({ catalogueEntryId: entry.entryId, records: records(4) });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ records: PublishedRecord[] }>().records).toHaveLength(4);
    const second = JSON.parse(gw.ledger.submitted('AnchorBatch')[1]!.args[0]!) as { size: number; batchId: string };
    expect(second.size).toBe(2);
    const out = res.json<{ records: PublishedRecord[] }>().records;
    expect(out.filter((r) => r.batchId === second.batchId).map((r) => r.recordId)).toEqual(['pen-2', 'pen-3']);
  });

  it('refuses a recordId published before with other content: 409 RECORD_CONFLICT, nothing changed', async () => {
    await publish({ catalogueEntryId: entry.entryId, records: records(1) });
    const before = await gw.store.getRecord('pen-0');
    const changed = { ...records(1)[0]!, issuedAt: '2026-11-02T08:00:00.000Z' };
    const res = await publish({ catalogueEntryId: entry.entryId, records: [changed, ...records(3, 'new')] });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'RECORD_CONFLICT', details: { recordIds: ['pen-0'] } });
    expect(await gw.store.getRecord('pen-0')).toEqual(before);
    expect(await gw.store.getRecord('new-0')).toBeUndefined();
    expect(gw.ledger.submitted('AnchorBatch')).toHaveLength(1);
  });

  it.each([
    ['a field of the wrong type', { fields: { ...fixtureRecord('gov.admin-penalty', subject).fields, amountFen: 'lots' } }, 'SCHEMA_INVALID'],
    ['an unknown record type', { recordType: 'gov.nothing' }, 'SCHEMA_INVALID'],
    ['a USCC with a wrong check character', { subject: subject.slice(0, 17) + (subject.endsWith('0') ? '1' : '0') }, 'USCC_INVALID'],
    ['another record type than the entry', { ...fixtureRecord('gov.tax-grade', subject), recordId: 'pen-1' }, 'RECORD_TYPE_MISMATCH'],
    ['another subject than the entry', { ...fixtureRecord('gov.admin-penalty', fixtureEnterprises.other.uscc), recordId: 'pen-1' }, 'SUBJECT_MISMATCH'],
  ])('rejects %s with a stable code and changes nothing', async (_name, change, code) => {
    const bad = { ...records(2)[1]!, ...change };
    const res = await publish({ catalogueEntryId: entry.entryId, records: [records(1)[0], bad] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code, details: { index: 1 } });
    expect(await gw.store.getRecord('pen-0')).toBeUndefined();
    expect(await gw.store.outbox()).toEqual([]);
    expect(gw.ledger.submitted('AnchorBatch')).toHaveLength(0);
  });

  it('rejects a request without a staff token (401 STAFF_AUTH_REQUIRED) or with a wrong one', async () => {
    const none = await publish({ catalogueEntryId: entry.entryId, records: records(1) }, {});
    expect(none.statusCode).toBe(401);
    expect(none.json()).toMatchObject({ code: 'STAFF_AUTH_REQUIRED' });
    const wrong = await publish({ catalogueEntryId: entry.entryId, records: records(1) }, { authorization: 'Bearer nope-nope-nope-nope' });
    expect(wrong.statusCode).toBe(401);
    expect(await gw.store.getRecord('pen-0')).toBeUndefined();
  });

  it('maps an unknown entry to 404 and another publisher\'s entry to 403', async () => {
    const unknown = await publish({ catalogueEntryId: 'no-such-entry', records: records(1) });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'ENTRY_UNKNOWN' });
    gw.ledger.entries.set('core-entry', { ...entry, entryId: 'core-entry', publisher: 'CoreMSP' });
    const foreign = await publish({ catalogueEntryId: 'core-entry', records: records(1) });
    expect(foreign.statusCode).toBe(403);
    expect(foreign.json()).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('rejects malformed JSON (400 JSON_INVALID), a body over the limit (413) and too many records (400)', async () => {
    const malformed = await gw.app.inject({ method: 'POST', url: '/v1/records', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"catalogueEntryId": ' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ code: 'JSON_INVALID' });
    const tooMany = await publish({ catalogueEntryId: entry.entryId, records: Array.from({ length: 10_001 }, () => ({})) });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json()).toMatchObject({ code: 'SCHEMA_INVALID' });
    await gw.close();
    gw = await testGateway({ limits: { bodyBytes: 2048, ratePerMinute: 1000 } });
    gw.ledger.entries.set(entry.entryId, entry);
    const big = await publish({ catalogueEntryId: entry.entryId, records: records(10) });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('does not acknowledge or serve records whose anchor failed; the outbox anchors them on restart', async () => {
    gw.ledger.failures.push({ tx: 'AnchorBatch', error: new LedgerError('LEDGER_UNAVAILABLE', 'peer down', { retryable: true }) });
    const res = await publish({ catalogueEntryId: entry.entryId, records: records(2) });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ code: 'LEDGER_UNAVAILABLE', message: expect.any(String) as string });
    expect((await gw.store.getRecord('pen-0'))?.anchored).toBe(false);
    const served = await gw.app.inject({ method: 'GET', url: '/v1/records/pen-0', headers: auth });
    expect(served.statusCode).toBe(409);
    expect(served.json()).toMatchObject({ code: 'RECORD_UNANCHORED' });
    expect(await gw.store.outbox()).toHaveLength(1);

    const app = await gw.restart();
    expect(await gw.store.outbox()).toEqual([]);
    const stored = await gw.store.getRecord('pen-0');
    expect(gw.ledger.batches.has(stored!.batchId)).toBe(true);
    const after = await app.inject({ method: 'GET', url: '/v1/records/pen-0', headers: auth });
    expect(after.statusCode).toBe(200);
    expect(after.json()).toMatchObject({ batchId: expect.any(String) as string, txId: expect.any(String) as string });
  });

  it('marks a batch anchored when its AnchorBatch committed but the answer was lost', async () => {
    gw.ledger.failures.push({ tx: 'AnchorBatch', afterCommit: true, error: new LedgerError('LEDGER_TIMEOUT', 'no answer', { retryable: true }) });
    const res = await publish({ catalogueEntryId: entry.entryId, records: records(2) });
    expect(res.statusCode).toBe(200);
    const out = res.json<{ records: PublishedRecord[] }>().records;
    expect(out[0]!.txId).toBe(gw.ledger.batches.get(out[0]!.batchId)?.txId);
    expect(gw.ledger.submitted('AnchorBatch')).toHaveLength(1);
    expect(await gw.store.outbox()).toEqual([]);
  });

  it('drops a batch the contract refuses: nothing stays in the store', async () => {
    gw.ledger.failures.push({ tx: 'AnchorBatch', error: new LedgerError('ENTRY_RETIRED', 'retired') });
    const res = await publish({ catalogueEntryId: entry.entryId, records: records(2) });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'ENTRY_RETIRED' });
    expect(await gw.store.getRecord('pen-0')).toBeUndefined();
    expect(await gw.store.outbox()).toEqual([]);
    expect((await gw.store.contentHashes(['pen-0']))[0]).toBeUndefined();
  });

  it('streams progress lines, then the result, with Accept: application/x-ndjson', async () => {
    const res = await publish({ catalogueEntryId: entry.entryId, records: records(3) }, { ...auth, accept: 'application/x-ndjson' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    const lines = res.body.trim().split('\n').map((l) => JSON.parse(l) as { type: string; phase?: string; records?: PublishedRecord[] });
    expect(lines.filter((l) => l.type === 'progress').map((l) => l.phase)).toEqual(['validated', 'sealed', 'stored', 'anchored']);
    const last = lines.at(-1)!;
    expect(last.type).toBe('result');
    expect(last.records).toHaveLength(3);
  });

  it('answers input errors of a streamed publish as a plain JSON error with its status', async () => {
    const res = await publish({ catalogueEntryId: 'no-such-entry', records: records(1) }, { ...auth, accept: 'application/x-ndjson' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'ENTRY_UNKNOWN' });
  });

  it('anchors a batch of 10,000 records in one AnchorBatch of a few hundred bytes', async () => {
    const res = await publish({ catalogueEntryId: entry.entryId, records: records(10_000, 'big') });
    expect(res.statusCode).toBe(200);
    const anchors = gw.ledger.submitted('AnchorBatch');
    expect(anchors).toHaveLength(1);
    expect(anchors[0]!.args[0]!.length).toBeLessThan(400);
    const out = res.json<{ records: PublishedRecord[] }>().records;
    expect(out).toHaveLength(10_000);
    expect(new Set(out.map((r) => r.batchId)).size).toBe(1);
    const last = out[9_999]!;
    expect(verifyInclusion(last.leafHash, last.index, last.size, last.proof, last.root)).toBe(true);
  }, 60_000);

  it('supersedes a record: the old record\'s RecordRef from the store, the new one proven against the new root', async () => {
    const first = (await publish({ catalogueEntryId: entry.entryId, records: records(2) })).json<{ records: PublishedRecord[] }>().records;
    const fixed = { ...fixtureRecord('gov.admin-penalty', subject), recordId: 'pen-0-fix', supersedes: 'pen-0' };
    const res = await publish({ catalogueEntryId: entry.entryId, records: [fixed] });
    expect(res.statusCode).toBe(200);
    const anchored = JSON.parse(gw.ledger.submitted('AnchorBatch')[1]!.args[0]!) as AnchorRequest;
    const old = first[0]!;
    expect(anchored.supersessions).toEqual([{
      record: { recordId: 'pen-0-fix', index: 0, leafHash: expect.any(String) as string, proof: [] },
      supersedes: { recordId: 'pen-0', batchId: old.batchId, index: old.index, leafHash: old.leafHash, proof: old.proof },
    }]);
    const ref = { recordId: 'pen-0', batchId: old.batchId, index: old.index, leafHash: old.leafHash, proof: old.proof };
    expect(await gw.ledger.evaluate('anchors', 'GetRecord', JSON.stringify(ref))).toMatchObject({ status: 'superseded', supersededBy: 'pen-0-fix' });
    // A record not in this gateway cannot be superseded here.
    const stray = await publish({ catalogueEntryId: entry.entryId, records: [{ ...fixed, recordId: 'x-fix', supersedes: 'not-ours' }] });
    expect(stray.statusCode).toBe(404);
    expect(stray.json()).toMatchObject({ code: 'SUPERSEDED_UNKNOWN' });
    expect(await gw.store.getRecord('x-fix')).toBeUndefined();
  });

  it('publishes concurrent requests sharing record ids once: the later one waits for the earlier and returns its anchors; other content conflicts', async () => {
    const [a, b] = await Promise.all([
      publish({ catalogueEntryId: entry.entryId, records: records(4) }),
      publish({ catalogueEntryId: entry.entryId, records: records(6) }),
    ]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    const byId = new Map([...a.json<{ records: PublishedRecord[] }>().records, ...b.json<{ records: PublishedRecord[] }>().records].map((r) => [`${r.recordId}@${r.batchId}`, r]));
    // Each record is in exactly one batch, whichever request anchored it.
    const batchesOf = (id: string): string[] => [...byId.values()].filter((r) => r.recordId === id).map((r) => r.batchId);
    for (let i = 0; i < 6; i++) expect(new Set(batchesOf(`pen-${i}`)).size).toBe(1);
    expect(gw.ledger.submitted('AnchorBatch').reduce((n, c) => n + (JSON.parse(c.args[0]!) as { size: number }).size, 0)).toBe(6);
    const changed = { ...records(1)[0]!, issuedAt: '2026-11-02T08:00:00.000Z' };
    const [c, d] = await Promise.all([
      publish({ catalogueEntryId: entry.entryId, records: records(1, 'race') }),
      publish({ catalogueEntryId: entry.entryId, records: [{ ...changed, recordId: 'race-0' }] }),
    ]);
    expect([c.statusCode, d.statusCode].sort()).toEqual([200, 409]);
  });

  it('lists a subject\'s anchored records', async () => {
    await publish({ catalogueEntryId: entry.entryId, records: records(2) });
    const res = await gw.app.inject({ method: 'GET', url: `/v1/records?subject=${subject.toLowerCase()}`, headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json<{ records: { record: { header: { recordId: string } } }[] }>().records.map((r) => r.record.header.recordId).sort()).toEqual(['pen-0', 'pen-1']);
  });

  describe('in the seal workers (large publishes)', () => {
    const big = POOL_MIN_RECORDS * 8;
    const late = big - 7;

    it.each([
      ['a field of the wrong type', { fields: { ...fixtureRecord('gov.admin-penalty', subject).fields, amountFen: 'lots' } }],
      ['an unknown record type', { recordType: 'gov.nothing' }],
      ['a USCC with a wrong check character', { subject: subject.slice(0, 17) + (subject.endsWith('0') ? '1' : '0') }],
      ['another record type than the entry', { ...fixtureRecord('gov.tax-grade', subject), recordId: 'late' }],
      ['another subject than the entry', { ...fixtureRecord('gov.admin-penalty', fixtureEnterprises.other.uscc), recordId: 'late' }],
    ])('answers %s in a late chunk exactly as the main thread does, and changes nothing', async (_name, change) => {
      const body: { catalogueEntryId: string; records: object[] } = { catalogueEntryId: entry.entryId, records: records(big) };
      body.records[late] = { ...body.records[late]!, ...change };
      // The first large publish runs on the main thread (the workers it starts are not ready yet).
      const inline = await publish(body);
      expect(gw.app.publisher.sealThreads).toBeGreaterThan(0);
      await gw.app.publisher.startSealWorkers();
      const pooled = await publish(body);
      expect(inline.statusCode).toBe(400);
      expect(inline.json()).toMatchObject({ details: { index: late } });
      expect(inline.json<{ message: string }>().message).toMatch(new RegExp(`^records\\[${late}\\]`));
      expect(pooled.statusCode).toBe(inline.statusCode);
      expect(pooled.json()).toEqual(inline.json());
      expect(await gw.store.getRecord('pen-0')).toBeUndefined();
      expect(await gw.store.outbox()).toEqual([]);
      expect(gw.ledger.submitted('AnchorBatch')).toHaveLength(0);
    });

    it('answers the first bad record by index when several chunks hold one', async () => {
      await gw.app.publisher.startSealWorkers();
      const body: { catalogueEntryId: string; records: object[] } = { catalogueEntryId: entry.entryId, records: records(big) };
      body.records[late] = { ...body.records[late]!, recordType: 'gov.nothing' };
      body.records[POOL_MIN_RECORDS + 3] = { ...body.records[POOL_MIN_RECORDS + 3]!, subject: fixtureEnterprises.other.uscc };
      const res = await publish(body);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'SUBJECT_MISMATCH', details: { index: POOL_MIN_RECORDS + 3 } });
    });

    it('seals in the workers records that verify: digests, leaf hashes and proofs, in the order given', async () => {
      await gw.app.publisher.startSealWorkers();
      expect(gw.app.publisher.sealedChunks).toBe(0);
      const res = await publish({ catalogueEntryId: entry.entryId, records: records(big) }, { ...auth, accept: 'application/x-ndjson' });
      expect(res.statusCode).toBe(200);
      // Done in the workers, not quietly on the main thread: chunks of at most 1,000 records.
      expect(gw.app.publisher.sealedChunks).toBeGreaterThanOrEqual(Math.ceil(big / 1_000));
      const lines = res.body.trim().split('\n').map((l) => JSON.parse(l) as { type: string; records?: PublishedRecord[] });
      const out = lines.at(-1)!.records!;
      expect(out.map((r) => r.recordId)).toEqual(records(big).map((r) => r.recordId));
      for (const r of out.filter((_, i) => i % 97 === 0 || i === big - 1)) {
        expect(verifyInclusion(r.leafHash, r.index, r.size, r.proof, r.root)).toBe(true);
        const stored = (await gw.store.getRecord(r.recordId))!;
        const { header, fields, salts, fieldDigests } = stored.sealed;
        expect(header).toMatchObject({ recordId: r.recordId, publisher: 'GovMSP', catalogueEntryId: entry.entryId, subject });
        for (const [name, value] of Object.entries(fields)) expect(fieldDigests[name]).toBe(fieldDigest(name, value, salts[name]!));
        expect(leafHash(header, fieldDigests)).toBe(r.leafHash);
      }
      // The same records again: the same result (idempotent), nothing new anchored.
      const again = await publish({ catalogueEntryId: entry.entryId, records: records(big) });
      expect(again.json<{ records: PublishedRecord[] }>().records).toEqual(out);
      expect(gw.ledger.submitted('AnchorBatch')).toHaveLength(1);
    });

    it('stops the seal workers when the app closes', async () => {
      expect(gw.app.publisher.sealThreads).toBe(0);
      await gw.app.publisher.startSealWorkers();
      expect(gw.app.publisher.sealThreads).toBeGreaterThan(0);
      await gw.app.close();
      expect(gw.app.publisher.sealThreads).toBe(0);
    });
  });
});
