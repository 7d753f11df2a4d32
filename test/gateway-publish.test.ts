/**
 * The publish path over node-sim with real HTTP: publish → anchored → provenance; idempotency
 * and 409; bad input → a stable code and nothing changed; the ledger check.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyInclusion } from '@credex/core';
import { fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import type { CreditRecord } from '@credex/schemas';
import type { PublishedRecord } from '@credex/gateway';
import { verifyBlockChain } from '@credex/node-sim';
import type { Harness, RunningGateway } from './gateway-harness';
import { call, startGateway, startHarness } from './gateway-harness';

const subject = fixtureEnterprises.subject.uscc;

function records(n: number, prefix: string): CreditRecord[] {
  return Array.from({ length: n }, (_, i) => ({ ...fixtureRecord('gov.admin-penalty', subject), recordId: `${prefix}-${i}` }));
}

describe('gateway publish over node-sim', () => {
  let h: Harness;
  let gov: RunningGateway;
  let entryId: string;

  beforeAll(async () => {
    h = await startHarness();
    gov = await startGateway(h.config('GovMSP'));
    const created = await call<{ entry: { entryId: string } }>(gov.url, 'POST', '/v1/catalogue', {
      subject, recordType: 'gov.admin-penalty', title: '行政处罚信息', pricePerAccess: 200,
    });
    expect(created.status).toBe(201);
    entryId = created.body.entry.entryId;
  }, 120_000);

  afterAll(async () => {
    await gov.close();
    await h.stop();
  });

  it('registered the organization at start', async () => {
    const org = await call<{ mspId: string; gatewayUrl: string; requestKey: string }>(gov.url, 'GET', '/v1/organizations/GovMSP');
    expect(org.status).toBe(200);
    expect(org.body).toMatchObject({ mspId: 'GovMSP', gatewayUrl: gov.url, requestKey: gov.config.keys.requestKey.publicKey });
  });

  it('publishes, anchors and shows the provenance of a record', async () => {
    const res = await call<{ records: PublishedRecord[] }>(gov.url, 'POST', '/v1/records', { catalogueEntryId: entryId, records: records(20, 'p1') });
    expect(res.status).toBe(200);
    expect(res.body.records).toHaveLength(20);
    for (const r of res.body.records) expect(verifyInclusion(r.leafHash, r.index, r.size, r.proof, r.root)).toBe(true);

    const first = res.body.records[0]!;
    const prov = await call<{ record: Record<string, unknown>; batch: Record<string, unknown>; offChain: Record<string, boolean>; accesses: unknown[]; blockNumber: number }>(
      gov.url, 'GET', `/v1/audit/records/${first.recordId}`);
    expect(prov.status).toBe(200);
    expect(prov.body.record).toMatchObject({ recordId: first.recordId, batchId: first.batchId, leafHash: first.leafHash, publisher: 'GovMSP', subject, status: 'active' });
    expect(prov.body.batch).toMatchObject({ batchId: first.batchId, root: first.root, size: 20, txId: first.txId });
    expect(prov.body.offChain).toEqual({ anchored: true, leafMatches: true, proofVerifies: true });
    expect(prov.body.accesses).toEqual([]);
    expect(prov.body.blockNumber).toBe(first.blockNumber);
  });

  it('is idempotent per record id and refuses other content with 409', async () => {
    const body = { catalogueEntryId: entryId, records: records(3, 'p2') };
    const first = await call<{ records: PublishedRecord[] }>(gov.url, 'POST', '/v1/records', body);
    const again = await call<{ records: PublishedRecord[] }>(gov.url, 'POST', '/v1/records', body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    const changed = records(3, 'p2').map((r, i) => (i === 1 ? { ...r, issuedAt: '2026-11-03T00:00:00.000Z' } : r));
    const conflict = await call<{ code: string }>(gov.url, 'POST', '/v1/records', { catalogueEntryId: entryId, records: changed });
    expect(conflict.status).toBe(409);
    expect(conflict.body.code).toBe('RECORD_CONFLICT');
  });

  it('answers bad input with a stable code and changes nothing, on chain or off', async () => {
    const bad = { ...records(1, 'p3')[0]!, subject: subject.slice(0, 17) + (subject.endsWith('1') ? '2' : '1') };
    const res = await call<{ code: string }>(gov.url, 'POST', '/v1/records', { catalogueEntryId: entryId, records: [...records(2, 'p3'), bad] });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('USCC_INVALID');
    const onChain = await call<{ code: string }>(gov.url, 'GET', '/v1/audit/records/p3-0?publisher=GovMSP');
    expect(onChain.status).toBe(404);
    expect(onChain.body.code).toBe('RECORD_UNKNOWN');
    // Without a publisher to ask, a record this gateway does not hold cannot be named to the ledger.
    const unnamed = await call<{ code: string }>(gov.url, 'GET', '/v1/audit/records/p3-0');
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.code).toBe('RECORD_REF_REQUIRED');
    const offChain = await call<{ code: string }>(gov.url, 'GET', '/v1/records/p3-0');
    expect(offChain.body.code).toBe('RECORD_UNKNOWN');
  });

  it('refuses records for an entry of another publisher with 403', async () => {
    const core = await startGateway(h.config('CoreMSP'));
    try {
      const res = await call<{ code: string }>(core.url, 'POST', '/v1/records', { catalogueEntryId: entryId, records: records(1, 'p4') });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('FORBIDDEN');
    } finally {
      await core.close();
    }
  });

  it('checks the block hash chain from genesis', async () => {
    const res = await call<{ ok: boolean; height: number; currentBlockHash: string; peerCurrentBlockHash: string }>(gov.url, 'GET', '/v1/audit/ledger');
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(true);
    expect(res.body.height).toBeGreaterThan(3);
    expect(res.body.currentBlockHash).toBe(res.body.peerCurrentBlockHash);
    // node-sim's own verifier agrees on the same blocks.
    const blocks = await Promise.all(Array.from({ length: res.body.height }, (_, n) => gov.app.ledger.block(n)));
    expect(await verifyBlockChain(blocks)).toMatchObject({ ok: true });
  });

  it('delivers the same blocks over Deliver as over qscc', async () => {
    const delivered: Uint8Array[] = [];
    for await (const block of gov.app.ledger.blocks(0n)) {
      delivered.push(block);
      if (delivered.length === 3) break;
    }
    for (const [n, block] of delivered.entries()) expect(Buffer.from(block).equals(Buffer.from(await gov.app.ledger.block(n)))).toBe(true);
  });
});
