import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildMerkleTree, inclusionProof, merkleRoot, rootFromInclusionProof, verifyInclusion } from '../src/merkle';
import { CredexError } from '../src/errors';

const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const rfcLeafHash = (entryHex: string): string => sha(Buffer.from([0]), Buffer.from(entryHex, 'hex')).toString('hex');

// RFC 6962 reference data (Certificate Transparency test vectors).
const CT_ENTRIES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const CT_ROOTS = [
  'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const CT_INCLUSION = [
  {
    index: 0,
    proof: [
      '96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7',
      '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e',
      '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4',
    ],
  },
  {
    index: 5,
    proof: [
      'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b',
      'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0',
      'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    ],
  },
];

/**
 * An independent RFC 6962 §2.1 implementation, recursive as the RFC writes it (split at the
 * largest power of two < n), memoized on (start, end) so all sizes up to 1000 stay cheap.
 */
class Rfc6962Reference {
  private readonly memo = new Map<string, Buffer>();
  constructor(private readonly leaves: Buffer[]) {}

  static split(n: number): number {
    let k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  mth(start: number, end: number): Buffer {
    const n = end - start;
    if (n === 1) return this.leaves[start]!;
    const key = `${start}:${end}`;
    let h = this.memo.get(key);
    if (h === undefined) {
      const k = Rfc6962Reference.split(n);
      h = sha(Buffer.from([1]), this.mth(start, start + k), this.mth(start + k, end));
      this.memo.set(key, h);
    }
    return h;
  }

  /** PATH(m, D[start:end]) with the side of each sibling ('L': sibling is on the left). */
  path(m: number, start: number, end: number): { hash: string; side: 'L' | 'R' }[] {
    const n = end - start;
    if (n <= 1) return [];
    const k = Rfc6962Reference.split(n);
    if (m < k) return [...this.path(m, start, start + k), { hash: this.mth(start + k, end).toString('hex'), side: 'R' }];
    return [...this.path(m - k, start + k, end), { hash: this.mth(start, start + k).toString('hex'), side: 'L' }];
  }
}

const MAX = 1000;
const LEAVES = Array.from({ length: MAX }, (_, i) => sha(Buffer.from([0]), Buffer.from(`record ${i}`)).toString('hex'));
const reference = new Rfc6962Reference(LEAVES.map((h) => Buffer.from(h, 'hex')));

function flipBit(hex: string, bit: number): string {
  const b = Buffer.from(hex, 'hex');
  b[bit >> 3]! ^= 1 << (bit & 7);
  return b.toString('hex');
}

/** The sibling sides of PATH(index, size) — what decides how a verifier combines a proof. */
function shape(index: number, size: number): string {
  if (size <= 1) return '';
  const k = Rfc6962Reference.split(size);
  return index < k ? `${shape(index, k)}R` : `${shape(index - k, size - k)}L`;
}

function indicesToCheck(n: number): number[] {
  if (n <= 64) return Array.from({ length: n }, (_, i) => i);
  const k = Rfc6962Reference.split(n);
  return [...new Set([0, 1, k - 1, k, Math.floor(n / 2), (n * 7919) % n, n - 2, n - 1])];
}

/** Sizes for the tamper tests: all small ones, then a spread up to 1000. */
const TAMPER_SIZES = [...Array.from({ length: 70 }, (_, i) => i + 1), 100, 127, 128, 129, 255, 256, 257, 511, 512, 513, 640, 999, 1000];

describe('merkleRoot', () => {
  it('matches the RFC 6962 reference roots for sizes 0..8', () => {
    const leaves = CT_ENTRIES.map(rfcLeafHash);
    for (let n = 0; n <= 8; n++) expect(merkleRoot(leaves.slice(0, n)), `size ${n}`).toBe(CT_ROOTS[n]);
  });

  it('rejects leaves that are not lowercase 64-hex', () => {
    for (const bad of [LEAVES[0]!.toUpperCase(), LEAVES[0]!.slice(1), 'zz'.repeat(32)]) {
      expect(() => merkleRoot([LEAVES[1]!, bad])).toThrow(CredexError);
      expect(() => merkleRoot([LEAVES[1]!, bad])).toThrow(/^HASH_INVALID: leaf 1/);
    }
  });
});

describe('inclusion proofs', () => {
  it('match the RFC 6962 reference proofs and verify', () => {
    const leaves = CT_ENTRIES.map(rfcLeafHash);
    for (const { index, proof } of CT_INCLUSION) {
      expect(inclusionProof(leaves, index)).toEqual(proof);
      expect(verifyInclusion(leaves[index]!, index, 8, proof, CT_ROOTS[8]!)).toBe(true);
    }
  });

  it('for every size 1..1000: the root is RFC 6962 MTH, proofs are RFC 6962 PATH and verify', () => {
    // Mismatches are collected and asserted once: per-item expect() calls would dominate the run time.
    const mismatches: string[] = [];
    let checked = 0;
    for (let n = 1; n <= MAX; n++) {
      const tree = buildMerkleTree(LEAVES.slice(0, n));
      if (tree.size !== n || tree.root !== reference.mth(0, n).toString('hex')) mismatches.push(`root of ${n}`);
      for (const i of indicesToCheck(n)) {
        const proof = tree.proof(i);
        const expected = reference.path(i, 0, n).map((p) => p.hash);
        if (proof.join() !== expected.join()) mismatches.push(`proof of ${i} in ${n}`);
        if (!verifyInclusion(LEAVES[i]!, i, n, proof, tree.root)) mismatches.push(`verify ${i} in ${n}`);
        checked++;
      }
    }
    expect(mismatches).toEqual([]);
    expect(checked).toBeGreaterThan(7000);
  });

  it('inclusionProof gives the same proof as the built tree', () => {
    for (const n of [1, 2, 3, 31, 64, 65, 333, 1000]) {
      const leaves = LEAVES.slice(0, n);
      for (const i of indicesToCheck(n)) expect(inclusionProof(leaves, i)).toEqual(buildMerkleTree(leaves).proof(i));
    }
  });

  it('fail when one bit of the leaf, a proof element, the root or the index is flipped', () => {
    const accepted: string[] = [];
    let tries = 0;
    const expectRejected = (ok: boolean, what: string): void => {
      tries++;
      if (ok) accepted.push(what);
    };
    for (const n of TAMPER_SIZES) {
      const tree = buildMerkleTree(LEAVES.slice(0, n));
      for (const i of indicesToCheck(n)) {
        const leaf = LEAVES[i]!;
        const proof = tree.proof(i);
        const bit = (i * 31 + n) % 256;
        expectRejected(verifyInclusion(flipBit(leaf, bit), i, n, proof, tree.root), `leaf ${i}/${n}`);
        expectRejected(verifyInclusion(leaf, i, n, proof, flipBit(tree.root, bit)), `root ${i}/${n}`);
        if (proof.length > 0) {
          const j = i % proof.length;
          const tampered = proof.map((q, k) => (k === j ? flipBit(q, bit) : q));
          expectRejected(verifyInclusion(leaf, i, n, tampered, tree.root), `proof[${j}] ${i}/${n}`);
        }
        for (let b = 0; 2 ** b <= 2 * n; b++) {
          expectRejected(verifyInclusion(leaf, i ^ (1 << b), n, proof, tree.root), `index ${i}^bit${b} /${n}`);
        }
      }
    }
    expect(accepted).toEqual([]);
    expect(tries).toBeGreaterThan(20_000);
  });

  it('fail when one bit of the size is flipped, unless the path keeps its exact shape', () => {
    // A proof binds (index, size) only through the shape of its path: leaf 0's proof in a tree
    // of 5 also "verifies" at size 7 against the size-5 root. The root itself commits to the
    // size, so a verifier must take root and size together from the anchor (AnchorBatch
    // stores both); a wrong size never lets a leaf outside the tree verify.
    expect(verifyInclusion(LEAVES[0]!, 0, 7, buildMerkleTree(LEAVES.slice(0, 5)).proof(0), merkleRoot(LEAVES.slice(0, 5)))).toBe(true);
    const wrong: string[] = [];
    let rejected = 0;
    for (const n of TAMPER_SIZES) {
      const tree = buildMerkleTree(LEAVES.slice(0, n));
      for (const i of indicesToCheck(n)) {
        const proof = tree.proof(i);
        for (let b = 0; 2 ** b <= 2 * n; b++) {
          const size = n ^ (1 << b);
          const sameShape = i < size && shape(i, size) === shape(i, n);
          const ok = verifyInclusion(LEAVES[i]!, i, size, proof, tree.root);
          if (ok !== sameShape) wrong.push(`index ${i}, size ${n} → ${size}: ${ok}`);
          if (!ok) rejected++;
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(rejected).toBeGreaterThan(5000);
  });

  it('fail on malformed or inconsistent input without throwing', () => {
    const n = 11;
    const tree = buildMerkleTree(LEAVES.slice(0, n));
    const proof = tree.proof(4);
    const leaf = LEAVES[4]!;
    expect(verifyInclusion(leaf, 4, n, proof, tree.root)).toBe(true);
    expect(verifyInclusion(leaf, 4, n, proof.slice(0, -1), tree.root)).toBe(false);
    expect(verifyInclusion(leaf, 4, n, [...proof, proof[0]!], tree.root)).toBe(false);
    expect(verifyInclusion(leaf, 4, n, [...proof].reverse(), tree.root)).toBe(false);
    expect(verifyInclusion(leaf, 4, n, proof, tree.root.toUpperCase())).toBe(false);
    expect(verifyInclusion(leaf.toUpperCase(), 4, n, proof, tree.root)).toBe(false);
    expect(verifyInclusion(leaf, 4, n, [...proof.slice(0, -1), 'xyz'], tree.root)).toBe(false);
    expect(verifyInclusion(leaf, -1, n, proof, tree.root)).toBe(false);
    expect(verifyInclusion(leaf, 4.5, n, proof, tree.root)).toBe(false);
    expect(verifyInclusion(leaf, 4, Number.NaN, proof, tree.root)).toBe(false);
    expect(verifyInclusion(leaf, n, n, proof, tree.root)).toBe(false);
    expect(verifyInclusion(leaf, 4, n, 'not a proof' as unknown as string[], tree.root)).toBe(false);
    expect(verifyInclusion(leaf, 0, 0, [], merkleRoot([]))).toBe(false);
  });

  it('a single-leaf tree has an empty proof and the leaf as root', () => {
    const tree = buildMerkleTree([LEAVES[0]!]);
    expect(tree.root).toBe(LEAVES[0]);
    expect(tree.proof(0)).toEqual([]);
    expect(verifyInclusion(LEAVES[0]!, 0, 1, [], LEAVES[0]!)).toBe(true);
  });

  it('refuses an index outside the tree', () => {
    const leaves = LEAVES.slice(0, 5);
    for (const bad of [-1, 5, 1.5, Number.NaN]) expect(() => inclusionProof(leaves, bad)).toThrow(/^INDEX_INVALID: /);
    expect(() => buildMerkleTree([]).proof(0)).toThrow(/^INDEX_INVALID: /);
  });
});

describe('rootFromInclusionProof', () => {
  const leaves = CT_ENTRIES.map(rfcLeafHash);

  it('leads every leaf of every RFC 6962 test tree to that tree\'s root', () => {
    for (let n = 1; n <= leaves.length; n++) {
      const tree = buildMerkleTree(leaves.slice(0, n));
      for (let i = 0; i < n; i++) expect(rootFromInclusionProof(leaves[i] as string, i, n, tree.proof(i))).toBe(CT_ROOTS[n]);
    }
  });

  it('yields no root for a proof one element too short or too long, or malformed input', () => {
    const tree = buildMerkleTree(leaves);
    const proof = tree.proof(5);
    expect(rootFromInclusionProof(leaves[5] as string, 5, 8, proof.slice(1))).toBeUndefined();
    expect(rootFromInclusionProof(leaves[5] as string, 5, 8, [...proof, proof[0] as string])).toBeUndefined();
    expect(rootFromInclusionProof('AB', 5, 8, proof)).toBeUndefined();
    expect(rootFromInclusionProof(leaves[5] as string, 8, 8, proof)).toBeUndefined();
  });

  it('shows each step\'s position and node, and stops when told to', () => {
    const tree = buildMerkleTree(leaves);
    const steps: [number, number, number, string][] = [];
    expect(rootFromInclusionProof(leaves[5] as string, 5, 8, tree.proof(5), (k, i, last, node) => steps.push([k, i, last, node]) > 0)).toBe(tree.root);
    expect(steps.map(([k, i, last]) => [k, i, last])).toEqual([[0, 5, 7], [1, 2, 3], [2, 1, 1]]);
    expect(steps[0]?.[3]).toBe(leaves[5]);
    expect(rootFromInclusionProof(leaves[5] as string, 5, 8, tree.proof(5), (k) => k < 1)).toBeUndefined();
  });
});
