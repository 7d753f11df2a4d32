/**
 * The gateway's off-chain store: LevelDB (`level`) with one sublevel per namespace.
 *
 * A publish is one atomic, synced batch across records (each with its content hash, for
 * idempotency), the subject index, the batch, its tree, its members and its outbox entry;
 * anchoring is a second atomic batch that marks the batch anchored and removes its outbox entry
 * and members. A record is anchored exactly
 * when its batch is, so a record is never reported anchored before its batch's transaction
 * committed. A missing key reads as `undefined`.
 *
 * One key per record and a few per batch: the subject index holds one key per subject and batch
 * (`subject \0 batchId` → the batch's record ids about that subject), since LevelDB's cost per
 * key, not per byte, dominated a batch of 10,000 records. Stores written before keep working:
 * an index key `subject \0 recordId` (value '') and the content-hashes sublevel are still read.
 *
 * A record's value holds neither its inclusion proof nor its batch's root: the proofs of a
 * batch share most of their nodes (a batch of 10,000 has ~20,000 nodes, its proofs ~140,000),
 * so the batch's tree is kept once (`batch-trees`, 32 bytes a node) and a record's proof is read
 * from it — a quarter fewer bytes written per record. Values written before, with `proof` and
 * `root`, are read as they are.
 *
 * A record's value is the record codec's compact bytes (record-codec.ts: raw salts, digests and
 * hashes, the header and fields as JSON text), ~40% fewer bytes than the JSON value it replaces;
 * JSON values written before are told apart by their first byte and read as they are. A value
 * is a small prefix (batch id, index) written here and a body (the sealed record): a record
 * sealed in a seal worker comes with its body encoded there (`NewRecord.encoded`), so the main
 * thread only joins prefix and body; one sealed here is encoded here, to the same bytes. The
 * publish write goes to classic-level's own batch with every key prefixed and every value
 * encoded here (the public batch's work per operation costs about as much as encoding the
 * record): the same keys, the same one atomic synced write.
 */
import { mkdirSync } from 'node:fs';
import type { SealedRecord } from '@credex/core';
import { credexError } from '@credex/core';
import { Level } from 'level';
import type { RecordValue } from './record-codec';
import { bodyAt, contentHashOf, decodeRecordValue, encodeRecordBodies, joinRecordValues } from './record-codec';

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

/** A record sealed and encoded elsewhere (a seal worker): what the store needs of it, and its value's body. */
export interface EncodedRecord {
  recordId: string;
  subject: string;
  /** The record codec's body of its value (record-codec.ts `encodeRecordBodies`), content hash included. */
  body: Uint8Array;
}

/** What is written about one new record of a batch: its place, and the record, sealed or encoded. */
export type NewRecord = {
  batchId: string;
  index: number;
  proof: string[];
  /** Hash of the record as it was posted, for idempotency (an encoded record's body holds it). */
  contentHash: string;
} & ({ sealed: SealedRecord; encoded?: undefined } | { encoded: EncodedRecord; sealed?: undefined });

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

/** One operation of a write whose keys carry their sublevel's prefix and whose values are encoded. */
interface RawOp {
  type: 'put';
  key: string;
  value: string | Uint8Array;
}

/**
 * classic-level's own batch (`_batch`, abstract-level's private API for implementations), which
 * the public `batch()` calls once it has cloned each operation with its options, looked up its
 * encodings and prefixed its key: work that, for a batch of 10,000 records, took ~8 µs a record
 * of putBatches' ~24 with the values already encoded. The operations here come encoded and
 * prefixed; no hooks or write listeners are used, which the public path would run.
 */
type RawBatch = (ops: RawOp[], options: { sync: boolean }) => Promise<void>;

/**
 * LevelDB's memtable (default 4 MB). A publish of 10,000 records writes ~16 MB in one batch, so
 * with 4 MB every publish set off its own flush to a level-0 table; at 32 MB one flush serves two
 * publishes, and LevelDB's background CPU was ~30% lower (~17 → ~13 µs a record over twelve
 * publishes in a row). It costs up to twice this in memory and a longer log to replay at open.
 */
const WRITE_BUFFER_BYTES = 32 * 1024 * 1024;

/** Opens (creating when absent) the store in `dir`. */
export async function openStore(dir: string): Promise<Store> {
  mkdirSync(dir, { recursive: true });
  const db: Db = new Level<string, unknown>(dir, { valueEncoding: 'json', writeBufferSize: WRITE_BUFFER_BYTES });
  try {
    await db.open();
  } catch (e) {
    throw credexError('STORE_UNAVAILABLE', `cannot open the store at ${dir}: ${(e as Error).message}`, { dir }, e);
  }
  const raw = db as unknown as { _batch: RawBatch };
  return new LevelStore(db, (ops, options) => raw._batch(ops, options));
}

const SEP = '\x00';
const sublevelOpts = { valueEncoding: 'json' } as const;

class LevelStore implements Store {
  readonly #db: Db;
  readonly #rawBatch: RawBatch;
  readonly #records;
  readonly #bySubject;
  readonly #hashes;
  readonly #batches;
  readonly #outbox;
  readonly #members;
  readonly #nonceDb;
  readonly #trees;
  readonly #batchCache = new Map<string, StoredBatch>();
  readonly #treeCache = new Map<string, Buffer>();
  #treeCacheBytes = 0;
  readonly #claiming = new Set<string>();
  #claims = 0;

  constructor(db: Db, rawBatch: RawBatch) {
    this.#db = db;
    this.#rawBatch = rawBatch;
    // Values are the record codec's bytes (or JSON, from earlier versions), decoded here.
    this.#records = db.sublevel<string, Buffer>('records', { valueEncoding: 'buffer' });
    this.#bySubject = db.sublevel('by-subject', sublevelOpts);
    this.#hashes = db.sublevel('content-hashes', sublevelOpts);
    this.#batches = db.sublevel<string, StoredBatch>('batches', sublevelOpts);
    this.#outbox = db.sublevel<string, AnchorRequest>('outbox', sublevelOpts);
    this.#members = db.sublevel<string, string[]>('batch-members', sublevelOpts);
    this.#nonceDb = db.sublevel<string, number>('nonces', sublevelOpts);
    this.#trees = db.sublevel<string, Buffer>('batch-trees', { valueEncoding: 'buffer' });
  }

  async getRecord(recordId: string): Promise<StoredRecord | undefined> {
    const [record] = await this.getRecords([recordId]);
    return record;
  }

  async getRecords(recordIds: string[]): Promise<(StoredRecord | undefined)[]> {
    if (recordIds.length === 0) return [];
    const values = await this.#recordValues(recordIds);
    // Records of one batch share one read of it and of its tree (an unanchored batch is not in the cache).
    const batches = new Map<string, StoredBatch | undefined>();
    const treeIds = new Set<string>();
    for (const value of values) {
      if (value === undefined) continue;
      if (!batches.has(value.batchId)) batches.set(value.batchId, await this.getBatch(value.batchId));
      if (value.proof === undefined) treeIds.add(value.batchId);
    }
    const trees = await this.#treesOf([...treeIds]);
    return values.map((value) => {
      if (value === undefined) return undefined;
      const batch = batches.get(value.batchId);
      if (value.proof !== undefined && value.root !== undefined) return withBatch({ ...value, proof: value.proof, root: value.root }, batch);
      const tree = trees.get(value.batchId);
      if (batch === undefined || tree === undefined) {
        throw credexError('STORE_CORRUPT', `record ${value.sealed.header.recordId} names batch ${value.batchId}, whose ${batch === undefined ? 'entry' : 'tree'} is missing`, { batchId: value.batchId });
      }
      return withBatch({ ...value, proof: proofFromTree(tree, batch.size, value.index), root: batch.root }, batch);
    });
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
    const out = values.map((v) => (v === undefined ? undefined : contentHashOf(v)));
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
    const ops = this.#putBatchOps(batches, records, createdAt);
    // Checked here: the raw batch skips abstract-level's checks, and classic-level's own needs an open database.
    if (this.#db.status !== 'open') throw credexError('STORE_UNAVAILABLE', `the store is ${this.#db.status}`);
    await this.#rawBatch(ops, { sync: true });
  }

  /** The one write of putBatches: keys prefixed with their sublevel's prefix, values encoded as each sublevel's are. */
  #putBatchOps(batches: AnchorRequest[], records: NewRecord[], createdAt: string): RawOp[] {
    const trees = new Map(batches.map((b) => [b.batchId, new TreeWriter(b.size)]));
    const members = new Map<string, string[]>(batches.map((b) => [b.batchId, []]));
    const bySubject = new Map<string, string[]>();
    // Records sealed here get their bodies encoded now; encoded ones come with theirs.
    const toEncode: { sealed: SealedRecord; contentHash: string }[] = [];
    for (const r of records) if (r.sealed !== undefined) toEncode.push({ sealed: r.sealed, contentHash: r.contentHash });
    const encoded = encodeRecordBodies(toEncode);
    let e = 0;
    const values = joinRecordValues(records.map((r) => ({ batchId: r.batchId, index: r.index, body: r.sealed === undefined ? r.encoded.body : bodyAt(encoded.bytes, encoded.ends, e++) })));
    const ops = new Array<RawOp>(records.length);
    const recordsPrefix = this.#records.prefix;
    for (let i = 0; i < records.length; i++) {
      const r = records[i] as NewRecord;
      const { recordId: id, subject } = r.sealed === undefined ? r.encoded : r.sealed.header;
      const tree = trees.get(r.batchId);
      if (tree === undefined) throw credexError('BATCH_UNKNOWN', `record ${id} names batch ${r.batchId}, which is not being stored`);
      tree.add(r.index, r.proof);
      ops[i] = { type: 'put', key: recordsPrefix + id, value: values[i] as Uint8Array };
      const indexKey = subject + SEP + r.batchId;
      const ids = bySubject.get(indexKey);
      if (ids === undefined) bySubject.set(indexKey, [id]);
      else ids.push(id);
      members.get(r.batchId)?.push(id);
    }
    const json = (sublevel: { prefix: string }, key: string, value: unknown): RawOp => ({ type: 'put', key: sublevel.prefix + key, value: JSON.stringify(value) });
    for (const [key, ids] of bySubject) ops.push(json(this.#bySubject, key, ids));
    for (const batch of batches) {
      const stored: StoredBatch = { batchId: batch.batchId, catalogueEntryId: batch.catalogueEntryId, root: batch.root, size: batch.size, createdAt, anchored: false };
      ops.push(json(this.#batches, batch.batchId, stored));
      ops.push({ type: 'put', key: this.#trees.prefix + batch.batchId, value: (trees.get(batch.batchId) as TreeWriter).finish(batch.batchId) });
      // Which records to remove should the ledger refuse the batch (the anchor argument does not list them).
      ops.push(json(this.#members, batch.batchId, members.get(batch.batchId) ?? []));
      ops.push(json(this.#outbox, outboxKey(createdAt, batch.batchId), batch));
    }
    return ops;
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
    const values = ids.length === 0 ? [] : await this.#recordValues(ids);
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
    ops.del(batchId, { sublevel: this.#trees });
    ops.del(batchId, { sublevel: this.#members });
    ops.del(outboxKey(batch.createdAt, batchId), { sublevel: this.#outbox });
    await ops.write({ sync: true });
    this.#uncacheTree(batchId);
  }

  async outbox(): Promise<AnchorRequest[]> {
    return this.#outbox.values().all();
  }

  async recordRef(recordId: string): Promise<RecordRef | undefined> {
    const [record] = await this.getRecords([recordId]);
    return record === undefined ? undefined : refOf(record);
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

  /** The stored values of these records, decoded (undefined where there is none). */
  async #recordValues(recordIds: string[]): Promise<(RecordValue | undefined)[]> {
    return (await this.#records.getMany(recordIds)).map((bytes) => (bytes === undefined ? undefined : decodeRecordValue(bytes)));
  }

  /** The stored trees of these batches (a batch's tree does not change once written). */
  async #treesOf(batchIds: string[]): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    const missing = batchIds.filter((id) => {
      const cached = this.#treeCache.get(id);
      if (cached !== undefined) out.set(id, cached);
      return cached === undefined;
    });
    if (missing.length === 0) return out;
    const found = await this.#trees.getMany(missing);
    missing.forEach((id, i) => {
      const tree = found[i];
      if (tree === undefined) return;
      out.set(id, tree);
      if (this.#treeCacheBytes + tree.length > TREE_CACHE_BYTES) {
        this.#treeCache.clear();
        this.#treeCacheBytes = 0;
      }
      this.#treeCache.set(id, tree);
      this.#treeCacheBytes += tree.length;
    });
    return out;
  }

  #uncacheTree(batchId: string): void {
    const tree = this.#treeCache.get(batchId);
    if (tree === undefined) return;
    this.#treeCache.delete(batchId);
    this.#treeCacheBytes -= tree.length;
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

function withBatch(value: RecordValue & { proof: string[]; root: string }, batch: StoredBatch | undefined): StoredRecord {
  const record: StoredRecord = { sealed: value.sealed, batchId: value.batchId, index: value.index, proof: value.proof, root: value.root, anchored: batch?.anchored === true };
  if (batch?.txId !== undefined) record.txId = batch.txId;
  if (batch?.blockNumber !== undefined) record.blockNumber = batch.blockNumber;
  return record;
}

/** Trees kept in memory, at most this many bytes (a batch of 10,000 records: ~640 KB). */
const TREE_CACHE_BYTES = 64 * 1024 * 1024;
const NODE = 32;

/**
 * Node counts of the levels of a tree of `size` leaves below its root, leaves first: as
 * core's buildMerkleTree pairs them, an unpaired last node carried up unchanged.
 */
function levelSizes(size: number): number[] {
  const sizes: number[] = [];
  for (let n = size; n > 1; n = Math.ceil(n / 2)) sizes.push(n);
  return sizes;
}

/**
 * A batch's tree, gathered from its records' leaves and proofs (every node a proof uses is in
 * one of them): the nodes of each level below the root, 32 bytes each, leaves first.
 */
class TreeWriter {
  readonly #sizes: number[];
  readonly #offsets: number[] = [];
  readonly #nodes: Buffer;
  readonly #set: Uint8Array;
  #leaves = 0;

  constructor(readonly size: number) {
    this.#sizes = levelSizes(size);
    let total = 0;
    for (const n of this.#sizes) {
      this.#offsets.push(total);
      total += n;
    }
    this.#nodes = Buffer.alloc(total * NODE);
    this.#set = new Uint8Array(total);
  }

  /** A record's proof; its own leaf comes with its sibling's proof (a batch of one has no nodes). */
  add(index: number, proof: string[]): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= this.size) {
      throw credexError('INDEX_INVALID', `leaf index ${index} is outside a batch of ${this.size}`, { index, size: this.size });
    }
    this.#leaves++;
    let i = index;
    let k = 0;
    for (let level = 0; level < this.#sizes.length; level++) {
      const sibling = i ^ 1;
      if (sibling < (this.#sizes[level] as number)) {
        const node = proof[k++];
        if (node === undefined) throw credexError('PROOF_INVALID', `the proof of leaf ${index} is too short for a batch of ${this.size}`, { index });
        this.#put(level, sibling, node);
      }
      i >>= 1;
    }
    if (k !== proof.length) throw credexError('PROOF_INVALID', `the proof of leaf ${index} is too long for a batch of ${this.size}`, { index });
  }

  /** The tree's bytes, once every leaf of the batch was added. */
  finish(batchId: string): Buffer {
    if (this.#leaves !== this.size) {
      throw credexError('BATCH_INCOMPLETE', `batch ${batchId} has ${this.size} records, ${this.#leaves} were given`, { batchId });
    }
    return this.#nodes;
  }

  #put(level: number, position: number, hex: string): void {
    const at = (this.#offsets[level] as number) + position;
    if (this.#set[at] === 1) return;
    if (this.#nodes.write(hex, at * NODE, NODE, 'hex') !== NODE || hex.length !== 2 * NODE) {
      throw credexError('HASH_INVALID', `tree node ${hex} is not 64 hex`, { level, position });
    }
    this.#set[at] = 1;
  }
}

/** The inclusion proof of leaf `index` from a batch's stored tree (as core's tree.proof(index)). */
function proofFromTree(tree: Buffer, size: number, index: number): string[] {
  const proof: string[] = [];
  let offset = 0;
  let i = index;
  for (const n of levelSizes(size)) {
    const sibling = i ^ 1;
    if (sibling < n) proof.push(tree.toString('hex', (offset + sibling) * NODE, (offset + sibling + 1) * NODE));
    offset += n;
    i >>= 1;
  }
  return proof;
}

// Sorted by creation time, so the outbox replays oldest first.
function outboxKey(createdAt: string, batchId: string): string {
  return createdAt + SEP + batchId;
}
