/**
 * core's optimized canonical JSON, sealing, leaf hashing and Merkle code against the
 * straightforward reference implementations in ./reference, on many pseudo-random inputs
 * (seeded, so a failure names a reproducible case): the same bytes, the same hashes, the same
 * failures.
 */
import { describe, expect, it } from 'vitest';
import { CredexError } from '../src/errors';
import { fieldDigest, newSalt, SALT_BYTES } from '../src/hash';
import { canonicalize, canonicalString } from '../src/jcs';
import { b64u, fromB64u } from '../src/keys';
import { buildMerkleTree, inclusionProof, merkleRoot, rootFromInclusionProof, verifyInclusion } from '../src/merkle';
import { disclose, leafHash, leafHashOfDisclosed, sealRecord, type RecordHeader } from '../src/record';
import { ReferenceJcsError, refCanonicalize, refFieldDigest, refInclusionProof, refLeafHash, refMerkleRoot, refRootFromProof, refSeal, refSha256, type RefStep } from './reference';

/** mulberry32: a small seeded generator, so every case can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(private readonly next: () => number) {}
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(256)));
  }
  /** Strings as records hold them, with now and then what JSON must escape or cannot hold. */
  string(allowLoneSurrogate: boolean): string {
    const pieces = [
      'a', 'Z', '0', '9', '-', '_', ' ', '.', ':', '/', '"', '\\', '\u0000', '\b', '\t', '\n', '\f', '\r', '\u001f', '\u007f',
      '\u00e9', '\u2028', '\u2029', '信', '用', '〔', '〕', '，', '\uff01', '\ufeff', '😀', '\ud834\udd1e', '</script>', 'é',
    ];
    const plain = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:';
    const len = this.pick([0, 1, 3, 8, 12, 22, 40, 64, 65, 120, 300]);
    let s = '';
    const fancy = this.chance(0.4);
    for (let i = 0; i < len; i++) s += fancy && this.chance(0.3) ? this.pick(pieces) : plain.charAt(this.int(plain.length));
    if (allowLoneSurrogate && this.chance(0.5)) {
      const at = this.int(s.length + 1);
      s = s.slice(0, at) + this.pick(['\ud800', '\udbff', '\udc00', '\udfff']) + s.slice(at);
    }
    return s;
  }
  number(): number {
    return this.pick([
      () => this.int(1000),
      () => -this.int(1_000_000_000),
      () => (this.next() - 0.5) * 10 ** this.int(40),
      () => this.next() * 10 ** -this.int(30),
      () => -0,
      () => Number.MAX_SAFE_INTEGER,
      () => Number.MIN_VALUE,
      () => 1e21,
      () => 1e-7,
      () => 5e-324,
      () => 123456789012345680000,
    ])();
  }
  key(): string {
    // A small pool, so key lists of one shape recur (as records of one type do), with index-like keys.
    return this.chance(0.85) ? this.pick(['amount', 'amountFen', 'name', 'uscc', 'date', 'a', 'b', 'A', '10', '9', '0', '', 'é', '信用', 'z_1', 'penaltyType']) : this.string(false);
  }
  value(depth: number): unknown {
    const kind = depth > 3 ? this.int(4) : this.int(7);
    switch (kind) {
      case 0:
      case 1:
        return this.string(false);
      case 2:
        return this.number();
      case 3:
        return this.pick([true, false, null]);
      case 4:
        return Array.from({ length: this.int(5) }, () => this.value(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        const n = this.int(6);
        for (let i = 0; i < n; i++) o[this.key()] = this.value(depth + 1);
        return o;
      }
    }
  }
  /** Something canonicalize must refuse, placed somewhere inside an otherwise valid value. */
  invalid(): unknown {
    const bad = this.pick<() => unknown>([
      () => Number.NaN,
      () => Number.POSITIVE_INFINITY,
      () => undefined,
      () => () => 1,
      () => Symbol('s'),
      () => 10n,
      () => new Date(0),
      () => new Map(),
      () => `x${this.pick(['\ud800', '\udfff'])}y`,
      () => ({ [`k\udc00`]: 1 }),
    ])();
    const holder: Record<string, unknown> = {};
    const n = this.int(3);
    for (let i = 0; i < n; i++) holder[this.key()] = this.value(2);
    holder[this.key()] = this.chance(0.5) ? bad : [this.value(3), bad];
    return holder;
  }
  salt(): string {
    return b64u(this.bytes(this.pick([16, 16, 16, 17, 18, 24, 32])));
  }
  header(i: number): RecordHeader {
    const h: RecordHeader = {
      recordId: this.chance(0.8) ? `rec-${i}` : this.string(false),
      recordType: this.pick(['gov.admin-penalty', 'gov.tax-grade', 'sc.payment-performance', this.string(false)]),
      subject: this.pick(['91350100M000100Y43', '11610100MB2960813C']),
      publisher: this.pick(['GovMSP', 'BankMSP', 'CoreMSP']),
      catalogueEntryId: `cat-${this.int(5)}`,
      issuedAt: new Date(Date.UTC(2026, 0, 1) + this.int(1e10)).toISOString(),
    };
    if (this.chance(0.2)) h.supersedes = `rec-${this.int(i + 1)}`;
    return h;
  }
  fields(): Record<string, unknown> {
    const names = ['decisionNumber', 'violationType', 'facts', 'amountFen', 'penaltyType', 'authority', 'decisionDate', '信用等级', 'a"b', 'x\\y', '10', '2', ''];
    const fields: Record<string, unknown> = {};
    const n = 1 + this.int(12);
    for (let i = 0; i < n; i++) fields[this.chance(0.9) ? this.pick(names) : this.string(false)] = this.value(1);
    return fields;
  }
}

/** What canonicalize did: its text, or the path of its JCS_INVALID. */
function outcome(f: () => string): { text: string } | { invalid: string } {
  try {
    return { text: f() };
  } catch (e) {
    if (e instanceof CredexError && e.code === 'JCS_INVALID') return { invalid: typeof e.details?.path === 'string' ? e.details.path : '' };
    if (e instanceof ReferenceJcsError) return { invalid: e.path };
    throw e;
  }
}

describe('canonicalize = the reference RFC 8785 serializer', () => {
  it('on 20,000 random JSON values, the same text', () => {
    const g = new Gen(rng(8785));
    for (let i = 0; i < 20_000; i++) {
      const v = g.value(0);
      expect(canonicalize(v), `case ${i}`).toBe(refCanonicalize(v));
    }
  });

  it('on 5,000 random invalid values, JCS_INVALID at the same path', () => {
    const g = new Gen(rng(1));
    for (let i = 0; i < 5_000; i++) {
      const v = g.invalid();
      const got = outcome(() => canonicalize(v));
      expect(got, `case ${i}`).toEqual(outcome(() => refCanonicalize(v)));
      expect('invalid' in got).toBe(true);
    }
  });

  it('canonicalString on random strings, lone surrogates refused', () => {
    const g = new Gen(rng(2));
    for (let i = 0; i < 20_000; i++) {
      const s = g.string(true);
      const want = outcome(() => refCanonicalize(s));
      // canonicalString's error has no path (there is no enclosing value).
      expect(outcome(() => canonicalString(s)), `case ${i}`).toEqual('text' in want ? want : { invalid: '' });
      expect(outcome(() => canonicalize(s)), `case ${i}`).toEqual(want);
    }
  });
});

describe('sealing and leaf hashing = the reference', () => {
  it('on 3,000 random records with given salts, the same field digests and leaf; every disclosure gives that leaf back', () => {
    const g = new Gen(rng(6962));
    for (let i = 0; i < 3_000; i++) {
      const header = g.header(i);
      const fields = g.fields();
      const salts = Object.fromEntries(Object.keys(fields).map((name) => [name, g.salt()]));
      const sealed = sealRecord(header, fields, salts);
      const ref = refSeal(header, fields, salts);
      expect(sealed.fieldDigests, `case ${i}`).toEqual(ref.fieldDigests);
      expect(sealed.leafHash, `case ${i}`).toBe(ref.leafHash);
      expect(leafHash(header, sealed.fieldDigests)).toBe(ref.leafHash);
      for (const [name, value] of Object.entries(fields)) expect(fieldDigest(name, value, salts[name]!)).toBe(ref.fieldDigests[name]);
      const shown = Object.keys(fields).filter(() => g.chance(0.5));
      const parsed = JSON.parse(JSON.stringify(disclose(sealed, shown))) as ReturnType<typeof disclose>;
      expect(leafHashOfDisclosed(parsed), `case ${i}`).toBe(ref.leafHash);
    }
  });

  it('with fresh salts: 16 random bytes each, base64url as b64u writes them, and the reference digests', () => {
    const g = new Gen(rng(3));
    const seen = new Set<string>();
    for (let i = 0; i < 1_000; i++) {
      const header = g.header(i);
      const fields = g.fields();
      const sealed = sealRecord(header, fields);
      for (const salt of Object.values(sealed.salts)) {
        const bytes = fromB64u(salt);
        expect(bytes.length).toBe(SALT_BYTES);
        expect(b64u(bytes)).toBe(salt);
        expect(seen.has(salt)).toBe(false);
        seen.add(salt);
      }
      expect(sealed.leafHash).toBe(refSeal(header, fields, sealed.salts).leafHash);
    }
    for (let i = 0; i < 600; i++) expect(b64u(fromB64u(newSalt()))).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('fresh salts carry 128 random bits: each bit is set in about half of 4,096 salts', () => {
    const ones = new Array<number>(SALT_BYTES * 8).fill(0);
    const count = 4_096;
    for (let i = 0; i < count; i++) {
      const bytes = fromB64u(newSalt());
      for (let bit = 0; bit < ones.length; bit++) if ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1) ones[bit]!++;
    }
    // Mean 2,048, standard deviation 32: a bit outside [1,700, 2,400] is not random.
    for (const n of ones) expect(n > 1_700 && n < 2_400, `${n} of ${count}`).toBe(true);
  });

  it('leafHash of unusual headers and digests (non-string values, escapes, odd prototypes) matches the reference or fails alike', () => {
    const g = new Gen(rng(4));
    const results = { text: 0, invalid: 0 };
    for (let i = 0; i < 3_000; i++) {
      const header = g.header(i) as unknown as Record<string, unknown>;
      const digests: Record<string, unknown> = {};
      for (let j = g.int(6); j > 0; j--) digests[g.key()] = g.chance(0.7) ? refSha256(String(j)).toString('hex') : g.string(false);
      const twist = g.int(6);
      if (twist === 0) header[g.key()] = g.value(2);
      if (twist === 1) digests[g.key()] = g.value(2);
      if (twist === 2) header.recordId = g.string(true);
      if (twist === 3) digests[g.string(true)] = 'ab';
      if (twist === 4) Object.setPrototypeOf(digests, null);
      const got = outcome(() => leafHash(header as unknown as RecordHeader, digests as Record<string, string>));
      const want = outcome(() => refLeafHash(header, digests as Record<string, string>));
      expect(got, `case ${i}`).toEqual(want);
      results['text' in got ? 'text' : 'invalid']++;
    }
    expect(Math.min(results.text, results.invalid)).toBeGreaterThan(300);
  });

  it('refuses a name, salt or value with a lone surrogate as the reference does', () => {
    const g = new Gen(rng(5));
    for (let i = 0; i < 3_000; i++) {
      const name = g.chance(0.3) ? g.string(true) : 'amount';
      const salt = g.chance(0.3) ? g.string(true) : g.salt();
      const value = g.chance(0.3) ? g.invalid() : g.value(1);
      const got = outcome(() => fieldDigest(name, value, salt));
      const want = outcome(() => refFieldDigest(name, value, salt));
      // The reference writes {n, s, v} in one pass, so its path names the member; core's
      // message is about the failing part, so only success and failure are compared here.
      expect('text' in got, `case ${i}`).toBe('text' in want);
      if ('text' in got && 'text' in want) expect(got.text).toBe(want.text);
    }
  });
});

describe('callers outside TypeScript keep the answers they had', () => {
  it('a non-string salt or string argument is written by JSON.stringify, as before', () => {
    const salt = b64u(Buffer.alloc(16, 7));
    const odd = [salt] as unknown as string;
    const sealed = sealRecord({ recordId: 'r', recordType: 't', subject: 's', publisher: 'p', catalogueEntryId: 'c', issuedAt: 'i' }, { amount: 1 }, { amount: odd });
    expect(sealed.fieldDigests.amount).toBe(refFieldDigest('amount', 1, odd));
    expect(fieldDigest('amount', 1, odd)).toBe(refFieldDigest('amount', 1, odd));
    expect(canonicalString(5 as unknown as string)).toBe('5');
    expect(fieldDigest(7 as unknown as string, 1, salt)).toBe(refSha256(`{"n":7,"s":"${salt}","v":1}`).toString('hex'));
  });
});

describe('Merkle trees and inclusion proofs = the RFC 6962 / 9162 reference', () => {
  const leavesOf = (n: number, seed: number): Buffer[] => {
    const g = new Gen(rng(seed));
    return Array.from({ length: n }, () => refSha256(Buffer.from([0]), g.bytes(g.int(40))));
  };

  it('roots and every proof for sizes 0–80, 127–129, 1000 and 1025', () => {
    for (const n of [...Array.from({ length: 81 }, (_, i) => i), 127, 128, 129, 1000, 1025]) {
      const leaves = leavesOf(n, n);
      const hex = leaves.map((l) => l.toString('hex'));
      const tree = buildMerkleTree(hex);
      expect(tree.root, `size ${n}`).toBe(refMerkleRoot(leaves).toString('hex'));
      expect(merkleRoot(hex)).toBe(tree.root);
      const indexes = n <= 130 ? Array.from({ length: n }, (_, i) => i) : [0, 1, 2, 511, 512, 513, n - 2, n - 1];
      for (const i of indexes) {
        const proof = tree.proof(i);
        expect(proof, `size ${n} index ${i}`).toEqual(refInclusionProof(leaves, i).map((p) => p.toString('hex')));
        if (n <= 40) expect(inclusionProof(hex, i)).toEqual(proof);
        expect(rootFromInclusionProof(hex[i]!, i, n, proof)).toBe(tree.root);
      }
    }
  });

  it('on 10,000 random walks, valid or tampered, the same root (or none) and the same steps', () => {
    const g = new Gen(rng(9162));
    const trees = [1, 2, 3, 5, 8, 13, 100, 333, 1024].map((n) => {
      const leaves = leavesOf(n, 1000 + n).map((l) => l.toString('hex'));
      return { n, leaves, tree: buildMerkleTree(leaves) };
    });
    const results = { proven: 0, refused: 0 };
    for (let c = 0; c < 10_000; c++) {
      const { n, leaves, tree } = g.pick(trees);
      let index: number = g.int(n);
      let size: number = n;
      let leaf = leaves[index]!;
      let proof: string[] = tree.proof(index);
      const flip = (h: string): string => {
        const at = g.int(64);
        return h.slice(0, at) + (parseInt(h.charAt(at), 16) ^ (1 << g.int(4))).toString(16) + h.slice(at + 1);
      };
      switch (g.int(10)) {
        case 0: index = g.int(n + 2) - 1; break;
        case 1: size = g.int(2 * n + 2); break;
        case 2: if (proof.length > 0) { const at = g.int(proof.length); proof[at] = flip(proof[at]!); } break;
        case 3: leaf = flip(leaf); break;
        case 4: proof = g.chance(0.5) ? proof.slice(0, -1) : [...proof, leaves[0]!]; break;
        case 5: if (proof.length > 0) proof[0] = proof[0]!.toUpperCase(); break;
        case 6: if (proof.length > 0) proof[g.int(proof.length)] = g.pick(['', 'zz', `${proof[0]!}0`, proof[0]!.slice(1)]); break;
        default: break;
      }
      const stopAt = g.chance(0.3) ? g.int(proof.length + 1) : undefined;
      const steps: [number, number, number, string][] = [];
      const got = rootFromInclusionProof(leaf, index, size, proof, (k, fn, sn, node) => {
        steps.push([k, fn, sn, node]);
        return k !== stopAt;
      });
      const refSteps: RefStep[] = [];
      const want = refRootFromProof(leaf, index, size, proof, refSteps, stopAt);
      expect(got, `case ${c}`).toBe(want);
      expect(steps, `case ${c}`).toEqual(refSteps);
      expect(rootFromInclusionProof(leaf, index, size, proof)).toBe(refRootFromProof(leaf, index, size, proof));
      const proven = verifyInclusion(leaf, index, size, proof, tree.root);
      expect(proven).toBe(refRootFromProof(leaf, index, size, proof) === tree.root);
      results[proven ? 'proven' : 'refused']++;
    }
    // Both outcomes were exercised, many times.
    expect(Math.min(results.proven, results.refused)).toBeGreaterThan(2_000);
  });
});

describe('the lone-surrogate test core uses on this Node', () => {
  it('String.prototype.isWellFormed, where present, agrees with the \\p{Cs} regex older Nodes use', () => {
    const wellFormed = (String.prototype as Partial<{ isWellFormed(): boolean }>).isWellFormed;
    const g = new Gen(rng(6));
    for (let i = 0; i < 20_000; i++) {
      const s = g.string(true);
      const viaRegex = !/\p{Cs}/u.test(s);
      expect(viaRegex).toBe(!/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, '')));
      if (wellFormed !== undefined) expect(wellFormed.call(s), `case ${i}`).toBe(viaRegex);
    }
  });
});
