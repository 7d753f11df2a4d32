/**
 * kill -9 of a gateway child process in the middle of a publish, then a restart: no
 * acknowledged record is lost, and no record is served unanchored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import type { CreditRecord } from '@credex/schemas';
import type { PublishedRecord } from '@credex/gateway';
import type { Harness } from './gateway-harness';
import { STAFF_TOKEN, call, freePort, spawnGateway, startHarness } from './gateway-harness';

const subject = fixtureEnterprises.subject.uscc;

function records(n: number, prefix: string): CreditRecord[] {
  return Array.from({ length: n }, (_, i) => ({ ...fixtureRecord('gov.tax-grade', subject), recordId: `${prefix}-${i}` }));
}

/** Streams a publish and calls `onLine` per NDJSON line; resolves with the lines read until the stream ended or broke. */
async function streamPublish(url: string, body: unknown, onLine: (line: { type: string; phase?: string }) => void): Promise<{ type: string; records?: PublishedRecord[] }[]> {
  const lines: { type: string; records?: PublishedRecord[] }[] = [];
  try {
    const res = await fetch(`${url}/v1/records`, {
      method: 'POST',
      headers: { authorization: `Bearer ${STAFF_TOKEN}`, 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify(body),
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffered = '';
    for (;;) {
      const { done, value } = (await reader.read()) as { done: boolean; value?: Uint8Array };
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffered.slice(0, nl)) as { type: string; phase?: string; records?: PublishedRecord[] };
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        onLine(line);
      }
    }
  } catch {
    // the gateway died under us
  }
  return lines;
}

describe('gateway crash recovery over node-sim', () => {
  let h: Harness;
  let port: number;
  let entryId: string;
  const configFile = (): string => join(h.dir, 'gov.json');

  beforeAll(async () => {
    h = await startHarness();
    port = await freePort();
  }, 120_000);

  afterAll(async () => {
    await h.stop();
  });

  it('loses no acknowledged record and serves none unanchored after kill -9 between store and anchor', async () => {
    const config = { ...h.config('GovMSP', 'gov', port), publicUrl: `http://127.0.0.1:${port}` };
    let gw = await spawnGateway(config, configFile());
    const created = await call<{ entry: { entryId: string } }>(gw.url, 'POST', '/v1/catalogue', {
      subject, recordType: 'gov.tax-grade', title: '纳税信用等级', pricePerAccess: 100,
    });
    expect(created.status).toBe(201);
    entryId = created.body.entry.entryId;

    // Acknowledged before the crash.
    const acked = await call<{ records: PublishedRecord[] }>(gw.url, 'POST', '/v1/records', { catalogueEntryId: entryId, records: records(50, 'acked') });
    expect(acked.status).toBe(200);

    // Killed the moment the batch is stored, before its anchor is known to have committed.
    const lines = await streamPublish(gw.url, { catalogueEntryId: entryId, records: records(2000, 'inflight') }, (line) => {
      if (line.type === 'progress' && line.phase === 'stored') gw.child.kill('SIGKILL');
    });
    await gw.exited;
    expect(lines.some((l) => l.type === 'result')).toBe(false);

    gw = await spawnGateway(config, configFile());
    try {
      // Every acknowledged record is still served, with the same anchor.
      for (const r of acked.body.records) {
        const got = await call<{ txId: string; root: string }>(gw.url, 'GET', `/v1/records/${r.recordId}`);
        expect(got.status).toBe(200);
        expect(got.body).toMatchObject({ txId: r.txId, root: r.root });
      }
      // The in-flight batch was anchored at restart (outbox replay) — and whatever is served is on chain.
      for (const id of ['inflight-0', 'inflight-999', 'inflight-1999']) {
        const got = await call<{ record: { leafHash: string } }>(gw.url, 'GET', `/v1/records/${id}`);
        expect(got.status).toBe(200);
        const prov = await call<{ record: { leafHash: string }; offChain: Record<string, boolean> }>(gw.url, 'GET', `/v1/audit/records/${id}`);
        expect(prov.status).toBe(200);
        expect(prov.body.offChain).toEqual({ anchored: true, leafMatches: true, proofVerifies: true });
      }
      // Publishing the same records again returns them as they are.
      const again = await call<{ records: PublishedRecord[] }>(gw.url, 'POST', '/v1/records', { catalogueEntryId: entryId, records: records(2000, 'inflight') });
      expect(again.status).toBe(200);
      expect(new Set(again.body.records.map((r) => r.batchId)).size).toBeGreaterThanOrEqual(1);
    } finally {
      gw.child.kill('SIGTERM');
    }
    // SIGTERM is a graceful shutdown.
    expect(await gw.exited).toBe(0);
  }, 180_000);
});
