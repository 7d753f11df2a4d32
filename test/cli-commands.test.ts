/**
 * Every credex command over one running exchange, started as `npm start` starts it (node-sim,
 * four gateways, on a temporary data directory and free ports): what each command does, and
 * its bad input — bad USCC, missing file, wrong key, expired or revoked consent — giving one
 * error line and a non-zero exit.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureEnterprises, fixtureFields, fixtureRecord } from '@credex/schemas';
import type { CliRun, StartedExchange } from './helpers/credex-exchange';
import { credex as runCli, freePortBase, npmStart, tempDir } from './helpers/credex-exchange';

const USCC = fixtureEnterprises.subject.uscc;
const OTHER = fixtureEnterprises.other.uscc;
const work = tempDir('cli-commands');
const dataDir = join(work, 'data');
let exchange: StartedExchange;

const credex = (args: string[], tty = false): Promise<CliRun> => runCli([...args, '--data-dir', dataDir], { cwd: work, tty });
async function ok(args: string[]): Promise<Record<string, unknown>> {
  const r = await credex([...args, '--json']);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.json();
}
function refused(r: CliRun, exit: number, code: string): void {
  expect(r.code, r.stderr).toBe(exit);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(new RegExp(`^credex: ${code}: \\S`));
}

const LICENCE_ENTRY = `GovMSP.gov.admin-licence.${USCC}`;
const RECEIVABLE_ENTRY = `CoreMSP.sc.receivable-confirmation.${USCC}`;
const licences = Array.from({ length: 120 }, (_, i) => fixtureRecord('gov.admin-licence', USCC, { idPrefix: `t${String(i)}` }));
let consentId = '';
let shortConsentId = '';
let shortNotAfter = 0;

beforeAll(async () => {
  exchange = await npmStart(dataDir, await freePortBase());
}, 120_000);

afterAll(async () => {
  const { clean, output } = await exchange.stop();
  expect(clean, output).toBe(true);
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('enterprise', () => {
  it('key new + register through the government gateway; enterprise show', async () => {
    await ok(['key', 'new', '--out', 'xian.json', '--uscc', USCC]);
    await ok(['key', 'new', '--out', 'impostor.json', '--uscc', USCC]);
    const reg = await ok(['register', '--key', 'xian.json', '--name', fixtureEnterprises.subject.name]);
    expect(reg.txId).toMatch(/^[0-9a-f]{64}$/);
    const shown = await ok(['enterprise', 'show', USCC.toLowerCase()]);
    expect(shown).toMatchObject({ uscc: USCC, name: fixtureEnterprises.subject.name, registeredBy: 'GovMSP' });
    expect(shown.publicKey).toBe((JSON.parse(readFileSync(join(work, 'xian.json'), 'utf8')) as { publicKey: string }).publicKey);
  });

  it('register refuses a second registration, a bad USCC and a missing key file', async () => {
    refused(await credex(['register', '--key', 'impostor.json', '--name', 'x']), 1, 'ALREADY_EXISTS');
    refused(await credex(['register', '--key', 'xian.json', '--uscc', '91610131MA6W3QXF1X', '--name', 'x']), 2, 'USCC_INVALID');
    refused(await credex(['register', '--key', 'nope.json', '--name', 'x']), 2, 'FILE_NOT_FOUND');
  });
});

describe('publisher', () => {
  it('catalogue add, list; bad type and bad USCC refused', async () => {
    const gov = await ok(['catalogue', 'add', '--uscc', USCC, '--type', 'gov.admin-licence', '--title', '行政许可信息']);
    expect(gov.entry).toMatchObject({ entryId: LICENCE_ENTRY, publisher: 'GovMSP', dataGrade: 2, status: 'active' });
    await ok(['catalogue', 'add', '--org', 'CoreMSP', '--uscc', USCC, '--type', 'sc.receivable-confirmation', '--title', '应收账款确权', '--price', '150']);
    const listed = await ok(['catalogue', 'list', '--uscc', USCC]);
    expect((listed.entries as { entryId: string }[]).map((e) => e.entryId).sort()).toEqual([RECEIVABLE_ENTRY, LICENCE_ENTRY].sort());
    refused(await credex(['catalogue', 'add', '--uscc', USCC, '--type', 'gov.nope', '--title', 't']), 2, 'RECORD_TYPE_UNKNOWN');
    refused(await credex(['catalogue', 'add', '--uscc', '12345', '--type', 'gov.admin-licence', '--title', 't']), 2, 'USCC_INVALID');
  });

  it('publish a JSONL file in batches, with a progress bar on a terminal and a summary', async () => {
    writeFileSync(join(work, 'licences.jsonl'), licences.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const r = await credex(['publish', 'licences.jsonl', '--type', 'gov.admin-licence', '--catalogue', LICENCE_ENTRY, '--batch', '50'], true);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Published and anchored 120 gov\.admin-licence record\(s\) .* in 3 batch\(es\)/);
    expect(r.stderr).toContain('120/120 100%');
    const again = await ok(['publish', 'licences.jsonl', '--type', 'gov.admin-licence', '--catalogue', LICENCE_ENTRY, '--batch', '50']);
    expect(again.records).toBe(120); // idempotent per recordId
  });

  it('publish a CSV file; cells typed by the record type\'s schema', async () => {
    const f = fixtureFields(fixtureEnterprises.subject)['sc.receivable-confirmation'];
    const cols = ['recordId', 'subject', 'issuedAt', 'debtorUscc', 'debtorName', 'creditorUscc', 'creditorName', 'contractNumber', 'invoiceNumber', 'amountFen', 'issueDate', 'dueDate', 'confirmed', 'confirmedAt', 'confirmationRef'];
    const rows = [1, 2, 3].map((i) => [`rc-${String(i)}`, USCC.toLowerCase(), '2026-11-01T08:00:00.000Z', f.debtorUscc, `"${f.debtorName}"`, f.creditorUscc, f.creditorName, f.contractNumber ?? '', `${f.invoiceNumber.slice(0, 19)}${String(i)}`, String(1000 * i), f.issueDate, f.dueDate, 'true', f.confirmedAt ?? '', `QQ-${String(i)}`].join(','));
    writeFileSync(join(work, 'receivables.csv'), [cols.join(','), ...rows].join('\r\n') + '\r\n');
    const r = await ok(['publish', 'receivables.csv', '--org', 'CoreMSP', '--type', 'sc.receivable-confirmation', '--catalogue', RECEIVABLE_ENTRY]);
    expect(r).toMatchObject({ records: 3, recordType: 'sc.receivable-confirmation' });
  });

  it('publish refuses a missing file, and a file with one bad record publishes nothing', async () => {
    refused(await credex(['publish', 'nope.jsonl', '--type', 'gov.admin-licence', '--catalogue', LICENCE_ENTRY]), 2, 'FILE_NOT_FOUND');
    const fresh = fixtureRecord('gov.admin-licence', USCC, { idPrefix: 'never' });
    writeFileSync(join(work, 'mixed.jsonl'), `${JSON.stringify(fresh)}\n${JSON.stringify({ ...fresh, recordId: 'never-2', subject: OTHER.slice(0, 17) + '0' })}\n`);
    refused(await credex(['publish', 'mixed.jsonl', '--type', 'gov.admin-licence', '--catalogue', LICENCE_ENTRY]), 2, 'USCC_INVALID');
    refused(await credex(['audit', 'record', fresh.recordId, '--publisher', 'GovMSP']), 1, '(RECORD_UNKNOWN|NOT_FOUND)');
    // The auditor's gateway holds no record: without a publisher to ask, it cannot name the record to the ledger.
    refused(await credex(['audit', 'record', fresh.recordId]), 2, 'RECORD_REF_REQUIRED');
  });
});

describe('consents', () => {
  it('consent grant signs locally and submits; list shows it', async () => {
    const c = await ok(['consent', 'grant', '--key', 'xian.json', '--grantee', 'BankMSP', '--purpose', 'LOAN_APPLICATION', '--max-grade', '2', '--entries', `${LICENCE_ENTRY},${RECEIVABLE_ENTRY}`, '--max-uses', '5']);
    consentId = c.consentId as string;
    expect(consentId).toMatch(/^[0-9a-f]{64}$/);
    const listed = await ok(['consent', 'list', '--key', 'xian.json']);
    expect(listed.consents).toEqual(expect.arrayContaining([expect.objectContaining({ consentId, status: 'active', grantee: 'BankMSP' })]));
    const byGrantee = await ok(['consent', 'list', '--grantee', 'BankMSP', '--org', 'BankMSP']);
    expect((byGrantee.consents as { consentId: string }[]).some((x) => x.consentId === consentId)).toBe(true);
    // A consent that ends in a few seconds, fetched after its end at the bottom of this file.
    shortNotAfter = Date.now() + 6000;
    const s = await ok(['consent', 'grant', '--key', 'xian.json', '--grantee', 'BankMSP', '--purpose', 'LOAN_APPLICATION', '--entries', LICENCE_ENTRY, '--not-after', new Date(shortNotAfter).toISOString()]);
    shortConsentId = s.consentId as string;
  });

  it('consent grant refuses a wrong key, an expired window, a bad purpose, a bad USCC', async () => {
    const base = ['consent', 'grant', '--grantee', 'BankMSP', '--purpose', 'LOAN_APPLICATION', '--entries', LICENCE_ENTRY];
    refused(await credex([...base, '--key', 'impostor.json']), 1, 'SIGNATURE_INVALID');
    refused(await credex([...base, '--key', 'xian.json', '--not-before', '2025-01-01T00:00:00Z', '--not-after', '2025-02-01T00:00:00Z']), 1, 'CONSENT_EXPIRED');
    refused(await credex(['consent', 'grant', '--key', 'xian.json', '--grantee', 'BankMSP', '--purpose', 'MARKETING', '--entries', LICENCE_ENTRY]), 2, 'PURPOSE_INVALID');
    refused(await credex([...base, '--key', 'xian.json', '--uscc', 'ABC']), 2, 'USCC_INVALID');
  });
});

describe('bank', () => {
  it('fetch writes verified records and a report; verify checks them again against the ledger', async () => {
    const f = await ok(['fetch', '--consent', consentId, '--out', 'fetched']);
    const files = f.files as string[];
    expect(files).toHaveLength(123);
    expect((f.reports as { ok: boolean }[]).every((r) => r.ok)).toBe(true);
    expect((f.accesses as { publisher: string }[]).map((a) => a.publisher).sort()).toEqual(['CoreMSP', 'GovMSP']);
    const report = JSON.parse(readFileSync(join(work, 'fetched', 'report.json'), 'utf8')) as { reports: unknown[] };
    expect(report.reports).toHaveLength(123);
    const v = await ok(['verify', join('fetched', 'rc-1.json'), join('fetched', `${licences[0]?.recordId ?? ''}.json`)]);
    expect(v.ok).toBe(true);
    // The saved licence carries its place in its 50-record batch (published with --batch 50), and verify walks that path to the anchored root.
    const saved = JSON.parse(readFileSync(join(work, 'fetched', `${licences[0]?.recordId ?? ''}.json`), 'utf8')) as { batchId: string; index: number; proof: string[]; root: string };
    expect(saved.batchId).toMatch(/\S/);
    expect(Number.isInteger(saved.index)).toBe(true);
    expect(saved.proof).toHaveLength(6);
    expect(saved.root).toMatch(/^[0-9a-f]{64}$/);
    const results = v.results as { checks: { name: string; ok: boolean; detail?: string }[] }[];
    expect(results[1]?.checks.find((c) => c.name === 'merklePath')).toEqual({ name: 'merklePath', ok: true, detail: `to root ${saved.root}` });
  });

  it('verify fails a record file with one flipped bit in its saved Merkle proof', async () => {
    const file = join(work, 'fetched', `${licences[0]?.recordId ?? ''}.json`);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { proof: string[] };
    const first = saved.proof[0] ?? '';
    saved.proof[0] = first.slice(0, -1) + (parseInt(first.slice(-1), 16) ^ 1).toString(16);
    writeFileSync(join(work, 'bad-proof.json'), JSON.stringify(saved));
    const r = await credex(['verify', 'bad-proof.json']);
    refused(r, 1, 'VERIFICATION_FAILED');
    expect(r.stderr).toMatch(/merklePath: the proof does not lead to the anchored root/);
  });

  it('verify fails a record file with one changed value, and refuses a file that is no record', async () => {
    const file = join(work, 'fetched', 'rc-2.json');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { record: { fields: Record<string, { value?: unknown }> } };
    const field = Object.values(saved.record.fields).find((x) => x.value !== undefined);
    if (field === undefined) throw new Error('no disclosed field');
    field.value = `${String(field.value)}x`;
    writeFileSync(join(work, 'tampered.json'), JSON.stringify(saved));
    refused(await credex(['verify', 'tampered.json']), 1, 'VERIFICATION_FAILED');
    writeFileSync(join(work, 'not-a-record.json'), '{"hello":1}');
    refused(await credex(['verify', 'not-a-record.json']), 2, 'RECORD_FILE_INVALID');
  });

  it('fetch refuses an unknown consent', async () => {
    refused(await credex(['fetch', '--consent', '0'.repeat(64), '--out', 'x']), 1, '(CONSENT_UNKNOWN|NOT_FOUND)');
  });
});

describe('auditor and the enterprise\'s view', () => {
  it('accesses and audit subject show the bank\'s two accesses', async () => {
    const own = await ok(['accesses', '--key', 'xian.json']);
    const mine = (own.accesses as { consentId: string; grantee: string; purpose: string }[]).filter((a) => a.consentId === consentId);
    expect(mine).toHaveLength(2);
    expect(mine.every((a) => a.grantee === 'BankMSP' && a.purpose === 'LOAN_APPLICATION')).toBe(true);
    const audit = await ok(['audit', 'subject', USCC]);
    expect((audit.accesses as unknown[]).length).toBe((own.accesses as unknown[]).length);
    const viaStaff = await ok(['accesses', '--uscc', USCC]);
    expect(viaStaff.accesses).toEqual(own.accesses);
    refused(await credex(['accesses', '--key', 'impostor.json']), 1, 'SIGNATURE_INVALID');
    refused(await credex(['accesses', '--uscc', '91610131MA6W3QXF1X']), 2, 'USCC_INVALID');
  });

  it('audit record shows provenance and the access', async () => {
    const p = await ok(['audit', 'record', 'rc-1', '--publisher', 'CoreMSP']);
    expect(p).toMatchObject({ record: { recordId: 'rc-1', publisher: 'CoreMSP', subject: USCC, status: 'active' } });
    expect((p.accesses as { consentId: string }[]).some((a) => a.consentId === consentId)).toBe(true);
  });

  it('audit ledger checks the hash chain, directly and through the gateway', async () => {
    const direct = await credex(['audit', 'ledger'], true);
    expect(direct.code, direct.stderr).toBe(0);
    expect(direct.stdout).toMatch(/^Ledger OK: \d+ block\(s\)/);
    expect(direct.stderr).toContain('checking blocks [');
    expect(await ok(['audit', 'ledger'])).toMatchObject({ ok: true, via: 'ledger' });
    const via = await ok(['audit', 'ledger', '--via-gateway']);
    expect(via).toMatchObject({ ok: true, via: 'gateway' });
  });

  it('audit fees totals this month\'s fees per grantee and publisher', async () => {
    const period = new Date().toISOString().slice(0, 7);
    const fees = await ok(['audit', 'fees', '--period', period]);
    expect(fees.totals).toEqual(expect.arrayContaining([{ grantee: 'BankMSP', publisher: 'CoreMSP', accesses: 1, fee: 150 }]));
    refused(await credex(['audit', 'fees']), 2, 'PERIOD_INVALID');
  });
});

describe('objections', () => {
  it('object → disputed at once; resolve --reject; object again; resolve --correct supersedes', async () => {
    const recordId = licences[1]?.recordId ?? '';
    const filed = await ok(['object', recordId, '--key', 'xian.json', '--reason', '许可证已注销']);
    const objectionId = (filed.objection as { objectionId: string }).objectionId;
    expect(((await ok(['audit', 'record', recordId, '--publisher', 'GovMSP'])).record as { status: string }).status).toBe('disputed');
    const listed = await ok(['objection', 'list', '--uscc', USCC]);
    expect(listed.objections).toEqual(expect.arrayContaining([expect.objectContaining({ objectionId, status: 'open' })]));
    await ok(['objection', 'resolve', objectionId, '--reject', '--reason', '经核实信息准确']);
    refused(await credex(['objection', 'resolve', objectionId, '--reject', '--reason', 'again']), 1, 'OBJECTION_CLOSED');
    const second = await ok(['object', recordId, '--key', 'xian.json', '--reason', '许可证号有误']);
    const fixed = { ...licences[1], recordId: `${recordId}-fixed`, fields: { ...licences[1]?.fields, licenceNumber: '西市监许字〔2025〕第0313号' } };
    writeFileSync(join(work, 'fixed.json'), JSON.stringify(fixed));
    const res = await ok(['objection', 'resolve', (second.objection as { objectionId: string }).objectionId, '--correct', 'fixed.json', '--reason', '已更正']);
    expect(res.published).toMatchObject({ recordId: fixed.recordId });
    expect((await ok(['audit', 'record', recordId, '--publisher', 'GovMSP'])).record).toMatchObject({ status: 'superseded', supersededBy: fixed.recordId });
  });

  it('object refuses a wrong key and a missing reason', async () => {
    refused(await credex(['object', licences[2]?.recordId ?? '', '--key', 'impostor.json', '--reason', 'x']), 1, 'SIGNATURE_INVALID');
    refused(await credex(['object', licences[2]?.recordId ?? '', '--key', 'xian.json']), 2, 'USAGE');
  });
});

describe('ending', () => {
  it('catalogue retire: no new records under a retired entry', async () => {
    await ok(['catalogue', 'add', '--uscc', USCC, '--type', 'gov.admin-licence', '--title', '旧目录', '--id', 'GovMSP.old']);
    expect(((await ok(['catalogue', 'retire', 'GovMSP.old'])).entry as { status: string }).status).toBe('retired');
    writeFileSync(join(work, 'late.jsonl'), JSON.stringify(fixtureRecord('gov.admin-licence', USCC, { idPrefix: 'late' })) + '\n');
    refused(await credex(['publish', 'late.jsonl', '--type', 'gov.admin-licence', '--catalogue', 'GovMSP.old']), 1, 'ENTRY_RETIRED');
  });

  it('an expired consent serves nothing: CONSENT_EXPIRED', async () => {
    const wait = shortNotAfter + 1500 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    refused(await credex(['fetch', '--consent', shortConsentId, '--out', 'expired']), 1, 'CONSENT_EXPIRED');
  });

  it('consent revoke → the bank is refused with CONSENT_REVOKED', async () => {
    refused(await credex(['consent', 'revoke', consentId, '--key', 'impostor.json']), 1, 'SIGNATURE_INVALID');
    await ok(['consent', 'revoke', consentId, '--key', 'xian.json']);
    refused(await credex(['fetch', '--consent', consentId, '--out', 'after-revoke']), 1, 'CONSENT_REVOKED');
    refused(await credex(['consent', 'revoke', 'nothex', '--key', 'xian.json']), 2, 'CONSENT_ID_INVALID');
  });

  it('finds the exchange from a subdirectory, as git finds its repository', async () => {
    mkdirSync(join(work, 'sub', 'deeper'), { recursive: true });
    const r = await runCli(['catalogue', 'list', '--uscc', USCC, '--json'], { cwd: join(work, 'sub', 'deeper') });
    expect(r.code, r.stderr).toBe(0);
    expect((r.json().entries as unknown[]).length).toBeGreaterThanOrEqual(2);
  });

  it('a wrong staff token is refused', async () => {
    const cfg = JSON.parse(readFileSync(join(dataDir, 'config', 'GovMSP.json'), 'utf8')) as { publicUrl: string };
    refused(await credex(['catalogue', 'list', '--gateway', cfg.publicUrl, '--token', 'wrong-token']), 1, 'STAFF_AUTH_REQUIRED');
  });
});
