/**
 * The chaincode preload that parses a creator certificate once for fabric-shim's
 * ClientIdentity: run in a real node process from the kv fixture's folder.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureOrgMaterial } from '../../src/msp/material';

const FIXTURE = fileURLToPath(new URL('../fixtures/kv-chaincode', import.meta.url));
const PRELOAD = fileURLToPath(new URL('../../src/chaincode/cert-cache.cjs', import.meta.url));

/** Builds ClientIdentity twice from the same creator (stdin: JSON {mspId, certPem}), then once from a broken certificate. */
const SCRIPT = `
const { createRequire } = require('node:module');
const req = createRequire(require('node:path').join(process.cwd(), 'package.json'));
const { ClientIdentity } = req(req.resolve('fabric-shim/lib/chaincode.js'));
const { Certificate } = createRequire(req.resolve('fabric-shim/package.json'))('@fidm/x509');
const { mspId, certPem } = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
const stub = (pem) => ({ getChannelID: () => 'ch', getTxID: () => 'tx', getCreator: () => ({ mspid: mspId, idBytes: Buffer.from(pem) }) });
const a = new ClientIdentity(stub(certPem));
const b = new ClientIdentity(stub(certPem));
let broken = '';
const lines = certPem.trim().split('\\n');
const truncated = [...lines.slice(0, 3), lines[lines.length - 1]].join('\\n') + '\\n';
for (let i = 0; i < 2; i++) { try { new ClientIdentity(stub(truncated)); broken += 'parsed;'; } catch (e) { broken += 'throws;'; } }
process.stdout.write(JSON.stringify({
  ids: [a.getID(), b.getID()], msp: a.getMSPID(), attrs: a.attrs, broken,
  same: Certificate.fromPEM(Buffer.from(certPem)) === Certificate.fromPEM(Buffer.from(certPem)),
}));
`;

let dataDir: string;
let creator: { mspId: string; certPem: string };

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'node-sim-certcache-'));
  const org = await ensureOrgMaterial(dataDir, 'Org1MSP');
  creator = { mspId: 'Org1MSP', certPem: org.client.certPem };
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function run(preload: boolean): { ids: string[]; msp: string; attrs: unknown; broken: string; same: boolean } {
  const out = execFileSync(process.execPath, [...(preload ? ['--require', PRELOAD] : []), '-e', SCRIPT], {
    cwd: FIXTURE,
    env: { ...process.env, NODE_OPTIONS: '' },
    input: JSON.stringify(creator),
    encoding: 'utf8',
  });
  return JSON.parse(out) as { ids: string[]; msp: string; attrs: unknown; broken: string; same: boolean };
}

describe('cert-cache preload', () => {
  it('gives ClientIdentity the same identity as without it, parsing a certificate once', () => {
    const withPreload = run(true);
    const without = run(false);
    expect(withPreload.same).toBe(true);
    expect(without.same).toBe(false);
    expect(withPreload.ids[0]).toMatch(/^x509::\/.*CN=/);
    expect(withPreload.ids).toEqual(without.ids);
    expect(withPreload.ids[1]).toBe(withPreload.ids[0]);
    expect(withPreload.msp).toBe('Org1MSP');
    expect(withPreload.attrs).toEqual(without.attrs);
  });

  it('still refuses a broken certificate', () => {
    expect(run(false).broken).toBe('throws;throws;');
    expect(run(true).broken).toBe('throws;throws;');
  });
});
