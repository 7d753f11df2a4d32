/**
 * The chaincode preload that skips formatting log lines winston would drop: run in a real
 * node process from the kv fixture's folder, with fabric-shim's own logger.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('../fixtures/kv-chaincode', import.meta.url));
const PRELOAD = fileURLToPath(new URL('../../src/chaincode/quiet-logs.cjs', import.meta.url));

/** Logs through fabric-shim's logger at `level` (and through a winston logger whose transport is more verbose than the logger). */
const SCRIPT = `
const { createRequire } = require('node:module');
const req = createRequire(require('node:path').join(process.cwd(), 'package.json'));
const shimLogger = req(req.resolve('fabric-shim/lib/logger.js'));
const winston = createRequire(req.resolve('fabric-shim/package.json'))('winston');
const log = shimLogger.getLogger('probe');
log.debug('debug-hidden', { a: 1 });
log.info('info-hidden');
log.warn('warn-shown', { w: 1 });
log.error('error-shown');
const verbose = winston.createLogger({
  level: 'error',
  format: winston.format.printf((i) => i.level + ':' + i.message),
  transports: [new winston.transports.Console({ level: 'debug' })],
});
verbose.debug('transport-debug-shown');
process.stdout.write('patched=' + String(winston.Logger.prototype.write.name === 'writeEnabled') + '\\n');
`;

function run(preload: boolean): string {
  return execFileSync(process.execPath, [...(preload ? ['--require', PRELOAD] : []), '-e', SCRIPT], {
    cwd: FIXTURE,
    env: { ...process.env, CORE_CHAINCODE_LOGGING_LEVEL: 'WARNING', NODE_OPTIONS: '' },
    encoding: 'utf8',
  });
}

describe('quiet-logs preload', () => {
  it('writes exactly what winston writes without it', () => {
    const strip = (s: string): string =>
      s
        .split('\n')
        .filter((l) => !l.startsWith('patched='))
        .map((l) => l.replace(/^\S+Z /, '')) // timestamps differ
        .join('\n');
    const withPreload = run(true);
    const without = run(false);
    expect(withPreload).toContain('patched=true');
    expect(without).toContain('patched=false');
    expect(strip(withPreload)).toBe(strip(without));
    expect(withPreload).toContain('warn-shown');
    expect(withPreload).toContain('error-shown');
    expect(withPreload).toContain('transport-debug-shown');
    expect(withPreload).not.toContain('debug-hidden');
    expect(withPreload).not.toContain('info-hidden');
  });

  it('leaves a folder without fabric-shim alone', () => {
    const out = execFileSync(process.execPath, ['--require', PRELOAD, '-e', 'process.stdout.write("ok")'], {
      cwd: '/',
      env: { ...process.env, NODE_OPTIONS: '' },
      encoding: 'utf8',
    });
    expect(out).toBe('ok');
  });
});
