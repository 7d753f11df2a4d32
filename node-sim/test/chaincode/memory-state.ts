/**
 * An in-memory committed state for tests: the layer directly under the chaincode runtime.
 * Keys sorted in UTF-8 byte order like the LevelDB state; `gate(key)` holds reads of a key
 * until released, so tests can interleave transactions without timing.
 */
import { compareKeys } from '../../src/chaincode/rwset';
import type { StateReader, Version } from '../../src/chaincode/types';

interface Entry {
  value: Uint8Array;
  version: Version;
}

interface HistoryEntry {
  txId: string;
  value: Uint8Array;
  isDelete: boolean;
  timestamp: { seconds: number; nanos: number };
}

export class MemoryState implements StateReader {
  private readonly data = new Map<string, Map<string, Entry>>();
  private readonly log = new Map<string, HistoryEntry[]>();
  private readonly gates = new Map<string, { opened: Promise<void>; open: () => void; reached: Promise<void>; reach: () => void }>();
  private block = 0;
  /** Range iterators opened and not yet finished or returned. */
  openIterators = 0;

  /** Commits one block of transactions: each tx's writes get version {block, txIndex}. */
  commit(txs: { txId: string; writes: Record<string, string | null> }[], ns = 'kv', seconds = 1_700_000_000): void {
    this.block++;
    let nsData = this.data.get(ns);
    if (!nsData) {
      nsData = new Map();
      this.data.set(ns, nsData);
    }
    txs.forEach((tx, txNum) => {
      for (const [key, v] of Object.entries(tx.writes)) {
        const history = this.log.get(`${ns}\u0000${key}`) ?? [];
        this.log.set(`${ns}\u0000${key}`, history);
        const timestamp = { seconds: seconds + this.block, nanos: txNum };
        if (v === null) {
          nsData.delete(key);
          history.push({ txId: tx.txId, value: new Uint8Array(0), isDelete: true, timestamp });
        } else {
          const value = Buffer.from(v);
          nsData.set(key, { value, version: { blockNum: this.block, txNum } });
          history.push({ txId: tx.txId, value, isDelete: false, timestamp });
        }
      }
    });
  }

  version(key: string, ns = 'kv'): Version | undefined {
    return this.data.get(ns)?.get(key)?.version;
  }

  /** Reads of `key` wait until `release` is called; `reached` resolves when a read is waiting. */
  gate(key: string): { reached: Promise<void>; release: () => void } {
    let open!: () => void;
    let reach!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    const reached = new Promise<void>((r) => (reach = r));
    this.gates.set(key, { opened, open, reached, reach });
    return {
      reached,
      release: () => {
        this.gates.delete(key);
        open();
      },
    };
  }

  async get(ns: string, key: string): Promise<{ value: Uint8Array; version: Version } | undefined> {
    const gate = this.gates.get(key);
    if (gate) {
      gate.reach();
      await gate.opened;
    }
    const e = this.data.get(ns)?.get(key);
    return e ? { value: e.value, version: e.version } : undefined;
  }

  range(ns: string, startKey: string, endKey: string): AsyncIterable<{ key: string; value: Uint8Array; version: Version }> {
    const keys = [...(this.data.get(ns)?.keys() ?? [])]
      .filter((k) => compareKeys(k, startKey) >= 0 && (endKey === '' || compareKeys(k, endKey) < 0))
      .sort(compareKeys);
    const data = this.data.get(ns);
    const self = this; // eslint-disable-line @typescript-eslint/no-this-alias
    return {
      async *[Symbol.asyncIterator]() {
        self.openIterators++;
        try {
          for (const key of keys) {
            await Promise.resolve(); // asynchronous, like a LevelDB iterator
            const e = data?.get(key);
            if (e) yield { key, value: e.value, version: e.version };
          }
        } finally {
          self.openIterators--;
        }
      },
    };
  }

  history(ns: string, key: string): AsyncIterable<HistoryEntry> {
    const entries = [...(this.log.get(`${ns}\u0000${key}`) ?? [])].reverse(); // newest first, as Fabric
    return {
      async *[Symbol.asyncIterator]() {
        for (const e of entries) {
          await Promise.resolve();
          yield e;
        }
      },
    };
  }
}
