import { describe, expect, it } from 'vitest';
import { b64u, buildMerkleTree, canonicalize, fromB64u, sealRecord, verifyInclusion, type SealedRecord } from '@credex/core';
import { fixtureEnterprises, fixtureRecord, type RecordType } from '@credex/schemas';
import { reduceToScope } from '../../src/exchange/scope';
import type { AnchoredBatch, AnchoredRecord, RecordRef, ServedRecord } from '../../src/exchange/types';
import { ledgerAnchorSource, verifyInclusionMemo, verifyServedRecord, verifyServedRecords, type AnchorSource, type PathMemo, type VerificationReport } from '../../src/exchange/verify';

const subject = fixtureEnterprises.subject.uscc;
const types: RecordType[] = ['gov.admin-licence', 'gov.admin-penalty', 'gov.tax-grade', 'fin.loan-repayment', 'sc.receivable-confirmation'];

function sealed(): SealedRecord[] {
  return types.map((t) => {
    const r = fixtureRecord(t, subject);
    return sealRecord({ recordId: r.recordId, recordType: t, subject, publisher: 'GovMSP', catalogueEntryId: `cat-${t}`, issuedAt: r.issuedAt }, r.fields as unknown as Record<string, unknown>);
  });
}

function world(): { served: ServedRecord[]; batch: AnchoredBatch; records: Map<string, AnchoredRecord> } {
  const seals = sealed();
  const tree = buildMerkleTree(seals.map((s) => s.leafHash));
  const batch: AnchoredBatch = { batchId: 'b1', catalogueEntryId: 'cat-x', publisher: 'GovMSP', subject, recordType: 'gov.admin-licence', root: tree.root, size: tree.size, anchoredAt: '2026-11-01T08:00:00.000Z', txId: 'tx1' };
  const records = new Map(seals.map((s, i): [string, AnchoredRecord] => [s.header.recordId, {
    recordId: s.header.recordId, batchId: 'b1', index: i, leafHash: s.leafHash, publisher: 'GovMSP', subject,
    recordType: s.header.recordType, catalogueEntryId: s.header.catalogueEntryId, status: 'active',
  }]));
  const served = seals.map((s, i): ServedRecord => ({ record: reduceToScope(s, { maxGrade: 2 }), batchId: 'b1', index: i, proof: tree.proof(i), root: tree.root }));
  return { served, batch, records };
}

function verifyOne(served: unknown, w: ReturnType<typeof world>, id: string, expectPublisher = 'GovMSP'): VerificationReport {
  return verifyServedRecord(served, { record: w.records.get(id), batch: w.batch }, { publisher: expectPublisher, subject });
}

function failing(r: VerificationReport): string[] {
  return r.checks.filter((c) => !c.ok).map((c) => c.name);
}

/** Flips one bit: of a hex digit's value (so hex stays hex: 'f' → 'e', not 'g'), else of the character. */
function flip(s: string, at = 0): string {
  const c = s[at] ?? 'a';
  const flipped = /^[0-9a-f]$/.test(c) ? (parseInt(c, 16) ^ 1).toString(16) : String.fromCharCode(c.charCodeAt(0) ^ 1);
  return s.slice(0, at) + flipped + s.slice(at + 1);
}

describe('verifyServedRecord', () => {
  it('passes every check of every record reduced to grade 2 (withheld fields travel as digests)', () => {
    const w = world();
    for (const s of w.served) {
      const r = verifyOne(s, w, s.record.header.recordId);
      expect(r).toMatchObject({ recordId: s.record.header.recordId, ok: true, status: 'active' });
      expect(r.checks.map((c) => c.name)).toEqual(['fieldDigests', 'leaf', 'merklePath', 'anchor', 'status', 'publisher', 'subject']);
    }
    const loan = w.served[3]?.record;
    expect(loan?.fields.principalFen).toEqual({ digest: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown });
    expect(loan?.fields.status).toMatchObject({ value: 'normal' });
  });

  it('a flipped bit in a field value fails the leaf (and so the path)', () => {
    const w = world();
    const s = structuredClone(w.served[0]) as ServedRecord;
    const f = s.record.fields.licenceNumber as { value: string; salt: string };
    f.value = flip(f.value, 3);
    const r = verifyOne(s, w, s.record.header.recordId);
    expect(r.ok).toBe(false);
    expect(failing(r)).toEqual(['leaf', 'merklePath']);
    expect(r.checks.find((c) => c.name === 'leaf')?.detail).toMatch(/differs from the anchored leaf/);
  });

  it('a flipped bit in a salt fails the leaf', () => {
    const w = world();
    const s = structuredClone(w.served[0]) as ServedRecord;
    const f = s.record.fields.content as { value: string; salt: string };
    // A bit of the salt's bytes, so that it is still a well-formed (base64url) salt: flipping a
    // character of its text could leave the alphabet ('-' ^ 1 is ',') — another failure.
    const bytes = fromB64u(f.salt);
    bytes[5]! ^= 1;
    f.salt = b64u(bytes);
    expect(failing(verifyOne(s, w, s.record.header.recordId))).toEqual(['leaf', 'merklePath']);
  });

  it('a flipped bit in a withheld digest fails the leaf; a digest that is no longer hex fails fieldDigests', () => {
    const w = world();
    const s = structuredClone(w.served[3]) as ServedRecord;
    const f = s.record.fields.principalFen as { digest: string };
    const original = f.digest;
    f.digest = (original[0] === '0' ? '1' : '0') + original.slice(1);
    expect(failing(verifyOne(s, w, s.record.header.recordId))).toEqual(['leaf', 'merklePath']);
    f.digest = 'X' + original.slice(1);
    const r = verifyOne(s, w, s.record.header.recordId);
    expect(failing(r)).toEqual(['fieldDigests', 'leaf', 'merklePath']);
    expect(r.checks[0]?.detail).toMatch(/principalFen/);
  });

  it('a flipped bit in a proof element fails the Merkle path only', () => {
    const w = world();
    const s = structuredClone(w.served[2]) as ServedRecord;
    s.proof[1] = flip(s.proof[1] ?? '', 10);
    const r = verifyOne(s, w, s.record.header.recordId);
    expect(failing(r)).toEqual(['merklePath']);
  });

  it('a flipped bit in the served root fails the anchor; a flipped anchored root fails the path', () => {
    const w = world();
    const s = structuredClone(w.served[1]) as ServedRecord;
    s.root = flip(s.root, 63);
    expect(failing(verifyOne(s, w, s.record.header.recordId))).toEqual(['anchor']);
    const w2 = world();
    const s2 = w2.served[1] as ServedRecord;
    const chainRoot = flip(w2.batch.root, 0);
    const r = verifyServedRecord(s2, { record: w2.records.get(s2.record.header.recordId), batch: { ...w2.batch, root: chainRoot } }, { publisher: 'GovMSP', subject });
    expect(failing(r)).toEqual(['merklePath', 'anchor']);
  });

  it('a flipped bit in the header (subject, publisher, issuedAt) fails the leaf and names the party', () => {
    const w = world();
    const s = structuredClone(w.served[0]) as ServedRecord;
    s.record.header.issuedAt = flip(s.record.header.issuedAt, 3);
    expect(failing(verifyOne(s, w, s.record.header.recordId))).toEqual(['leaf', 'merklePath']);
    const p = structuredClone(w.served[0]) as ServedRecord;
    p.record.header.publisher = 'CoreMSP';
    expect(failing(verifyOne(p, w, p.record.header.recordId))).toEqual(['leaf', 'merklePath', 'publisher']);
    const q = structuredClone(w.served[0]) as ServedRecord;
    q.record.header.subject = fixtureEnterprises.other.uscc;
    expect(failing(verifyOne(q, w, q.record.header.recordId))).toEqual(['leaf', 'merklePath', 'subject']);
  });

  it('records fetched from another publisher than the one anchoring them fail publisher', () => {
    const w = world();
    const s = w.served[0] as ServedRecord;
    expect(failing(verifyOne(s, w, s.record.header.recordId, 'CoreMSP'))).toEqual(['publisher']);
  });

  it('reports the on-chain status: disputed passes with a note, superseded and withdrawn fail', () => {
    const w = world();
    const s = w.served[1] as ServedRecord;
    const id = s.record.header.recordId;
    const base = w.records.get(id) as AnchoredRecord;
    const disputed = verifyServedRecord(s, { record: { ...base, status: 'disputed' }, batch: w.batch }, { publisher: 'GovMSP' });
    expect(disputed).toMatchObject({ ok: true, status: 'disputed' });
    expect(disputed.checks.find((c) => c.name === 'status')?.detail).toMatch(/objection/);
    const superseded = verifyServedRecord(s, { record: { ...base, status: 'superseded', supersededBy: 'rec-2' }, batch: w.batch }, { publisher: 'GovMSP' });
    expect(failing(superseded)).toEqual(['status']);
    expect(superseded.checks.find((c) => c.name === 'status')?.detail).toBe('superseded by rec-2');
    expect(failing(verifyServedRecord(s, { record: { ...base, status: 'withdrawn' }, batch: w.batch }, { publisher: 'GovMSP' }))).toEqual(['status']);
  });

  it('a record unknown to the ledger fails everything that needs the anchor', () => {
    const w = world();
    const s = w.served[0] as ServedRecord;
    const r = verifyServedRecord(s, { record: undefined, batch: undefined }, { publisher: 'GovMSP', subject });
    expect(failing(r)).toEqual(['leaf', 'merklePath', 'anchor', 'status']);
    expect(r.status).toBeUndefined();
  });

  it('never throws on malformed input', () => {
    const w = world();
    for (const bad of [null, 42, 'x', [], {}, { record: {} }, { record: { header: { recordId: 1 } } }, { record: { header: (w.served[0] as ServedRecord).record.header, fields: { licenceNumber: { value: 1 } } } },
      { record: { header: (w.served[0] as ServedRecord).record.header, fields: { notAField: { digest: 'a'.repeat(64) } } } }]) {
      const r = verifyServedRecord(bad, { record: undefined, batch: undefined }, { publisher: 'GovMSP' });
      expect(r.ok).toBe(false);
      expect(r.checks[0]).toMatchObject({ name: 'fieldDigests', ok: false });
    }
  });
});

describe('verifyServedRecords', () => {
  it('reads each record and its batch from the anchor source and keeps the order', async () => {
    const w = world();
    const reads: string[] = [];
    const source: AnchorSource = {
      batch: (id) => { reads.push(`batch:${id}`); return Promise.resolve(id === w.batch.batchId ? w.batch : undefined); },
      record: (ref) => { reads.push(`record:${ref.recordId}`); return Promise.resolve(w.records.get(ref.recordId)); },
    };
    const tampered = structuredClone(w.served[4]) as ServedRecord;
    tampered.index = 0;
    const reports = await verifyServedRecords([...w.served.slice(0, 4), tampered, { record: { header: { recordId: 'bad id!' } } }], source, { publisher: 'GovMSP', subject });
    expect(reports.map((r) => r.ok)).toEqual([true, true, true, true, false, false]);
    expect(reports.map((r) => r.recordId)).toEqual([...w.served.map((s) => s.record.header.recordId), 'bad id!']);
    expect(failing(reports[4] as VerificationReport)).toEqual(['anchor']);
    expect(reads.filter((r) => r.startsWith('record:'))).toHaveLength(5);
  });

  it('asks the ledger by RecordRef: the served batch, index and proof with the leaf recomputed from the served fields', async () => {
    const w = world();
    const refs: RecordRef[] = [];
    const source: AnchorSource = {
      batch: () => Promise.resolve(w.batch),
      // as the ledger resolves a ref: proven against the batch root, or nothing
      record: (ref) => {
        refs.push(ref);
        const ok = verifyInclusion(ref.leafHash, ref.index, w.batch.size, ref.proof, w.batch.root);
        return Promise.resolve(ok ? w.records.get(ref.recordId) : undefined);
      },
    };
    const forged = structuredClone(w.served[0]) as ServedRecord;
    const f = forged.record.fields.licenceNumber as { value: string; salt: string };
    f.value = flip(f.value, 3);
    const noProof = { ...structuredClone(w.served[1]), proof: 'none' };
    const reports = await verifyServedRecords([w.served[2], forged, noProof], source, { publisher: 'GovMSP', subject });
    expect(reports.map((r) => r.ok)).toEqual([true, false, false]);
    const good = w.served[2] as ServedRecord;
    expect(refs[0]).toEqual({ recordId: good.record.header.recordId, batchId: 'b1', index: 2, leafHash: w.records.get(good.record.header.recordId)?.leafHash, proof: good.proof });
    // The ledger does not prove the forged leaf: the report says so, and that its status cannot be known.
    expect(failing(reports[1] as VerificationReport)).toEqual(expect.arrayContaining(['leaf', 'merklePath', 'status']));
    expect(reports[1]?.checks.find((c) => c.name === 'leaf')?.detail).toMatch(/the record or its proof differs from what was anchored/);
    // a malformed proof is not sent to the ledger
    expect(refs).toHaveLength(2);
  });

  it('a source that answers one batch id with another root later: each record is judged against the root it was given', async () => {
    const w = world();
    let calls = 0;
    const source: AnchorSource = {
      batch: () => Promise.resolve(calls++ === 0 ? w.batch : { ...w.batch, root: flip(w.batch.root, 5) }),
      record: (ref) => Promise.resolve(w.records.get(ref.recordId)),
    };
    const reports = await verifyServedRecords(w.served, source, { publisher: 'GovMSP', subject });
    expect(reports[0]?.ok).toBe(true);
    for (const r of reports.slice(1)) expect(failing(r)).toEqual(['merklePath', 'anchor']);
  });
});

describe('verifyInclusionMemo', () => {
  const leaves = (n: number): string[] => Array.from({ length: n }, (_, i) => sealRecord({ recordId: `m${i}`, recordType: 'gov.tax-grade', subject, publisher: 'GovMSP', catalogueEntryId: 'c', issuedAt: '2026-11-01T08:00:00.000Z' }, { year: 2024 + i }).leafHash);

  it('agrees with core verifyInclusion for every leaf of trees of 1..40 leaves, sharing one memo per tree', () => {
    for (let n = 1; n <= 40; n++) {
      const ls = leaves(n);
      const tree = buildMerkleTree(ls);
      const memo: PathMemo = new Map();
      for (let i = 0; i < n; i++) {
        expect(verifyInclusionMemo(ls[i] as string, i, n, tree.proof(i), tree.root, memo)).toBe(true);
        // a wrong index or size fails as in core
        expect(verifyInclusionMemo(ls[i] as string, (i + 1) % n, n, tree.proof(i), tree.root, memo)).toBe(n === 1 ? true : verifyInclusion(ls[i] as string, (i + 1) % n, n, tree.proof(i), tree.root));
      }
    }
  });

  it('a flipped bit in a proof element above a shared (memoized) node still fails', () => {
    const ls = leaves(16);
    const tree = buildMerkleTree(ls);
    const memo: PathMemo = new Map();
    expect(verifyInclusionMemo(ls[0] as string, 0, 16, tree.proof(0), tree.root, memo)).toBe(true);
    // leaf 1 is leaf 0's proven sibling: none of its proof elements is hashed, each is compared
    for (let k = 0; k < 4; k++) {
      const proof = tree.proof(1);
      proof[k] = flip(proof[k] ?? '', 7);
      expect(verifyInclusionMemo(ls[1] as string, 1, 16, proof, tree.root, memo)).toBe(false);
    }
    const shorter = tree.proof(1).slice(0, 3);
    expect(verifyInclusionMemo(ls[1] as string, 1, 16, shorter, tree.root, memo)).toBe(false);
    expect(verifyInclusionMemo(ls[1] as string, 1, 16, [...tree.proof(1), tree.root], tree.root, memo)).toBe(false);
    // a proven leaf at another index, or another leaf at a proven one, fails
    expect(verifyInclusionMemo(ls[0] as string, 1, 16, tree.proof(1), tree.root, memo)).toBe(false);
    expect(verifyInclusionMemo(flip(ls[1] as string, 30), 1, 16, tree.proof(1), tree.root, memo)).toBe(false);
    expect(verifyInclusionMemo(ls[1] as string, 1, 16, tree.proof(1), tree.root, memo)).toBe(true);
  });

  it('a flipped bit in any leaf or proof element fails, whichever nodes are already proven (trees of 1..24 leaves, several orders)', () => {
    for (let n = 1; n <= 24; n++) {
      const ls = leaves(n);
      const tree = buildMerkleTree(ls);
      const orders = [ls.map((_, i) => i), ls.map((_, i) => n - 1 - i), ls.map((_, i) => (i * 7) % n)];
      for (const order of orders) {
        const memo: PathMemo = new Map();
        for (const i of order) {
          const leaf = ls[i] as string;
          expect(verifyInclusionMemo(flip(leaf, i % 64), i, n, tree.proof(i), tree.root, memo)).toBe(false);
          for (let k = 0; k < tree.proof(i).length; k++) {
            const proof = tree.proof(i);
            proof[k] = flip(proof[k] ?? '', (i + k) % 64);
            expect(verifyInclusionMemo(leaf, i, n, proof, tree.root, memo)).toBe(false);
          }
          expect(verifyInclusionMemo(leaf, i, n, tree.proof(i), tree.root, memo)).toBe(true);
        }
      }
    }
  });

  it('proves each node of a tree once: after all its leaves, the memo holds its 2n - 1 nodes (and the tree it belongs to)', () => {
    for (const n of [1, 2, 3, 5, 8, 13, 1000]) {
      const ls = leaves(n);
      const tree = buildMerkleTree(ls);
      const memo: PathMemo = new Map();
      for (let i = 0; i < n; i++) expect(verifyInclusionMemo(ls[i] as string, i, n, tree.proof(i), tree.root, memo)).toBe(true);
      expect(memo.size).toBe(2 * n - 1 + 2);
    }
  });

  it('a memo of one tree is not used for another root or size', () => {
    const a = leaves(9);
    const b = leaves(10);
    const ta = buildMerkleTree(a);
    const tb = buildMerkleTree(b);
    const memo: PathMemo = new Map();
    for (let i = 0; i < 9; i++) expect(verifyInclusionMemo(a[i] as string, i, 9, ta.proof(i), ta.root, memo)).toBe(true);
    for (let i = 0; i < 10; i++) {
      expect(verifyInclusionMemo(b[i] as string, i, 10, tb.proof(i), tb.root, memo)).toBe(true);
      expect(verifyInclusionMemo(b[i] as string, i, 10, tb.proof(i), ta.root, memo)).toBe(false);
    }
    // the right root with a wrong size fails, as in core
    for (let i = 0; i < 9; i++) expect(verifyInclusionMemo(a[i] as string, i, 10, ta.proof(i), ta.root, memo)).toBe(verifyInclusion(a[i] as string, i, 10, ta.proof(i), ta.root));
  });
});

describe('ledgerAnchorSource', () => {
  it('reads batches once (they never change), records by RecordRef every time (their status does), and maps NOT_FOUND and RECORD_PROOF_INVALID to undefined', async () => {
    const calls: string[] = [];
    const ledger = {
      evaluate: <T>(contract: string, tx: string, id: string): Promise<T> => {
        calls.push(`${contract}:${tx}:${id}`);
        if (id === 'missing' || id.includes('"missing"')) return Promise.reject(Object.assign(new Error('NOT_FOUND: no'), { code: 'NOT_FOUND' }));
        if (id.includes('"unproven"')) return Promise.reject(Object.assign(new Error('RECORD_PROOF_INVALID: no'), { code: 'RECORD_PROOF_INVALID' }));
        if (id === 'down' || id.includes('"down"')) return Promise.reject(Object.assign(new Error('LEDGER_UNAVAILABLE: down'), { code: 'LEDGER_UNAVAILABLE' }));
        return Promise.resolve({ id } as T);
      },
    };
    const source = ledgerAnchorSource(ledger);
    const ref = (recordId: string): RecordRef => ({ recordId, batchId: 'b1', index: 0, leafHash: 'a'.repeat(64), proof: [] });
    const arg = (recordId: string): string => canonicalize(ref(recordId));
    await source.batch('b1');
    await source.batch('b1');
    await source.record(ref('r1'));
    await source.record(ref('r1'));
    expect(await source.batch('missing')).toBeUndefined();
    expect(await source.record(ref('missing'))).toBeUndefined();
    expect(await source.record(ref('unproven'))).toBeUndefined();
    await expect(source.record(ref('down'))).rejects.toMatchObject({ code: 'LEDGER_UNAVAILABLE' });
    await expect(source.batch('down')).rejects.toMatchObject({ code: 'LEDGER_UNAVAILABLE' });
    // A missing or failed batch read is not remembered.
    await source.batch('missing');
    expect(calls).toEqual([
      'anchors:GetBatch:b1', `anchors:GetRecord:${arg('r1')}`, `anchors:GetRecord:${arg('r1')}`, 'anchors:GetBatch:missing', `anchors:GetRecord:${arg('missing')}`,
      `anchors:GetRecord:${arg('unproven')}`, `anchors:GetRecord:${arg('down')}`, 'anchors:GetBatch:down', 'anchors:GetBatch:missing',
    ]);
  });
});
