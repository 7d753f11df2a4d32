import { describe, expect, it } from 'vitest';
import type { Ledger } from '../src/ledger/ledger';
import { createCachedState } from '../src/state-cache';

/** The layer under the cache: a ledger whose state reads are counted and whose commits we fire. */
function fakeLedger() {
  const values = new Map<string, string>([['ns\u0000k', 'v1']]);
  const listeners = new Set<(n: number, b: Uint8Array) => void>();
  let reads = 0;
  let gate: Promise<void> | undefined;
  const ledger = {
    state: {
      get: async (ns: string, key: string) => {
        reads += 1;
        const value = values.get(`${ns}\u0000${key}`);
        await gate;
        return value === undefined ? undefined : { value: Buffer.from(value), version: { blockNum: 1, txNum: 0 } };
      },
      range: () => (async function* () {})(),
      history: () => (async function* () {})(),
    },
    onBlock: (l: (n: number, b: Uint8Array) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  } as unknown as Ledger;
  return {
    ledger,
    reads: () => reads,
    commit: (key: string, value: string) => {
      values.set(`ns\u0000${key}`, value);
      for (const l of listeners) l(1, new Uint8Array());
    },
    hold: () => {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => {
        gate = undefined;
        release();
      };
    },
  };
}

const text = (e: { value: Uint8Array } | undefined): string | undefined => (e === undefined ? undefined : Buffer.from(e.value).toString());

describe('createCachedState', () => {
  it('reads a key once between commits and again after a commit', async () => {
    const f = fakeLedger();
    const state = createCachedState(f.ledger);
    expect(text(await state.get('ns', 'k'))).toBe('v1');
    expect(text(await state.get('ns', 'k'))).toBe('v1');
    expect(f.reads()).toBe(1);
    f.commit('k', 'v2');
    expect(text(await state.get('ns', 'k'))).toBe('v2');
    expect(f.reads()).toBe(2);
    expect(await state.get('ns', 'absent')).toBeUndefined();
    state.close();
  });

  it('does not keep a read that was in flight when a block committed', async () => {
    const f = fakeLedger();
    const state = createCachedState(f.ledger);
    const release = f.hold();
    const inFlight = state.get('ns', 'k');
    f.commit('k', 'v2');
    release();
    expect(text(await inFlight)).toBe('v1');
    expect(text(await state.get('ns', 'k'))).toBe('v2');
    state.close();
  });
});
