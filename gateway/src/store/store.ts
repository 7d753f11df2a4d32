/**
 * The gateway's off-chain store: LevelDB (`level`) with one sublevel per namespace.
 *
 * A publish is one atomic, synced batch across records (each with its content hash, for
 * idempotency), the subject index, the batch, its members and its outbox entry; anchoring is a second atomic batch
 * that marks the batch anchored and removes its outbox entry. A record is anchored exactly
 * when its batch is, so a record is never reported anchored before its batch's transaction
 * committed. A missing key reads as `undefined`.
 *
 * One key per record and a few per batch: the subject index holds one key per subject and batch
 * (`subject \0 batchId` → the batch's record ids about that subject), since LevelDB's cost per
 * key, not per byte, dominated a batch of 10,000 records. Stores written before keep working:
 * an index key `subject \0 recordId` (value '') and the content-hashes sublevel are still read.
 */
import { mkdirSync } from 'node:fs';
import type { SealedRecord } from '@credex/core';
import { credexError } from '@credex/core';
import { Level } from 'level';

/** A record as the publisher keeps it, with its place in its anchored batch. */
export interface StoredRecord {
  sealed: SealedRecord;
  batchId: string;
  index: number;
  proof: string[];
  root: string;
  anchored: boolean;
  txId?: string;
  blockNumber?: number;
}

/** Where a record sits in its anchored batch: what anchors:GetRecord resolves (record-ref schema). */
export interface RecordRef {
  recordId: string;
  batchId: string;
  index: number;
  leafHash: string;
  /** RFC 6962 inclusion path, leaf to root. */
  proof: string[];
}

/** A new record of a batch superseding an earlier one (an item of anchor-batch `supersessions`). */
export interface Supersession {
  /** The new record, proven against the batch's own root. */
  record: Omit<RecordRef, 'batchId'>;
  /** The record it supersedes. */
  supersedes: RecordRef;
}

/** The AnchorBatch argument (docs/CONTRACTS.md, anchors contract): small, whatever the batch's size. */
export interface AnchorRequest {
  batchId: string;
  catalogueEntryId: string;
  root: string;
  size: number;
  supersessions?: Supersession[];
}

/** A batch of records, stored before it is anchored. */
export interface StoredBatch {
  batchId: string;
  catalogueEntryId: string;
  root: string;
  size: number;
  createdAt: string;
  anchored: boolean;
  txId?: string;
  blockNumber?: number;
}

/** What is written about one new record of a batch. */
export interface NewRecord {
  sealed: SealedRecord;
  batchId: string;
  index: number;
  proof: string[];
  /** Hash of the record as it was posted, for idempotency. */
  contentHash: string;
}

interface RecordValue {
  sealed: SealedRecord;
  /** Hash of the record as it was posted (absent in stores written before session 2: see content-hashes). */
  contentHash?: string;
  batchId: string;
  index: number;
  proof: string[];
  root: string;
}

/** The off-chain store. */
export interface Store {
  getRecord(recordId: string): Promise<StoredRecord | undefined>;
  getRecords(recordIds: string[]): Promise<(StoredRecord | undefined)[]>;
  listRecordsBySubject(uscc: string): Promise<StoredRecord[]>;
  /** Content hashes of records already published, by record id (idempotency). */
  contentHashes(recordIds: string[]): Promise<(string | undefined)[]>;
  getBatch(batchId: string): Promise<StoredBatch | undefined>;
  /** Stores new batches, their records (unanchored) and their outbox entries in one synced write. */
  putBatches(batches: AnchorRequest[], records: NewRecord[], createdAt: string): Promise<void>;
  /** Marks a batch anchored and takes it out of the outbox, atomically. */
  markAnchored(batchId: string, txId: string, blockNumber: number): Promise<void>;
  /** Removes a batch the ledger refused (a contract error), with its records. */
  dropBatch(batchId: string): Promise<void>;
  /** Batches stored but not yet anchored, oldest first, with their AnchorBatch argument. */
  outbox(): Promise<AnchorRequest[]>;
  /** The RecordRef of a stored record (anchored or not), built from its place in its batch. */
  recordRef(recordId: string): Promise<RecordRef | undefined>;
  nonces: { claim(keyId: string, nonce: string, expiresAt: number): Promise<boolean> };
  close(): Promise<void>;
}

type Db = Level<string, unknown>;

/** Opens (creating when absent) the store in `dir`. */
export async function openStore(dir: string): Promise<Store> {
  mkdirSync(dir, { recursive: true });
  const db: Db = new Level<string, unknown>(dir, { valueEncoding: 'json' });
  try {
    await db.open();
  } catch (e) {
    throw credexError('STORE_UNAVAILABLE', `cannot open the store at ${dir}: ${(e as Error).message}`, { dir }, e);
  }
  return new LevelStore(db);
}

const SEP = '\x00';
const sublevelOpts = { valueEncoding: 'json' } as const;

class LevelStore implements Store {
  readonly #db: Db;
  readonly #records;
  readonly #bySubject;
  readonly #hashes;
  readonly #batches;
  readonly #outbox;
  readonly #members;
  readonly #nonceDb;
  readonly #batchCache = new Map<string, StoredBatch>();
  readonly #claiming = new Set<string>();
  #claims = 0;

  constructor(db: Db) {
    this.#db = db;
    this.#records = db.sublevel<string, RecordValue>('records', sublevelOpts);
    this.#bySubject = db.sublevel('by-subject', sublevelOpts);
    this.#hashes = db.sublevel('content-hashes', sublevelOpts);
    this.#batches = db.sublevel<string, StoredBatch>('batches', sublevelOpts);
    this.#outbox = db.sublevel<string, AnchorRequest>('outbox', sublevelOpts);
    this.#members = db.sublevel<string, string[]>('batch-members', sublevelOpts);
    this.#nonceDb = db.sublevel<string, number>('nonces', sublevelOpts);
  }

  async getRecord(recordId: string): Promise<StoredRecord | undefined> {
    const [record] = await this.getRecords([recordId]);
    return record;
  }

  async getRecords(recordIds: string[]): Promise<(StoredRecord | undefined)[]> {
    if (recordIds.length === 0) return [];
    const values = await this.#records.getMany(recordIds);
    // Records of one batch share one read of it (an unanchored batch is not in the cache).
    const batches = new Map<string, StoredBatch | undefined>();
    const out: (StoredRecord | undefined)[] = [];
    for (const value of values) {
      if (value === undefined) {
        out.push(undefined);
        continue;
      }
      let batch = batches.get(value.batchId);
      if (batch === undefined && !batches.has(value.batchId)) {
        batch = await this.getBatch(value.batchId);
        batches.set(value.batchId, batch);
      }
      out.push(withBatch(value, batch));
    }
    return out;
  }

  async listRecordsBySubject(uscc: string): Promise<StoredRecord[]> {
    const ids: string[] = [];
    for await (const [key, value] of this.#bySubject.iterator({ gt: uscc + SEP, lt: uscc + SEP + '\xff' })) {
      if (Array.isArray(value)) ids.push(...(value as string[]));
      else ids.push(key.slice(uscc.length + 1));
    }
    ids.sort();
    return (await this.getRecords(ids)).filter((r): r is StoredRecord => r !== undefined && r.sealed.header.subject === uscc);
  }

  async contentHashes(recordIds: string[]): Promise<(string | undefined)[]> {
    if (recordIds.length === 0) return [];
    const values = await this.#records.getMany(recordIds);
    const out = values.map((v) => v?.contentHash);
    // Records stored before the hash moved into the record value.
    const older = recordIds.filter((_, i) => values[i] !== undefined && out[i] === undefined);
    if (older.length > 0) {
      const hashes = new Map(older.map((id, i) => [id, i]));
      const found = await this.#hashes.getMany(older);
      recordIds.forEach((id, i) => {
        const k = hashes.get(id);
        if (k !== undefined) out[i] = found[k];
      });
    }
    return out;
  }

  async getBatch(batchId: string): Promise<StoredBatch | undefined> {
    const cached = this.#batchCache.get(batchId);
    if (cached !== undefined) return cached;
    const batch = await this.#batches.get(batchId);
    // Only anchored batches are final; unanchored ones change, so they are not cached.
    if (batch?.anchored === true) this.#cacheBatch(batch);
    return batch;
  }

  async putBatches(batches: AnchorRequest[], records: NewRecord[], createdAt: string): Promise<void> {
    const roots = new Map(batches.map((b) => [b.batchId, b.root]));
    const members = new Map<string, string[]>(batches.map((b) => [b.batchId, []]));
    const bySubject = new Map<string, string[]>();
    const ops = this.#db.batch();
    for (const r of records) {
      const id = r.sealed.header.recordId;
      const root = roots.get(r.batchId);
      if (root === undefined) throw credexError('BATCH_UNKNOWN', `record ${id} names batch ${r.batchId}, which is not being stored`);
      const value: RecordValue = { sealed: r.sealed, batchId: r.batchId, index: r.index, proof: r.proof, root, contentHash: r.contentHash };
      ops.put(id, value, { sublevel: this.#records });
      const indexKey = r.sealed.header.subject + SEP + r.batchId;
      const ids = bySubject.get(indexKey);
      if (ids === undefined) bySubject.set(indexKey, [id]);
      else ids.push(id);
      members.get(r.batchId)?.push(id);
    }
    for (const [key, ids] of bySubject) ops.put(key, ids, { sublevel: this.#bySubject });
    for (const batch of batches) {
      const stored: StoredBatch = { batchId: batch.batchId, catalogueEntryId: batch.catalogueEntryId, root: batch.root, size: batch.size, createdAt, anchored: false };
      ops.put(batch.batchId, stored, { sublevel: this.#batches });
      // Which records to remove should the ledger refuse the batch (the anchor argument does not list them).
      ops.put(batch.batchId, members.get(batch.batchId) ?? [], { sublevel: this.#members });
      ops.put(outboxKey(createdAt, batch.batchId), batch, { sublevel: this.#outbox });
    }
    await ops.write({ sync: true });
  }

  async markAnchored(batchId: string, txId: string, blockNumber: number): Promise<void> {
    const batch = await this.#batches.get(batchId);
    if (batch === undefined) throw credexError('BATCH_UNKNOWN', `no stored batch ${batchId}`, { batchId });
    if (batch.anchored) return;
    const anchored: StoredBatch = { ...batch, anchored: true, txId, blockNumber };
    await this.#db.batch(
      [
        { type: 'put', sublevel: this.#batches, key: batchId, value: anchored },
        { type: 'del', sublevel: this.#outbox, key: outboxKey(batch.createdAt, batchId) },
        { type: 'del', sublevel: this.#members, key: batchId },
      ],
      { sync: true },
    );
    this.#cacheBatch(anchored);
  }

  async dropBatch(batchId: string): Promise<void> {
    const batch = await this.#batches.get(batchId);
    if (batch === undefined) return;
    if (batch.anchored) throw credexError('BATCH_ANCHORED', `batch ${batchId} is anchored and cannot be dropped`, { batchId });
    const ids = (await this.#members.get(batchId)) ?? [];
    const values = ids.length === 0 ? [] : await this.#records.getMany(ids);
    const ops = this.#db.batch();
    const subjects = new Set<string>();
    ids.forEach((id, i) => {
      const value = values[i];
      if (value?.batchId !== batchId) return;
      ops.del(id, { sublevel: this.#records });
      subjects.add(value.sealed.header.subject);
    });
    for (const subject of subjects) ops.del(subject + SEP + batchId, { sublevel: this.#bySubject });
    ops.del(batchId, { sublevel: this.#batches });
    ops.del(batchId, { sublevel: this.#members });
    ops.del(outboxKey(batch.createdAt, batchId), { sublevel: this.#outbox });
    await ops.write({ sync: true });
  }

  async outbox(): Promise<AnchorRequest[]> {
    return this.#outbox.values().all();
  }

  async recordRef(recordId: string): Promise<RecordRef | undefined> {
    const value = await this.#records.get(recordId);
    return value === undefined ? undefined : refOf(value);
  }

  readonly nonces = {
    claim: async (keyId: string, nonce: string, expiresAt: number): Promise<boolean> => {
      const key = keyId + SEP + nonce;
      // Two concurrent claims of one nonce: the second sees the first in flight.
      if (this.#claiming.has(key)) return false;
      this.#claiming.add(key);
      try {
        const seen = await this.#nonceDb.get(key);
        if (seen !== undefined && seen > Date.now()) return false;
        await this.#db.batch([{ type: 'put', sublevel: this.#nonceDb, key, value: expiresAt }], { sync: true });
        if (++this.#claims % 1000 === 0) void this.#pruneNonces();
        return true;
      } finally {
        this.#claiming.delete(key);
      }
    },
  };

  async close(): Promise<void> {
    await this.#db.close();
  }

  #cacheBatch(batch: StoredBatch): void {
    if (this.#batchCache.size >= 10_000) this.#batchCache.clear();
    this.#batchCache.set(batch.batchId, batch);
  }

  async #pruneNonces(): Promise<void> {
    const now = Date.now();
    const expired: string[] = [];
    for await (const [key, expiresAt] of this.#nonceDb.iterator()) if (expiresAt <= now) expired.push(key);
    if (expired.length > 0) await this.#nonceDb.batch(expired.map((key) => ({ type: 'del' as const, key })));
  }
}

/** The RecordRef of a stored record. */
export function refOf(r: { sealed: SealedRecord; batchId: string; index: number; proof: string[] }): RecordRef {
  return { recordId: r.sealed.header.recordId, batchId: r.batchId, index: r.index, leafHash: r.sealed.leafHash, proof: r.proof };
}

function withBatch(value: RecordValue, batch: StoredBatch | undefined): StoredRecord {
  const record: StoredRecord = { ...value, anchored: batch?.anchored === true };
  if (batch?.txId !== undefined) record.txId = batch.txId;
  if (batch?.blockNumber !== undefined) record.blockNumber = batch.blockNumber;
  return record;
}

// Sorted by creation time, so the outbox replays oldest first.
function outboxKey(createdAt: string, batchId: string): string {
  return createdAt + SEP + batchId;
}
