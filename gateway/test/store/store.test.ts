import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { RecordHeader, SealedRecord } from '@credex/core';
import { buildMerkleTree, sealRecord, sha256Hex, verifyInclusion } from '@credex/core';
import { fixtureRecord, recordTypes } from '@credex/schemas';
import { Level } from 'level';
import type { AnchorRequest, NewRecord, Store } from '../../src/store/store';
import { openStore } from '../../src/store/store';
import { bodyAt, encodeRecordBodies } from '../../src/store/record-codec';
import { tempDir } from '../helpers';

const SUBJECT = '91350100M000100Y43';
const hashOf = (recordId: string): string => sha256Hex(`content of ${recordId}`);

type SealedNewRecord = NewRecord & { sealed: SealedRecord };

function batch(batchId: string, ids: string[], subject = SUBJECT): { request: AnchorRequest; records: SealedNewRecord[] } {
  const sealed = ids.map((recordId) => sealRecord(
    { recordId, recordType: 'gov.tax-grade', subject, publisher: 'GovMSP', catalogueEntryId: 'e1', issuedAt: '2026-11-01T08:00:00.000Z' },
    { grade: 'A', year: 2025 },
  ));
  const tree = buildMerkleTree(sealed.map((s) => s.leafHash));
  return {
    request: { batchId, catalogueEntryId: 'e1', root: tree.root, size: ids.length },
    records: sealed.map((s, index) => ({ sealed: s, batchId, index, proof: tree.proof(index), contentHash: hashOf(s.header.recordId) })),
  };
}

describe('store (LevelDB)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let store: Store;
  const dir = (): string => join(tmp.dir, 'db');
  beforeEach(async () => {
    tmp = tempDir();
    store = await openStore(dir());
  });
  afterEach(async () => {
    await store.close();
    tmp.remove();
  });

  it('reads a missing key as undefined', async () => {
    expect(await store.getRecord('nope')).toBeUndefined();
    expect(await store.getBatch('nope')).toBeUndefined();
    expect(await store.getRecords(['a', 'b'])).toEqual([undefined, undefined]);
    expect(await store.contentHashes(['a'])).toEqual([undefined]);
  });

  it('stores batches unanchored with their outbox entries, then marks them anchored', async () => {
    const a = batch('b1', ['r1', 'r2', 'r3']);
    await store.putBatches([a.request], a.records, '2026-11-22T00:00:00.000Z');
    const stored = await store.getRecord('r2');
    expect(stored).toMatchObject({ batchId: 'b1', index: 1, root: a.request.root, anchored: false });
    expect(stored?.txId).toBeUndefined();
    expect(await store.outbox()).toEqual([a.request]);
    expect(await store.contentHashes(['r1', 'r9'])).toEqual([hashOf('r1'), undefined]);
    expect(await store.recordRef('r2')).toEqual({ recordId: 'r2', batchId: 'b1', index: 1, leafHash: a.records[1]?.sealed.leafHash, proof: a.records[1]?.proof });
    expect(await store.recordRef('r9')).toBeUndefined();

    await store.markAnchored('b1', 'tx-1', 7);
    expect(await store.getRecord('r2')).toMatchObject({ anchored: true, txId: 'tx-1', blockNumber: 7 });
    expect(await store.getBatch('b1')).toMatchObject({ anchored: true, txId: 'tx-1' });
    expect(await store.outbox()).toEqual([]);
  });

  it('keeps what it acknowledged across a reopen, outbox included', async () => {
    const a = batch('b1', ['r1']);
    const b = batch('b2', ['r2']);
    await store.putBatches([a.request, b.request], [...a.records, ...b.records], '2026-11-22T00:00:00.000Z');
    await store.markAnchored('b1', 'tx-1', 3);
    await store.close();
    store = await openStore(dir());
    expect(await store.getRecord('r1')).toMatchObject({ anchored: true, txId: 'tx-1' });
    expect(await store.getRecord('r2')).toMatchObject({ anchored: false });
    expect((await store.outbox()).map((r) => r.batchId)).toEqual(['b2']);
  });

  it('drops an unanchored batch with its records, index and hashes; refuses to drop an anchored one', async () => {
    const a = batch('b1', ['r1', 'r2']);
    await store.putBatches([a.request], a.records, '2026-11-22T00:00:00.000Z');
    await store.dropBatch('b1');
    expect(await store.getRecords(['r1', 'r2'])).toEqual([undefined, undefined]);
    expect(await store.contentHashes(['r1'])).toEqual([undefined]);
    expect(await store.listRecordsBySubject(SUBJECT)).toEqual([]);
    expect(await store.outbox()).toEqual([]);
    const b = batch('b2', ['r3']);
    await store.putBatches([b.request], b.records, '2026-11-22T00:00:00.000Z');
    await store.markAnchored('b2', 'tx', 1);
    await expect(store.dropBatch('b2')).rejects.toMatchObject({ code: 'BATCH_ANCHORED' });
  });

  it('reads every record\'s proof from its batch\'s one stored tree, as built, also after a reopen', async () => {
    const sizes = [1, 2, 3, 5, 7, 8, 13, 64, 100];
    const batches = sizes.map((n, b) => batch(`t${b}`, Array.from({ length: n }, (_, i) => `t${b}-${i}`)));
    await store.putBatches(batches.map((x) => x.request), batches.flatMap((x) => x.records), '2026-11-22T00:00:00.000Z');
    for (const reopened of [false, true]) {
      if (reopened) {
        await store.close();
        store = await openStore(dir());
      }
      for (const { request, records } of batches) {
        const stored = await store.getRecords(records.map((r) => r.sealed.header.recordId));
        expect(stored.map((r) => r?.proof)).toEqual(records.map((r) => r.proof));
        for (const [i, r] of stored.entries()) {
          expect(r?.root).toBe(request.root);
          expect(verifyInclusion(r?.sealed.leafHash ?? '', i, request.size, r?.proof ?? [], request.root)).toBe(true);
        }
      }
    }
    expect(await store.recordRef('t6-11')).toEqual({ recordId: 't6-11', batchId: 't6', index: 11, leafHash: batches[6]?.records[11]?.sealed.leafHash, proof: batches[6]?.records[11]?.proof });
  });

  it('refuses a batch whose proofs do not fit its size, or that lacks records, and writes nothing', async () => {
    const a = batch('b1', ['r1', 'r2', 'r3']);
    const short = a.records.map((r, i) => (i === 1 ? { ...r, proof: r.proof.slice(1) } : r));
    await expect(store.putBatches([a.request], short, '2026-11-22T00:00:00.000Z')).rejects.toMatchObject({ code: 'PROOF_INVALID' });
    const long = a.records.map((r, i) => (i === 1 ? { ...r, proof: [...r.proof, r.sealed.leafHash] } : r));
    await expect(store.putBatches([a.request], long, '2026-11-22T00:00:00.000Z')).rejects.toMatchObject({ code: 'PROOF_INVALID' });
    await expect(store.putBatches([a.request], a.records.slice(0, 2), '2026-11-22T00:00:00.000Z')).rejects.toMatchObject({ code: 'BATCH_INCOMPLETE' });
    expect(await store.getRecords(['r1', 'r2', 'r3'])).toEqual([undefined, undefined, undefined]);
    expect(await store.outbox()).toEqual([]);
  });

  it('reads records written as JSON by earlier versions: with proof and root, content hashes apart; without them', async () => {
    const a = batch('old', ['o1', 'o2', 'o3']);
    const b = batch('mid', ['m1', 'm2']);
    await store.putBatches([b.request], b.records, '2026-06-01T00:00:00.000Z');
    await store.close();
    const raw = new Level<string, unknown>(dir(), { valueEncoding: 'json' });
    const records = raw.sublevel<string, unknown>('records', { valueEncoding: 'json' });
    // Before session 2: proof and root in the value, the content hash in a sublevel of its own.
    await records.batch(a.records.map((r) => ({
      type: 'put' as const, key: r.sealed.header.recordId,
      value: { sealed: r.sealed, batchId: 'old', index: r.index, proof: r.proof, root: a.request.root },
    })));
    await raw.sublevel('content-hashes', { valueEncoding: 'json' }).batch(a.records.map((r) => ({ type: 'put' as const, key: r.sealed.header.recordId, value: r.contentHash })));
    // Before the record codec: the value as JSON, its proof read from the batch's tree.
    await records.put('m2', { sealed: b.records[1]?.sealed, contentHash: b.records[1]?.contentHash, batchId: 'mid', index: 1 });
    await raw.sublevel<string, unknown>('batches', { valueEncoding: 'json' }).put('old', { ...a.request, createdAt: '2026-01-01T00:00:00.000Z', anchored: true, txId: 'tx-old', blockNumber: 2 });
    await raw.close();
    store = await openStore(dir());
    expect(await store.getRecord('o3')).toEqual({ sealed: a.records[2]?.sealed, batchId: 'old', index: 2, proof: a.records[2]?.proof, root: a.request.root, anchored: true, txId: 'tx-old', blockNumber: 2 });
    expect(await store.recordRef('o2')).toEqual({ recordId: 'o2', batchId: 'old', index: 1, leafHash: a.records[1]?.sealed.leafHash, proof: a.records[1]?.proof });
    expect(await store.getRecords(['m1', 'm2'])).toEqual(b.records.map((r) => ({ sealed: r.sealed, batchId: 'mid', index: r.index, proof: r.proof, root: b.request.root, anchored: false })));
    expect(await store.contentHashes(['o1', 'm2', 'm1', 'x', 'o3'])).toEqual([hashOf('o1'), hashOf('m2'), hashOf('m1'), undefined, hashOf('o3')]);
  });

  it('gives back every record type as it was stored, supersedes included, also after a reopen', async () => {
    const sealed = recordTypes.flatMap((recordType, i) => {
      const record = fixtureRecord(recordType, SUBJECT);
      const header: RecordHeader = { recordId: record.recordId, recordType, subject: SUBJECT, publisher: 'GovMSP', catalogueEntryId: `e${i}`, issuedAt: record.issuedAt };
      const fields = record.fields as unknown as Record<string, unknown>;
      return [sealRecord(header, fields), sealRecord({ ...header, recordId: `${record.recordId}-c`, supersedes: record.recordId }, fields)];
    });
    const tree = buildMerkleTree(sealed.map((s) => s.leafHash));
    const records = sealed.map((s, index) => ({ sealed: s, batchId: 'all', index, proof: tree.proof(index), contentHash: hashOf(s.header.recordId) }));
    // Beside them, one record the compact form does not hold (a content hash that is not hex): kept as JSON.
    const odd = batch('odd', ['q1']);
    const oddRecord = { ...(odd.records[0] as NewRecord), contentHash: 'h-q1' };
    await store.putBatches([{ batchId: 'all', catalogueEntryId: 'e', root: tree.root, size: sealed.length }, odd.request], [...records, oddRecord], '2026-11-22T00:00:00.000Z');
    for (const reopened of [false, true]) {
      if (reopened) {
        await store.close();
        store = await openStore(dir());
      }
      const stored = await store.getRecords(sealed.map((s) => s.header.recordId));
      expect(stored).toEqual(records.map((r) => ({ sealed: r.sealed, batchId: 'all', index: r.index, proof: r.proof, root: tree.root, anchored: false })));
      // Key order too: a record is served as the JSON of what was stored.
      expect(stored.map((r) => JSON.stringify(r?.sealed))).toEqual(sealed.map((s) => JSON.stringify(s)));
      expect(await store.contentHashes(['q1', ...records.map((r) => r.sealed.header.recordId)])).toEqual(['h-q1', ...records.map((r) => r.contentHash)]);
      expect(await store.getRecord('q1')).toMatchObject({ sealed: oddRecord.sealed, batchId: 'odd', index: 0 });
    }
    expect((await store.listRecordsBySubject(SUBJECT)).map((r) => r.sealed.header.recordId).sort()).toEqual([...sealed.map((s) => s.header.recordId), 'q1'].sort());
    await store.close();
    const raw = new Level<string, Buffer>(dir(), { valueEncoding: 'buffer' });
    const values = await raw.sublevel<string, Buffer>('records', { valueEncoding: 'buffer' }).getMany([sealed[0]?.header.recordId ?? '', 'q1']);
    // Compact, and a prefix before a JSON body.
    expect(values.map((v) => v?.[0])).toEqual([2, 2]);
    expect(values[0]?.[7 + 'all'.length]).toBe(0);
    expect(values[1]?.[7 + 'odd'.length]).toBe('{'.charCodeAt(0));
    await raw.close();
    store = await openStore(dir());
  });

  it('writes records whose bodies were encoded elsewhere (the seal workers) to the same bytes as sealed records', async () => {
    const a = batch('b1', ['r1', 'r2', 'r3']);
    const b = batch('b2', ['s1', 's2']);
    const { bytes, ends } = encodeRecordBodies(b.records);
    const encoded: NewRecord[] = b.records.map((r, i) => ({
      encoded: { recordId: r.sealed.header.recordId, subject: r.sealed.header.subject, body: bodyAt(bytes, ends, i) },
      batchId: r.batchId, index: r.index, proof: r.proof, contentHash: r.contentHash,
    }));
    await store.putBatches([a.request, b.request], [...a.records, ...encoded], '2026-11-22T00:00:00.000Z');
    expect(await store.getRecords(['s1', 's2'])).toEqual(b.records.map((r) => ({ sealed: r.sealed, batchId: 'b2', index: r.index, proof: r.proof, root: b.request.root, anchored: false })));
    expect(await store.contentHashes(['s2', 'r1'])).toEqual([hashOf('s2'), hashOf('r1')]);
    expect((await store.listRecordsBySubject(SUBJECT)).map((r) => r.sealed.header.recordId)).toEqual(['r1', 'r2', 'r3', 's1', 's2']);
    await store.dropBatch('b2');
    expect(await store.getRecords(['s1', 'r1'])).toEqual([undefined, expect.objectContaining({ batchId: 'b1' })]);
    // The same records, sealed: the same bytes as encoded.
    await store.putBatches([b.request], b.records, '2026-11-22T00:00:01.000Z');
    await store.close();
    const raw = new Level<string, Buffer>(dir(), { valueEncoding: 'buffer' });
    const values = await raw.sublevel<string, Buffer>('records', { valueEncoding: 'buffer' }).getMany(['s1', 's2']);
    await raw.close();
    const again = await openStore(join(tmp.dir, 'db2'));
    await again.putBatches([b.request], encoded, '2026-11-22T00:00:01.000Z');
    await again.close();
    const raw2 = new Level<string, Buffer>(join(tmp.dir, 'db2'), { valueEncoding: 'buffer' });
    const values2 = await raw2.sublevel<string, Buffer>('records', { valueEncoding: 'buffer' }).getMany(['s1', 's2']);
    await raw2.close();
    expect(values.every((v, i) => v !== undefined && values2[i] !== undefined && v.equals(values2[i]))).toBe(true);
    store = await openStore(dir());
  });

  it('refuses a publish write once closed, and writes nothing', async () => {
    const a = batch('b1', ['r1']);
    await store.close();
    await expect(store.putBatches([a.request], a.records, '2026-11-22T00:00:00.000Z')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    store = await openStore(dir());
    expect(await store.getRecord('r1')).toBeUndefined();
    expect(await store.outbox()).toEqual([]);
  });

  it('refuses to mark an unknown batch anchored', async () => {
    await expect(store.markAnchored('nope', 'tx', 1)).rejects.toMatchObject({ code: 'BATCH_UNKNOWN' });
  });

  it('lists a subject\'s records only', async () => {
    const a = batch('b1', ['r1', 'r2']);
    const other = batch('b2', ['x1'], '91610131MA6W3QXF1' + 'X');
    await store.putBatches([a.request, other.request], [...a.records, ...other.records], '2026-11-22T00:00:00.000Z');
    expect((await store.listRecordsBySubject(SUBJECT)).map((r) => r.sealed.header.recordId)).toEqual(['r1', 'r2']);
  });

  it('claims a nonce once, also after a reopen, and again once it expired', async () => {
    const later = Date.now() + 60_000;
    expect(await store.nonces.claim('BankMSP', 'n1', later)).toBe(true);
    expect(await store.nonces.claim('BankMSP', 'n1', later)).toBe(false);
    expect(await store.nonces.claim('Bank2MSP', 'n1', later)).toBe(true);
    const racing = await Promise.all([store.nonces.claim('BankMSP', 'n2', later), store.nonces.claim('BankMSP', 'n2', later)]);
    expect(racing.filter(Boolean)).toHaveLength(1);
    await store.close();
    store = await openStore(dir());
    expect(await store.nonces.claim('BankMSP', 'n1', later)).toBe(false);
    expect(await store.nonces.claim('BankMSP', 'old', Date.now() - 1)).toBe(true);
    expect(await store.nonces.claim('BankMSP', 'old', later)).toBe(true);
  });
});
