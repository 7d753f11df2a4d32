import { Context, Info, Transaction } from 'fabric-contract-api';
import { merkleRoot } from '@credex/core';
import type { AnchorBatch } from '@credex/schemas';
import { MAX_BULK_ARGUMENT_BYTES, encode, exists, getJson, parseArgument, parseId, putJson } from '../codec';
import { CredexContract } from '../contract';
import { fail } from '../errors';
import { keys } from '../keys';
import { loadEntry, loadRecord, withStatus, type BatchState, type RecordState } from '../state';
import { callerMspId, ledgerTime } from '../tx';

/**
 * Anchors: a batch's Merkle root for one catalogue entry, and one key per record with its
 * place in the batch, its leaf hash and its status (active, disputed, superseded, withdrawn).
 */
@Info({ title: 'anchors', description: 'Record batches and per-record status' })
export class AnchorsContract extends CredexContract {
  constructor() {
    super('anchors');
  }

  /**
   * Anchors a batch of the caller's records. The root must be the RFC 6962 root of the leaf
   * hashes in index order; a record that supersedes another supersedes it at once.
   */
  @Transaction()
  async AnchorBatch(ctx: Context, batchJson: string): Promise<string> {
    const batch = parseArgument('anchor-batch', batchJson, MAX_BULK_ARGUMENT_BYTES);
    const entry = await loadEntry(ctx, batch.catalogueEntryId);
    const publisher = callerMspId(ctx);
    if (entry.publisher !== publisher) {
      fail('FORBIDDEN', `only ${entry.publisher} may anchor records of entry ${entry.entryId}`);
    }
    if (entry.status !== 'active') {
      fail('ENTRY_RETIRED', `catalogue entry ${entry.entryId} is retired`);
    }
    const batchKey = keys.batch(ctx.stub, batch.batchId);
    if (await exists(ctx, batchKey)) {
      fail('ALREADY_EXISTS', `batch ${batch.batchId} is already anchored`);
    }
    const leaves = leavesInIndexOrder(batch);
    if (merkleRoot(leaves) !== batch.root) {
      fail('BATCH_INVALID', `root ${batch.root} is not the Merkle root of the batch's leaf hashes`);
    }

    const { iso: now } = ledgerTime(ctx);
    const txId = ctx.stub.getTxID();
    const seen = new Set<string>();
    const superseded = new Map<string, RecordState>();
    for (const item of batch.records) {
      if (seen.has(item.recordId) || (await exists(ctx, keys.record(ctx.stub, item.recordId)))) {
        fail('RECORD_EXISTS', `record ${item.recordId} is already anchored`);
      }
      seen.add(item.recordId);
      if (item.supersedes !== undefined) {
        const old = superseded.get(item.supersedes) ?? (await loadRecord(ctx, item.supersedes));
        checkSupersedable(old, item.recordId, entry.subject, publisher);
        superseded.set(old.recordId, { ...withStatus(old, 'superseded', now, txId), supersededBy: item.recordId });
      }
    }

    for (const item of batch.records) {
      const record: RecordState = {
        recordId: item.recordId,
        batchId: batch.batchId,
        index: item.index,
        leafHash: item.leafHash,
        publisher,
        subject: entry.subject,
        recordType: entry.recordType,
        catalogueEntryId: entry.entryId,
        status: 'active',
        ...(item.supersedes === undefined ? {} : { supersedes: item.supersedes }),
        history: [{ status: 'active', at: now, txId }],
      };
      await putJson(ctx, keys.record(ctx.stub, record.recordId), record);
    }
    for (const old of [...superseded.values()].sort((a, b) => compare(a.recordId, b.recordId))) {
      await putJson(ctx, keys.record(ctx.stub, old.recordId), old);
    }
    const stored: BatchState = {
      batchId: batch.batchId,
      catalogueEntryId: entry.entryId,
      publisher,
      subject: entry.subject,
      recordType: entry.recordType,
      root: batch.root,
      size: batch.size,
      anchoredAt: now,
      txId,
    };
    await putJson(ctx, batchKey, stored);
    return encode(stored);
  }

  @Transaction(false)
  async GetBatch(ctx: Context, batchId: string): Promise<string> {
    const batch = await getJson<BatchState>(ctx, keys.batch(ctx.stub, parseId('batchId', batchId)));
    return encode(batch ?? fail('NOT_FOUND', `batch ${batchId} is not anchored`));
  }

  @Transaction(false)
  async GetRecord(ctx: Context, recordId: string): Promise<string> {
    return encode(await loadRecord(ctx, parseId('recordId', recordId)));
  }

  /** The publisher withdraws a record: it is never served again; its anchor stays. */
  @Transaction()
  async WithdrawRecord(ctx: Context, recordId: string): Promise<string> {
    const record = await loadRecord(ctx, parseId('recordId', recordId));
    const caller = callerMspId(ctx);
    if (record.publisher !== caller) {
      fail('FORBIDDEN', `only ${record.publisher} may withdraw record ${record.recordId}`);
    }
    if (record.status === 'withdrawn') {
      fail('RECORD_WITHDRAWN', `record ${record.recordId} is already withdrawn`);
    }
    const withdrawn = withStatus(record, 'withdrawn', ledgerTime(ctx).iso, ctx.stub.getTxID());
    await putJson(ctx, keys.record(ctx.stub, record.recordId), withdrawn);
    return encode(withdrawn);
  }
}

// records[i] must have index i, and size must count them: the root commits to exactly these.
function leavesInIndexOrder(batch: AnchorBatch): string[] {
  if (batch.records.length !== batch.size) {
    fail('BATCH_INVALID', `size ${batch.size} does not match the ${batch.records.length} records`);
  }
  return batch.records.map((item, position) => {
    if (item.index !== position) {
      fail('BATCH_INVALID', `record ${item.recordId} is at position ${position} but has index ${item.index}`);
    }
    return item.leafHash;
  });
}

// A correction replaces a live record of the same publisher about the same subject.
function checkSupersedable(old: RecordState, by: string, subject: string, publisher: string): void {
  if (old.publisher !== publisher) {
    fail('FORBIDDEN', `record ${old.recordId} was published by ${old.publisher}; only it may supersede it`);
  }
  if (old.subject !== subject) {
    fail('SUPERSESSION_INVALID', `record ${by} is about ${subject}, but ${old.recordId} is about ${old.subject}`);
  }
  if (old.status === 'superseded' || old.status === 'withdrawn') {
    fail('SUPERSESSION_INVALID', `record ${old.recordId} is ${old.status}${old.supersededBy === undefined ? '' : ` by ${old.supersededBy}`}`);
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
