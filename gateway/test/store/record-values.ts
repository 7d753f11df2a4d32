/**
 * Whole record values encoded in one call (body and prefix), as the store writes them: for the
 * codec's tests, which check values rather than the store's two steps.
 */
import type { RecordBody } from '../../src/store/record-codec';
import { bodyAt, encodeRecordBodies, joinRecordValues } from '../../src/store/record-codec';

/** What is written about a new record. */
export interface NewRecordValue extends RecordBody {
  batchId: string;
  index: number;
}

/** The stored bytes of many records' values, as views of one buffer; each view is the value's bytes alone. */
export function encodeRecordValues(values: readonly NewRecordValue[]): Uint8Array[] {
  const { bytes, ends } = encodeRecordBodies(values);
  return joinRecordValues(values.map((v, i) => ({ batchId: v.batchId, index: v.index, body: bodyAt(bytes, ends, i) })));
}

/** The stored bytes of one record's value. */
export function encodeRecordValue(value: NewRecordValue): Uint8Array {
  return encodeRecordValues([value])[0] as Uint8Array;
}
