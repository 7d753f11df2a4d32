/**
 * Commands of a publisher (government, core enterprise, bank as a data provider): publish
 * records from a file, manage its catalogue (数据目录), resolve objections (异议处理).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { normalizeUscc } from '@credex/core';
import type { Command } from '../command';
import { int, required, str } from '../command';
import { CliError, EXIT, exitCodeOfHttp, usageError } from '../errors';
import type { GatewayClient } from '../exchange';
import { DEFAULT_ORG, gatewayClient } from '../exchange';
import { fieldsBlock, short, table } from '../format';
import { progressBar } from '../progress';
import { assertRecordType, prepareRecord, readRecordFile } from '../records-input';

interface Published { recordId: string; leafHash: string; batchId: string; txId: string; root: string }
interface EntryView { entryId: string; subject: string; publisher: string; recordType: string; title: string; dataGrade: number; pricePerAccess: number; status: string }

/** Share of a batch's work done at the end of each phase the gateway reports (anchoring waits for the ledger). */
const PHASE_END: Readonly<Record<string, [number, number]>> = {
  validated: [0, 0.1], sealed: [0.1, 0.3], stored: [0.3, 0.5], anchored: [0.5, 1],
};

/** Sends one batch with streamed progress; answers the published records. */
async function publishBatch(gw: GatewayClient, catalogueEntryId: string, records: unknown[], onProgress: (done: number, phase: string) => void): Promise<Published[]> {
  for await (const line of gw.stream('/v1/records', { catalogueEntryId, records })) {
    if (line.type === 'progress') {
      const phase = typeof line.phase === 'string' ? line.phase : 'anchored';
      const done = typeof line.done === 'number' ? line.done : 0;
      const total = typeof line.total === 'number' && line.total > 0 ? line.total : records.length;
      const [from, to] = PHASE_END[phase] ?? [0, 1];
      onProgress(Math.round((from + (to - from) * Math.min(1, done / total)) * records.length), phase);
    } else if (line.type === 'result' || Array.isArray(line.records)) {
      return line.records as Published[];
    } else if (line.type === 'error') {
      const code = typeof line.code === 'string' ? line.code : 'PUBLISH_FAILED';
      throw new CliError(code, typeof line.message === 'string' ? line.message : 'publish failed', exitCodeOfHttp(code.endsWith('_INVALID') ? 400 : 409, code));
    }
  }
  throw new CliError('RESPONSE_INVALID', 'the gateway ended the publish stream without a result', EXIT.REFUSED);
}

export const publish: Command = {
  path: ['publish'],
  audience: 'publisher',
  summary: 'Publish credit records from a .jsonl or .csv file under a catalogue entry: every record is checked first (nothing is sent if one is bad), then sent in batches, each sealed and anchored on chain.',
  positionals: [{ name: 'file', description: 'records, .jsonl (one JSON record per line) or .csv (header row: recordId, subject, issuedAt, supersedes?, then one column per field, typed by the record type\'s schema; list cells a;b or JSON)' }],
  options: {
    type: { type: 'string', short: 't', value: '<recordType>', description: 'record type, e.g. gov.admin-penalty (required)' },
    catalogue: { type: 'string', short: 'c', value: '<entryId>', description: 'catalogue entry the records belong to (required)' },
    batch: { type: 'string', value: '<n>', description: 'records per anchored batch (default 1000, at most 10000)' },
  },
  examples: ['credex publish penalties.csv --type gov.admin-penalty --catalogue GovMSP.gov.admin-penalty.91610131MA6W3QXF1X'],
  async run(args, io) {
    const file = resolve(io.cwd, args.positionals[0] ?? '');
    const type = required(args, 'type', 'publish');
    assertRecordType(type);
    const catalogueEntryId = required(args, 'catalogue', 'publish');
    const batchSize = int(args, 'batch', 1000, 1, 10_000);
    const bar = progressBar(io, 'checking', args.values.json !== true);
    // Pass 1: read and check everything, so that bad input changes nothing.
    let total = 0;
    for await (const input of readRecordFile(file, type)) {
      prepareRecord(input, type, file);
      total++;
      if (total % 500 === 0) bar.update(total, undefined, 'checking');
    }
    if (total === 0) throw usageError('INPUT_INVALID', `${file} holds no records`);
    const gw = gatewayClient(args, io, DEFAULT_ORG.government);
    // Pass 2: send in batches.
    const started = io.now();
    let done = 0;
    const batches: { batchId: string; txId: string; root: string; size: number }[] = [];
    let batch: unknown[] = [];
    const flush = async (): Promise<void> => {
      const before = done;
      const published = await publishBatch(gw, catalogueEntryId, batch, (n, phase) => {
        bar.update(before + n, total, `publishing (${phase})`);
      });
      done += batch.length;
      bar.update(done, total, 'publishing');
      const first = published[0];
      if (first !== undefined) batches.push({ batchId: first.batchId, txId: first.txId, root: first.root, size: published.length });
      batch = [];
    };
    try {
      for await (const input of readRecordFile(file, type)) {
        batch.push(prepareRecord(input, type, file));
        if (batch.length === batchSize) await flush();
      }
      if (batch.length > 0) await flush();
    } catch (e) {
      bar.finish();
      if (e instanceof CliError && done > 0) {
        throw new CliError(e.code, `${e.text} (after ${String(done)} of ${String(total)} records were published and anchored; publishing again is idempotent)`, e.exitCode);
      }
      throw e;
    }
    bar.finish();
    const seconds = Math.max(0.001, (io.now() - started) / 1000);
    return {
      human: `Published and anchored ${String(total)} ${type} record(s) under ${catalogueEntryId} in ${String(batches.length)} batch(es), ${seconds.toFixed(1)} s (${String(Math.round(total / seconds))} records/s).\n${table(['batch', 'records', 'root', 'transaction'], batches.map((b) => [short(b.batchId, 20), String(b.size), short(b.root), short(b.txId)]))}`,
      json: { records: total, catalogueEntryId, recordType: type, batches },
    };
  },
};

export const catalogueAdd: Command = {
  path: ['catalogue', 'add'],
  audience: 'publisher',
  summary: 'Create a catalogue entry (数据目录条目) for records this organization publishes about an enterprise.',
  options: {
    uscc: { type: 'string', value: '<USCC>', description: 'the enterprise the records are about (required)' },
    type: { type: 'string', short: 't', value: '<recordType>', description: 'record type (required)' },
    title: { type: 'string', value: '<text>', description: 'title, e.g. 行政处罚信息 (required)' },
    price: { type: 'string', value: '<fen>', description: 'price per access in fen (分), default 0' },
    id: { type: 'string', value: '<entryId>', description: 'entry id (default <MSP id>.<type>.<USCC>)' },
  },
  async run(args, io) {
    const subject = normalizeUscc(required(args, 'uscc', 'catalogue add'));
    const recordType = required(args, 'type', 'catalogue add');
    assertRecordType(recordType);
    const body = { subject, recordType, title: required(args, 'title', 'catalogue add'), pricePerAccess: int(args, 'price', 0), ...(str(args, 'id') === undefined ? {} : { entryId: str(args, 'id') }) };
    const gw = gatewayClient(args, io, DEFAULT_ORG.government);
    const res = await gw.request<{ entry: EntryView; txId: string }>('POST', '/v1/catalogue', body);
    return { human: `Catalogue entry created:\n${fieldsBlock([['entry id', res.entry.entryId], ['publisher', res.entry.publisher], ['subject', res.entry.subject], ['type', res.entry.recordType], ['data grade', res.entry.dataGrade], ['price (fen)', res.entry.pricePerAccess], ['transaction', res.txId]])}`, json: res };
  },
};

export const catalogueList: Command = {
  path: ['catalogue', 'list'],
  audience: 'anyone',
  summary: 'List catalogue entries: by enterprise (--uscc), record type (--type), publisher (--publisher), or this organization\'s.',
  options: {
    uscc: { type: 'string', value: '<USCC>', description: 'entries about this enterprise' },
    type: { type: 'string', short: 't', value: '<recordType>', description: 'entries of this record type' },
    publisher: { type: 'string', value: '<MSP id>', description: 'entries of this publisher' },
  },
  async run(args, io) {
    const uscc = str(args, 'uscc');
    const type = str(args, 'type');
    const publisher = str(args, 'publisher');
    const query = uscc !== undefined ? `subject=${normalizeUscc(uscc)}` : type !== undefined ? `recordType=${encodeURIComponent(type)}` : publisher !== undefined ? `publisher=${encodeURIComponent(publisher)}` : '';
    const gw = gatewayClient(args, io, DEFAULT_ORG.government);
    const { entries } = await gw.request<{ entries: EntryView[] }>('GET', `/v1/catalogue${query === '' ? '' : '?' + query}`);
    const rows = entries.map((e) => [e.entryId, e.publisher, e.recordType, e.title, String(e.dataGrade), String(e.pricePerAccess), e.status]);
    return { human: `${String(entries.length)} catalogue entr${entries.length === 1 ? 'y' : 'ies'}:\n${table(['entry', 'publisher', 'type', 'title', 'grade', 'fen', 'status'], rows)}`, json: { entries } };
  },
};

export const catalogueRetire: Command = {
  path: ['catalogue', 'retire'],
  audience: 'publisher',
  summary: 'Retire a catalogue entry: no new records and no new accesses under it.',
  positionals: [{ name: 'entryId', description: 'the entry to retire' }],
  options: {},
  async run(args, io) {
    const id = args.positionals[0] ?? '';
    const gw = gatewayClient(args, io, DEFAULT_ORG.government);
    const res = await gw.request<{ entry: EntryView; txId: string }>('POST', `/v1/catalogue/${encodeURIComponent(id)}/retire`);
    return { human: `Catalogue entry ${id} retired (${res.entry.status}); transaction ${res.txId}`, json: res };
  },
};

export const objectionResolve: Command = {
  path: ['objection', 'resolve'],
  audience: 'publisher',
  summary: 'Resolve an objection against one of this organization\'s records: reject it with a reason, or correct the record (a superseding record is published; the old hash stays on chain).',
  positionals: [{ name: 'objectionId', description: 'the objection' }],
  options: {
    reject: { type: 'boolean', description: 'uphold the record (the objection is rejected)' },
    correct: { type: 'string', value: '<record.json>', description: 'publish this corrected record, superseding the disputed one' },
    reason: { type: 'string', value: '<text>', description: 'the answer to the enterprise (required)' },
    catalogue: { type: 'string', value: '<entryId>', description: 'entry for the correction (default: the disputed record\'s)' },
  },
  async run(args, io) {
    const reason = required(args, 'reason', 'objection resolve');
    const correct = str(args, 'correct');
    if ((args.values.reject === true) === (correct !== undefined)) throw usageError('USAGE', 'give exactly one of --reject or --correct <record.json>');
    let record: Record<string, unknown> | undefined;
    if (correct !== undefined) {
      const file = resolve(io.cwd, correct);
      try {
        record = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw usageError('FILE_NOT_FOUND', `no such file: ${file}`);
        throw usageError('JSON_INVALID', `${file}: ${(e as Error).message}`);
      }
      if (typeof record.subject === 'string') record.subject = normalizeUscc(record.subject);
    }
    const body = { outcome: correct === undefined ? 'rejected' : 'corrected', reason, ...(record === undefined ? {} : { record }), ...(str(args, 'catalogue') === undefined ? {} : { catalogueEntryId: str(args, 'catalogue') }) };
    const gw = gatewayClient(args, io, DEFAULT_ORG.government);
    const res = await gw.request<{ txId: string; objection: { status: string; recordId: string }; published?: Published }>('POST', `/v1/objections/${encodeURIComponent(args.positionals[0] ?? '')}/resolve`, body);
    const human = res.published === undefined
      ? `Objection rejected; record ${res.objection.recordId} stays as published. Transaction ${res.txId}`
      : `Record ${res.objection.recordId} corrected (信用修复): superseded by ${res.published.recordId}. Transaction ${res.txId}`;
    return { human, json: res };
  },
};

export const objectionList: Command = {
  path: ['objection', 'list'],
  audience: 'anyone',
  summary: 'List objections about an enterprise (--uscc), or open objections past their deadline (--overdue).',
  options: {
    uscc: { type: 'string', value: '<USCC>', description: 'the enterprise' },
    overdue: { type: 'boolean', description: 'open objections past their 20-day deadline' },
  },
  async run(args, io) {
    const uscc = str(args, 'uscc');
    if (uscc === undefined && args.values.overdue !== true) throw usageError('USAGE', 'give --uscc <USCC> or --overdue');
    const gw = gatewayClient(args, io, DEFAULT_ORG.government);
    const path = uscc === undefined ? '/v1/objections/overdue' : `/v1/objections?subject=${normalizeUscc(uscc)}`;
    const { objections } = await gw.request<{ objections: { objectionId: string; recordId: string; publisher: string; status: string; deadline: string }[] }>('GET', path);
    return { human: `${String(objections.length)} objection(s):\n${table(['objection', 'record', 'publisher', 'status', 'deadline'], objections.map((o) => [short(o.objectionId), o.recordId, o.publisher, o.status, o.deadline]))}`, json: { objections } };
  },
};

/** The publisher's commands. */
export const publisherCommands: Command[] = [publish, catalogueAdd, catalogueList, catalogueRetire, objectionResolve, objectionList];
