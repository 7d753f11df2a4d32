/**
 * The credex CLI without an exchange: help, usage errors, key files, input checks, finding
 * (or not finding) the exchange, and the bin itself. Every error is one line with its code.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS, parseCsvRow, readKey, renderBar } from '@credex/cli';
import { fixtureEnterprises, fixtureRecord } from '@credex/schemas';
import { credex, freePortBase, ROOT, tempDir } from './helpers/credex-exchange';

const USCC = fixtureEnterprises.subject.uscc;
const dir = tempDir('cli-usage');

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function oneLineError(stderr: string, code: string): void {
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(new RegExp(`^credex: ${code}: \\S`));
}

describe('help', () => {
  it('lists every command and exits 0 with --help, 2 with nothing', async () => {
    const help = await credex(['--help'], { cwd: dir });
    expect(help.code).toBe(0);
    for (const c of COMMANDS) expect(help.stdout).toContain(c.path.join(' '));
    expect((await credex([], { cwd: dir })).code).toBe(2);
  });

  it('every command has its own --help naming its options', async () => {
    for (const c of COMMANDS) {
      const r = await credex([...c.path, '--help'], { cwd: dir });
      expect(r.code, c.path.join(' ')).toBe(0);
      expect(r.stdout).toContain(`Usage: credex ${c.path.join(' ')}`);
      for (const name of Object.keys(c.options)) expect(r.stdout).toContain(`--${name}`);
    }
  });

  it('a command group without its subcommand is a usage error', async () => {
    const r = await credex(['consent'], { cwd: dir });
    expect(r.code).toBe(2);
    oneLineError(r.stderr, 'USAGE');
    expect(r.stderr).toContain('grant, revoke, list');
  });
});

describe('usage errors exit 2 with one line', () => {
  it.each([
    [['frobnicate'], 'USAGE'],
    [['consent', 'grant', '--no-such-option'], 'USAGE'],
    [['audit', 'record'], 'USAGE'],
    [['audit', 'fees', '--period', '2026-13'], 'PERIOD_INVALID'],
    [['audit', 'subject', '91610131MA6W3QXF1X'], 'USCC_INVALID'],
    [['catalogue', 'add', '--uscc', 'not-a-uscc', '--type', 'gov.admin-licence', '--title', 't'], 'USCC_INVALID'],
    [['publish', 'records.jsonl', '--type', 'gov.admin-licence'], 'USAGE'],
    [['publish', 'records.txt', '--type', 'gov.admin-licence', '--catalogue', 'x'], 'FILE_NOT_FOUND'],
    [['publish', 'missing.jsonl', '--type', 'no.such-type', '--catalogue', 'x'], 'RECORD_TYPE_UNKNOWN'],
    [['fetch', '--consent', 'abc', '--out', 'o'], 'CONSENT_ID_INVALID'],
    [['verify', 'missing.json'], 'FILE_NOT_FOUND'],
    [['consent', 'grant', '--key', 'missing-key.json', '--grantee', 'BankMSP', '--purpose', 'LOAN_APPLICATION', '--record-types', 'gov.admin-licence'], 'FILE_NOT_FOUND'],
    [['objection', 'resolve', 'x', '--reason', 'r'], 'USAGE'],
  ])('credex %j → %s', async (args, code) => {
    const r = await credex(args, { cwd: dir });
    expect(r.code).toBe(2);
    oneLineError(r.stderr, code);
  });

  it('--json also prints the error as JSON on stdout', async () => {
    const r = await credex(['audit', 'subject', '123', '--json'], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.json()).toMatchObject({ error: { code: 'USCC_INVALID', exitCode: 2 } });
  });
});

describe('key new', () => {
  it('writes an ed25519 key file with mode 0600 and never prints the secret', async () => {
    const r = await credex(['key', 'new', '--out', 'k.json', '--uscc', ` ${USCC.toLowerCase()} `, '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const file = join(dir, 'k.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readKey(file);
    expect(key.uscc).toBe(USCC); // normalised by core's normalizeUscc
    expect(r.json()).toEqual({ file, publicKey: key.publicKey, uscc: USCC });
    expect(r.stdout + r.stderr).not.toContain(key.secretKey);
    const human = await credex(['key', 'new', '--out', 'k2.json'], { cwd: dir });
    expect(human.stdout).not.toContain(readKey(join(dir, 'k2.json')).secretKey);
  });

  it('refuses to overwrite a key file, and replaces it with --force', async () => {
    await credex(['key', 'new', '--out', 'k3.json'], { cwd: dir });
    const before = readFileSync(join(dir, 'k3.json'), 'utf8');
    const again = await credex(['key', 'new', '--out', 'k3.json'], { cwd: dir });
    expect(again.code).toBe(2);
    oneLineError(again.stderr, 'KEY_EXISTS');
    expect(readFileSync(join(dir, 'k3.json'), 'utf8')).toBe(before);
    expect((await credex(['key', 'new', '--out', 'k3.json', '--force'], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(dir, 'k3.json'), 'utf8')).not.toBe(before);
  });

  it('a bad USCC writes nothing', async () => {
    const r = await credex(['key', 'new', '--out', 'bad.json', '--uscc', '91610131MA6W3QXF1X'], { cwd: dir });
    expect(r.code).toBe(2);
    oneLineError(r.stderr, 'USCC_INVALID');
    expect(() => statSync(join(dir, 'bad.json'))).toThrow();
  });

  it('a tampered key file is refused with KEY_INVALID', async () => {
    await credex(['key', 'new', '--out', 'k4.json', '--uscc', USCC], { cwd: dir });
    const key = JSON.parse(readFileSync(join(dir, 'k4.json'), 'utf8')) as { publicKey: string };
    key.publicKey = `A${key.publicKey.slice(1)}` === key.publicKey ? `B${key.publicKey.slice(1)}` : `A${key.publicKey.slice(1)}`;
    writeFileSync(join(dir, 'k4.json'), JSON.stringify(key));
    const r = await credex(['consent', 'grant', '--key', 'k4.json', '--grantee', 'BankMSP', '--purpose', 'LOAN_APPLICATION', '--record-types', 'gov.admin-licence'], { cwd: dir });
    expect(r.code).toBe(2);
    oneLineError(r.stderr, 'KEY_INVALID');
  });
});

describe('publish input is checked before anything is sent', () => {
  it('a bad USCC, a wrong type or a schema error names the line', async () => {
    const good = fixtureRecord('gov.admin-licence', USCC);
    const cases: [string, unknown, string][] = [
      ['uscc', { ...good, subject: '91610131MA6W3QXF1X' }, 'USCC_INVALID'],
      ['type', { ...good, recordType: 'gov.admin-penalty' }, 'RECORD_TYPE_MISMATCH'],
      ['schema', { ...good, fields: { ...good.fields, licenceNumber: undefined } }, 'SCHEMA_INVALID'],
    ];
    for (const [name, bad, code] of cases) {
      writeFileSync(join(dir, `${name}.jsonl`), `${JSON.stringify(good)}\n${JSON.stringify(bad)}\n`);
      // No exchange is configured: the error must come from the check, before any connection.
      const r = await credex(['publish', `${name}.jsonl`, '--type', 'gov.admin-licence', '--catalogue', 'e'], { cwd: dir });
      expect(r.code, name).toBe(2);
      oneLineError(r.stderr, code);
      expect(r.stderr).toContain(`${name}.jsonl:2`);
    }
  });

  it('CSV cells are split per RFC 4180', () => {
    expect(parseCsvRow('a,"b,c","d ""e""",')).toEqual(['a', 'b,c', 'd "e"', '']);
    expect(parseCsvRow('"多行\n内容",x')).toEqual(['多行\n内容', 'x']);
  });
});

describe('finding the exchange', () => {
  it('no ./data/config → EXCHANGE_NOT_FOUND, exit 3', async () => {
    const r = await credex(['catalogue', 'list'], { cwd: dir });
    expect(r.code).toBe(3);
    oneLineError(r.stderr, 'EXCHANGE_NOT_FOUND');
  });

  it('a gateway that does not answer → EXCHANGE_UNREACHABLE, exit 3', async () => {
    const base = await freePortBase();
    const r = await credex(['catalogue', 'list', '--gateway', `http://127.0.0.1:${String(base + 1)}`, '--token', 't'], { cwd: dir });
    expect(r.code).toBe(3);
    oneLineError(r.stderr, 'EXCHANGE_UNREACHABLE');
    const env = await credex(['catalogue', 'list'], { cwd: dir, env: { CREDEX_GATEWAY: `http://127.0.0.1:${String(base + 2)}`, CREDEX_TOKEN: 't' } });
    expect(env.code).toBe(3);
  });

  it('a config file without tokens is CONFIG_INVALID', async () => {
    mkdirSync(join(dir, 'bad-data', 'config'), { recursive: true });
    writeFileSync(join(dir, 'bad-data', 'config', 'GovMSP.json'), '{"mspId":"GovMSP"}');
    const r = await credex(['catalogue', 'list', '--data-dir', 'bad-data'], { cwd: dir });
    expect(r.code).toBe(2);
    oneLineError(r.stderr, 'CONFIG_INVALID');
  });
});

describe('progress bar', () => {
  it('renders a bounded bar and a bare count without a total', () => {
    expect(renderBar('publishing', 50, 200)).toBe(`publishing [${'#'.repeat(8)}${'-'.repeat(22)}] 50/200  25%`);
    expect(renderBar('publishing', 300, 200)).toContain('100%');
    expect(renderBar('checking', 1500, undefined)).toBe('checking 1500');
  });
});

describe('the bin', () => {
  it('npx credex runs, prints one error line and exits with its code', () => {
    const r = spawnSync(join(ROOT, 'node_modules', '.bin', 'credex'), ['audit', 'subject', 'nope'], { cwd: dir, encoding: 'utf8', env: { ...process.env, CREDEX_DATA_DIR: '' } });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    oneLineError(r.stderr, 'USCC_INVALID');
  });
});
