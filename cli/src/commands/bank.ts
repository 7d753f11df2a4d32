/**
 * Commands of a bank (金融机构): fetch an enterprise's records under its consent, with a
 * verification report, and verify a saved record again, offline, against the ledger.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from '../command';
import { required } from '../command';
import { CliError, EXIT, usageError } from '../errors';
import { DEFAULT_ORG, gatewayClient } from '../exchange';
import { table } from '../format';
import { progressBar } from '../progress';
import type { ChainView, SavedRecord, Verification } from '../verify';
import { verifySaved } from '../verify';

/** A verification report per record, as the bank's gateway returns it. */
interface Report { recordId: string; ok: boolean; status?: string; checks: { name: string; ok: boolean; detail?: string }[] }

/** The bank gateway's answer to a fetch (routes/fetch). */
interface FetchAnswer {
  consentId?: string;
  records: (SavedRecord & { publisher?: string })[];
  reports: Report[];
  accesses?: { publisher: string; accessId: string; txId: string }[];
  notServed?: { recordId: string; code: string; message: string }[];
}

function safeName(recordId: string): string {
  return recordId.replace(/[^A-Za-z0-9._-]/g, '_');
}

export const fetchCmd: Command = {
  path: ['fetch'],
  audience: 'bank',
  summary: 'Fetch the records a consent covers, from every publisher, through this bank\'s gateway: each access is registered on chain first, every record is verified; records and report.json are written to --out.',
  options: {
    consent: { type: 'string', value: '<consentId>', description: 'the consent to fetch under (required)' },
    out: { type: 'string', short: 'o', value: '<dir>', description: 'directory for the records and report.json (required)' },
    purpose: { type: 'string', value: '<code>', description: 'purpose of use (default: the consent\'s)' },
  },
  examples: ['credex fetch --consent 3f2a… --out ./xian-records'],
  async run(args, io) {
    const consentId = required(args, 'consent', 'fetch');
    if (!/^[0-9a-f]{64}$/.test(consentId)) throw usageError('CONSENT_ID_INVALID', `a consent id is 64 lowercase hex characters, not '${consentId}'`);
    const out = resolve(io.cwd, required(args, 'out', 'fetch'));
    if (existsSync(out) && !statIsDir(out)) throw usageError('OUT_INVALID', `${out} exists and is not a directory`);
    const gw = gatewayClient(args, io, DEFAULT_ORG.bank);
    const purpose = typeof args.values.purpose === 'string' ? args.values.purpose : undefined;
    const answer = await gw.request<FetchAnswer>('POST', '/v1/fetch', { consentId, ...(purpose === undefined ? {} : { purpose }) });
    mkdirSync(out, { recursive: true });
    const files: string[] = [];
    for (const r of answer.records) {
      const file = join(out, `${safeName(r.record.header.recordId)}.json`);
      writeFileSync(file, JSON.stringify(r, null, 2) + '\n');
      files.push(file);
    }
    writeFileSync(join(out, 'report.json'), JSON.stringify({ consentId, fetchedAt: new Date(io.now()).toISOString(), reports: answer.reports, accesses: answer.accesses ?? [], notServed: answer.notServed ?? [] }, null, 2) + '\n');
    const failed = answer.reports.filter((r) => !r.ok);
    const rows = answer.reports.map((r) => [r.recordId, r.ok ? 'verified' : 'FAILED', r.status ?? '', r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? ''}`).join('; ')]);
    const human = `Fetched ${String(answer.records.length)} record(s) under consent ${consentId} into ${out}:\n${table(['record', 'verification', 'status', 'problems'], rows)}${(answer.notServed ?? []).length > 0 ? `\nNot served: ${(answer.notServed ?? []).map((n) => `${n.recordId} (${n.code})`).join(', ')}` : ''}`;
    if (failed.length > 0) throw new CliError('VERIFICATION_FAILED', `${String(failed.length)} record(s) failed verification; see ${join(out, 'report.json')}`, EXIT.REFUSED);
    return { human, json: { out, files, ...answer } };
  },
};

function statIsDir(path: string): boolean {
  return statSync(path).isDirectory();
}

/** Reads what the ledger says about a record, through a gateway's auditor view. */
export async function chainViewOf(gw: ReturnType<typeof gatewayClient>, recordId: string): Promise<ChainView> {
  try {
    return await gw.request<ChainView>('GET', `/v1/audit/records/${encodeURIComponent(recordId)}`);
  } catch (e) {
    if (e instanceof CliError && (e.code === 'RECORD_UNKNOWN' || e.code === 'NOT_FOUND')) return {};
    throw e;
  }
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
  if (typeof s !== 'object' || typeof header?.recordId !== 'string' || typeof s.record?.fields !== 'object' || !Array.isArray(s.proof)) {
    throw usageError('RECORD_FILE_INVALID', `${file} is not a record file written by credex fetch ({record: {header, fields}, proof, …})`);
  }
  return s as SavedRecord;
}

export const verify: Command = {
  path: ['verify'],
  audience: 'bank',
  summary: 'Verify saved record files again, offline from the publisher: recompute digests and leaf, walk the Merkle path to the root anchored on the ledger, check status, publisher and subject.',
  positionals: [{ name: 'file', description: 'a record file written by credex fetch (more may follow)' }],
  options: {},
  async run(args, io) {
    const files = args.positionals.map((f) => resolve(io.cwd, f));
    const saved = files.map(readSaved);
    const gw = gatewayClient(args, io, DEFAULT_ORG.bank);
    const bar = progressBar(io, 'verifying', args.values.json !== true);
    const results: (Verification & { file: string })[] = [];
    for (const [i, s] of saved.entries()) {
      const chain = await chainViewOf(gw, s.record.header.recordId);
      results.push({ file: files[i] ?? '', ...verifySaved(s, chain) });
      bar.update(i + 1, saved.length);
    }
    bar.finish();
    const rows = results.map((r) => [r.recordId, r.ok ? 'ok' : 'FAILED', r.status ?? '', r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? ''}`).join('; ')]);
    const human = `${table(['record', 'verification', 'status', 'problems'], rows)}`;
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
