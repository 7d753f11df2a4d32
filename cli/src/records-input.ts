/**
 * Reading credit records from a file, streamed: JSON Lines (one record per line) or CSV (a
 * header row; `recordId`, `subject`, `issuedAt`, `supersedes`, `recordType` are the record's
 * header, every other column a field, typed by the record type's JSON Schema).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { normalizeUscc } from '@credex/core';
import { isRecordType, schemaFor, validate } from '@credex/schemas';
import { CliError, EXIT, usageError } from './errors';

const HEADER_COLUMNS = new Set(['recordId', 'recordType', 'subject', 'issuedAt', 'supersedes']);

/** A record as read, with where it came from. */
export interface InputRecord {
  line: number;
  record: Record<string, unknown>;
}

/** The file's format from its name. */
export function formatOf(file: string): 'jsonl' | 'csv' {
  if (/\.(jsonl|ndjson)$/i.test(file)) return 'jsonl';
  if (/\.csv$/i.test(file)) return 'csv';
  throw usageError('FILE_FORMAT_UNKNOWN', `${file}: give a .jsonl (JSON Lines) or .csv file`);
}

/** Splits one CSV record (RFC 4180: quotes, doubled quotes, commas and newlines in quotes). */
export function parseCsvRow(text: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

function quotesOpen(text: string): boolean {
  let n = 0;
  for (const c of text) if (c === '"') n++;
  return n % 2 === 1;
}

type Json = Record<string, unknown>;

/** JSON type of each field of a record type, from its schema ($refs into common resolved). */
function fieldTypes(recordType: string): Map<string, string> {
  const schema = schemaFor(recordType as Parameters<typeof schemaFor>[0]) as Json;
  const common = (schemaFor('common') as { $defs?: Record<string, Json> }).$defs ?? {};
  const out = new Map<string, string>();
  for (const [name, prop] of Object.entries((schema.properties ?? {}) as Record<string, Json>)) {
    let type = prop.type;
    const ref = prop.$ref;
    if (type === undefined && typeof ref === 'string') type = common[ref.replace(/^.*#\/\$defs\//, '')]?.type;
    out.set(name, typeof type === 'string' ? type : 'string');
  }
  return out;
}

function typedCell(value: string, type: string | undefined, column: string, line: number): unknown {
  const bad = (): never => {
    throw usageError('INPUT_INVALID', `line ${String(line)}: column ${column} must be ${type ?? 'a value'}, not '${value}'`);
  };
  switch (type) {
    case 'integer':
    case 'number': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) bad();
      return n;
    }
    case 'boolean':
      if (value === 'true') return true;
      if (value === 'false') return false;
      return bad();
    case 'array':
      return value.startsWith('[') ? (JSON.parse(value) as unknown) : value.split(';').map((s) => s.trim()).filter((s) => s !== '');
    case 'object':
      return JSON.parse(value) as unknown;
    default:
      return value;
  }
}

async function* lines(file: string): AsyncGenerator<{ line: number; text: string }> {
  const rl = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const text of rl) {
    n++;
    yield { line: n, text: n === 1 ? text.replace(/^\uFEFF/, '') : text };
  }
}

/** Streams the raw records of a file (no validation). */
export async function* readRecordFile(file: string, recordType: string): AsyncGenerator<InputRecord> {
  if (!existsSync(file)) throw usageError('FILE_NOT_FOUND', `no such file: ${file}`);
  if (!statSync(file).isFile()) throw usageError('FILE_NOT_FOUND', `not a file: ${file}`);
  const format = formatOf(file);
  if (format === 'jsonl') {
    for await (const { line, text } of lines(file)) {
      if (text.trim() === '') continue;
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch (e) {
        throw usageError('JSON_INVALID', `${file}:${String(line)}: ${(e as Error).message}`);
      }
      if (typeof record !== 'object' || record === null || Array.isArray(record)) throw usageError('JSON_INVALID', `${file}:${String(line)}: a record must be a JSON object`);
      yield { line, record: record as Json };
    }
    return;
  }
  let header: string[] | undefined;
  const types = fieldTypes(recordType);
  let pending = '';
  let startLine = 0;
  for await (const { line, text } of lines(file)) {
    if (pending === '') startLine = line;
    pending = pending === '' ? text : `${pending}\n${text}`;
    if (quotesOpen(pending)) continue;
    const row = parseCsvRow(pending);
    pending = '';
    if (header === undefined) {
      header = row.map((h) => h.trim());
      if (!header.includes('recordId')) throw usageError('INPUT_INVALID', `${file}: the header row needs a recordId column`);
      continue;
    }
    if (row.length === 1 && row[0] === '') continue;
    if (row.length !== header.length) throw usageError('INPUT_INVALID', `${file}:${String(startLine)}: ${String(row.length)} cells, the header has ${String(header.length)}`);
    const record: Json = {};
    const fields: Json = {};
    header.forEach((column, i) => {
      const value = row[i] ?? '';
      if (HEADER_COLUMNS.has(column)) {
        if (value !== '') record[column] = value;
      } else if (value !== '') fields[column] = typedCell(value, types.get(column), column, startLine);
    });
    record.fields = fields;
    yield { line: startLine, record };
  }
  if (pending !== '') throw usageError('INPUT_INVALID', `${file}:${String(startLine)}: unterminated quoted cell`);
}

/**
 * Completes and checks one record: recordType from --type (a different one is refused),
 * subject USCC normalised, then the credit-record schema. Throws with the line number.
 */
export function prepareRecord(input: InputRecord, recordType: string, file: string): Json {
  const record = { ...input.record };
  const where = `${file}:${String(input.line)}`;
  if (record.recordType === undefined) record.recordType = recordType;
  else if (record.recordType !== recordType) throw usageError('RECORD_TYPE_MISMATCH', `${where}: record type ${JSON.stringify(record.recordType)}, but --type is ${recordType}`);
  if (typeof record.subject === 'string') {
    try {
      record.subject = normalizeUscc(record.subject);
    } catch (e) {
      throw usageError('USCC_INVALID', `${where}: ${(e as Error).message.replace(/^USCC_INVALID: /, '')}`);
    }
  }
  try {
    validate('credit-record', record);
  } catch (e) {
    throw usageError('SCHEMA_INVALID', `${where}: ${(e as Error).message.replace(/^SCHEMA_INVALID: /, '')}`);
  }
  return record;
}

/** Checks --type names a credit record type. */
export function assertRecordType(type: string): void {
  if (!isRecordType(type)) throw new CliError('RECORD_TYPE_UNKNOWN', `no credit record type '${type}'`, EXIT.USAGE);
}
