import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { b64u, fromB64u, newBoxKeyPair, newSigningKeyPair, signingKeyPairFromSeed } from '../src/keys';
import { CredexError } from '../src/errors';

describe('b64u / fromB64u', () => {
  it('agree with Buffer base64url for every length 0..100', () => {
    for (let n = 0; n <= 100; n++) {
      const bytes = nacl.randomBytes(n);
      const encoded = b64u(bytes);
      expect(encoded).toBe(Buffer.from(bytes).toString('base64url'));
      expect(fromB64u(encoded)).toEqual(bytes);
    }
  });

  it('match RFC 4648 test vectors (url alphabet, no padding)', () => {
    const vectors: [string, string][] = [['', ''], ['f', 'Zg'], ['fo', 'Zm8'], ['foo', 'Zm9v'], ['foob', 'Zm9vYg'], ['fooba', 'Zm9vYmE'], ['foobar', 'Zm9vYmFy']];
    for (const [plain, encoded] of vectors) {
      expect(b64u(new TextEncoder().encode(plain))).toBe(encoded);
      expect(new TextDecoder().decode(fromB64u(encoded))).toBe(plain);
    }
    expect(b64u(new Uint8Array([0xfb, 0xff, 0xbf]))).toBe('-_-_');
  });

  it('rejects anything but strict base64url with B64_INVALID', () => {
    for (const bad of ['Zg==', 'Zm9v+', 'Zm9v/', 'Zm 9v', 'Zm9v\n', 'Z', 'Zm9vY', 'Zh', 'Zm9', 'Zm9vYh', 'Ｚｇ', 'Zg.']) {
      let error: unknown;
      try {
        fromB64u(bad);
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(CredexError);
      expect((error as CredexError).code).toBe('B64_INVALID');
    }
  });
});

describe('key pairs', () => {
  it('newSigningKeyPair gives tweetnacl ed25519 keys in base64url', () => {
    const pair = newSigningKeyPair();
    const pub = fromB64u(pair.publicKey);
    const sec = fromB64u(pair.secretKey);
    expect(pub).toHaveLength(32);
    expect(sec).toHaveLength(64);
    expect(sec.slice(32)).toEqual(pub);
    const msg = new TextEncoder().encode('credex');
    expect(nacl.sign.detached.verify(msg, nacl.sign.detached(msg, sec), pub)).toBe(true);
    expect(newSigningKeyPair().publicKey).not.toBe(pair.publicKey);
  });

  it('signingKeyPairFromSeed is deterministic and checks the seed length', () => {
    const seed = new Uint8Array(32).fill(9);
    expect(signingKeyPairFromSeed(seed)).toEqual(signingKeyPairFromSeed(seed));
    expect(fromB64u(signingKeyPairFromSeed(seed).secretKey).slice(0, 32)).toEqual(seed);
    expect(() => signingKeyPairFromSeed(new Uint8Array(31))).toThrow(/^KEY_INVALID: /);
  });

  it('newBoxKeyPair gives x25519 keys that work with nacl.box', () => {
    const bank = newBoxKeyPair();
    const publisher = newBoxKeyPair();
    expect(fromB64u(bank.publicKey)).toHaveLength(32);
    expect(fromB64u(bank.secretKey)).toHaveLength(32);
    const nonce = nacl.randomBytes(nacl.box.nonceLength);
    const message = new TextEncoder().encode('{"amountFen":5000000}');
    const boxed = nacl.box(message, nonce, fromB64u(bank.publicKey), fromB64u(publisher.secretKey));
    expect(nacl.box.open(boxed, nonce, fromB64u(publisher.publicKey), fromB64u(bank.secretKey))).toEqual(message);
  });
});
