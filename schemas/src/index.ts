/**
 * @credex/schemas — the JSON Schemas (draft 2020-12) that fix the shape of credex data, the
 * TypeScript types generated from them, validation, field data grades and test fixtures.
 */
export * from './types.gen';
export { schemaDocuments, schemaId, SCHEMA_ID_BASE } from './registry';
export type { SchemaName } from './registry';
export { validate, isValid, schemaFor, allSchemas, compileSchema, DATA_GRADE_KEYWORD } from './validate';
export { recordTypes, isRecordType, fieldGrades, maxDataGrade, fieldsUpToGrade } from './record-types';
export type { RecordFields } from './record-types';
export * from './fixtures';
