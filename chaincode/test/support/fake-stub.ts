/**
 * An in-memory stand-in for the peer, under the contracts: a ChaincodeStub and ClientIdentity
 * implementing just what the chaincode calls. Like Fabric, a transaction reads the committed
 * state only (never its own writes), its writes are staged and applied only when it succeeds,
 * keys are ordered by their UTF-8 bytes as in LevelDB, and only its last event is kept.
 */
import Long from 'long';

const COMPOSITE_NS = '\u0000';
const SEPARATOR = '\u0000';
const MAX_CODE_POINT = '\u{10FFFF}';

export interface KV {
  key: string;
  value: Uint8Array;
}

export interface ChaincodeEvent {
  txId: string;
  name: string;
  payload: Uint8Array;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The committed world state and the events of committed transactions. */
export class FakeLedger {
  private readonly state = new Map<string, Uint8Array>();
  readonly events: ChaincodeEvent[] = [];

  get(key: string): Uint8Array | undefined {
    return this.state.get(key);
  }

  /** Committed keys in [start, end), in LevelDB order. */
  range(start: string, end: string): KV[] {
    return [...this.state.keys()]
      .filter((k) => byteOrder(k, start) >= 0 && byteOrder(k, end) < 0)
      .sort(byteOrder)
      .map((key) => ({ key, value: this.state.get(key)! }));
  }

  apply(writes: ReadonlyMap<string, Uint8Array | null>): void {
    for (const [key, value] of writes) {
      if (value === null) this.state.delete(key);
      else this.state.set(key, value);
    }
  }

  /** Every key and value, in order: compare two dumps to prove a transaction changed nothing. */
  dump(): string {
    return [...this.state.keys()]
      .sort(byteOrder)
      .map((k) => `${Buffer.from(k).toString('hex')}=${Buffer.from(this.state.get(k)!).toString('hex')}`)
      .join('\n');
  }

  get size(): number {
    return this.state.size;
  }
}

function queryResult(kvs: KV[]): Promise<unknown> & AsyncIterable<KV> {
  let position = 0;
  const iterator = {
    next: (): Promise<IteratorResult<KV>> => {
      const value = kvs[position++];
      return Promise.resolve(value === undefined ? { done: true, value: undefined } : { done: false, value });
    },
    close: (): Promise<void> => Promise.resolve(),
  };
  const promise = Promise.resolve(iterator) as Promise<unknown> & AsyncIterable<KV>;
  promise[Symbol.asyncIterator] = () => ({ next: iterator.next, return: () => Promise.resolve({ done: true, value: undefined }) });
  return promise;
}

/** How many state operations a transaction made: each is one shim round trip on a peer. */
export interface StateOps {
  getState: number;
  putState: number;
  deleteState: number;
  rangeQuery: number;
}

/** One transaction's view of the ledger. */
export class FakeStub {
  readonly writes = new Map<string, Uint8Array | null>();
  readonly ops: StateOps = { getState: 0, putState: 0, deleteState: 0, rangeQuery: 0 };
  event: ChaincodeEvent | undefined;

  constructor(
    private readonly ledger: FakeLedger,
    private readonly txId: string,
    private readonly timeMs: number,
    private readonly fcn: string,
    private readonly params: string[],
  ) {}

  getState(key: string): Promise<Uint8Array> {
    this.ops.getState++;
    return Promise.resolve(this.ledger.get(key) ?? new Uint8Array(0));
  }

  putState(key: string, value: Uint8Array): Promise<void> {
    this.ops.putState++;
    if (key.length === 0) return Promise.reject(new Error('key must not be empty'));
    // Fabric would take an empty value for a delete; the chaincode must never rely on that.
    if (value.length === 0) return Promise.reject(new Error(`empty value for ${JSON.stringify(key)}`));
    this.writes.set(key, Uint8Array.from(value));
    return Promise.resolve();
  }

  deleteState(key: string): Promise<void> {
    this.ops.deleteState++;
    this.writes.set(key, null);
    return Promise.resolve();
  }

  createCompositeKey(objectType: string, attributes: string[]): string {
    for (const part of [objectType, ...attributes]) {
      if (typeof part !== 'string' || part.length === 0) throw new Error('object type or attribute not a non-zero length string');
    }
    return COMPOSITE_NS + [objectType, ...attributes].map((p) => p + SEPARATOR).join('');
  }

  splitCompositeKey(compositeKey: string): { objectType: string | null; attributes: string[] } {
    if (!compositeKey.startsWith(COMPOSITE_NS)) return { objectType: null, attributes: [] };
    const parts = compositeKey.slice(1).split(SEPARATOR);
    parts.pop();
    const [objectType = null, ...attributes] = parts;
    return { objectType, attributes };
  }

  getStateByPartialCompositeKey(objectType: string, attributes: string[]): Promise<unknown> & AsyncIterable<KV> {
    this.ops.rangeQuery++;
    const start = this.createCompositeKey(objectType, attributes);
    return queryResult(this.ledger.range(start, start + MAX_CODE_POINT));
  }

  getTxTimestamp(): { seconds: Long; nanos: number } {
    return { seconds: Long.fromNumber(Math.floor(this.timeMs / 1000), true), nanos: (this.timeMs % 1000) * 1_000_000 };
  }

  getTxID(): string {
    return this.txId;
  }

  getFunctionAndParameters(): { fcn: string; params: string[] } {
    return { fcn: this.fcn, params: this.params };
  }

  setEvent(name: string, payload: Uint8Array): void {
    if (name.length === 0) throw new Error('event name must not be empty');
    // A transaction carries one chaincode event: a later setEvent replaces an earlier one.
    this.event = { txId: this.txId, name, payload: Uint8Array.from(payload) };
  }
}

/** The caller's identity as the peer authenticated it. */
export class FakeClientIdentity {
  constructor(private readonly mspId: string) {}

  getMSPID(): string {
    return this.mspId;
  }
}
