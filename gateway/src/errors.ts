/**
 * The gateway's one mapping from stable error codes (the chaincode's, core's and its own) to
 * HTTP statuses, and the text of a coded error without its code.
 */
import type { CredexError } from '@credex/core';

const EXACT: Readonly<Record<string, number>> = {
  NOT_FOUND: 404,
  FORBIDDEN: 403,
  STAFF_AUTH_REQUIRED: 401,
  ALREADY_EXISTS: 409,
  RECORD_CONFLICT: 409,
  RECORD_UNANCHORED: 409,
  MVCC_READ_CONFLICT: 409,
  PHANTOM_READ_CONFLICT: 409,
  NONCE_REPLAYED: 401,
  KEY_UNKNOWN: 401,
  DIGEST_MISMATCH: 401,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  UNSUPPORTED_MEDIA_TYPE: 415,
  LEDGER_UNAVAILABLE: 503,
  ENDORSEMENT_MISMATCH: 503,
  STORE_UNAVAILABLE: 503,
  PUBLISHER_UNREACHABLE: 502,
  DECRYPT_FAILED: 502,
  PUBLISHER_ANSWER_INVALID: 502,
  LEDGER_RESULT_INVALID: 502,
  RECORD_TYPE_UNKNOWN: 400,
  LEDGER_TIMEOUT: 504,
  ENTRY_RETIRED: 409,
  RECORD_WITHDRAWN: 410,
  OBJECTION_CLOSED: 409,
  VALIDATION_FAILED: 400,
};

const BY_SUFFIX: readonly (readonly [RegExp, number])[] = [
  [/(_UNKNOWN|_NOT_FOUND)$/, 404],
  [/^CONSENT_/, 403],
  [/^SIGNATURE_/, 401],
  [/(_EXISTS|_CONFLICT|_NOT_ACTIVE)$/, 409],
  [/(_INVALID|_MISMATCH|_DUPLICATE|_REQUIRED|_TOO_MANY)$/, 400],
];

/** The HTTP status for a stable error code; 500 for a code nobody mapped. */
export function httpStatusOf(code: string): number {
  const exact = EXACT[code];
  if (exact !== undefined) return exact;
  for (const [pattern, status] of BY_SUFFIX) if (pattern.test(code)) return status;
  return 500;
}

/** The text of a credex error without its leading `CODE: ` (what goes beside `code` in an answer). */
export function errorText(e: CredexError): string {
  const prefix = `${e.code}: `;
  return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
}
