/**
 * Where a record is anchored, as the ledger needs it named: its RecordRef (batch, index, leaf
 * hash, inclusion proof). The ledger keeps batches, not records, so every read or status change
 * of one record (GetRecord, FileObjection) takes its ref. A ref comes from the caller, from this
 * gateway's store when it published the record, or from the publisher's gateway
 * (GET /v1/exchange/anchors/:recordId); otherwise RECORD_REF_REQUIRED.
 */
import { credexError } from '@credex/core';
import { validate } from '@credex/schemas';
import { requestRecordRef, type GatewayCallDeps } from '../exchange/client';
import type { RecordRef, Store } from '../store/store';
import { refOf } from '../store/store';
import type { Registry } from './registry';

/** Where to look for a record's ref besides this gateway's store. */
export interface RefHint {
  /** A RecordRef the caller gives (untrusted: the ledger proves it); must name the same record. */
  record?: unknown;
  /** MSP id of the record's publisher, whose gateway is asked when this one does not hold the record. */
  publisher?: string;
}

/** Finds RecordRefs. */
export interface RecordRefs {
  /**
   * The RecordRef of `recordId`: the one given, else this gateway's (it published the record),
   * else the publisher's gateway's answer.
   *
   * @throws CredexError SCHEMA_INVALID / RECORD_MISMATCH (a bad given ref), RECORD_UNANCHORED,
   *   RECORD_REF_REQUIRED (400), the publisher gateway's codes (RECORD_UNKNOWN, PUBLISHER_*)
   */
  resolve(recordId: string, hint?: RefHint): Promise<RecordRef>;
}

/** Creates the ref finder of one gateway. */
export function createRecordRefs(deps: GatewayCallDeps & { store: Pick<Store, 'getRecords'>; registry: Pick<Registry, 'organization'> }): RecordRefs {
  return {
    async resolve(recordId: string, hint: RefHint = {}): Promise<RecordRef> {
      if (hint.record !== undefined) {
        const ref = validate('record-ref', hint.record);
        if (ref.recordId !== recordId) throw credexError('RECORD_MISMATCH', `the given RecordRef is of ${ref.recordId}, not ${recordId}`);
        return ref;
      }
      const [stored] = await deps.store.getRecords([recordId]);
      if (stored !== undefined) {
        if (!stored.anchored) throw credexError('RECORD_UNANCHORED', `record ${recordId} is not anchored yet`);
        return refOf(stored);
      }
      if (hint.publisher === deps.mspId) throw credexError('RECORD_UNKNOWN', `${recordId} is not an anchored record of ${deps.mspId}`, { recordId });
      if (hint.publisher !== undefined) return requestRecordRef(deps, hint.publisher, recordId);
      throw credexError(
        'RECORD_REF_REQUIRED',
        `record ${recordId} is not one of ${deps.mspId}'s records; name its publisher (publisher=<MSP id>, whose gateway is then asked) or give its RecordRef`,
        { recordId },
      );
    },
  };
}
