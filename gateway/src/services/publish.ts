/**
 * Publishing: validate → seal (salted field digests, leaf) → Merkle batch → one atomic store
 * write (records unanchored + outbox entry) → one AnchorBatch (root and size only, however many
 * records) → mark anchored → respond.
 *
 * Crash safety: what the store holds but the ledger does not is in the outbox; the outbox is
 * replayed at start and periodically. A batch whose AnchorBatch already committed (the
 * response was lost) is found on chain and marked anchored; a batch the contract refuses is
 * dropped, so refused input leaves nothing behind. A record is reported (and served) only once
 * its batch is anchored.
 *
 * The per-record work (validate, content hash, seal; seal-records.ts) of a publish of at least
 * POOL_MIN_RECORDS records runs in seal workers (seal-pool.ts), in chunks, once they are ready:
 * the first such publish starts them and still works on the main thread. A smaller publish, or
 * one while the workers start, does the same work here, with the same errors. The workers also
 * encode each sealed record's stored value body (record-codec.ts): the main thread keeps only
 * what it needs of a record (SealedEntry: id, subject, leaf hash, supersedes, content hash) and
 * the store writes the body behind the record's place (batch id, index).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { SealedRecord } from '@credex/core';
import { buildMerkleTree, canonicalize, credexError, isCredexError } from '@credex/core';
import type { CatalogueEntry } from '@credex/schemas';
import type { LedgerClient } from '../ledger/client';
import { LedgerError } from '../ledger/errors';
import type { SealPool } from './seal-pool';
import { createSealPool } from './seal-pool';
import type { ChunkResult, PreparedRecord, SealContext, SealedEntry } from './seal-records';
import { prepareRecord, sealedEntry, sealPrepared, unpackChunk } from './seal-records';
import type { AnchorRequest, NewRecord, RecordRef, Store, StoredRecord, Supersession } from '../store/store';
import { refOf } from '../store/store';

/** At most this many records per publish request (and per AnchorBatch). */
export const MAX_RECORDS_PER_PUBLISH = 10_000;
/** At most this many records of one publish may supersede earlier ones (anchor-batch `supersessions`). */
export const MAX_SUPERSESSIONS_PER_PUBLISH = 100;
/** A publish of at least this many records is validated and sealed in the seal workers, in chunks. */
export const POOL_MIN_RECORDS = 256;

/** What a publisher's staff posts. */
export interface PublishInput {
  catalogueEntryId: string;
  records: unknown[];
}

/** One published record: where it sits in which anchored batch. */
export interface PublishedRecord {
  recordId: string;
  leafHash: string;
  batchId: string;
  index: number;
  size: number;
  proof: string[];
  root: string;
  txId: string;
  blockNumber?: number;
}

/** Progress of a publish, for streaming to the caller. */
export interface PublishProgress {
  phase: 'validated' | 'sealed' | 'stored' | 'anchored';
  done: number;
  total: number;
}

/** Options of one publish. */
export interface PublishOptions {
  /** Every record of this publish supersedes this record of ours (an objection's correction). */
  supersedes?: string;
  onProgress?: (p: PublishProgress) => void;
  log?: FastifyBaseLogger;
}

/** The publishing service of one gateway. */
export interface Publisher {
  /**
   * Publishes records of one catalogue entry in one anchored batch; idempotent per recordId.
   *
   * @throws CredexError SCHEMA_INVALID / USCC_INVALID / RECORD_TYPE_MISMATCH / SUBJECT_MISMATCH /
   *   RECORDS_TOO_MANY / SUPERSESSIONS_TOO_MANY (400), RECORD_CONFLICT (409), SUPERSEDED_UNKNOWN (404),
   *   FORBIDDEN, ENTRY_RETIRED, chaincode codes, LEDGER_* codes
   */
  publish(input: PublishInput, opts?: PublishOptions): Promise<PublishedRecord[]>;
  /** Anchors every stored but unanchored batch; returns how many were anchored. */
  replayOutbox(log: FastifyBaseLogger): Promise<number>;
  /** Waits for the anchors under way (before the store closes). */
  drain(): Promise<void>;
  /**
   * Starts the seal workers and waits until they are ready. Optional: the first large publish
   * starts them, and does its own work on the main thread until they are ready.
   */
  startSealWorkers(): Promise<void>;
  /** Seal worker threads running (none before the first large publish, none after `close`). */
  readonly sealThreads: number;
  /** Chunks of records the seal workers have validated and sealed (none while every publish ran on the main thread). */
  readonly sealedChunks: number;
  /** Stops the seal workers (when the app closes); none start after, a large publish then works on the main thread. */
  close(): Promise<void>;
}

interface OnChainBatch {
  batchId: string;
  root: string;
  txId: string;
}

interface Anchored {
  txId: string;
  blockNumber: number;
}

/** Creates the publisher of organization `mspId`. */
export function createPublisher(deps: {
  mspId: string;
  ledger: LedgerClient;
  store: Store;
  /** The seal workers to use (default: a pool of its own, started when first needed, closed by `close`). */
  sealPool?: SealPool;
}): Publisher {
  const { mspId, ledger, store } = deps;
  let pool = deps.sealPool;
  const ownPool = pool === undefined;
  const sealPool = (): SealPool => (pool ??= createSealPool());
  const anchoring = new Map<string, Promise<Anchored>>();
  // Record ids a publish in flight has taken (checked new under the lock) but may not have stored yet.
  const claimed = new Map<string, { contentHash: string; settled: Promise<void> }>();
  let writeLock: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every earlier call has finished: the check-and-claim of record ids. */
  function exclusively<T>(fn: () => Promise<T>): Promise<T> {
    const run = writeLock.then(fn, fn);
    writeLock = run.catch(() => undefined);
    return run;
  }

  async function findOnChain(batchId: string): Promise<OnChainBatch | undefined> {
    try {
      return await ledger.evaluate<OnChainBatch>('anchors', 'GetBatch', batchId);
    } catch (e) {
      if (isCredexError(e, 'NOT_FOUND')) return undefined;
      throw e;
    }
  }

  /**
   * Submits a batch's AnchorBatch and marks it anchored. With `stored` (the batch's store write,
   * under way), the ledger commit and the write run at once and the batch is marked anchored
   * only once both are done; if the write fails, nothing is acknowledged (a batch anchored
   * without stored records names nothing anyone holds).
   */
  async function anchorOnce(request: AnchorRequest, log?: FastifyBaseLogger, stored?: Promise<void>): Promise<Anchored> {
    const submitting = ledger.submit('anchors', 'AnchorBatch', canonicalize(request));
    if (stored !== undefined) {
      submitting.catch(() => undefined);
      await stored;
    }
    try {
      const { txId, blockNumber } = await submitting;
      await store.markAnchored(request.batchId, txId, blockNumber);
      log?.info({ txId, batchId: request.batchId, size: request.size, blockNumber }, 'batch anchored');
      return { txId, blockNumber };
    } catch (e) {
      if (!(e instanceof LedgerError)) throw e;
      // The batch may have committed although we did not hear so (a lost response, a crash).
      if (e.retryable || e.code === 'ALREADY_EXISTS') {
        const onChain = await findOnChain(request.batchId).catch(() => undefined);
        if (onChain?.root === request.root) {
          await store.markAnchored(request.batchId, onChain.txId, -1);
          log?.info({ txId: onChain.txId, batchId: request.batchId }, 'batch found anchored on chain');
          return { txId: onChain.txId, blockNumber: -1 };
        }
      }
      if (!e.retryable) {
        // A contract error will not change on retry: nothing of this batch stays.
        await store.dropBatch(request.batchId);
        log?.warn({ txId: e.txId, batchId: request.batchId, code: e.code }, 'batch refused by the ledger, dropped');
      }
      throw e;
    }
  }

  /** Anchors a stored batch; concurrent callers for one batch share one attempt. */
  function anchor(request: AnchorRequest, log?: FastifyBaseLogger, stored?: Promise<void>): Promise<Anchored> {
    let running = anchoring.get(request.batchId);
    if (running === undefined) {
      running = anchorOnce(request, log, stored).finally(() => anchoring.delete(request.batchId));
      anchoring.set(request.batchId, running);
    }
    return running;
  }

  async function ensureAnchored(batchIds: Set<string>, log?: FastifyBaseLogger): Promise<void> {
    if (batchIds.size === 0) return;
    const pending = new Map((await store.outbox()).map((r) => [r.batchId, r]));
    await Promise.all([...batchIds].map(async (id) => {
      const request = pending.get(id);
      if (request !== undefined) await anchor(request, log);
      else if (anchoring.has(id)) await anchoring.get(id);
    }));
  }

  async function loadEntry(catalogueEntryId: string): Promise<CatalogueEntry> {
    const entry = await ledger.evaluate<CatalogueEntry>('catalogue', 'GetEntry', catalogueEntryId);
    if (entry.publisher !== mspId) {
      throw credexError('FORBIDDEN', `catalogue entry ${catalogueEntryId} is published by ${entry.publisher}, not ${mspId}`);
    }
    if (entry.status !== 'active') throw credexError('ENTRY_RETIRED', `catalogue entry ${catalogueEntryId} is retired`);
    return entry;
  }

  /** Validates and hashes every record on this thread, the first failing one deciding the error; sealing comes later. */
  function prepare(records: readonly unknown[], ctx: SealContext): PreparedRecord[] {
    const prepared = new Array<PreparedRecord>(records.length);
    for (let i = 0; i < records.length; i++) prepared[i] = prepareRecord(records[i], i, ctx);
    return prepared;
  }

  /**
   * {@link prepare} in the seal workers, chunk by chunk, sealing as well (a record published
   * before is sealed for nothing, but the workers' time is not the main thread's). Chunks are
   * taken back in order, so the first failing record by index decides the error.
   */
  async function prepareInPool(records: readonly unknown[], ctx: SealContext, workers: SealPool): Promise<PreparedRecord[]> {
    const chunk = Math.min(1_000, Math.max(250, Math.ceil(records.length / (8 * workers.size))));
    const chunks: { offset: number; result: Promise<ChunkResult> }[] = [];
    for (let offset = 0; offset < records.length; offset += chunk) {
      const result = workers.run(records.slice(offset, offset + chunk), offset, ctx);
      result.catch(() => undefined);
      chunks.push({ offset, result });
    }
    const prepared = new Array<PreparedRecord>(records.length);
    for (const c of chunks) unpackChunk(c.offset, ctx, await c.result, prepared);
    return prepared;
  }

  /** A prepared record sealed: in the worker that prepared it, or here. */
  function seal(p: PreparedRecord, ctx: SealContext): SealedEntry {
    if (p.sealError !== undefined) throw p.sealError;
    if (p.sealed !== undefined) return p.sealed;
    if (p.record === undefined) throw new Error(`record ${p.recordId} was prepared neither sealed nor to seal`);
    return sealedEntry(sealPrepared(p.record, ctx), p.contentHash);
  }

  /**
   * The ids already published (stored, or taken by a publish in flight: `waits` settle when
   * those are done), after checking each was published with the same content.
   */
  async function publishedBefore(ids: string[], unique: Map<string, PreparedRecord>): Promise<{ done: Set<string>; waits: Set<Promise<void>> }> {
    const hashes = await store.contentHashes(ids);
    const done = new Set<string>();
    const waits = new Set<Promise<void>>();
    const conflicts: string[] = [];
    ids.forEach((id, i) => {
      const inFlight = hashes[i] === undefined ? claimed.get(id) : undefined;
      const hash = hashes[i] ?? inFlight?.contentHash;
      if (hash === undefined) return;
      if (hash !== unique.get(id)?.contentHash) conflicts.push(id);
      done.add(id);
      if (inFlight !== undefined) waits.add(inFlight.settled);
    });
    if (conflicts.length > 0) {
      throw credexError('RECORD_CONFLICT', `${conflicts.length} record id(s) were published before with other content; correct a record by superseding it`, { recordIds: conflicts.slice(0, 100) });
    }
    return { done, waits };
  }

  /** The RecordRefs of the records our new records supersede (they must be ours, so in our store). */
  async function supersededRefs(sealed: SealedEntry[]): Promise<Map<string, RecordRef>> {
    const ids = [...new Set(sealed.flatMap((s) => (s.supersedes === undefined ? [] : [s.supersedes])))];
    if (ids.length === 0) return new Map();
    if (sealed.filter((s) => s.supersedes !== undefined).length > MAX_SUPERSESSIONS_PER_PUBLISH) {
      throw credexError('SUPERSESSIONS_TOO_MANY', `at most ${MAX_SUPERSESSIONS_PER_PUBLISH} records of one publish may supersede earlier ones`);
    }
    const stored = await store.getRecords(ids);
    const refs = new Map<string, RecordRef>();
    ids.forEach((id, i) => {
      const r = stored[i];
      if (r === undefined) throw credexError('SUPERSEDED_UNKNOWN', `record ${id} is not one of this gateway's records, so it cannot be superseded here`, { recordId: id });
      if (!r.anchored) throw credexError('RECORD_UNANCHORED', `record ${id} is not anchored yet, so it cannot be superseded yet`, { recordId: id });
      refs.set(id, refOf(r));
    });
    return refs;
  }

  async function publish(input: PublishInput, opts: PublishOptions = {}): Promise<PublishedRecord[]> {
    const total = input.records.length;
    if (total === 0 || total > MAX_RECORDS_PER_PUBLISH) {
      throw credexError('RECORDS_TOO_MANY', `a publish holds 1 to ${MAX_RECORDS_PER_PUBLISH} records, not ${total}`);
    }
    const progress = (phase: PublishProgress['phase'], done: number): void => opts.onProgress?.({ phase, done, total });
    const entry = await loadEntry(input.catalogueEntryId);
    const ctx: SealContext = { mspId, catalogueEntryId: input.catalogueEntryId, entry: { entryId: entry.entryId, recordType: entry.recordType, subject: entry.subject } };
    if (opts.supersedes !== undefined) ctx.supersedes = opts.supersedes;
    // Large publishes go to the seal workers once they are ready (the first one starts them).
    const prepared = total >= POOL_MIN_RECORDS && sealPool().warm()
      ? await prepareInPool(input.records, ctx, sealPool())
      : prepare(input.records, ctx);
    const unique = new Map<string, PreparedRecord>();
    for (const p of prepared) {
      const seen = unique.get(p.recordId);
      if (seen !== undefined && seen.contentHash !== p.contentHash) {
        throw credexError('RECORD_CONFLICT', `record ${p.recordId} appears twice with different content`, { recordIds: [p.recordId] });
      }
      unique.set(p.recordId, p);
    }
    const ids = [...unique.keys()];
    progress('validated', total);

    // Sealing is the costly part: done outside the lock, for the ids not published before.
    const { done: before, waits: inFlightBefore } = await publishedBefore(ids, unique);
    let sealed = ids.filter((id) => !before.has(id)).map((id) => seal(unique.get(id) as PreparedRecord, ctx));
    progress('sealed', total);
    const refs = await supersededRefs(sealed);

    const placed = new Map<string, PublishedRecord>();
    let settle!: () => void;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const { batch, waits } = await exclusively(async () => {
      // Checked again under the lock: a concurrent publish may have taken some of these ids since.
      const raced = await publishedBefore(sealed.map((s) => s.recordId), unique);
      if (raced.done.size > 0) sealed = sealed.filter((s) => !raced.done.has(s.recordId));
      if (sealed.length === 0) return { batch: undefined, waits: raced.waits };
      // Taken: from here on a concurrent publish of these ids waits for this one.
      for (const s of sealed) claimed.set(s.recordId, { contentHash: s.contentHash, settled });
      return { batch: sealed, waits: raced.waits };
    });

    try {
      if (batch !== undefined) {
        const tree = buildMerkleTree(batch.map((s) => s.leafHash));
        const batchId = `${mspId}.${Date.now().toString(36)}.${tree.root.slice(0, 16)}`;
        const records: NewRecord[] = new Array<NewRecord>(batch.length);
        const supersessions: Supersession[] = [];
        batch.forEach((s, index) => {
          const recordId = s.recordId;
          const proof = tree.proof(index);
          records[index] = s.body === undefined
            ? { sealed: s.sealed as SealedRecord, batchId, index, proof, contentHash: s.contentHash }
            : { encoded: { recordId, subject: s.subject, body: s.body }, batchId, index, proof, contentHash: s.contentHash };
          placed.set(recordId, { recordId, leafHash: s.leafHash, batchId, index, size: batch.length, proof, root: tree.root, txId: '' });
          const old = s.supersedes === undefined ? undefined : refs.get(s.supersedes);
          if (old !== undefined) supersessions.push({ record: { recordId, index, leafHash: s.leafHash, proof }, supersedes: old });
        });
        const request: AnchorRequest = { batchId, catalogueEntryId: input.catalogueEntryId, root: tree.root, size: batch.length };
        if (supersessions.length > 0) request.supersessions = supersessions;
        const write = store.putBatches([request], records, new Date().toISOString());
        // The ledger commit runs during the store write, except for a batch that supersedes records:
        // its new records must be stored before the ledger marks the old ones superseded.
        const anchoredAlready = request.supersessions === undefined ? anchor(request, opts.log, write) : undefined;
        anchoredAlready?.catch(() => undefined);
        await write;
        progress('stored', total);
        const { txId, blockNumber } = await (anchoredAlready ?? anchor(request, opts.log));
        for (const p of placed.values()) {
          p.txId = txId;
          if (blockNumber >= 0) p.blockNumber = blockNumber;
        }
      } else {
        progress('stored', total);
      }
      progress('anchored', total);
    } finally {
      for (const s of batch ?? []) if (claimed.get(s.recordId)?.settled === settled) claimed.delete(s.recordId);
      settle();
    }
    // Records another publish in flight took: their outcome first.
    await Promise.all([...inFlightBefore, ...waits]);

    // Records published earlier (same content) may still sit in the outbox of a crashed publish.
    const earlier = ids.filter((id) => !placed.has(id));
    if (earlier.length > 0) {
      let stored = await store.getRecords(earlier);
      const unanchored = new Set(stored.filter((r) => r !== undefined && !r.anchored).map((r) => (r as StoredRecord).batchId));
      if (unanchored.size > 0) {
        await ensureAnchored(unanchored, opts.log);
        stored = await store.getRecords(earlier);
      }
      const sizes = new Map<string, number>();
      for (const [i, r] of stored.entries()) {
        if (r === undefined) throw credexError('RECORD_LOST', `record ${earlier[i] ?? ''} vanished while publishing`);
        let size = sizes.get(r.batchId);
        if (size === undefined) {
          size = (await store.getBatch(r.batchId))?.size ?? 0;
          sizes.set(r.batchId, size);
        }
        placed.set(r.sealed.header.recordId, toPublished(r, size));
      }
    }
    return ids.map((id) => {
      const p = placed.get(id);
      if (p === undefined) throw credexError('RECORD_LOST', `record ${id} vanished while publishing`);
      return p;
    });
  }

  async function replayOutbox(log: FastifyBaseLogger): Promise<number> {
    let anchoredCount = 0;
    for (const request of await store.outbox()) {
      try {
        await anchor(request, log);
        anchoredCount++;
      } catch (e) {
        log.warn({ batchId: request.batchId, code: (e as { code?: string }).code, err: e }, 'outbox batch not anchored');
      }
    }
    return anchoredCount;
  }

  async function drain(): Promise<void> {
    await Promise.allSettled([...anchoring.values()]);
  }

  async function close(): Promise<void> {
    // Its own pool is closed even before a large publish made it, so a publish still under way
    // does not start workers nobody stops (a closed pool starts none; the work stays here).
    if (ownPool) await sealPool().close();
  }

  return {
    publish,
    replayOutbox,
    drain,
    startSealWorkers: () => sealPool().start(),
    get sealThreads() {
      return pool?.threads ?? 0;
    },
    get sealedChunks() {
      return pool?.chunksDone ?? 0;
    },
    close,
  };
}

function toPublished(r: StoredRecord, size: number): PublishedRecord {
  if (!r.anchored || r.txId === undefined) {
    throw credexError('RECORD_UNANCHORED', `record ${r.sealed.header.recordId} is not anchored yet`);
  }
  const out: PublishedRecord = {
    recordId: r.sealed.header.recordId, leafHash: r.sealed.leafHash, batchId: r.batchId, index: r.index, size,
    proof: r.proof, root: r.root, txId: r.txId,
  };
  if (r.blockNumber !== undefined && r.blockNumber >= 0) out.blockNumber = r.blockNumber;
  return out;
}
