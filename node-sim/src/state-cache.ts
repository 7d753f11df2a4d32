/**
 * A read cache in front of the committed state for simulation. The endorsing peers of one
 * proposal (and concurrent proposals) read the same keys; between two commits the answers
 * cannot change, so the cache is dropped whenever a block commits.
 */
import type { StateReader, Version } from './chaincode/types';
import type { Ledger } from './ledger/ledger';

type Entry = { value: Uint8Array; version: Version } | undefined;

export interface CachedState extends StateReader {
  close(): void;
}

/** Wraps `ledger.state`; `get` is cached per block, ranges and history go to the ledger. */
export function createCachedState(ledger: Ledger, maxEntries = 50_000): CachedState {
  const state = ledger.state;
  let cache = new Map<string, Promise<Entry>>();
  // A read that started before a commit must not fill the cache after it.
  let generation = 0;
  const unsubscribe = ledger.onBlock(() => {
    generation += 1;
    cache = new Map();
  });

  function get(ns: string, key: string): Promise<Entry> {
    const id = `${ns}\u0000${key}`;
    const cached = cache.get(id);
    if (cached !== undefined) return cached;
    const started = generation;
    const read = state.get(ns, key);
    if (cache.size >= maxEntries) cache.clear();
    const target = cache;
    target.set(id, read);
    read.then(
      () => {
        if (generation !== started) target.delete(id);
      },
      () => {
        target.delete(id);
      },
    );
    return read;
  }

  return {
    get,
    range: (ns, startKey, endKey) => state.range(ns, startKey, endKey),
    history: (ns, key) => state.history(ns, key),
    close: unsubscribe,
  };
}
