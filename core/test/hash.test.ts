import { describe, expect, it } from 'vitest';
import { fieldDigest, newSalt, SALT_BYTES, sha256Hex } from '../src/hash';
import { canonicalBytes } from '../src/jcs';
import { fromB64u } from '../src/keys';

describe('sha256Hex', () => {
  it('matches the FIPS 180-2 vectors for strings and bytes', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(new Uint8Array([0x61, 0x62, 0x63]))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe(
      '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1',
    );
  });

  it('hashes a string as its UTF-8 bytes', () => {
    expect(sha256Hex('统一社会信用代码')).toBe(sha256Hex(new TextEncoder().encode('统一社会信用代码')));
  });
});

describe('newSalt', () => {
  it('is 128 random bits in base64url', () => {
    const salts = new Set(Array.from({ length: 200 }, () => newSalt()));
    expect(salts.size).toBe(200);
    for (const s of salts) {
      expect(s).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(fromB64u(s)).toHaveLength(SALT_BYTES);
    }
    expect(SALT_BYTES * 8).toBeGreaterThanOrEqual(128);
  });
});

describe('fieldDigest', () => {
  it('is sha256Hex of the canonical {n, s, v}', () => {
    const cases: [string, unknown][] = [
      ['amountFen', 1_250_000_00],
      ['penaltyReason', '未按规定办理排污许可证,擅自排放污染物'],
      ['decision', { 文号: '榕环罚〔2026〕12号', items: ['罚款', '责令改正'], 金额: 50000, final: true, appeal: null }],
      ['weird "name"\n', '\u2028\ud83d\ude00\u0000'],
      ['n', -0],
    ];
    const salt = newSalt();
    for (const [name, value] of cases) {
      expect(fieldDigest(name, value, salt)).toBe(sha256Hex(canonicalBytes({ v: value, s: salt, n: name })));
    }
  });

  it('changes with the name, the value and the salt', () => {
    const salt = newSalt();
    const base = fieldDigest('grade', 'A', salt);
    expect(fieldDigest('grade', 'B', salt)).not.toBe(base);
    expect(fieldDigest('grade2', 'A', salt)).not.toBe(base);
    expect(fieldDigest('grade', 'A', newSalt())).not.toBe(base);
    expect(fieldDigest('grade', 'A', salt)).toBe(base);
  });

  it('rejects values without JSON form', () => {
    expect(() => fieldDigest('x', undefined, newSalt())).toThrow(/^JCS_INVALID: /);
    expect(() => fieldDigest('x', Number.NaN, newSalt())).toThrow(/^JCS_INVALID: /);
  });
});
