/**
 * The credit record types and the data grade (数据定级) of each of their fields, read from the
 * `x-dataGrade` annotations of the schemas.
 */
import { credexError } from '@credex/core';
import { schemaDocuments } from './registry';
import type { DataGrade, RecordType, SchemaTypes } from './types.gen';

interface EnumDef {
  enum: string[];
}

/** Every credit record type, in schema order. */
export const recordTypes: readonly RecordType[] = Object.freeze(
  (schemaDocuments.common['$defs'] as Record<string, EnumDef>)['recordType']?.enum as RecordType[],
);

/** The `fields` type of a credit record type. */
export type RecordFields<T extends RecordType> = SchemaTypes[T];

/** Whether `s` names a credit record type. */
export function isRecordType(s: unknown): s is RecordType {
  return typeof s === 'string' && (recordTypes as readonly string[]).includes(s);
}

const gradeCache = new Map<RecordType, Readonly<Record<string, DataGrade>>>();

/**
 * The data grade of every field of a record type.
 *
 * @throws CredexError `RECORD_TYPE_UNKNOWN` for a name that is no record type
 */
export function fieldGrades(recordType: string): Readonly<Record<string, DataGrade>> {
  if (!isRecordType(recordType)) {
    throw credexError('RECORD_TYPE_UNKNOWN', `no credit record type ${JSON.stringify(recordType)}`, { recordType });
  }
  let grades = gradeCache.get(recordType);
  if (grades === undefined) {
    const properties = schemaDocuments[recordType]['properties'] as Record<string, Record<string, unknown>>;
    const result: Record<string, DataGrade> = {};
    for (const [field, schema] of Object.entries(properties).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      result[field] = schema['x-dataGrade'] as DataGrade;
    }
    grades = Object.freeze(result);
    gradeCache.set(recordType, grades);
  }
  return grades;
}

/** The highest data grade among a record type's fields (a catalogue entry's `dataGrade`). */
export function maxDataGrade(recordType: string): DataGrade {
  return Math.max(...Object.values(fieldGrades(recordType))) as DataGrade;
}

/** The fields of a record type whose grade is at most `maxGrade`, sorted by name. */
export function fieldsUpToGrade(recordType: string, maxGrade: DataGrade): string[] {
  return Object.entries(fieldGrades(recordType))
    .filter(([, grade]) => grade <= maxGrade)
    .map(([field]) => field);
}
