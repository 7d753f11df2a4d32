/**
 * Commands of the auditor / regulator: a record's provenance and every access to it, a
 * subject's access history, the ledger's block hash chain, fee totals of a month.
 */
import { join } from 'node:path';
import { normalizeUscc } from '@credex/core';
import type { Command } from '../command';
import { str } from '../command';
import { CliError, EXIT, usageError } from '../errors';
import { DEFAULT_ORG, dataDirOf, gatewayClient, readOrgConfig } from '../exchange';
import { fieldsBlock, short, table } from '../format';
import { progressBar } from '../progress';

interface Provenance {
  record: { recordId: string; status: string; publisher: string; subject: string; recordType: string; catalogueEntryId: string; leafHash: string; index: number; supersedes?: string; supersededBy?: string; history?: { status: string; at: string; txId: string }[] };
  batch: { batchId: string; root: string; size: number; txId: string; anchoredAt: string };
  blockNumber?: number;
  accesses: { accessId: string; grantee: string; purpose: string; at: string; txId: string }[];
  offChain?: { anchored: boolean; leafMatches: boolean; proofVerifies: boolean };
}

export const auditRecord: Command = {
  path: ['audit', 'record'],
  audience: 'auditor',
  summary: 'Provenance of a record (数据溯源): its batch, root, anchoring transaction and block, publisher, status history, and every registered access to it.',
  positionals: [{ name: 'recordId', description: 'the record' }],
  options: {
    publisher: { type: 'string', value: '<MSP id>', description: 'the record\'s publisher, whose gateway gives the record\'s anchor reference (needed unless the gateway asked published the record itself)' },
  },
  examples: ['credex audit record lic-2025-0312 --publisher GovMSP'],
  async run(args, io) {
    const gw = gatewayClient(args, io, DEFAULT_ORG.auditor);
    const publisher = str(args, 'publisher');
    const query = publisher === undefined ? '' : `?publisher=${encodeURIComponent(publisher)}`;
    const p = await gw.request<Provenance>('GET', `/v1/audit/records/${encodeURIComponent(args.positionals[0] ?? '')}${query}`);
    const r = p.record;
    const history = (r.history ?? []).map((h) => [h.at, h.status, short(h.txId)]);
    const accessRows = p.accesses.map((a) => [a.at, a.grantee, a.purpose, short(a.accessId), short(a.txId)]);
    const human = [
      `Record ${r.recordId} (${r.recordType}) about ${r.subject}`,
      fieldsBlock([
        ['publisher', r.publisher], ['catalogue entry', r.catalogueEntryId], ['status', r.status],
        ['supersedes', r.supersedes], ['superseded by', r.supersededBy], ['leaf hash', r.leafHash],
        ['batch', `${p.batch.batchId} (index ${String(r.index)} of ${String(p.batch.size)})`], ['root', p.batch.root],
        ['anchored', `${p.batch.anchoredAt} in transaction ${p.batch.txId}${p.blockNumber === undefined ? '' : `, block ${String(p.blockNumber)}`}`],
        ['off-chain copy', p.offChain === undefined ? undefined : `anchored ${String(p.offChain.anchored)}, leaf matches ${String(p.offChain.leafMatches)}, proof verifies ${String(p.offChain.proofVerifies)}`],
      ]),
      'Status history:', table(['when', 'status', 'transaction'], history),
      `Accesses (${String(p.accesses.length)}):`, table(['when', 'who', 'why', 'access', 'transaction'], accessRows),
    ].join('\n');
    return { human, json: p };
  },
};

export const auditSubject: Command = {
  path: ['audit', 'subject'],
  audience: 'auditor',
  summary: 'Every registered access to an enterprise\'s records: who, when, why, which records, fee.',
  positionals: [{ name: 'USCC', description: 'the enterprise\'s 统一社会信用代码' }],
  options: {},
  async run(args, io) {
    const uscc = normalizeUscc(args.positionals[0] ?? '');
    const gw = gatewayClient(args, io, DEFAULT_ORG.auditor);
    const res = await gw.request<{ subject: string; accesses: { accessId: string; grantee: string; publisher: string; purpose: string; recordIds: string[]; at: string; fee: number; consentId: string }[] }>('GET', `/v1/audit/subjects/${uscc}/accesses`);
    const rows = res.accesses.map((a) => [a.at, a.grantee, a.publisher, a.purpose, String(a.recordIds.length), String(a.fee), short(a.consentId)]);
    return { human: `${String(res.accesses.length)} access(es) to ${uscc}'s records:\n${table(['when', 'who', 'from', 'why', 'records', 'fee', 'consent'], rows)}`, json: res };
  },
};

interface LedgerCheck { ok: boolean; height: number; currentBlockHash?: string; blockNumber?: number; reason?: string }

/** Walks the chain block by block through the auditor's own ledger connection, with progress. */
async function checkLedgerDirectly(configFile: string, onBlock: (n: number, height: number) => void): Promise<LedgerCheck> {
  const gateway = await import('@credex/gateway');
  let config;
  try {
    config = gateway.loadConfig({ file: configFile, env: {} });
  } catch (e) {
    throw new CliError('CONFIG_INVALID', (e as Error).message.replace(/^CONFIG_INVALID: /, ''), EXIT.USAGE);
  }
  let client;
  try {
    client = await gateway.createLedgerClient({ ...config.ledger, mspId: config.mspId });
  } catch (e) {
    throw new CliError('EXCHANGE_UNREACHABLE', `cannot connect to the ledger: ${(e as Error).message}`, EXIT.UNREACHABLE);
  }
  try {
    return await gateway.checkLedger(client, onBlock);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'LEDGER_UNAVAILABLE' || code === 'LEDGER_TIMEOUT') throw new CliError(code, (e as Error).message, EXIT.UNREACHABLE);
    throw e;
  } finally {
    client.close();
  }
}

export const auditLedger: Command = {
  path: ['audit', 'ledger'],
  audience: 'auditor',
  summary: 'Check the ledger\'s block hash chain from genesis to the current height. With a local exchange the auditor\'s own peer connection is used (progress bar); otherwise the gateway checks it.',
  options: {
    'via-gateway': { type: 'boolean', description: 'let the auditor\'s gateway walk the chain instead' },
  },
  async run(args, io) {
    const mspId = str(args, 'org') ?? io.env.CREDEX_ORG ?? DEFAULT_ORG.auditor;
    const dataDir = dataDirOf(args, io);
    const direct = args.values['via-gateway'] !== true && str(args, 'gateway') === undefined && io.env.CREDEX_GATEWAY === undefined && readOrgConfig(dataDir, mspId) !== undefined;
    let check: LedgerCheck;
    if (direct) {
      const bar = progressBar(io, 'checking blocks', args.values.json !== true);
      check = await checkLedgerDirectly(join(dataDir, 'config', `${mspId}.json`), (n, height) => {
        bar.update(n + 1, height);
      });
      bar.finish();
    } else {
      check = await gatewayClient(args, io, DEFAULT_ORG.auditor).request<LedgerCheck>('GET', '/v1/audit/ledger');
    }
    if (!check.ok) {
      throw new CliError('LEDGER_BROKEN', `the block hash chain breaks at block ${String(check.blockNumber ?? '?')}: ${check.reason ?? 'no reason given'}`, EXIT.REFUSED, { check });
    }
    return { human: `Ledger OK: ${String(check.height)} block(s), every block's header hash links to the next; current block hash ${check.currentBlockHash ?? ''}.`, json: { ...check, via: direct ? 'ledger' : 'gateway' } };
  },
};

export const auditFees: Command = {
  path: ['audit', 'fees'],
  audience: 'auditor',
  summary: 'Fee totals (使用者付费) per grantee and publisher for one month.',
  options: {
    period: { type: 'string', value: '<YYYY-MM>', description: 'the month, e.g. 2026-11 (required)' },
  },
  async run(args, io) {
    const period = str(args, 'period');
    if (period === undefined || !/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) throw usageError('PERIOD_INVALID', `--period must be a month YYYY-MM, e.g. 2026-11${period === undefined ? '' : `, not '${period}'`}`);
    const gw = gatewayClient(args, io, DEFAULT_ORG.auditor);
    const res = await gw.request<unknown>('GET', `/v1/audit/fees?period=${period}`);
    const totals = (Array.isArray(res) ? res : ((res as { totals?: unknown }).totals ?? [])) as { grantee: string; publisher: string; accesses: number; fee: number }[];
    const sum = totals.reduce((s, t) => s + t.fee, 0);
    const rows = totals.map((t) => [t.grantee, t.publisher, String(t.accesses), (t.fee / 100).toFixed(2)]);
    return { human: `Fees for ${period} (CNY):\n${table(['grantee', 'publisher', 'accesses', 'fee'], rows)}\n  total ${(sum / 100).toFixed(2)} CNY`, json: { period, totals, totalFen: sum } };
  },
};

/** The auditor's commands. */
export const auditCommands: Command[] = [auditRecord, auditSubject, auditLedger, auditFees];
