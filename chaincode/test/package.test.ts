/**
 * The chaincode folder deploys on its own: the bundle built by scripts/build.mjs into an empty
 * directory with copies of package.json and package-lock.json is loaded by fabric-shim's own CLI
 * (`fabric-chaincode-node metadata generate`, the loader `npm start` uses), and every
 * transaction has its parameters. The directory's node_modules holds only the package's two
 * dependencies (linked from this checkout, so the test needs no network; scripts/verify-package.sh
 * does the same with a real `npm ci --omit=dev`), so a missing bundle of @credex/* fails here.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalize as canonical, newBoxKeyPair, newSigningKeyPair } from '@credex/core';
import { fixtureOrganization } from '@credex/schemas';
import { contracts } from '../src/index';
import { transactionsOf } from './support/harness';

const chaincodeDir = dirname(dirname(fileURLToPath(import.meta.url)));
const rootModules = join(chaincodeDir, '..', 'node_modules');

interface Metadata {
  contracts: Record<string, { name: string; transactions: { name: string; tag?: string[]; parameters?: unknown[] }[] }>;
}

describe('the chaincode package', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'credex-chaincode-'));
    // Built straight into the copy, so that chaincode/dist, which other suites run, is left alone.
    execFileSync(process.execPath, [join(chaincodeDir, 'scripts', 'build.mjs'), join(dir, 'dist', 'index.js')], { stdio: 'pipe' });
    for (const file of ['package.json', 'package-lock.json']) cpSync(join(chaincodeDir, file), join(dir, file));
    mkdirSync(join(dir, 'node_modules'));
    for (const dependency of ['fabric-contract-api', 'fabric-shim']) {
      symlinkSync(join(rootModules, dependency), join(dir, 'node_modules', dependency), 'dir');
    }
  }, 120_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('depends only on fabric-contract-api and fabric-shim, pinned in its own lock file', () => {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main: string; scripts: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.main).toBe('dist/index.js');
    expect(pkg.scripts['start']).toBe('fabric-chaincode-node start');
    expect(pkg.dependencies).toEqual({ 'fabric-contract-api': '2.5.8', 'fabric-shim': '2.5.8' });
    const lock = JSON.parse(readFileSync(join(dir, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; dev?: boolean }> };
    expect(lock.packages['node_modules/fabric-shim']?.version).toBe('2.5.8');
    expect(lock.packages['node_modules/fabric-contract-api']?.version).toBe('2.5.8');
    expect(Object.keys(lock.packages).filter((p) => p.includes('@credex') || p.includes('node_modules/ajv-formats'))).toEqual([]);
  });

  it('loads in fabric-shim with every transaction and its parameters', () => {
    const cli = join(rootModules, 'fabric-shim', 'cli.js');
    execFileSync(process.execPath, [cli, 'metadata', 'generate', '--module-path', dir, '--file', join(dir, 'metadata.json')], {
      cwd: dir,
      stdio: 'pipe',
      env: { ...process.env, CORE_CHAINCODE_LOGGING_LEVEL: 'WARNING' },
    });
    const metadata = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as Metadata;
    const expected = contracts.map((C) => {
      const contract = new C();
      return [contract.getName(), transactionsOf(contract).map((t) => [t.name, t.tag.includes('SUBMIT') ? 'submit' : 'evaluate', t.parameters.length])];
    });
    const loaded = Object.values(metadata.contracts)
      .filter((c) => c.name !== 'org.hyperledger.fabric')
      .map((c) => [c.name, c.transactions.map((t) => [t.name, t.tag?.includes('SUBMIT') === true ? 'submit' : 'evaluate', t.parameters?.length ?? 0])]);
    expect(loaded).toEqual(expected);
    expect(loaded.map(([name]) => name)).toEqual(['participants', 'catalogue', 'anchors', 'consents', 'access', 'objections']);
    const count = loaded.reduce((n, [, txs]) => n + (txs as unknown[]).length, 0);
    expect(count).toBe(33);
  });

  it('runs a transaction from the bundle', () => {
    const script = `
      const { contracts } = require('./dist/index.js');
      const Participants = contracts.find((C) => new C().getName() === 'participants');
      const contract = new Participants();
      const ctx = contract.createContext();
      ctx.stub = { getState: async () => new Uint8Array(0), createCompositeKey: (t, a) => '\\u0000' + [t, ...a].join('\\u0000') + '\\u0000' };
      ctx.clientIdentity = { getMSPID: () => 'GovMSP' };
      contract.aroundTransaction(ctx, 'GetEnterprise', ['91350100M000100Y43'])
        .then((r) => console.log('result', r), (e) => console.log(e.message));
    `;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8', env: { ...process.env, CORE_CHAINCODE_LOGGING_LEVEL: 'WARNING' } });
    expect(out.trim()).toBe('ENTERPRISE_UNKNOWN: enterprise 91350100M000100Y43 is not registered');
  });

  it("answers proposals through fabric-shim's contract runtime: results as canonical JSON, errors with their code", () => {
    const profile = fixtureOrganization('GovMSP', { requestKey: newSigningKeyPair().publicKey, boxKey: newBoxKeyPair().publicKey });
    const calls = [
      { mspId: 'GovMSP', fn: 'participants:RegisterOrganization', args: [JSON.stringify(profile)] },
      { mspId: 'BankMSP', fn: 'participants:GetOrganization', args: ['GovMSP'] },
      { mspId: 'BankMSP', fn: 'participants:GetEnterprise', args: ['91350100M000100Y4Z'] },
      { mspId: 'BankMSP', fn: 'participants:RegisterOrganization', args: [JSON.stringify(profile)] },
      { mspId: 'BankMSP', fn: 'participants:Unheard', args: [] },
      { mspId: 'GovMSP', fn: 'catalogue:CreateEntry', args: ['{'] },
    ];
    writeFileSync(join(dir, 'calls.json'), JSON.stringify(calls));
    const out = execFileSync(process.execPath, [join(chaincodeDir, 'test', 'fixtures', 'shim-dispatch.cjs'), join(chaincodeDir, 'test', 'fixtures', 'client-cert.pem'), join(dir, 'calls.json')], {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, CORE_CHAINCODE_LOGGING_LEVEL: 'CRITICAL' },
    });
    const responses = JSON.parse(out) as { status: number; message?: string; payload?: string }[];
    const registered = { ...profile, registeredAt: '2026-11-18T11:06:40.000Z', updatedAt: '2026-11-18T11:06:40.000Z' };
    expect(responses[0]).toMatchObject({ status: 200, payload: canonical(registered) });
    expect(responses[1]).toMatchObject({ status: 200, payload: canonical(registered) });
    expect(responses.slice(2).map((r) => [r.status, r.message?.split(':')[0]])).toEqual([
      [500, 'USCC_INVALID'],
      [500, 'FORBIDDEN'],
      [500, 'UNKNOWN_TRANSACTION'],
      [500, 'JSON_INVALID'],
    ]);
  });
});
