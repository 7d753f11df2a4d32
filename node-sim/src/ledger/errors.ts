/**
 * Errors of the ledger, the validator and the ordering service. As every credex error, the
 * message starts with the stable code (`ORDERER_BAD_SIGNATURE: …`).
 */
import { CredexError } from '@credex/core';

/** Codes a {@link LedgerError} can carry. */
export type LedgerErrorCode =
  | 'LEDGER_CLOSED'
  | 'LEDGER_CORRUPT'
  | 'LEDGER_BAD_BLOCK'
  | 'LEDGER_BLOCK_OUT_OF_ORDER'
  | 'ORDERER_BAD_ENVELOPE'
  | 'ORDERER_WRONG_CHANNEL'
  | 'ORDERER_UNSUPPORTED_TX'
  | 'ORDERER_UNKNOWN_CREATOR'
  | 'ORDERER_BAD_SIGNATURE'
  | 'ORDERER_ENVELOPE_TOO_LARGE'
  | 'ORDERER_STOPPED'
  | 'ORDERER_WAIT_ABORTED';

/** A ledger or ordering problem, with a stable code. */
export class LedgerError extends CredexError {
  /** Stable UPPER_SNAKE code; also the start of the message. */
  declare readonly code: LedgerErrorCode;

  constructor(code: LedgerErrorCode, text: string, details?: Record<string, unknown>, cause?: unknown) {
    super(code, text, { details, cause });
    this.name = 'LedgerError';
  }
}
