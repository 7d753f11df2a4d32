import { CredexError, credexError } from '@credex/core';

/**
 * Every code a chaincode error message can start with. Only the message crosses the wire
 * to the client, so the code is its first word: `CONSENT_REVOKED: consent … was revoked`.
 */
export const ERROR_CODES = [
  'JSON_INVALID',
  'SCHEMA_INVALID',
  'PAYLOAD_TOO_LARGE',
  'USCC_INVALID',
  'SIGNATURE_INVALID',
  'NONCE_REPLAYED',
  'FORBIDDEN',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'ORG_UNKNOWN',
  'ENTERPRISE_UNKNOWN',
  'ENTRY_RETIRED',
  'RECORD_UNKNOWN',
  'RECORD_PROOF_INVALID',
  'RECORD_MISMATCH',
  'RECORD_WITHDRAWN',
  'RECORD_NOT_ACTIVE',
  'SUPERSESSION_INVALID',
  'CONSENT_UNKNOWN',
  'CONSENT_REVOKED',
  'CONSENT_EXPIRED',
  'CONSENT_NOT_YET_VALID',
  'CONSENT_EXHAUSTED',
  'CONSENT_WRONG_GRANTEE',
  'CONSENT_WRONG_PURPOSE',
  'CONSENT_OUT_OF_SCOPE',
  'REQUEST_MISMATCH',
  'OBJECTION_UNKNOWN',
  'OBJECTION_CLOSED',
  'UNKNOWN_TRANSACTION',
  'INTERNAL',
] as const;

export type ChaincodeErrorCode = (typeof ERROR_CODES)[number];

/** Throws the error every transaction reports: message `${code}: ${message}`. */
export function fail(code: ChaincodeErrorCode, message: string, details?: Record<string, unknown>): never {
  throw credexError(code, message, details);
}

/** True for errors this chaincode raised on purpose (their message starts with a code). */
function isChaincodeError(err: unknown): err is CredexError {
  return err instanceof CredexError;
}

/** The code and message of a chaincode error, for per-item results such as RecordAccess's. */
export function describeError(err: unknown): { code: string; message: string } {
  if (isChaincodeError(err)) {
    return { code: err.code, message: err.message };
  }
  const text = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message: `INTERNAL: ${text}` };
}

/** Rewrites any unexpected error so its message, too, starts with a stable code. */
export function toChaincodeError(err: unknown): Error {
  if (isChaincodeError(err)) {
    return err;
  }
  const { message } = describeError(err);
  return new Error(message, { cause: err });
}
