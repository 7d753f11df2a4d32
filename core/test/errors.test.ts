import { describe, expect, it } from 'vitest';
import { CredexError, credexError, isCredexError, parseErrorCode } from '../src/errors';

describe('credexError', () => {
  it('prefixes the message with the code and keeps code, details and cause', () => {
    const cause = new Error('disk full');
    const e = credexError('CONSENT_REVOKED', 'consent abc was revoked', { consentId: 'abc' }, cause);
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(CredexError);
    expect(e.message).toBe('CONSENT_REVOKED: consent abc was revoked');
    expect(e.code).toBe('CONSENT_REVOKED');
    expect(e.details).toEqual({ consentId: 'abc' });
    expect(e.cause).toBe(cause);
    expect(e.name).toBe('CredexError');
  });

  it('leaves details and cause undefined when not given', () => {
    const e = credexError('NOT_FOUND', 'no such record');
    expect(e.details).toBeUndefined();
    expect(e.cause).toBeUndefined();
    expect('details' in e).toBe(false);
  });

  it('isCredexError checks the class and, optionally, the code', () => {
    const e = credexError('FORBIDDEN', 'not yours');
    expect(isCredexError(e)).toBe(true);
    expect(isCredexError(e, 'FORBIDDEN')).toBe(true);
    expect(isCredexError(e, 'NOT_FOUND')).toBe(false);
    expect(isCredexError(new Error('FORBIDDEN: not yours'))).toBe(false);
  });
});

describe('parseErrorCode', () => {
  it('reads a message that starts with a code', () => {
    expect(parseErrorCode('USCC_INVALID: bad check character')).toEqual({ code: 'USCC_INVALID', message: 'bad check character' });
    expect(parseErrorCode('FORBIDDEN: not yours')).toEqual({ code: 'FORBIDDEN', message: 'not yours' });
  });

  it('reads the round trip of credexError', () => {
    const e = credexError('CONSENT_EXHAUSTED', 'no uses left: 0 of 3');
    expect(parseErrorCode(e.message)).toEqual({ code: 'CONSENT_EXHAUSTED', message: 'no uses left: 0 of 3' });
  });

  it('finds a code wrapped by fabric-gateway and skips a leading gRPC status', () => {
    expect(parseErrorCode('chaincode response 500, CONSENT_EXPIRED: consent ended 2026-01-01T00:00:00.000Z')).toEqual({
      code: 'CONSENT_EXPIRED',
      message: 'consent ended 2026-01-01T00:00:00.000Z',
    });
    expect(parseErrorCode('10 ABORTED: failed to endorse transaction, chaincode response 500, NONCE_REPLAYED: nonce n1 seen')).toEqual({
      code: 'NONCE_REPLAYED',
      message: 'nonce n1 seen',
    });
    expect(parseErrorCode('Error: RECORD_UNKNOWN: r1')).toEqual({ code: 'RECORD_UNKNOWN', message: 'r1' });
  });

  it('returns undefined when no code is present', () => {
    expect(parseErrorCode('something broke')).toBeUndefined();
    expect(parseErrorCode('Error: something broke')).toBeUndefined();
    expect(parseErrorCode('14 UNAVAILABLE: connection refused')).toBeUndefined();
    expect(parseErrorCode('xUSCC_INVALID: glued to a word')).toBeUndefined();
    expect(parseErrorCode('USCC_INVALID:no space')).toBeUndefined();
    expect(parseErrorCode('')).toBeUndefined();
  });
});
