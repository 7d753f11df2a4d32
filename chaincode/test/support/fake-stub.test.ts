import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { FakeLedger, FakeStub } from './fake-stub';

// fabric-shim's real stub methods that need no peer connection, to hold the fake to them.
const require = createRequire(import.meta.url);
const RealStub = require('fabric-shim/lib/stub.js') as {
  prototype: {
    createCompositeKey(this: unknown, type: string, attrs: string[]): string;
    splitCompositeKey(this: unknown, key: string): { objectType: string | null; attributes: string[] };
  };
};

describe('the fake stub', () => {
  it('builds and splits composite keys exactly as fabric-shim does', () => {
    const fake = new FakeStub(new FakeLedger(), 'tx1', 0, 'f', []);
    for (const [type, attrs] of [['org', ['GovMSP']], ['consent~subject', ['91350100M000100Y43', 'ab'.repeat(32)]], ['objection~open', []], ['entry', ['cat.gov.admin-licence.西安']]] as const) {
      const key = fake.createCompositeKey(type, [...attrs]);
      expect(key).toBe(RealStub.prototype.createCompositeKey.call(null, type, [...attrs]));
      expect(fake.splitCompositeKey(key)).toEqual(RealStub.prototype.splitCompositeKey.call(null, key));
    }
  });

  it('lists keys in UTF-8 byte order like LevelDB, from committed state only', async () => {
    const ledger = new FakeLedger();
    const writer = new FakeStub(ledger, 'tx1', 0, 'f', []);
    for (const id of ['b', 'a', '\u{1F600}', '\uFFFD', 'z']) await writer.putState(writer.createCompositeKey('t', [id]), Uint8Array.of(1));
    const reader = new FakeStub(ledger, 'tx2', 0, 'f', []);
    const before: string[] = [];
    for await (const kv of reader.getStateByPartialCompositeKey('t', [])) before.push(kv.key);
    expect(before).toEqual([]);
    ledger.apply(writer.writes);
    const keys: string[] = [];
    for await (const kv of reader.getStateByPartialCompositeKey('t', [])) keys.push(reader.splitCompositeKey(kv.key).attributes[0]!);
    // UTF-16 order would put U+1F600 (a surrogate pair) before U+FFFD; byte order does not.
    expect(keys).toEqual(['a', 'b', 'z', '\uFFFD', '\u{1F600}']);
    await expect(reader.putState('k', new Uint8Array(0))).rejects.toThrow();
  });
});
