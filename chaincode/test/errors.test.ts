import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseErrorCode } from '@credex/core';
import { ERROR_CODES, describeError, fail, toChaincodeError } from '../src/errors';

const here = dirname(fileURLToPath(import.meta.url));

function testSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testSources(join(dir, e.name)) : e.name.endsWith('.test.ts') && e.name !== 'errors.test.ts' ? [readFileSync(join(dir, e.name), 'utf8')] : [],
  );
}

describe('chaincode errors', () => {
  it('start their message with a stable code that clients can parse', () => {
    let message = '';
    try {
      fail('CONSENT_REVOKED', 'consent abc was revoked');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('CONSENT_REVOKED: consent abc was revoked');
    expect(parseErrorCode(`chaincode response 500, ${message}`)).toEqual({ code: 'CONSENT_REVOKED', message: 'consent abc was revoked' });
  });

  it('turn unexpected errors into INTERNAL', () => {
    expect(toChaincodeError(new TypeError('x is undefined')).message).toBe('INTERNAL: x is undefined');
    expect(describeError('boom')).toEqual({ code: 'INTERNAL', message: 'INTERNAL: boom' });
  });

  it('each have a contract test that provokes them and checks the state is unchanged', () => {
    const lines = testSources(here).flatMap((source) => source.split('\n'));
    // A code counts as tested on a line that asserts it: expectRejected/expectRefused (both
    // compare the whole state before and after) or an expected per-access result.
    const asserting = lines.filter((line) => /expectRejected\(|expectRefused\(|\['[A-Z_]+', /.test(line));
    const untested = ERROR_CODES.filter((code) => !asserting.some((line) => line.includes(`'${code}'`)));
    expect(untested).toEqual([]);
  });
});
