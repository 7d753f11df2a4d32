import { generateKeyPairSync, verify } from 'node:crypto';
import { hash, signers } from '@hyperledger/fabric-gateway';
import { describe, expect, it } from 'vitest';
import { fabricSigner } from '../../src/ledger/signer';

const ORDERS: Record<string, bigint> = {
  prime256v1: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  secp384r1: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
};

/** r and s of a DER ECDSA-Sig-Value, parsed by hand (short and long length forms). */
function parseDer(der: Uint8Array): { r: bigint; s: bigint } {
  const buf = Buffer.from(der);
  let at = 0;
  const length = (): number => {
    const first = buf[at++] ?? 0;
    if (first < 0x80) return first;
    const n = first & 0x7f;
    let len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[at++] ?? 0);
    return len;
  };
  expect(buf[at++]).toBe(0x30);
  expect(length()).toBe(buf.length - at);
  const int = (): bigint => {
    expect(buf[at++]).toBe(0x02);
    const len = length();
    const bytes = buf.subarray(at, at + len);
    at += len;
    if (len > 1) expect(bytes[0] === 0 && ((bytes[1] ?? 0) & 0x80) === 0).toBe(false); // minimal
    return BigInt(`0x${bytes.toString('hex')}`);
  };
  const r = int();
  const s = int();
  expect(at).toBe(buf.length);
  return { r, s };
}

describe('fabricSigner', () => {
  for (const namedCurve of ['prime256v1', 'secp384r1']) {
    it(`signs ${namedCurve} with node:crypto: DER, low-S, verifying over SHA-256 of the message (hash.none)`, async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
      const { signer, hash: chosen } = fabricSigner(privateKey);
      expect(chosen).toBe(hash.none);
      for (let i = 0; i < 64; i++) {
        const message = Buffer.from(`proposal ${i} ${'x'.repeat(i * 7)}`);
        const signature = await signer(message);
        const { s } = parseDer(signature);
        expect(s <= (ORDERS[namedCurve] ?? 0n) >> 1n).toBe(true);
        expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(true);
        expect(verify('sha256', Buffer.concat([message, Buffer.from([0])]), { key: publicKey, dsaEncoding: 'der' }, signature)).toBe(false);
      }
    });
  }

  it('makes signatures of the same form as fabric-gateway\'s own signer (both verify, both low-S)', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const ours = fabricSigner(privateKey);
    const theirs = signers.newPrivateKeySigner(privateKey);
    const message = Buffer.from('the same transaction');
    const digest = hash.sha256(message);
    const a = await ours.signer(ours.hash(message));
    const b = await theirs(digest);
    for (const sig of [a, b]) {
      expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, sig)).toBe(true);
      expect(parseDer(sig).s <= (ORDERS.prime256v1 ?? 0n) >> 1n).toBe(true);
    }
  });

  it('leaves keys of other kinds to fabric-gateway\'s own signer with its SHA-256 hash', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const chosen = fabricSigner(privateKey);
    expect(chosen.hash).toBe(hash.sha256);
    expect(typeof chosen.signer).toBe('function');
  });
});
