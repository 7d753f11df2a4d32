/**
 * Errors of node-sim's identity layer. Like every credex error, the message starts with the
 * stable code (`UNTRUSTED_CERT: …`), so the code survives when only the message crosses a wire.
 */
import { CredexError } from '@credex/core';

/** Codes an {@link MspError} can carry. */
export type MspErrorCode =
  | 'UNKNOWN_MSP'
  | 'UNTRUSTED_CERT'
  | 'CERT_EXPIRED'
  | 'BAD_IDENTITY'
  | 'BAD_SIGNATURE'
  | 'CRYPTO_MATERIAL_INVALID';

/** An identity, certificate or key problem, with a stable code. */
export class MspError extends CredexError {
  /** Stable UPPER_SNAKE code; also the start of the message. */
  declare readonly code: MspErrorCode;

  constructor(code: MspErrorCode, text: string, details?: Record<string, unknown>, cause?: unknown) {
    super(code, text, { details, cause });
    this.name = 'MspError';
  }
}
