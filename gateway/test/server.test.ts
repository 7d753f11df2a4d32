import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers';

const SERVER = resolve(dirname(fileURLToPath(import.meta.url)), '../src/server.ts');

describe('server.ts', () => {
  it('refuses to start on an invalid configuration, with CONFIG_INVALID and exit code 2', () => {
    const tmp = tempDir();
    try {
      const file = join(tmp.dir, 'gateway.json');
      writeFileSync(file, JSON.stringify({ mspId: 'GovMSP', dataDir: tmp.dir, staffTokens: ['short'] }));
      const run = spawnSync(process.execPath, ['--import', 'tsx', SERVER, file], { encoding: 'utf8', timeout: 60_000 });
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(/^CONFIG_INVALID: staffTokens must be/m);
    } finally {
      tmp.remove();
    }
  });
});
