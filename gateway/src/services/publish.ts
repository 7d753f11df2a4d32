/**
 * Publishing: validate → seal (salted field digests, leaf) → Merkle batch → one atomic store
 * write (records unanchored + outbox entry) → AnchorBatch → mark anchored → respond.
 *
 * Crash safety: what the store holds but the ledger does not is in the outbox; the outbox is
 * replayed at start and periodically. A batch whose AnchorBatch already committed (the
 * response was lost) is found on chain and marked anchored; a batch the contract refuses is
 * dropped, so refused input leaves nothing behind. A record is reported (and served) only once
 * its batch is anchored.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { RecordHeader, SealedRecord } from '@credex/core';
import { assertUscc, buildMerkleTree, canonicalize, credexError, isCredexError, sealRecord, sha256Hex } from '@credex/core';
import type { CatalogueEntry, CreditRecord } from '@credex/schemas';
import { validate } from '@credex/schemas';
import type { LedgerClient } from '../ledger/client';
import { errorText } from '../errors';
import { LedgerError } from '../ledger/errors';
import type { AnchorRequest, NewRecord, Store, StoredRecord } from '../store/store';

/** At most this many records per publish request. */
export const MAX_RECORDS_PER_PUBLISH = 10_000;
// The chaincode accepts AnchorBatch arguments up to 1 MiB; stay well below.
const MAX_ANCHOR_ARGUMENT_BYTES = 900 * 1024;

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

/** The publishing service of one gateway. */
export interface Publisher {
  /**
   * Publishes records of one catalogue entry; idempotent per recordId.
   *
   * @throws CredexError SCHEMA_INVALID / USCC_INVALID / RECORD_TYPE_MISMATCH / SUBJECT_MISMATCH
   *   (400), RECORD_CONFLICT (409), FORBIDDEN, ENTRY_RETIRED, chaincode codes, LEDGER_* codes
   */
  publish(input: PublishInput, opts?: { supersedes?: string; onProgress?: (p: PublishProgress) => void; log?: FastifyBaseLogger }): Promise<PublishedRecord[]>;
  /** Anchors every stored but unanchored batch; returns how many were anchored. */
  replayOutbox(log: FastifyBaseLogger): Promise<number>;
  /** Waits for the anchors under way (before the store closes). */
  drain(): Promise<void>;
}

interface PreparedRecord {
  record: CreditRecord;
  contentHash: string;
}

interface OnChainBatch {
  batchId: string;
  root: string;
  txId: string;
}

/** Creates the publisher of organization `mspId`; `recordsPerAnchor` caps the records of one AnchorBatch. */
export function createPublisher(deps: { mspId: string; ledger: LedgerClient; store: Store; recordsPerAnchor?: number }): Publisher {
  const { mspId, ledger, store } = deps;
  // Measured here: 1,000 per transaction anchors no faster than the 1 MiB argument limit allows (~5,000).
  const recordsPerAnchor = deps.recordsPerAnchor ?? MAX_RECORDS_PER_PUBLISH;
  const anchoring = new Map<string, Promise<void>>();
  let writeLock: Promise<unknown> = Promise.resolve();

  /** Runs `fn` after every earlier call has finished: the check-then-write of record ids. */
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

  async function anchorOnce(request: AnchorRequest, log?: FastifyBaseLogger): Promise<void> {
    try {
      const { txId, blockNumber } = await ledger.submit('anchors', 'AnchorBatch', canonicalize(request));
      await store.markAnchored(request.batchId, txId, blockNumber);
      log?.info({ txId, batchId: request.batchId, size: request.size, blockNumber }, 'batch anchored');
    } catch (e) {
      if (!(e instanceof LedgerError)) throw e;
      // The batch may have committed although we did not hear so (a lost response, a crash).
      if (e.retryable || e.code === 'ALREADY_EXISTS' || e.code === 'RECORD_EXISTS') {
        const onChain = await findOnChain(request.batchId).catch(() => undefined);
        if (onChain?.root === request.root) {
          await store.markAnchored(request.batchId, onChain.txId, -1);
          log?.info({ txId: onChain.txId, batchId: request.batchId }, 'batch found anchored on chain');
          return;
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
  function anchor(request: AnchorRequest, log?: FastifyBaseLogger): Promise<void> {
    let running = anchoring.get(request.batchId);
    if (running === undefined) {
      running = anchorOnce(request, log).finally(() => anchoring.delete(request.batchId));
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

  function prepare(input: PublishInput, entry: CatalogueEntry, supersedes?: string): PreparedRecord[] {
    const prepared: PreparedRecord[] = [];
    input.records.forEach((raw, i) => {
      let record: CreditRecord;
      try {
        record = validate('credit-record', raw);
        assertUscc(record.subject);
      } catch (e) {
        if (isCredexError(e)) {
          throw credexError(e.code, `records[${i}]: ${errorText(e)}`, { index: i, ...e.details });
        }
        throw e;
      }
      if (record.recordType !== entry.recordType) {
        throw credexError('RECORD_TYPE_MISMATCH', `records[${i}] is a ${record.recordType}, entry ${entry.entryId} holds ${entry.recordType}`, { index: i });
      }
      if (record.subject !== entry.subject) {
        throw credexError('SUBJECT_MISMATCH', `records[${i}] is about ${record.subject}, entry ${entry.entryId} about ${entry.subject}`, { index: i });
      }
      if (supersedes !== undefined) record = { ...record, supersedes };
      prepared.push({ record, contentHash: sha256Hex(canonicalize({ catalogueEntryId: input.catalogueEntryId, record })) });
    });
    return prepared;
  }

  function seal(record: CreditRecord, catalogueEntryId: string): SealedRecord {
    const header: RecordHeader = {
      recordId: record.recordId,
      recordType: record.recordType,
      subject: record.subject,
      publisher: mspId,
      catalogueEntryId,
      issuedAt: record.issuedAt,
    };
    if (record.supersedes !== undefined) header.supersedes = record.supersedes;
    return sealRecord(header, record.fields as unknown as Record<string, unknown>);
  }

  /** Splits sealed records into batches whose AnchorBatch argument stays under the chaincode's limit. */
  function chunk(sealed: SealedRecord[]): SealedRecord[][] {
    const chunks: SealedRecord[][] = [];
    let current: SealedRecord[] = [];
    let bytes = 0;
    for (const s of sealed) {
      const size = 120 + s.header.recordId.length + (s.header.supersedes?.length ?? 0);
      if (current.length > 0 && (bytes + size > MAX_ANCHOR_ARGUMENT_BYTES || current.length >= recordsPerAnchor)) {
        chunks.push(current);
        current = [];
        bytes = 0;
      }
      current.push(s);
      bytes += size;
    }
    if (current.length > 0) chunks.push(current);
    return chunks;
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

  async function publish(
    input: PublishInput,
    opts: { supersedes?: string; onProgress?: (p: PublishProgress) => void; log?: FastifyBaseLogger } = {},
  ): Promise<PublishedRecord[]> {
    const total = input.records.length;
    if (total === 0 || total > MAX_RECORDS_PER_PUBLISH) {
      throw credexError('RECORDS_TOO_MANY', `a publish holds 1 to ${MAX_RECORDS_PER_PUBLISH} records, not ${total}`);
    }
    const progress = (phase: PublishProgress['phase'], done: number): void => opts.onProgress?.({ phase, done, total });
    const entry = await loadEntry(input.catalogueEntryId);
    const prepared = prepare(input, entry, opts.supersedes);
    progress('validated', total);

    const { requests, ids, earlier, placed } = await exclusively(async () => {
      const unique = new Map<string, PreparedRecord>();
      for (const p of prepared) {
        const seen = unique.get(p.record.recordId);
        if (seen !== undefined && seen.contentHash !== p.contentHash) {
          throw credexError('RECORD_CONFLICT', `record ${p.record.recordId} appears twice with different content`, { recordIds: [p.record.recordId] });
        }
        unique.set(p.record.recordId, p);
      }
      const ids = [...unique.keys()];
      const hashes = await store.contentHashes(ids);
      const conflicts = ids.filter((id, i) => hashes[i] !== undefined && hashes[i] !== unique.get(id)?.contentHash);
      if (conflicts.length > 0) {
        throw credexError('RECORD_CONFLICT', `${conflicts.length} record id(s) were published before with other content; correct a record by superseding it`, { recordIds: conflicts.slice(0, 100) });
      }
      const fresh = ids.filter((_, i) => hashes[i] === undefined).map((id) => unique.get(id) as PreparedRecord);
      const earlier = ids.filter((_, i) => hashes[i] !== undefined);
      const sealed = fresh.map((p) => seal(p.record, input.catalogueEntryId));
      progress('sealed', total);
      const requests: AnchorRequest[] = [];
      const placed = new Map<string, PublishedRecord>();
      const records: NewRecord[] = [];
      const createdAt = new Date().toISOString();
      for (const part of chunk(sealed)) {
        const tree = buildMerkleTree(part.map((s) => s.leafHash));
        const batchId = `${mspId}.${Date.now().toString(36)}.${tree.root.slice(0, 16)}`;
        requests.push({
          batchId, catalogueEntryId: input.catalogueEntryId, root: tree.root, size: part.length,
          records: part.map((s, index) => ({
            recordId: s.header.recordId, leafHash: s.leafHash, index,
            ...(s.header.supersedes === undefined ? {} : { supersedes: s.header.supersedes }),
          })),
        });
        part.forEach((s, index) => {
          const contentHash = unique.get(s.header.recordId)?.contentHash ?? '';
          const proof = tree.proof(index);
          records.push({ sealed: s, batchId, index, proof, contentHash });
          placed.set(s.header.recordId, { recordId: s.header.recordId, leafHash: s.leafHash, batchId, index, size: part.length, proof, root: tree.root, txId: '' });
        });
      }
      if (requests.length > 0) await store.putBatches(requests, records, createdAt);
      return { requests, ids, earlier, placed };
    });
    progress('stored', total);

    let anchored = 0;
    await Promise.all(requests.map(async (request) => {
      await anchor(request, opts.log);
      anchored += request.size;
      progress('anchored', anchored);
    }));

    // The new records' anchors, as just committed.
    for (const request of requests) {
      const batch = await store.getBatch(request.batchId);
      if (batch?.anchored !== true || batch.txId === undefined) throw credexError('RECORD_UNANCHORED', `batch ${request.batchId} is not anchored`);
      for (const r of request.records) {
        const p = placed.get(r.recordId);
        if (p === undefined) continue;
        p.txId = batch.txId;
        if (batch.blockNumber !== undefined && batch.blockNumber >= 0) p.blockNumber = batch.blockNumber;
      }
    }
    // Records published earlier (same content) may still sit in the outbox of a crashed publish.
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
    return ids.map((id) => placed.get(id) ?? (() => { throw credexError('RECORD_LOST', `record ${id} vanished while publishing`); })());
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

  return { publish, replayOutbox, drain };
}
