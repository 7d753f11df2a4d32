/**
 * Commands of a bank (金融机构): fetch an enterprise's records under its consent, with a
 * verification report, and verify a saved record again, offline, against the ledger.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { VerificationReport } from '@credex/gateway';
import type { Command } from '../command';
import { consentIdArg, required, str } from '../command';
import { CliError, EXIT, usageError } from '../errors';
import type { GatewayClient } from '../exchange';
import { DEFAULT_ORG, gatewayClient } from '../exchange';
import { table } from '../format';
import { progressBar } from '../progress';
import type { ChainView, SavedRecord, Verification } from '../verify';
import { savedLeaf, verifySaved } from '../verify';

/** The bank gateway's answer to POST /v1/fetch (one publisher). */
interface FetchAnswer {
  publisher: string;
  accessId: string;
  txId: string;
  records: { record?: SavedRecord['record']; report: VerificationReport; batchId?: string; index?: number; proof?: string[]; root?: string }[];
  notServed: { recordId: string; code: string; message: string }[];
}

interface ConsentView { consentId: string; subject: string; grantee: string; status: string; statement: { purpose: string; scope: { catalogueEntryIds?: string[]; recordTypes?: string[] } } }
interface EntryView { entryId: string; publisher: string; recordType: string; status: string }

/** The failed checks of a report, for a table cell. */
function problems(r: { checks: { name: string; ok: boolean; detail?: string }[] }): string {
  return r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? ''}`).join('; ');
}

function safeName(recordId: string): string {
  return recordId.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** The publishers holding records a consent covers, from the catalogue. */
async function publishersOf(gw: GatewayClient, consent: ConsentView): Promise<string[]> {
  const { entries } = await gw.request<{ entries: EntryView[] }>('GET', `/v1/catalogue?subject=${consent.subject}`);
  const { catalogueEntryIds, recordTypes } = consent.statement.scope;
  const covered = entries.filter((e) => (catalogueEntryIds?.includes(e.entryId) ?? false) || (recordTypes?.includes(e.recordType) ?? false));
  return [...new Set(covered.map((e) => e.publisher))].sort();
}

export const fetchCmd: Command = {
  path: ['fetch'],
  audience: 'bank',
  summary: 'Fetch the records a consent covers from each publisher, through this bank\'s gateway: each access is registered on chain before anything is served, every record is verified; records and report.json are written to --out.',
  options: {
    consent: { type: 'string', value: '<consentId>', description: 'the consent to fetch under (required)' },
    out: { type: 'string', short: 'o', value: '<dir>', description: 'directory for the records and report.json (required)' },
    publisher: { type: 'string', value: '<MSP id>', description: 'fetch from this publisher only (default: every publisher the consent covers)' },
  },
  examples: ['credex fetch --consent 3f2a… --out ./xian-records'],
  async run(args, io) {
    const consentId = consentIdArg(required(args, 'consent', 'fetch'));
    const out = resolve(io.cwd, required(args, 'out', 'fetch'));
    if (existsSync(out) && !statSync(out).isDirectory()) throw usageError('OUT_INVALID', `${out} exists and is not a directory`);
    const gw = gatewayClient(args, io, DEFAULT_ORG.bank);
    const only = str(args, 'publisher');
    const consent = await gw.request<ConsentView>('GET', `/v1/consents/${consentId}`);
    const publishers = only === undefined ? await publishersOf(gw, consent) : [only];
    if (publishers.length === 0) throw new CliError('NOTHING_COVERED', `no catalogue entry about ${consent.subject} is covered by consent ${consentId}`, EXIT.REFUSED);
    const answers: FetchAnswer[] = [];
    for (const publisher of publishers) answers.push(await gw.request<FetchAnswer>('POST', '/v1/fetch', { consentId, publisher }));
    mkdirSync(out, { recursive: true });
    const files: string[] = [];
    const reports: (VerificationReport & { publisher: string })[] = [];
    for (const a of answers) {
      for (const r of a.records) {
        reports.push({ publisher: a.publisher, ...r.report });
        if (r.record === undefined) continue;
        const file = join(out, `${safeName(r.record.header.recordId)}.json`);
        writeFileSync(file, JSON.stringify({ ...r, publisher: a.publisher, accessId: a.accessId, txId: a.txId }, null, 2) + '\n');
        files.push(file);
      }
    }
    const accesses = answers.map((a) => ({ publisher: a.publisher, accessId: a.accessId, txId: a.txId }));
    const notServed = answers.flatMap((a) => a.notServed.map((n) => ({ publisher: a.publisher, ...n })));
    writeFileSync(join(out, 'report.json'), JSON.stringify({ consentId, subject: consent.subject, fetchedAt: new Date(io.now()).toISOString(), accesses, reports, notServed }, null, 2) + '\n');
    const rows = reports.map((r) => [r.recordId, r.publisher, r.ok ? 'verified' : 'FAILED', r.status ?? '', problems(r)]);
    const failed = reports.filter((r) => !r.ok);
    if (failed.length > 0) throw new CliError('VERIFICATION_FAILED', `${String(failed.length)} record(s) failed verification and were not saved; see ${join(out, 'report.json')}`, EXIT.REFUSED);
    const human = `Fetched ${String(files.length)} record(s) about ${consent.subject} under consent ${consentId} into ${out}:\n${table(['record', 'publisher', 'verification', 'status', 'problems'], rows)}\n${accesses.map((a) => `  access ${a.accessId} registered by ${a.publisher} in transaction ${a.txId}`).join('\n')}${notServed.length > 0 ? `\nNot served: ${notServed.map((n) => `${n.recordId} (${n.code})`).join(', ')}` : ''}`;
    return { human, json: { out, files, consentId, subject: consent.subject, accesses, reports, notServed } };
  },
};

const NOT_ON_CHAIN = new Set(['RECORD_UNKNOWN', 'NOT_FOUND', 'RECORD_PROOF_INVALID', 'RECORD_REF_REQUIRED']);

/**
 * Reads what the ledger says about a saved record, through a gateway's auditor view. The ledger
 * keeps batches, not records: it is asked with the file's own reference (batch, index, proof and
 * the leaf recomputed here), which needs nobody else; when the ledger does not prove that
 * reference (a changed file), with the reference the record's publisher gives, so that the
 * report says which check fails.
 */
async function chainViewOf(gw: GatewayClient, saved: SavedRecord & { publisher?: unknown }): Promise<ChainView> {
  const recordId = saved.record.header.recordId;
  const path = `/v1/audit/records/${encodeURIComponent(recordId)}`;
  const ask = async (query: string): Promise<ChainView | undefined> => {
    try {
      return await gw.request<ChainView>('GET', `${path}?${query}`);
    } catch (e) {
      if (e instanceof CliError && NOT_ON_CHAIN.has(e.code)) return undefined;
      throw e;
    }
  };
  const leaf = savedLeaf(saved);
  if (leaf !== undefined && typeof saved.batchId === 'string' && Number.isInteger(saved.index) && Array.isArray(saved.proof)) {
    const ref = { recordId, batchId: saved.batchId, index: saved.index, leafHash: leaf, proof: saved.proof };
    const view = await ask(`ref=${encodeURIComponent(JSON.stringify(ref))}`);
    if (view !== undefined) return view;
  }
  const publisher = typeof saved.publisher === 'string' ? saved.publisher : saved.record.header.publisher;
  return (await ask(`publisher=${encodeURIComponent(publisher)}`)) ?? {};
}

function readSaved(file: string): SavedRecord {
  if (!existsSync(file)) throw usageError('FILE_NOT_FOUND', `no such file: ${file}`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw usageError('JSON_INVALID', `${file}: ${(e as Error).message}`);
  }
  const s = raw as Partial<SavedRecord>;
  const header = (s.record as { header?: { recordId?: unknown } } | undefined)?.header;
  if (typeof s !== 'object' || typeof header?.recordId !== 'string' || typeof s.record?.fields !== 'object') {
    throw usageError('RECORD_FILE_INVALID', `${file} is not a record file written by credex fetch ({record: {header, fields}, …})`);
  }
  return s as SavedRecord;
}

export const verify: Command = {
  path: ['verify'],
  audience: 'bank',
  summary: 'Verify saved record files again, offline from the publisher: recompute digests and leaf, walk the Merkle path to the root anchored on the ledger, check status, publisher and subject.',
  positionals: [{ name: 'file', description: 'record files written by credex fetch', variadic: true }],
  options: {},
  async run(args, io) {
    const files = args.positionals.map((f) => resolve(io.cwd, f));
    const saved = files.map(readSaved);
    const gw = gatewayClient(args, io, DEFAULT_ORG.bank);
    const bar = progressBar(io, 'verifying', args.values.json !== true);
    const results: (Verification & { file: string })[] = [];
    for (const [i, s] of saved.entries()) {
      const chain = await chainViewOf(gw, s);
      results.push({ file: files[i] ?? '', ...verifySaved(s, chain) });
      bar.update(i + 1, saved.length);
    }
    bar.finish();
    const rows = results.map((r) => [r.recordId, r.ok ? 'ok' : 'FAILED', r.status ?? '', problems(r)]);
    const human = table(['record', 'verification', 'status', 'problems'], rows);
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0) {
      const first = failed[0];
      const why = first?.checks.find((c) => !c.ok);
      const err = new CliError('VERIFICATION_FAILED', `${String(failed.length)} of ${String(results.length)} record(s) failed: ${first?.recordId ?? ''} ${why?.name ?? ''}: ${why?.detail ?? ''}`, EXIT.REFUSED, { results });
      throw err;
    }
    return { human: `${human}\nAll ${String(results.length)} record(s) verify against the ledger.`, json: { ok: true, results } };
  },
};

/** The bank's commands. */
export const bankCommands: Command[] = [fetchCmd, verify];
