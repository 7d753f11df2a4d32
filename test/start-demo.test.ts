/**
 * `npm start` and `npm run demo` as a user runs them: the exchange started exactly as
 * `npm start` starts it (on a temporary data directory and free ports), the 信易贷 walkthrough
 * run against it, Ctrl-C, and a second start that resumes from the same data.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureEnterprises } from '@credex/schemas';
import type { StartedExchange } from './helpers/credex-exchange';
import { credex, freePortBase, npmStart, ROOT, tempDir } from './helpers/credex-exchange';

const work = tempDir('start-demo');
const dataDir = join(work, 'data');
let running: StartedExchange | undefined;

afterAll(async () => {
  await running?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

function npmRunDemo(): Promise<{ code: number | null; output: string }> {
  return new Promise((done) => {
    const child = spawn('npm', ['run', 'demo', '--silent', '--', '--data-dir', dataDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CREDEX_DATA_DIR: '' } });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => {
      done({ code, output });
    });
  });
}

describe('npm start, npm run demo, Ctrl-C, npm start again', () => {
  it('starts the four organizations and prints where everything is', async () => {
    running = await npmStart(dataDir, await freePortBase());
    const out = running.output();
    for (const org of ['GovMSP', 'BankMSP', 'CoreMSP', 'AuditMSP']) {
      expect(out).toMatch(new RegExp(`${org}\\s+http://127\\.0\\.0\\.1:\\d+\\s+docs http://127\\.0\\.0\\.1:\\d+/docs`));
      const config = join(dataDir, 'config', `${org}.json`);
      expect(statSync(config).mode & 0o777).toBe(0o600);
      expect((JSON.parse(readFileSync(config, 'utf8')) as { staffTokens: string[] }).staffTokens[0]).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    }
    expect(out).toContain(`identities (X.509, per organization): ${join(dataDir, 'sim', 'crypto')}`);
    expect(out).toContain(`${join(dataDir, 'config')}/<MSP id>.json`);
    const docs = await fetch(`${/GovMSP\s+(http:\S+)/.exec(out)?.[1] ?? ''}/docs/json`);
    expect(docs.status).toBe(200);
    expect(((await docs.json()) as { openapi?: string }).openapi).toMatch(/^3\./);
  }, 120_000);

  it('a second start, even with --reset, refuses while the exchange runs and wipes nothing', () => {
    const second = spawnSync('npm', ['start', '--silent', '--', '--data-dir', dataDir, '--reset'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CREDEX_DATA_DIR: '' } });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/^credex start: ALREADY_RUNNING: an exchange is already running on /m);
    expect(existsSync(join(dataDir, 'config', 'GovMSP.json'))).toBe(true);
    expect(existsSync(join(dataDir, 'run.json'))).toBe(true);
  }, 60_000);

  it('runs the 信易贷 walkthrough against it: every step as stated', async () => {
    const { code, output } = await npmRunDemo();
    expect(code, output).toBe(0);
    expect(output).toContain(`Using the exchange running on ${dataDir}`);
    expect(output).toContain('CONSENT_REVOKED');
    expect(output).toContain('every step behaved as stated');
    expect(output.match(/^\s+✓ /gm)?.length).toBeGreaterThanOrEqual(15);
  }, 120_000);

  it('stops cleanly on Ctrl-C and resumes on the next start', async () => {
    const first = running;
    if (first === undefined) throw new Error('not running');
    const stopped = await first.stop();
    running = undefined;
    expect(stopped.clean, stopped.output).toBe(true);
    expect(existsSync(join(dataDir, 'run.json'))).toBe(false);
    // The same ports come from data/config, whatever --port-base says now.
    running = await npmStart(dataDir, await freePortBase());
    const consents = await credex(['consent', 'list', '--uscc', fixtureEnterprises.subject.uscc, '--json', '--data-dir', dataDir], { cwd: work });
    expect(consents.code, consents.stderr).toBe(0);
    expect((consents.json().consents as { status: string }[]).map((c) => c.status)).toContain('revoked');
    const ledger = await credex(['audit', 'ledger', '--json', '--data-dir', dataDir], { cwd: work });
    expect(ledger.code, ledger.stderr).toBe(0);
    expect(ledger.json()).toMatchObject({ ok: true });
    const second = await running.stop();
    running = undefined;
    expect(second.clean, second.output).toBe(true);
  }, 150_000);
});
