/**
 * Commands of the enterprise (市场主体, the data subject): its key, its registration through
 * the government gateway, consents (数据授权), its access history (知情权) and objections (异议).
 * Statements are signed here, locally, with the enterprise's key; gateways only submit them.
 */
import { resolve } from 'node:path';
import { newSalt, normalizeUscc, signed, statementId } from '@credex/core';
import type { StatementKind } from '@credex/core';
import type { Args, Command, Io, Outcome } from '../command';
import { consentIdArg, int, list, required, str } from '../command';
import { usageError } from '../errors';
import { DEFAULT_ORG, gatewayClient } from '../exchange';
import { fieldsBlock, short, table } from '../format';
import { readKey, subjectOf, writeNewKey } from '../keyfile';
import type { EnterpriseKey } from '../keyfile';

const PURPOSES = ['LOAN_APPLICATION', 'LOAN_MONITORING', 'CREDIT_LINE_REVIEW', 'SUPPLY_CHAIN_FINANCE', 'GUARANTEE'];
const DAY_MS = 86_400_000;

interface ConsentView { consentId: string; subject: string; grantee: string; status: string; uses: number; statement: { purpose: string; notAfter: string; maxUses: number; fieldScope: { maxGrade: number } } }
interface AccessView { accessId: string; grantee: string; publisher: string; purpose: string; recordIds: string[]; at: string; fee: number; consentId: string }

/** A time option: RFC 3339 (normalised to toISOString form). */
function timeOption(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw usageError('TIME_INVALID', `--${name} must be a date-time like 2026-12-31T00:00:00Z, not '${value}'`);
  return new Date(ms).toISOString();
}

/** The --key file, when given. */
function keyOption(args: Args, io: Io): EnterpriseKey | undefined {
  const file = str(args, 'key');
  return file === undefined ? undefined : readKey(resolve(io.cwd, file));
}

/** The enterprise's key (--key, required) and the subject it acts for (--uscc, else the key file's). */
function enterpriseKey(args: Args, io: Io, cmd: string): { key: EnterpriseKey; subject: string } {
  const key = readKey(resolve(io.cwd, required(args, 'key', cmd)));
  return { key, subject: subjectOf(str(args, 'uscc'), key, cmd) };
}

/** Signs a statement with the enterprise's key and submits it through the government gateway. */
async function submitSigned<T>(args: Args, io: Io, path: string, kind: StatementKind, statement: object, key: EnterpriseKey, extra: Record<string, unknown> = {}): Promise<T> {
  return gatewayClient(args, io, DEFAULT_ORG.government).request<T>('POST', path, { ...signed(kind, statement, key.secretKey), ...extra });
}

export const keyNew: Command = {
  path: ['key', 'new'],
  audience: 'enterprise',
  summary: 'Create the enterprise\'s ed25519 signing key in a file (mode 0600). The secret key is never printed.',
  options: {
    out: { type: 'string', short: 'o', value: '<file>', description: 'key file to write (default ./credex-key.json)' },
    uscc: { type: 'string', value: '<USCC>', description: 'the enterprise\'s 统一社会信用代码, remembered in the file' },
    force: { type: 'boolean', description: 'replace an existing key file' },
  },
  examples: ['credex key new --out xian-key.json --uscc 91610131MA6W3QXF1X'],
  run(args, io): Promise<Outcome> {
    const file = resolve(io.cwd, str(args, 'out') ?? 'credex-key.json');
    const key = writeNewKey(file, { uscc: str(args, 'uscc'), force: args.values.force === true, now: io.now() });
    return Promise.resolve({
      human: `Wrote a new ed25519 key to ${file} (mode 0600; keep it secret).\n${fieldsBlock([['public key', key.publicKey], ['USCC', key.uscc]])}\nNext: register it through the government gateway: credex register --key ${file}${key.uscc === undefined ? ' --uscc <USCC>' : ''} --name <企业名称>`,
      json: { file, publicKey: key.publicKey, ...(key.uscc === undefined ? {} : { uscc: key.uscc }) },
    });
  },
};

export const register: Command = {
  path: ['register'],
  audience: 'enterprise',
  summary: 'Bind the enterprise\'s public key to its USCC on chain, through the government gateway (after its identity check).',
  options: {
    key: { type: 'string', short: 'k', value: '<file>', description: 'the enterprise\'s key file (required)' },
    uscc: { type: 'string', value: '<USCC>', description: '统一社会信用代码 (default: the key file\'s)' },
    name: { type: 'string', value: '<name>', description: 'registered name, e.g. 西安某科技有限公司 (required)' },
  },
  async run(args, io) {
    const { key, subject: uscc } = enterpriseKey(args, io, 'register');
    const name = required(args, 'name', 'register');
    const gw = gatewayClient(args, io, DEFAULT_ORG.government);
    const res = await gw.request<{ txId: string }>('POST', '/v1/enterprises', { uscc, name, publicKey: key.publicKey });
    return { human: `Registered ${name} (${uscc}) with key ${short(key.publicKey, 12)} through ${gw.target.mspId}; transaction ${res.txId}`, json: res };
  },
};

export const enterpriseShow: Command = {
  path: ['enterprise', 'show'],
  audience: 'anyone',
  summary: 'An enterprise as registered on chain: its name, current public key and key history.',
  positionals: [{ name: 'USCC', description: 'the enterprise\'s 统一社会信用代码' }],
  options: {},
  async run(args, io) {
    const uscc = normalizeUscc(args.positionals[0] ?? '');
    const gw = gatewayClient(args, io, DEFAULT_ORG.government);
    const e = await gw.request<{ uscc: string; name: string; publicKey: string; keyValidFrom: string; keyHistory: unknown[]; registeredBy: string; registeredAt: string }>('GET', `/v1/enterprises/${uscc}`);
    return {
      human: `${e.name} (${e.uscc})\n${fieldsBlock([['public key', e.publicKey], ['key valid from', e.keyValidFrom], ['earlier keys', String(e.keyHistory.length)], ['registered by', `${e.registeredBy} at ${e.registeredAt}`]])}`,
      json: e,
    };
  },
};

export const consentGrant: Command = {
  path: ['consent', 'grant'],
  audience: 'enterprise',
  summary: 'Sign a consent (数据授权) with the enterprise\'s key and submit it through a gateway.',
  options: {
    key: { type: 'string', short: 'k', value: '<file>', description: 'the enterprise\'s key file (required)' },
    uscc: { type: 'string', value: '<USCC>', description: 'the subject (default: the key file\'s)' },
    grantee: { type: 'string', value: '<MSP id>', description: 'the organization allowed to use the data, e.g. BankMSP (required)' },
    purpose: { type: 'string', value: '<code>', description: `purpose of use (required): ${PURPOSES.join(', ')}` },
    'max-grade': { type: 'string', value: '<1-4>', description: 'highest data grade of the fields disclosed (default 1: public)' },
    fields: { type: 'string', value: '<a,b,…>', description: 'further limit to these field names' },
    'record-types': { type: 'string', value: '<t,…>', description: 'scope: record types, e.g. gov.admin-licence,sc.receivable-confirmation' },
    entries: { type: 'string', value: '<id,…>', description: 'scope: catalogue entry ids' },
    'not-before': { type: 'string', value: '<time>', description: 'start of validity (default now)' },
    'not-after': { type: 'string', value: '<time>', description: 'end of validity (default: --days after the start)' },
    days: { type: 'string', value: '<n>', description: 'validity in days when --not-after is absent (default 30)' },
    'max-uses': { type: 'string', value: '<n>', description: 'accesses allowed at most (default 10)' },
  },
  examples: ['credex consent grant --key xian-key.json --grantee BankMSP --purpose LOAN_APPLICATION --max-grade 2 --record-types gov.admin-licence,gov.redblack-list'],
  async run(args, io) {
    const cmd = 'consent grant';
    const { key, subject } = enterpriseKey(args, io, cmd);
    const grantee = required(args, 'grantee', cmd);
    const purpose = required(args, 'purpose', cmd);
    if (!PURPOSES.includes(purpose)) throw usageError('PURPOSE_INVALID', `--purpose must be one of ${PURPOSES.join(', ')}, not '${purpose}'`);
    const maxGrade = int(args, 'max-grade', 1, 1, 4);
    const recordTypes = list(args, 'record-types');
    const entries = list(args, 'entries');
    if (recordTypes === undefined && entries === undefined) throw usageError('USAGE', 'give the scope: --record-types and/or --entries (see credex consent grant --help)');
    const fields = list(args, 'fields');
    const notBefore = timeOption(str(args, 'not-before'), 'not-before') ?? new Date(io.now()).toISOString();
    const notAfter = timeOption(str(args, 'not-after'), 'not-after') ?? new Date(Date.parse(notBefore) + int(args, 'days', 30, 1, 3650) * DAY_MS).toISOString();
    if (notAfter <= notBefore) throw usageError('TIME_INVALID', `--not-after ${notAfter} must be after --not-before ${notBefore}`);
    const statement = {
      subject, grantee,
      scope: { ...(entries === undefined ? {} : { catalogueEntryIds: entries }), ...(recordTypes === undefined ? {} : { recordTypes }) },
      purpose,
      fieldScope: { maxGrade, ...(fields === undefined ? {} : { fields }) },
      notBefore, notAfter,
      maxUses: int(args, 'max-uses', 10, 1, 1_000_000),
      nonce: newSalt(),
    };
    const res = await submitSigned<{ consentId: string; txId: string }>(args, io, '/v1/consents', 'consent', statement, key);
    const consentId = res.consentId || statementId('consent', statement);
    return {
      human: `Consent granted (数据授权): ${grantee} may use ${subject}'s data for ${purpose}, fields up to grade ${String(maxGrade)}, until ${notAfter}, at most ${String(statement.maxUses)} uses.\n${fieldsBlock([['consent id', consentId], ['transaction', res.txId]])}`,
      json: { ...res, consentId, statement },
    };
  },
};

export const consentRevoke: Command = {
  path: ['consent', 'revoke'],
  audience: 'enterprise',
  summary: 'Sign a revocation of a consent and submit it; it takes effect when it commits.',
  positionals: [{ name: 'consentId', description: 'the consent to revoke' }],
  options: {
    key: { type: 'string', short: 'k', value: '<file>', description: 'the enterprise\'s key file (required)' },
    uscc: { type: 'string', value: '<USCC>', description: 'the subject (default: the key file\'s)' },
  },
  async run(args, io) {
    const { key, subject } = enterpriseKey(args, io, 'consent revoke');
    const consentId = consentIdArg(args.positionals[0] ?? '');
    const statement = { consentId, subject, nonce: newSalt() };
    const res = await submitSigned<{ txId: string }>(args, io, '/v1/consents/revoke', 'revocation', statement, key);
    return { human: `Consent ${consentId} revoked (撤销授权); transaction ${res.txId}. No further access will be served under it.`, json: res };
  },
};

export const consentList: Command = {
  path: ['consent', 'list'],
  audience: 'anyone',
  summary: 'List consents given by an enterprise (--uscc, or the --key file\'s) or held by an organization (--grantee).',
  options: {
    uscc: { type: 'string', value: '<USCC>', description: 'the subject enterprise' },
    key: { type: 'string', short: 'k', value: '<file>', description: 'take the subject from this key file' },
    grantee: { type: 'string', value: '<MSP id>', description: 'list consents granted to this organization' },
  },
  async run(args, io) {
    const grantee = str(args, 'grantee');
    let query: string;
    if (grantee !== undefined) query = `grantee=${encodeURIComponent(grantee)}`;
    else query = `subject=${subjectOf(str(args, 'uscc'), keyOption(args, io), 'consent list')}`;
    const gw = gatewayClient(args, io, DEFAULT_ORG.government);
    const { consents } = await gw.request<{ consents: ConsentView[] }>('GET', `/v1/consents?${query}`);
    const rows = consents.map((c) => [short(c.consentId), c.subject, c.grantee, c.statement.purpose, c.status, `${String(c.uses)}/${String(c.statement.maxUses)}`, c.statement.notAfter]);
    return { human: `${String(consents.length)} consent(s):\n${table(['consent', 'subject', 'grantee', 'purpose', 'status', 'uses', 'until'], rows)}`, json: { consents } };
  },
};

export const accesses: Command = {
  path: ['accesses'],
  audience: 'enterprise',
  summary: 'Who looked at the enterprise\'s data, when and why (知情权): every registered access. With --key the request is signed by the enterprise itself (no staff token needed).',
  options: {
    key: { type: 'string', short: 'k', value: '<file>', description: 'the enterprise\'s key file: sign the request as the enterprise' },
    uscc: { type: 'string', value: '<USCC>', description: 'the enterprise (default: the key file\'s); without --key a staff token is used' },
  },
  async run(args, io) {
    const key = keyOption(args, io);
    const uscc = subjectOf(str(args, 'uscc'), key, 'accesses');
    const gw = gatewayClient(args, io, DEFAULT_ORG.government);
    let res: { subject: string; accesses: AccessView[] };
    if (key === undefined) res = await gw.request('GET', `/v1/audit/subjects/${uscc}/accesses`);
    else {
      // RFC 9421, signed by the key bound to the USCC on chain (the gateway's own signer).
      const { signRequest } = await import('@credex/gateway');
      const path = `/v1/subjects/${uscc}/accesses`;
      const headers = signRequest({ method: 'GET', url: gw.target.url + path, body: new Uint8Array() }, { keyId: `enterprise:${uscc}`, secretKey: key.secretKey });
      res = await gw.request('GET', path, undefined, headers);
    }
    const rows = res.accesses.map((a) => [a.at, a.grantee, a.publisher, a.purpose, String(a.recordIds.length), short(a.accessId)]);
    return { human: `${String(res.accesses.length)} access(es) to ${uscc}'s data (查询使用记录):\n${table(['when', 'who', 'from', 'why', 'records', 'access'], rows)}`, json: res };
  },
};

export const object: Command = {
  path: ['object'],
  audience: 'enterprise',
  summary: 'File an objection (异议) against a record about the enterprise; the record is flagged disputed at once.',
  positionals: [{ name: 'recordId', description: 'the record objected to' }],
  options: {
    key: { type: 'string', short: 'k', value: '<file>', description: 'the enterprise\'s key file (required)' },
    uscc: { type: 'string', value: '<USCC>', description: 'the subject (default: the key file\'s)' },
    reason: { type: 'string', value: '<text>', description: 'why the record is wrong (required)' },
    publisher: { type: 'string', value: '<MSP id>', description: 'the record\'s publisher, whose gateway names the record to the ledger (needed unless the gateway used published it)' },
  },
  async run(args, io) {
    const { key, subject } = enterpriseKey(args, io, 'object');
    const reason = required(args, 'reason', 'object');
    const publisher = str(args, 'publisher');
    const statement = { subject, recordId: args.positionals[0] ?? '', reason, nonce: newSalt() };
    const res = await submitSigned<{ txId: string; objection: { objectionId: string; deadline: string; publisher: string } }>(args, io, '/v1/objections', 'objection', statement, key, publisher === undefined ? {} : { publisher });
    return {
      human: `Objection filed (异议申诉) against ${statement.recordId}; the record is now disputed.\n${fieldsBlock([['objection id', res.objection.objectionId], ['publisher', res.objection.publisher], ['answer due by', res.objection.deadline], ['transaction', res.txId]])}`,
      json: res,
    };
  },
};

/** The enterprise's commands. */
export const enterpriseCommands: Command[] = [keyNew, register, enterpriseShow, consentGrant, consentRevoke, consentList, accesses, object];

