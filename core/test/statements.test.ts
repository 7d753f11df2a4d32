import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  signed,
  signStatement,
  statementBytes,
  statementId,
  STATEMENT_KINDS,
  verifyStatement,
  type StatementKind,
} from '../src/statements';
import { b64u, fromB64u, signingKeyPairFromSeed } from '../src/keys';
import { canonicalize } from '../src/jcs';
import { sha256Hex } from '../src/hash';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

const consent = {
  subject: '91350100M000100Y43',
  grantee: 'BankMSP',
  scope: { recordTypes: ['tax-credit-grade', 'administrative-penalty'] },
  purpose: 'loan-underwriting',
  fieldScope: { maxGrade: 2 },
  notBefore: '2026-11-01T00:00:00.000Z',
  notAfter: '2027-11-01T00:00:00.000Z',
  maxUses: 3,
  nonce: 'bm9uY2UtMDAwMDAwMDAwMQ',
};

function seedOf(n: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => (i * 29 + n * 7 + 1) & 0xff);
}

function nodePrivateKey(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

describe('statementBytes and statementId', () => {
  it('prefix the canonical JSON with credex/<kind>/v1 and a newline', () => {
    const bytes = statementBytes('consent', consent);
    expect(new TextDecoder().decode(bytes)).toBe(`credex/consent/v1\n${canonicalize(consent)}`);
    expect(statementId('consent', consent)).toBe(sha256Hex(bytes));
  });

  it('do not depend on key order and do depend on the kind', () => {
    const reordered = Object.fromEntries(Object.entries(consent).reverse());
    expect(statementId('consent', reordered)).toBe(statementId('consent', consent));
    const ids = new Set(STATEMENT_KINDS.map((k) => statementId(k, consent)));
    expect(ids.size).toBe(STATEMENT_KINDS.length);
  });

  it('reject an unknown kind and a body without JSON form', () => {
    expect(() => statementBytes('consnet' as StatementKind, consent)).toThrow(/^STATEMENT_KIND_INVALID: /);
    expect(() => statementId('consent', { ...consent, maxUses: Number.NaN })).toThrow(/^JCS_INVALID: /);
  });
});

describe('signStatement / verifyStatement', () => {
  it('tweetnacl signatures verify with node:crypto', () => {
    for (let n = 0; n < 20; n++) {
      const pair = nacl.sign.keyPair.fromSeed(seedOf(n));
      const body = { ...consent, nonce: `n-${n}` };
      const signature = signStatement('consent', body, pair.secretKey);
      expect(fromB64u(signature)).toHaveLength(64);
      expect(verifyStatement('consent', body, signature, b64u(pair.publicKey))).toBe(true);
    }
  });

  it('node:crypto signatures verify with tweetnacl, and equal tweetnacl\'s (ed25519 is deterministic)', () => {
    for (let n = 0; n < 20; n++) {
      const seed = seedOf(n);
      const pair = nacl.sign.keyPair.fromSeed(seed);
      const body = { subject: consent.subject, recordId: `rec-${n}`, reason: '处罚已履行完毕,申请信用修复', nonce: `n-${n}` };
      const bytes = statementBytes('objection', body);
      const nodeSignature = sign(null, bytes, nodePrivateKey(seed));
      expect(nacl.sign.detached.verify(bytes, new Uint8Array(nodeSignature), pair.publicKey)).toBe(true);
      expect(b64u(nodeSignature)).toBe(signStatement('objection', body, pair.secretKey));
      // The public key node:crypto derives from the seed is tweetnacl's too.
      const jwk = createPublicKey(nodePrivateKey(seed)).export({ format: 'jwk' });
      expect(jwk.x).toBe(b64u(pair.publicKey));
    }
  });

  it('a signature for one kind verifies as no other kind', () => {
    const pair = signingKeyPairFromSeed(seedOf(1));
    for (const kind of STATEMENT_KINDS) {
      const signature = signStatement(kind, consent, pair.secretKey);
      for (const other of STATEMENT_KINDS) {
        expect(verifyStatement(other, consent, signature, pair.publicKey), `${kind} as ${other}`).toBe(kind === other);
      }
    }
  });

  it('fails for a changed body, another key, or a flipped signature bit', () => {
    const pair = signingKeyPairFromSeed(seedOf(2));
    const other = signingKeyPairFromSeed(seedOf(3));
    const signature = signStatement('consent', consent, pair.secretKey);
    expect(verifyStatement('consent', consent, signature, pair.publicKey)).toBe(true);
    expect(verifyStatement('consent', { ...consent, maxUses: 4 }, signature, pair.publicKey)).toBe(false);
    expect(verifyStatement('consent', { ...consent, extra: null }, signature, pair.publicKey)).toBe(false);
    expect(verifyStatement('consent', consent, signature, other.publicKey)).toBe(false);
    const raw = fromB64u(signature);
    for (const bit of [0, 7, 100, 255, 256, 511]) {
      const flipped = Uint8Array.from(raw);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      expect(verifyStatement('consent', consent, b64u(flipped), pair.publicKey)).toBe(false);
    }
  });

  it('accepts the secret key as base64url too', () => {
    const pair = signingKeyPairFromSeed(seedOf(4));
    expect(signStatement('revocation', { consentId: 'c1' }, pair.secretKey)).toBe(
      signStatement('revocation', { consentId: 'c1' }, fromB64u(pair.secretKey)),
    );
  });

  it('signed gives the statement with its signature, which verifies for that kind only', () => {
    const pair = signingKeyPairFromSeed(seedOf(5));
    const statement = { consentId: 'c2', nonce: 'n' };
    const form = signed('revocation', statement, pair.secretKey);
    expect(form).toEqual({ statement, signature: signStatement('revocation', statement, pair.secretKey) });
    expect(verifyStatement('revocation', form.statement, form.signature, pair.publicKey)).toBe(true);
    expect(verifyStatement('objection', form.statement, form.signature, pair.publicKey)).toBe(false);
  });

  it('signing refuses a key that is not 64 bytes', () => {
    expect(() => signStatement('consent', consent, new Uint8Array(32))).toThrow(/^KEY_INVALID: /);
    expect(() => signStatement('consent', consent, 'not+base64')).toThrow(/^B64_INVALID: /);
  });

  it('verification never throws on malformed input', () => {
    const pair = signingKeyPairFromSeed(seedOf(5));
    const signature = signStatement('consent', consent, pair.secretKey);
    const cases: [StatementKind, unknown, unknown, unknown][] = [
      ['consent', consent, signature.slice(0, -2), pair.publicKey],
      ['consent', consent, `${signature}AA`, pair.publicKey],
      ['consent', consent, signature.replace(/^./, '+'), pair.publicKey],
      ['consent', consent, '', pair.publicKey],
      ['consent', consent, signature, pair.publicKey.slice(0, -2)],
      ['consent', consent, signature, `${pair.publicKey}=`],
      ['consent', consent, signature, b64u(new Uint8Array(32))],
      ['consent', consent, signature, pair.secretKey],
      ['consent', consent, signature, ''],
      ['consent', consent, 42, pair.publicKey],
      ['consent', consent, signature, null],
      ['nope' as StatementKind, consent, signature, pair.publicKey],
      ['consent', { ...consent, maxUses: undefined }, signature, pair.publicKey],
      ['consent', 10n, signature, pair.publicKey],
    ];
    for (const [kind, body, sig, key] of cases) {
      expect(verifyStatement(kind, body, sig as string, key as string)).toBe(false);
    }
  });

  it('verifies correctly across more keys than the key cache holds', () => {
    const pairs = Array.from({ length: 1100 }, () => {
      const { publicKey, privateKey } = generateKeyPairSync('ed25519');
      return { publicKey: publicKey.export({ format: 'jwk' }).x!, privateKey };
    });
    const signed = pairs.map(({ publicKey, privateKey }) => ({
      publicKey,
      signature: b64u(sign(null, statementBytes('access-request', { grantee: 'BankMSP', publicKey }), privateKey)),
    }));
    // Twice round: the first keys were evicted by the last ones and come back.
    for (let round = 0; round < 2; round++) {
      const failures = signed.filter(({ publicKey, signature }) => !verifyStatement('access-request', { grantee: 'BankMSP', publicKey }, signature, publicKey));
      expect(failures).toHaveLength(0);
    }
    const [a, b] = signed;
    expect(verifyStatement('access-request', { grantee: 'BankMSP', publicKey: a!.publicKey }, a!.signature, b!.publicKey)).toBe(false);
  });
});
