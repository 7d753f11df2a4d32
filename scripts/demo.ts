/**
 * `npm run demo`: the 信易贷 (credit-information-based lending) story, narrated, against the
 * running exchange (`npm start`), or against one it starts in a temporary directory when none
 * is running. Every step runs a real `credex` command (in this process) and checks that the
 * exchange behaved as stated; the demo exits 1 at the first step that did not.
 *
 *   npm run demo                       use ./data if an exchange runs there, else start one
 *   npm run demo -- --data-dir <dir>   use the exchange running on <dir>
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { signingKeyPairFromSeed } from '@credex/core';
import { readKey, run, writeNewKey } from '@credex/cli';
import { fixtureAuthorities, fixtureEnterprises, fixtureFields, fieldsUpToGrade } from '@credex/schemas';
import { freePortBase, liveRun } from './host';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SUBJECT = fixtureEnterprises.subject; // 西安某科技有限公司
const CORE = fixtureEnterprises.coreEnterprise;

/** A step that did not behave as the story says. */
class StepFailed extends Error {}

// ---------------------------------------------------------------- output

const color = process.stdout.isTTY;
const dim = (s: string): string => (color ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string): string => (color ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s = ''): void => {
  process.stdout.write(s + '\n');
};
let stepNo = 0;
function step(zh: string, en: string): void {
  stepNo++;
  say();
  say(bold(`${String(stepNo)}. ${zh} — ${en}`));
}
function ok(text: string): void {
  say(`   ✓ ${text}`);
}
function expect(condition: boolean, what: string): void {
  if (!condition) throw new StepFailed(`step ${String(stepNo)}: expected ${what}`);
}

// ---------------------------------------------------------------- running credex

interface CliResult { exitCode: number; json: Record<string, unknown>; stderr: string }

function sink(chunks: string[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _enc, done): void {
      chunks.push(chunk.toString());
      done();
    },
  });
}

/** Runs `credex <args> --json` in this process, printing the command as a user would type it. */
async function credex(dataDir: string, args: string[]): Promise<CliResult> {
  say(dim(`   $ credex ${args.map((a) => (/[\s"'（）]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`));
  const out: string[] = [];
  const err: string[] = [];
  const exitCode = await run([...args, '--json', '--data-dir', dataDir], {
    stdout: sink(out), stderr: sink(err), env: {}, cwd: process.cwd(), now: () => Date.now(),
  });
  const text = out.join('');
  return { exitCode, json: text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>), stderr: err.join('').trim() };
}

/** Runs a command that must succeed. */
async function must(dataDir: string, args: string[]): Promise<Record<string, unknown>> {
  const r = await credex(dataDir, args);
  if (r.exitCode !== 0) throw new StepFailed(`step ${String(stepNo)}: credex ${args.slice(0, 2).join(' ')} failed (exit ${String(r.exitCode)}): ${r.stderr}`);
  return r.json;
}

// ---------------------------------------------------------------- the exchange

/** The exchange running on `dataDir`, if any (npm start writes run.json while it runs). */
function runningOn(dataDir: string): boolean {
  return liveRun(dataDir)?.state === 'ready';
}

/** Starts an exchange as `npm start` does, in `dataDir`; resolves when it is ready. */
async function startOwn(dataDir: string): Promise<ChildProcess> {
  const portBase = await freePortBase();
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'start.ts'), '--data-dir', dataDir, '--port-base', String(portBase), '--json'], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ready, failed) => {
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n').find((l) => l.startsWith('{'));
      if (line === undefined) return;
      const summary = JSON.parse(line) as { state: string; missing?: string };
      if (summary.state === 'ready') ready();
      else failed(new Error(`the exchange started only partly: ${summary.missing ?? summary.state}`));
    });
    child.once('exit', (code) => {
      failed(new Error(`npm start exited with ${String(code)} before it was ready`));
    });
  });
  return child;
}

async function stopOwn(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => {
    done();
  }));
  child.kill('SIGTERM');
  await exited;
}

// ---------------------------------------------------------------- the story

/** The enterprise's key: derived from a fixed seed, so that the demo can run again on the same exchange. */
function demoKeyFile(dataDir: string): string {
  const file = join(dataDir, 'demo', 'xian-key.json');
  if (existsSync(file)) return file;
  const pair = signingKeyPairFromSeed(createHash('sha256').update(`credex demo ${SUBJECT.uscc}`).digest());
  mkdirSync(dirname(file), { recursive: true });
  writeNewKey(file, { uscc: SUBJECT.uscc, now: Date.now(), pair });
  return file;
}

function jsonl(file: string, records: unknown[]): string {
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

async function story(dataDir: string, work: string): Promise<void> {
  const run = `d${Date.now().toString(36)}`; // ids unique to this run: the exchange keeps earlier runs
  const issuedAt = new Date().toISOString();
  const fields = fixtureFields(SUBJECT);
  const uscc = SUBJECT.uscc;

  step('企业密钥与身份绑定', 'the enterprise gets a signing key bound to its USCC');
  say(`   ${SUBJECT.name} (统一社会信用代码 USCC ${uscc}) is the data subject (信息主体). It holds an ed25519 key;`);
  say('   the government credit office (GovMSP) binds the key to its USCC on chain after checking its identity.');
  const keyFile = demoKeyFile(dataDir);
  const reg = await credex(dataDir, ['register', '--key', keyFile, '--name', SUBJECT.name]);
  if (reg.exitCode === 0) ok(`registered through GovMSP's gateway, transaction ${String(reg.json.txId)}`);
  else {
    expect(reg.stderr.includes('ALREADY_EXISTS'), `registration to succeed or to say ALREADY_EXISTS, got: ${reg.stderr}`);
    const registered = await must(dataDir, ['enterprise', 'show', uscc]);
    const ours = readKey(keyFile).publicKey;
    if (registered.publicKey !== ours) {
      throw new StepFailed(`${uscc} is registered on this exchange with another key (${String(registered.publicKey)}), so the demo cannot sign for it; run the demo with no exchange running (it starts its own), or on a fresh one (npm start -- --reset)`);
    }
    ok('already registered on this exchange (an earlier demo run) with the same key');
  }

  step('政府公示 双公示 与 红名单', 'the government publishes administrative licence and penalty records (双公示) and a red-list entry');
  const govTypes = [
    ['gov.admin-licence', '行政许可信息 (administrative licence)', { ...fields['gov.admin-licence'] }],
    ['gov.admin-penalty', '行政处罚信息 (administrative penalty)', { ...fields['gov.admin-penalty'], publicUntil: '2028-06-20' }],
    ['gov.redblack-list', '红名单 (red list: A-grade taxpayer)', { ...fields['gov.redblack-list'], expiresOn: '2027-04-29' }],
  ] as const;
  const entries: string[] = [];
  const recordIds: Record<string, string> = {};
  for (const [type, title, f] of govTypes) {
    const entryId = `GovMSP.${type}.${uscc}.${run}`;
    await must(dataDir, ['catalogue', 'add', '--org', 'GovMSP', '--uscc', uscc, '--type', type, '--title', title, '--id', entryId]);
    const recordId = `${run}-${type}`;
    recordIds[type] = recordId;
    const res = await must(dataDir, ['publish', jsonl(join(work, `${type}.jsonl`), [{ recordId, recordType: type, subject: uscc, issuedAt, fields: f }]), '--org', 'GovMSP', '--type', type, '--catalogue', entryId]);
    expect(res.records === 1, `1 ${type} record anchored`);
    const batches = res.batches as { root: string; txId: string }[];
    ok(`${title}: catalogue entry (数据目录) ${entryId}; record ${recordId} sealed, anchored in root ${batches[0]?.root.slice(0, 16) ?? ''}…`);
    entries.push(entryId);
  }
  say('   Only the catalogue entry and the Merkle root go on chain (链上存目录); the record stays in GovMSP\'s gateway (链下存数据).');

  step('应收账款确权', 'the core enterprise confirms three receivables owed to the supplier');
  say(`   ${CORE.name} (CoreMSP) confirms three invoices it owes ${SUBJECT.name}.`);
  const scEntry = `CoreMSP.sc.receivable-confirmation.${uscc}.${run}`;
  await must(dataDir, ['catalogue', 'add', '--org', 'CoreMSP', '--uscc', uscc, '--type', 'sc.receivable-confirmation', '--title', '应收账款确权 (receivable confirmations)', '--id', scEntry]);
  const receivables = [86_420_000, 41_500_000, 23_980_000].map((amountFen, i) => ({
    recordId: `${run}-receivable-${String(i + 1)}`, recordType: 'sc.receivable-confirmation', subject: uscc, issuedAt,
    fields: { ...fields['sc.receivable-confirmation'], amountFen, invoiceNumber: `2561200000001234567${String(i)}`, confirmationRef: `QQ-${run}-${String(i + 1)}` },
  }));
  const sc = await must(dataDir, ['publish', jsonl(join(work, 'receivables.jsonl'), receivables), '--org', 'CoreMSP', '--type', 'sc.receivable-confirmation', '--catalogue', scEntry]);
  expect(sc.records === 3, '3 receivable confirmations anchored');
  ok(`3 receivables confirmed (¥864,200.00, ¥415,000.00, ¥239,800.00), anchored in one batch under ${scEntry}`);
  entries.push(scEntry);

  step('数据授权', 'the enterprise consents: BankMSP may use these records for LOAN_APPLICATION (贷前审批), fields up to grade 2');
  say('   The consent is signed locally with the enterprise\'s key; any gateway submits it; the chaincode checks the signature against the key bound to the USCC.');
  const consent = await must(dataDir, ['consent', 'grant', '--key', keyFile, '--grantee', 'BankMSP', '--purpose', 'LOAN_APPLICATION', '--max-grade', '2', '--entries', entries.join(','), '--days', '30', '--max-uses', '10']);
  const consentId = String(consent.consentId);
  expect(/^[0-9a-f]{64}$/.test(consentId), 'a consent id');
  ok(`consent ${consentId.slice(0, 16)}… active on chain`);

  step('银行查询与验证', 'the bank fetches the records and verifies each against the ledger');
  say('   BankMSP\'s gateway sends a signed request (RFC 9421) to each publisher; each publisher first registers the access on chain,');
  say('   then serves the records boxed to the bank\'s key, with fields above grade 2 withheld as digests (脱敏, still provable).');
  const out = join(work, 'fetched');
  const fetched = await must(dataDir, ['fetch', '--consent', consentId, '--out', out]);
  const reports = fetched.reports as { recordId: string; ok: boolean }[];
  const files = fetched.files as string[];
  expect(files.length === 6 && reports.length === 6 && reports.every((r) => r.ok), `6 records fetched and verified, got ${String(files.length)} files and reports ${JSON.stringify(reports.map((r) => [r.recordId, r.ok]))}`);
  // A receivable confirmation has grade-3/4 fields (contract number, invoice number…): they travel as digests only.
  const sample = files.find((f) => f.includes('receivable-1')) ?? '';
  const saved = JSON.parse(readFileSync(sample, 'utf8')) as { record: { fields: Record<string, { value?: unknown; digest?: string }> } };
  const visible = fieldsUpToGrade('sc.receivable-confirmation', 2);
  const withheld = Object.entries(saved.record.fields).filter(([, f]) => f.digest !== undefined).map(([n]) => n);
  const leaked = Object.entries(saved.record.fields).filter(([name, f]) => f.value !== undefined && !visible.includes(name)).map(([n]) => n);
  expect(leaked.length === 0, `no field above grade 2 disclosed, got ${leaked.join(', ')}`);
  expect(withheld.length > 0, 'the grade-3/4 fields of a receivable confirmation withheld as digests');
  ok(`6 records fetched from GovMSP and CoreMSP, every one verified (digests, leaf, Merkle path, anchor, status, publisher)`);
  ok(`in a receivable confirmation, withheld as digests only (grade 3–4): ${withheld.join(', ')}`);
  const offline = await must(dataDir, ['verify', ...files]);
  expect(offline.ok === true, 'the saved records to verify offline');
  ok('verified again offline from the saved files against the ledger (credex verify)');

  step('审计与知情权', 'the auditor — and the enterprise itself — see who accessed the data, when and why');
  const audit = await must(dataDir, ['audit', 'subject', uscc, '--org', 'AuditMSP']);
  const accesses = (audit.accesses as { consentId: string; grantee: string; purpose: string; publisher: string }[]).filter((a) => a.consentId === consentId);
  expect(accesses.length === 2 && accesses.every((a) => a.grantee === 'BankMSP' && a.purpose === 'LOAN_APPLICATION'), `2 accesses by BankMSP for LOAN_APPLICATION under the consent, got ${String(accesses.length)}`);
  ok(`AuditMSP sees ${String(accesses.length)} accesses by BankMSP for LOAN_APPLICATION (from ${accesses.map((a) => a.publisher).sort().join(' and ')})`);
  const own = await must(dataDir, ['accesses', '--key', keyFile]);
  expect((own.accesses as { consentId: string }[]).filter((a) => a.consentId === consentId).length === 2, 'the enterprise to see the same 2 accesses');
  ok('the enterprise sees the same accesses (查询记录 — 知情权)');

  step('异议申诉', 'the enterprise objects to the penalty record; it is flagged disputed at once');
  const penaltyId = recordIds['gov.admin-penalty'] ?? '';
  const objection = await must(dataDir, ['object', penaltyId, '--key', keyFile, '--reason', '该处罚已于2025年8月履行完毕并整改到位，公示信息未更新整改情况']);
  const objectionId = (objection.objection as { objectionId: string }).objectionId;
  const disputed = await must(dataDir, ['audit', 'record', penaltyId, '--org', 'AuditMSP', '--publisher', 'GovMSP']);
  expect((disputed.record as { status: string }).status === 'disputed', `record ${penaltyId} disputed`);
  ok(`objection ${objectionId.slice(0, 16)}… filed; ${penaltyId} is now disputed (异议处理中), answer due in 20 days`);

  step('信用修复', 'the government corrects the record: a new record supersedes it, the old hash stays on chain');
  const corrected = { recordId: `${penaltyId}-corrected`, recordType: 'gov.admin-penalty', subject: uscc, issuedAt: new Date().toISOString(), fields: { ...govTypes[1][2], content: '警告，并处罚款人民币十二万元整（已于2025年8月15日履行完毕，整改到位）' } };
  writeFileSync(join(work, 'corrected.json'), JSON.stringify(corrected));
  await must(dataDir, ['objection', 'resolve', objectionId, '--org', 'GovMSP', '--correct', join(work, 'corrected.json'), '--reason', '经核实，补充履行及整改情况']);
  const old = await must(dataDir, ['audit', 'record', penaltyId, '--org', 'AuditMSP', '--publisher', 'GovMSP']);
  const oldRecord = old.record as { status: string; supersededBy?: string };
  expect(oldRecord.status === 'superseded' && oldRecord.supersededBy === corrected.recordId, `${penaltyId} superseded by ${corrected.recordId}`);
  const fresh = await must(dataDir, ['audit', 'record', corrected.recordId, '--org', 'AuditMSP', '--publisher', 'GovMSP']);
  expect((fresh.record as { status: string }).status === 'active', `${corrected.recordId} active`);
  ok(`${penaltyId} superseded by ${corrected.recordId} (active); the old record's hash and history remain on chain`);
  const savedPenalty = files.find((f) => f.endsWith(`${penaltyId}.json`)) ?? '';
  const stale = await credex(dataDir, ['verify', savedPenalty]);
  expect(stale.exitCode === 1 && stale.stderr.includes('VERIFICATION_FAILED') && stale.stderr.includes(corrected.recordId), `the bank's saved copy to fail verification as superseded, got exit ${String(stale.exitCode)}: ${stale.stderr}`);
  ok('the bank\'s saved copy no longer verifies: it is superseded by the correction (earlier recipients learn of it)');

  step('撤销授权', 'the enterprise revokes its consent');
  await must(dataDir, ['consent', 'revoke', consentId, '--key', keyFile]);
  ok('revocation signed by the enterprise and committed');

  step('银行被拒绝', 'the bank asks again and is refused: nothing is served');
  const refused = await credex(dataDir, ['fetch', '--consent', consentId, '--out', join(work, 'refused')]);
  expect(refused.exitCode === 1 && refused.stderr.includes('CONSENT_REVOKED'), `a refusal with CONSENT_REVOKED, got exit ${String(refused.exitCode)}: ${refused.stderr}`);
  expect(!existsSync(join(work, 'refused')), 'no records written');
  const after = await must(dataDir, ['audit', 'subject', uscc, '--org', 'AuditMSP']);
  expect((after.accesses as { consentId: string }[]).filter((a) => a.consentId === consentId).length === 2, 'no new access registered');
  ok(`refused: ${refused.stderr.replace(/^credex: /, '')}`);
  ok('no record served, no access registered');

  step('账本核验', 'the auditor checks the ledger\'s block hash chain');
  const ledger = await must(dataDir, ['audit', 'ledger', '--org', 'AuditMSP']);
  expect(ledger.ok === true, 'an unbroken hash chain');
  ok(`${String(ledger.height)} blocks, every block's hash links to the next`);

  say();
  say(bold('信易贷 walkthrough complete: every step behaved as stated.'));
  say(`Records and the verification report the bank saved: ${out}`);
  say(dim(`(issuer of the penalty in this story: ${fixtureAuthorities.ecology.name})`));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'data-dir': { type: 'string' } } });
  const wanted = resolve(values['data-dir'] ?? process.env.CREDEX_DATA_DIR ?? 'data');
  let own: ChildProcess | undefined;
  let ownDir: string | undefined;
  let dataDir = wanted;
  say(bold('credex — 信易贷 walkthrough (credit-information-based lending for a small enterprise)'));
  if (runningOn(wanted)) say(`Using the exchange running on ${wanted}.`);
  else {
    ownDir = mkdtempSync(join(tmpdir(), 'credex-demo-'));
    dataDir = join(ownDir, 'data');
    say(`No exchange runs on ${wanted}; starting one in ${dataDir} (as npm start does)…`);
    own = await startOwn(dataDir);
  }
  // The bank's saved records stay for the user to look at: beside the exchange's data, or in a
  // temporary directory when the demo's own exchange is removed at the end.
  const work = own === undefined ? join(dataDir, 'demo', `run-${new Date().toISOString().replace(/[:.]/g, '-')}`) : mkdtempSync(join(tmpdir(), 'credex-demo-work-'));
  mkdirSync(work, { recursive: true });
  const stopSignals = (): void => {
    if (own !== undefined) own.kill('SIGTERM');
    process.exit(130);
  };
  process.once('SIGINT', stopSignals);
  try {
    await story(dataDir, work);
  } finally {
    if (own !== undefined) {
      say(dim('stopping the demo\'s own exchange…'));
      await stopOwn(own);
      if (ownDir !== undefined) rmSync(ownDir, { recursive: true, force: true });
    }
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`\ndemo FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
