import { afterEach, describe, expect, it, vi } from 'vitest';

const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

/** Loads digest.ts over a node:crypto with or without the one-shot `hash`, counting createHash calls. */
async function loadDigest(withOneShot: boolean): Promise<{ digest: typeof import('../src/digest'); createHashCalls: () => number }> {
  let calls = 0;
  vi.resetModules();
  vi.doMock('node:crypto', async (importOriginal) => {
    const actual = await importOriginal<typeof import('node:crypto')>();
    const createHash = (...args: Parameters<typeof actual.createHash>): ReturnType<typeof actual.createHash> => {
      calls++;
      return actual.createHash(...args);
    };
    return { ...actual, createHash, hash: withOneShot ? actual.hash : undefined };
  });
  return { digest: await import('../src/digest'), createHashCalls: () => calls };
}

afterEach(() => {
  vi.doUnmock('node:crypto');
  vi.resetModules();
});

describe('digest', () => {
  // A Fabric peer's Node 16/18 chaincode runtime has no crypto.hash: the fallback must agree.
  for (const withOneShot of [true, false]) {
    it(`${withOneShot ? 'one-shot crypto.hash' : 'createHash fallback'} gives SHA-256`, async () => {
      const { digest, createHashCalls } = await loadDigest(withOneShot);
      expect(digest.sha256HexOf('abc')).toBe(ABC);
      expect(digest.sha256HexOf(new Uint8Array([0x61, 0x62, 0x63]))).toBe(ABC);
      expect(digest.sha256HexOf('\u0000信用')).toBe(digest.sha256HexOf(new Uint8Array([0, 0xe4, 0xbf, 0xa1, 0xe7, 0x94, 0xa8])));
      expect(Buffer.from(digest.sha256BytesOf(new Uint8Array([0x61, 0x62, 0x63]))).toString('hex')).toBe(ABC);
      expect(createHashCalls() > 0).toBe(!withOneShot);
    });
  }
});
