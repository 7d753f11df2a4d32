import { describe, expect, it } from 'vitest';
import { canonicalize } from '@credex/core';
import { TestChaincode } from './support/harness';
import { standardWorld, SUBJECT } from './support/world';
import { objectionScenario } from './support/scenario';

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]));
  }
  return value;
}

async function replay(source: TestChaincode, rewrite: (arg: string) => string): Promise<TestChaincode> {
  const copy = new TestChaincode();
  for (const { mspId, fqName, args, timeMs } of source.submissions) {
    copy.timeMs = timeMs;
    await copy.submit(mspId, fqName, ...args.map(rewrite)).catch(() => undefined);
  }
  return copy;
}

describe('deterministic ledger writes', () => {
  it('writes canonical JSON only: every value is its own RFC 8785 form, or an index marker', async () => {
    const { world } = await objectionScenario();
    let objects = 0;
    for (const { key, value } of world.cc.ledger.range('', '\u{10FFFF}')) {
      if (value.length === 1 && value[0] === 0) continue;
      const text = Buffer.from(value).toString('utf8');
      expect(canonicalize(JSON.parse(text)), key).toBe(text);
      objects++;
    }
    expect(objects).toBeGreaterThan(20);
  });

  it('gives the same state for the same transactions, whatever the key order of their JSON arguments', async () => {
    const { world } = await objectionScenario();
    const same = await replay(world.cc, (arg) => arg);
    expect(same.ledger.dump()).toBe(world.cc.ledger.dump());
    const reordered = await replay(world.cc, (arg) => {
      try {
        return JSON.stringify(reverseKeys(JSON.parse(arg)));
      } catch {
        return arg;
      }
    });
    expect(reordered.ledger.dump()).toBe(world.cc.ledger.dump());
    expect(reordered.ledger.events.map((e) => [e.name, Buffer.from(e.payload).toString('hex')])).toEqual(world.cc.ledger.events.map((e) => [e.name, Buffer.from(e.payload).toString('hex')]));
  });

  it('refuses key attributes that would break composite keys', async () => {
    const { world } = await standardWorld();
    await world.cc.expectRejected('SCHEMA_INVALID', 'BankMSP', 'catalogue:GetEntry', 'cat\u0000x');
    await world.cc.expectRejected('SCHEMA_INVALID', 'BankMSP', 'catalogue:ListByType', 'x'.repeat(257));
  });

  it('reports a corrupted index as INTERNAL, with a code like every other error', async () => {
    const { world } = await standardWorld();
    const dangling = '\u0000consent~subject\u0000' + SUBJECT + '\u0000' + 'e'.repeat(64) + '\u0000';
    world.cc.ledger.apply(new Map([[dangling, Uint8Array.of(0)]]));
    const message = await world.cc.expectRejected('INTERNAL', 'AuditMSP', 'consents:ListBySubject', SUBJECT);
    expect(message).toContain('e'.repeat(64));
  });
});
