import { Context, Info, Transaction } from 'fabric-contract-api';
import { assertUscc, statementId } from '@credex/core';
import type { Objection, ObjectionResolution } from '@credex/schemas';
import { encode, exists, getJson, listIndexed, listKeys, parseArgument, parseId, putIndex, putJson, remove } from '../codec';
import { CredexContract } from '../contract';
import { fail } from '../errors';
import { idOfIndexKey, keys, type KeyPrefix } from '../keys';
import { acceptEnterpriseStatement } from '../signatures';
import { newRecordCache, resolveRecord, saveRecords, withStatus, type RecordState } from '../state';
import { callerMspId, ledgerTime } from '../tx';

/** The publisher must answer an objection within 20 days of its filing. */
export const OBJECTION_DEADLINE_MS = 20 * 24 * 60 * 60 * 1000;

export type ObjectionStatus = 'open' | 'rejected' | 'corrected';

export interface ObjectionState {
  objectionId: string;
  subject: string;
  recordId: string;
  /** The record's batch, place and leaf: its status key is (batchId, recordId). */
  batchId: string;
  index: number;
  leafHash: string;
  publisher: string;
  reason: string;
  statement: Objection;
  signature: string;
  status: ObjectionStatus;
  filedAt: string;
  deadline: string;
  txId: string;
  resolution?: ObjectionResolution & { resolvedAt: string; txId: string };
}

/** Events of this contract (one per transaction). */
export const OBJECTION_FILED_EVENT = 'ObjectionFiled';
export const OBJECTION_RESOLVED_EVENT = 'ObjectionResolved';

/**
 * Objections (异议申诉) and credit repair (信用修复): the subject enterprise objects to one of
 * its records, which is disputed at once; the publisher rejects the objection (the record is
 * active again) or corrects the record by superseding it, within 20 days.
 */
@Info({ title: 'objections', description: 'Objections against records and their resolution (异议申诉)' })
export class ObjectionsContract extends CredexContract {
  constructor() {
    super('objections');
  }

  /** The subject's signed objection against the record `refJson` (a RecordRef) proves. */
  @Transaction()
  async FileObjection(ctx: Context, signedObjectionJson: string, refJson: string): Promise<string> {
    const signed = parseArgument('signed-objection', signedObjectionJson);
    const objection = signed.statement;
    const ref = parseArgument('record-ref', refJson);
    if (ref.recordId !== objection.recordId) {
      fail('RECORD_MISMATCH', `the objection is against record ${objection.recordId}, but the reference names ${ref.recordId}`);
    }
    const cache = newRecordCache();
    const record = await resolveRecord(ctx, ref, cache);
    if (record.subject !== objection.subject) {
      fail('FORBIDDEN', `record ${record.recordId} is about ${record.subject}, not ${objection.subject}`);
    }
    await acceptEnterpriseStatement(ctx, 'objection', objection.subject, signed);
    if (record.status !== 'active') {
      fail('RECORD_NOT_ACTIVE', `record ${record.recordId} is ${record.status}; only an active record can be disputed`);
    }
    const objectionId = statementId('objection', objection);
    const key = keys.objection(ctx.stub, objectionId);
    if (await exists(ctx, key)) {
      fail('ALREADY_EXISTS', `objection ${objectionId} already exists`);
    }
    const now = ledgerTime(ctx);
    const txId = ctx.stub.getTxID();
    const stored: ObjectionState = {
      objectionId,
      subject: objection.subject,
      recordId: record.recordId,
      batchId: record.batchId,
      index: record.index,
      leafHash: record.leafHash,
      publisher: record.publisher,
      reason: objection.reason,
      statement: objection,
      signature: signed.signature,
      status: 'open',
      filedAt: now.iso,
      deadline: new Date(now.ms + OBJECTION_DEADLINE_MS).toISOString(),
      txId,
    };
    await putJson(ctx, key, stored);
    await putIndex(ctx, keys.objectionBySubject(ctx.stub, stored.subject, objectionId));
    await putIndex(ctx, keys.objectionByPublisher(ctx.stub, stored.publisher, objectionId));
    await putIndex(ctx, keys.openObjection(ctx.stub, stored.deadline, objectionId));
    await saveRecords(ctx, [withStatus(record, 'disputed', now.iso, txId)], cache);
    emit(ctx, OBJECTION_FILED_EVENT, stored);
    return encode(stored);
  }

  /**
   * The record's publisher rejects the objection (the record is active again), or corrects the
   * record: the correction must already be anchored with a supersession of this record.
   */
  @Transaction()
  async ResolveObjection(ctx: Context, resolutionJson: string): Promise<string> {
    const resolution = parseArgument('objection-resolution', resolutionJson);
    const objection = await loadObjection(ctx, resolution.objectionId);
    const caller = callerMspId(ctx);
    if (objection.publisher !== caller) {
      fail('FORBIDDEN', `only ${objection.publisher}, the record's publisher, may resolve objection ${objection.objectionId}`);
    }
    if (objection.status !== 'open') {
      fail('OBJECTION_CLOSED', `objection ${objection.objectionId} was already ${objection.status}`);
    }
    const now = ledgerTime(ctx).iso;
    const txId = ctx.stub.getTxID();
    // Filing the objection wrote the record's status key.
    const record = (await getJson<RecordState>(ctx, keys.record(ctx.stub, objection.batchId, objection.recordId))) ?? fail('INTERNAL', `record ${objection.recordId} of objection ${objection.objectionId} has no status`);
    if (resolution.outcome === 'corrected') {
      checkCorrected(record, resolution.supersededBy);
    } else if (record.status === 'disputed') {
      await saveRecords(ctx, [withStatus(record, 'active', now, txId)], newRecordCache());
    }
    const resolved: ObjectionState = {
      ...objection,
      status: resolution.outcome,
      resolution: { ...resolution, resolvedAt: now, txId },
    };
    await putJson(ctx, keys.objection(ctx.stub, objection.objectionId), resolved);
    await remove(ctx, keys.openObjection(ctx.stub, objection.deadline, objection.objectionId));
    emit(ctx, OBJECTION_RESOLVED_EVENT, resolved);
    return encode(resolved);
  }

  @Transaction(false)
  async GetObjection(ctx: Context, objectionId: string): Promise<string> {
    return encode(await loadObjection(ctx, parseId('objectionId', objectionId)));
  }

  @Transaction(false)
  async ListBySubject(ctx: Context, uscc: string): Promise<string> {
    return encode(await listObjections(ctx, keys.objectionsBySubject(assertUscc(uscc))));
  }

  /** Objections against a publisher's records, open and closed: its 异议处理 worklist. */
  @Transaction(false)
  async ListByPublisher(ctx: Context, mspId: string): Promise<string> {
    return encode(await listObjections(ctx, keys.objectionsByPublisher(parseId('mspId', mspId))));
  }

  /** Open objections past their deadline at ledger time, oldest deadline first. */
  @Transaction(false)
  async ListOverdue(ctx: Context): Promise<string> {
    const now = ledgerTime(ctx).iso;
    const overdue: ObjectionState[] = [];
    for (const indexKey of await listKeys(ctx, keys.openObjections())) {
      const [deadline] = ctx.stub.splitCompositeKey(indexKey).attributes;
      if (deadline === undefined || deadline >= now) {
        break;
      }
      overdue.push(await loadObjection(ctx, idOfIndexKey(ctx.stub, indexKey)));
    }
    return encode(overdue);
  }
}

function listObjections(ctx: Context, range: KeyPrefix): Promise<ObjectionState[]> {
  return listIndexed<ObjectionState>(ctx, range, (id) => keys.objection(ctx.stub, id));
}

async function loadObjection(ctx: Context, objectionId: string): Promise<ObjectionState> {
  return (await getJson<ObjectionState>(ctx, keys.objection(ctx.stub, objectionId))) ?? fail('OBJECTION_UNKNOWN', `objection ${objectionId} does not exist`);
}

// AnchorBatch superseded the record when it anchored the correction; resolving only records it.
function checkCorrected(record: RecordState, supersededBy: string | undefined): void {
  if (supersededBy === undefined) {
    fail('SCHEMA_INVALID', 'a corrected outcome names the superseding record in supersededBy');
  }
  if (record.status !== 'superseded' || record.supersededBy !== supersededBy) {
    fail('SUPERSESSION_INVALID', `record ${record.recordId} is ${record.status}${record.supersededBy === undefined ? '' : ` by ${record.supersededBy}`}, not superseded by ${supersededBy}: anchor the correction with a supersession of this record first`);
  }
}

function emit(ctx: Context, name: string, objection: ObjectionState): void {
  const payload = { objectionId: objection.objectionId, recordId: objection.recordId, publisher: objection.publisher, subject: objection.subject, status: objection.status, deadline: objection.deadline };
  ctx.stub.setEvent(name, new TextEncoder().encode(encode(payload)));
}
