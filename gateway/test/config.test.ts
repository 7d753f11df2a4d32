import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../src/config';
import { tempDir } from './helpers';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function raw(dir: string): Record<string, unknown> {
  return {
    mspId: 'BankMSP', dataDir: join(dir, 'data'), staffTokens: ['a-staff-token-of-enough-length'],
    ledger: { peerEndpoint: '127.0.0.1:7051', tlsCaCertPem: PEM, certPem: PEM, keyPem: PEM },
  };
}

describe('config', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => { tmp = tempDir(); });
  afterEach(() => { tmp.remove(); });

  it('fills defaults and generates the gateway keys once, keeping them in the data dir', () => {
    const config = parseConfig(raw(tmp.dir));
    expect(config).toMatchObject({
      mspId: 'BankMSP', orgName: 'BankMSP', host: '127.0.0.1', port: 8080, publicUrl: 'http://127.0.0.1:8080', selfRegister: true,
      ledger: { peerEndpoint: '127.0.0.1:7051', hostnameOverride: 'localhost', channel: 'credex', chaincode: 'credex' },
    });
    expect(existsSync(join(tmp.dir, 'data', 'keys.json'))).toBe(true);
    expect(parseConfig(raw(tmp.dir)).keys).toEqual(config.keys);
  });

  it.each([
    ['no mspId', { mspId: undefined }, /mspId/],
    ['a bad mspId', { mspId: 'bad msp' }, /mspId/],
    ['short staff tokens', { staffTokens: ['short'] }, /staffTokens/],
    ['no ledger', { ledger: undefined }, /ledger/],
    ['a ledger without certificates', { ledger: { peerEndpoint: 'x:1' } }, /tlsCaCert/],
    ['a port out of range', { port: 70000 }, /port/],
    ['a bad role', { role: 'king' }, /role/],
    ['bad limits', { limits: { bodyBytes: 'lots' } }, /bodyBytes/],
  ])('rejects %s with CONFIG_INVALID', (_name, change, message) => {
    let error: unknown;
    try {
      parseConfig({ ...raw(tmp.dir), ...change });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect((error as Error).message).toMatch(message);
  });

  it('reads a node-sim connection profile with relative paths', () => {
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(tmp.dir, f), PEM);
    writeFileSync(join(tmp.dir, 'profile.json'), JSON.stringify({ mspId: 'BankMSP', peerEndpoint: '127.0.0.1:9999', hostnameOverride: 'peer0', tlsCaCertPath: 'ca.pem', certPath: 'cert.pem', keyPath: 'key.pem' }));
    const config = parseConfig({ ...raw(tmp.dir), ledger: { connectionProfile: 'profile.json' } }, tmp.dir);
    expect(config.ledger).toMatchObject({ peerEndpoint: '127.0.0.1:9999', hostnameOverride: 'peer0', certPem: PEM });
  });

  it('loads a file and lets the environment override single settings', () => {
    const file = join(tmp.dir, 'gateway.json');
    writeFileSync(file, JSON.stringify(raw(tmp.dir)));
    const config = loadConfig({ file, env: { CREDEX_GATEWAY_PORT: '9123', CREDEX_GATEWAY_STAFF_TOKENS: 'token-one-0123456789,token-two-0123456789' } });
    expect(config.port).toBe(9123);
    expect(config.staffTokens).toEqual(['token-one-0123456789', 'token-two-0123456789']);
    const fromEnv = loadConfig({ env: { CREDEX_GATEWAY_CONFIG_JSON: readFileSync(file, 'utf8') } });
    expect(fromEnv.mspId).toBe('BankMSP');
  });

  it('explains a missing or unparsable file', () => {
    expect(() => loadConfig({ env: {} })).toThrow(/CONFIG_INVALID: set CREDEX_GATEWAY_CONFIG/);
    expect(() => loadConfig({ file: join(tmp.dir, 'none.json'), env: {} })).toThrow(/CONFIG_INVALID: no configuration file/);
    writeFileSync(join(tmp.dir, 'bad.json'), '{ nope');
    expect(() => loadConfig({ file: join(tmp.dir, 'bad.json'), env: {} })).toThrow(/CONFIG_INVALID: configuration is not valid JSON/);
  });
});
