import { Context, Info, Transaction } from 'fabric-contract-api';
import { MAX_BULK_ARGUMENT_BYTES, compareStrings, encode, exists, getJson, parseArgument, parseId, putJson } from '../codec';
import { CredexContract } from '../contract';
import { fail } from '../errors';
import { keys } from '../keys';
import { anchoredRecord, checkInclusion, loadEntry, newRecordCache, resolveRecord, saveRecords, withStatus, type BatchState, type RecordState } from '../state';
import { callerMspId, ledgerTime } from '../tx';

/**
 * Anchors: a batch's Merkle root and size for one catalogue entry. The ledger keeps no key per
 * record: a record is proven by its inclusion proof against its batch's root (a RecordRef),
 * and gets a status key only once its status changes (disputed, active again, superseded,
 * withdrawn) or when it supersedes another record. Record ids are unique per publisher by the
 * publisher's gateway, not by the ledger.
 */
@Info({ title: 'anchors', description: 'Record batches and per-record status' })
export class AnchorsContract extends CredexContract {
  constructor() {
    super('anchors');
  }

  /**
   * Anchors a batch of the caller's records by its root and size. Each supersession's new
   * record must be proven against this root; the record it supersedes becomes superseded at once.
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
    const { iso: now } = ledgerTime(ctx);
    const txId = ctx.stub.getTxID();
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

    // Status keys to write, by key: the superseded records and their corrections.
    const changed = new Map<string, RecordState>();
    const cache = newRecordCache();
    const correctionIds = new Set<string>();
    const correctionIndexes = new Set<number>();
    for (const { record, supersedes } of batch.supersessions ?? []) {
      checkInclusion(record, stored);
      if (correctionIds.has(record.recordId) || correctionIndexes.has(record.index)) {
        fail('SUPERSESSION_INVALID', `record ${record.recordId} (index ${record.index}) is listed twice in the supersessions`);
      }
      correctionIds.add(record.recordId);
      correctionIndexes.add(record.index);
      const resolved = await resolveRecord(ctx, supersedes, cache);
      const oldKey = keys.record(ctx.stub, resolved.batchId, resolved.recordId);
      const old = changed.get(oldKey) ?? resolved;
      checkSupersedable(old, record.recordId, entry.subject, publisher);
      changed.set(oldKey, { ...withStatus(old, 'superseded', now, txId), supersededBy: record.recordId });
      changed.set(keys.record(ctx.stub, stored.batchId, record.recordId), { ...anchoredRecord(stored, record), supersedes: old.recordId });
    }
    await saveRecords(ctx, [...changed.values()].sort(byBatchAndRecord), cache);
    await putJson(ctx, batchKey, stored);
    return encode(stored);
  }

  @Transaction(false)
  async GetBatch(ctx: Context, batchId: string): Promise<string> {
    const batch = await getJson<BatchState>(ctx, keys.batch(ctx.stub, parseId('batchId', batchId)));
    return encode(batch ?? fail('NOT_FOUND', `batch ${batchId} is not anchored`));
  }

  /** The record a RecordRef proves, with its status (as anchored when it never changed). */
  @Transaction(false)
  async GetRecord(ctx: Context, refJson: string): Promise<string> {
    return encode(await resolveRecord(ctx, parseArgument('record-ref', refJson)));
  }

  /** The publisher withdraws a record: it is never served again; its anchor stays. */
  @Transaction()
  async WithdrawRecord(ctx: Context, refJson: string): Promise<string> {
    const cache = newRecordCache();
    const record = await resolveRecord(ctx, parseArgument('record-ref', refJson), cache);
    const caller = callerMspId(ctx);
    if (record.publisher !== caller) {
      fail('FORBIDDEN', `only ${record.publisher} may withdraw record ${record.recordId}`);
    }
    if (record.status === 'withdrawn') {
      fail('RECORD_WITHDRAWN', `record ${record.recordId} is already withdrawn`);
    }
    const withdrawn = withStatus(record, 'withdrawn', ledgerTime(ctx).iso, ctx.stub.getTxID());
    await saveRecords(ctx, [withdrawn], cache);
    return encode(withdrawn);
  }
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

function byBatchAndRecord(a: RecordState, b: RecordState): number {
  return compareStrings(a.batchId, b.batchId) || compareStrings(a.recordId, b.recordId);
}
