import { describe, expect, it } from 'vitest';
import { httpStatusOf } from '../src/errors';

describe('httpStatusOf', () => {
  it.each([
    ['RECORD_UNKNOWN', 404], ['ENTERPRISE_UNKNOWN', 404], ['NOT_FOUND', 404], ['CONSENT_UNKNOWN', 404],
    ['FORBIDDEN', 403], ['CONSENT_REVOKED', 403], ['CONSENT_EXPIRED', 403], ['CONSENT_OUT_OF_SCOPE', 403],
    ['ALREADY_EXISTS', 409], ['RECORD_PROOF_INVALID', 400], ['RECORD_REF_REQUIRED', 400], ['RECORD_CONFLICT', 409], ['MVCC_READ_CONFLICT', 409],
    ['SCHEMA_INVALID', 400], ['JSON_INVALID', 400], ['USCC_INVALID', 400],
    ['SIGNATURE_INVALID', 401], ['SIGNATURE_EXPIRED', 401], ['NONCE_REPLAYED', 401], ['STAFF_AUTH_REQUIRED', 401],
    ['PAYLOAD_TOO_LARGE', 413], ['RATE_LIMITED', 429], ['LEDGER_UNAVAILABLE', 503], ['LEDGER_TIMEOUT', 504],
    ['RECORD_NOT_ACTIVE', 409], ['PUBLISHER_UNREACHABLE', 502], ['RECORD_TYPE_UNKNOWN', 400], ['SOMETHING_ELSE', 500],
  ])('%s → %i', (code, status) => {
    expect(httpStatusOf(code)).toBe(status);
  });
});
