/**
 * One transaction's simulation, as Fabric's LevelDB transaction simulator does it: reads go
 * to committed state only (never to the transaction's own writes) and record the committed
 * version; writes are collected, last write wins; every range query records the keys and
 * versions it actually fetched and whether it ran to the end, for phantom-read validation.
 */
import { QueryResponseWriter, decodeQueryMetadata } from './messages';
import { compareKeys } from './rwset';
import type { RangeQueryRecord, RwSet, StateReader, Version } from './types';

/** Fabric's maxResultLimit: results per QueryResponse batch before has_more. */
const MAX_RESULT_LIMIT = 100;
/** Fabric's default ledger.state.totalQueryLimit. */
const TOTAL_QUERY_LIMIT = 100_000;

/** An error the peer reports to the chaincode as an ERROR message (the shim throws it). */
export class SimulationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimulationError';
  }
}

type RangeItem = { key: string; value: Uint8Array; version: Version };
type HistoryItem = { txId: string; value: Uint8Array; isDelete: boolean; timestamp: { seconds: number; nanos: number } };

interface QueryIterator<T> {
  kind: 'range' | 'history';
  source: AsyncIterator<T>;
  /** An item fetched beyond the last batch (Fabric fetches one ahead to set has_more). */
  carry: T | undefined;
  done: boolean;
  returned: number;
  /** Page size of a paginated query, 0 if not paginated. */
  pageSize: number;
  /** Only for range queries. */
  record?: RangeQueryRecord & { queryEndKey: string };
}

export class TxSimulation {
  private readonly reads = new Map<string, Version | undefined>();
  private readonly writes = new Map<string, Uint8Array | undefined>();
  private readonly iterators = new Map<string, QueryIterator<RangeItem> | QueryIterator<HistoryItem>>();
  private readonly rangeRecords: (RangeQueryRecord & { queryEndKey: string })[] = [];
  private nextIteratorId = 1;
  private paginatedQueryDone = false;
  private finished = false;

  constructor(
    readonly namespace: string,
    readonly txId: string,
    private readonly state: StateReader,
  ) {}

  async getState(key: string): Promise<Uint8Array | undefined> {
    this.checkOpen();
    const found = await this.state.get(this.namespace, key);
    if (!this.reads.has(key)) this.reads.set(key, found?.version);
    return found?.value;
  }

  /** GET_STATE_METADATA: records the read like Fabric; node-sim keeps no key metadata. */
  async getStateMetadata(key: string): Promise<void> {
    this.checkOpen();
    if (this.reads.has(key)) return;
    const found = await this.state.get(this.namespace, key);
    this.reads.set(key, found?.version);
  }

  putState(key: string, value: Uint8Array): void {
    this.checkWrite(key);
    // Fabric's rwset builder: an empty value is a delete.
    this.writes.set(key, value.length === 0 ? undefined : value);
  }

  delState(key: string): void {
    this.checkWrite(key);
    this.writes.set(key, undefined);
  }

  /** GET_STATE_BY_RANGE: opens an iterator and returns the first QueryResponse. */
  async getStateByRange(startKey: string, endKey: string, metadataBytes: Uint8Array): Promise<Buffer> {
    this.checkOpen();
    let pageSize = 0;
    if (metadataBytes.length > 0) {
      const md = decodeQueryMetadata(metadataBytes);
      if (md.pageSize > 0 || md.bookmark !== '') {
        if (this.writes.size > 0) {
          throw new SimulationError(`txid [${this.txId}]: paginated queries are not allowed in a transaction that writes`);
        }
        if (md.pageSize <= 0) throw new SimulationError('pagination requires a page size greater than 0');
        pageSize = Math.min(md.pageSize, TOTAL_QUERY_LIMIT);
        if (md.bookmark !== '') startKey = md.bookmark;
        this.paginatedQueryDone = true;
      }
    }
    const record = { startKey, endKey: startKey, queryEndKey: endKey, itrExhausted: false, reads: [] };
    this.rangeRecords.push(record);
    const it: QueryIterator<RangeItem> = {
      kind: 'range',
      source: this.state.range(this.namespace, startKey, endKey)[Symbol.asyncIterator](),
      carry: undefined,
      done: false,
      returned: 0,
      pageSize,
      record,
    };
    const id = String(this.nextIteratorId++);
    this.iterators.set(id, it);
    return this.nextBatch(id, it);
  }

  async getHistoryForKey(key: string): Promise<Buffer> {
    this.checkOpen();
    const it: QueryIterator<HistoryItem> = {
      kind: 'history',
      source: this.state.history(this.namespace, key)[Symbol.asyncIterator](),
      carry: undefined,
      done: false,
      returned: 0,
      pageSize: 0,
    };
    const id = String(this.nextIteratorId++);
    this.iterators.set(id, it);
    return this.nextBatch(id, it);
  }

  async queryStateNext(id: string): Promise<Buffer> {
    this.checkOpen();
    const it = this.iterators.get(id);
    if (!it) throw new SimulationError('query iterator not found');
    return this.nextBatch(id, it);
  }

  async queryStateClose(id: string): Promise<Buffer> {
    this.checkOpen();
    const it = this.iterators.get(id);
    if (it) {
      this.iterators.delete(id);
      await closeSource(it);
    }
    return new QueryResponseWriter().finish(false, id);
  }

  /** Ends the simulation: closes open iterators and returns the read-write set. */
  async finish(): Promise<RwSet> {
    this.finished = true;
    const open = [...this.iterators.values()];
    this.iterators.clear();
    await Promise.all(open.map(closeSource));
    return this.results();
  }

  /** The read-write set so far, built as Fabric's RWSetBuilder does (sorted, range queries deduplicated). */
  results(): RwSet {
    const reads: RwSet['reads'] = [];
    for (const key of [...this.reads.keys()].sort(compareKeys)) {
      const version = this.reads.get(key);
      reads.push(version ? { key, version } : { key });
    }
    const writes: RwSet['writes'] = [];
    for (const key of [...this.writes.keys()].sort(compareKeys)) {
      const value = this.writes.get(key);
      writes.push(value ? { key, isDelete: false, value } : { key, isDelete: true });
    }
    const seen = new Set<string>();
    const rangeQueries: RangeQueryRecord[] = [];
    for (const r of this.rangeRecords) {
      const id = `${r.startKey}\u0000${r.endKey}\u0000${String(r.itrExhausted)}`;
      if (seen.has(id)) continue;
      seen.add(id);
      rangeQueries.push({ startKey: r.startKey, endKey: r.endKey, itrExhausted: r.itrExhausted, reads: r.reads });
    }
    return { reads, rangeQueries, writes };
  }

  private checkOpen(): void {
    if (this.finished) throw new SimulationError(`txid [${this.txId}]: the transaction simulation has ended`);
  }

  private checkWrite(key: string): void {
    this.checkOpen();
    if (key === '') throw new SimulationError('key must not be an empty string');
    if (this.paginatedQueryDone) {
      throw new SimulationError(`txid [${this.txId}]: writes are not allowed after a paginated query`);
    }
  }

  /** Fetches one item and records it, as Fabric's results iterator does on Next(). */
  private async fetch<T>(it: QueryIterator<T>): Promise<T | undefined> {
    if (it.carry !== undefined) {
      const c = it.carry;
      it.carry = undefined;
      return c;
    }
    if (it.done) return undefined;
    const n = await it.source.next();
    const rec = it.record;
    if (n.done === true) {
      it.done = true;
      if (rec) {
        rec.itrExhausted = true;
        rec.endKey = rec.queryEndKey;
      }
      return undefined;
    }
    if (rec) {
      const item = n.value as RangeItem;
      rec.reads.push({ key: item.key, version: item.version });
      rec.endKey = item.key;
    }
    return n.value;
  }

  private async nextBatch(id: string, it: QueryIterator<RangeItem> | QueryIterator<HistoryItem>): Promise<Buffer> {
    const out = new QueryResponseWriter();
    let count = 0;
    const limit = it.pageSize > 0 ? it.pageSize : TOTAL_QUERY_LIMIT;
    for (;;) {
      if (it.returned >= limit) break;
      const item = await this.fetch<RangeItem | HistoryItem>(it);
      if (item === undefined) break;
      if (it.pageSize === 0 && count === MAX_RESULT_LIMIT) {
        it.carry = item;
        return out.finish(true, id);
      }
      if (it.kind === 'range') {
        const kv = item as RangeItem;
        out.addKV(this.namespace, kv.key, kv.value);
      } else {
        out.addKeyModification(item as HistoryItem);
      }
      count++;
      it.returned++;
    }
    this.iterators.delete(id);
    if (it.pageSize > 0) {
      const bookmark = await this.bookmark(it);
      return out.finish(false, id, { fetchedRecordsCount: it.returned, bookmark });
    }
    await closeSource(it);
    return out.finish(false, id);
  }

  /** The next key after a page, read from the source without recording it (Fabric's GetBookmarkAndClose). */
  private async bookmark(it: QueryIterator<RangeItem> | QueryIterator<HistoryItem>): Promise<string> {
    let key = '';
    if (!it.done && it.kind === 'range') {
      const n = await (it.source as AsyncIterator<RangeItem>).next();
      if (n.done !== true) key = n.value.key;
      else it.done = true;
    }
    await closeSource(it);
    return key;
  }
}

async function closeSource(it: { source: AsyncIterator<unknown>; done: boolean }): Promise<void> {
  if (it.done) return;
  it.done = true;
  await it.source.return?.();
}
