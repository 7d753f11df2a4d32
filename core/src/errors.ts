/**
 * Errors shared by every credex package.
 *
 * Only an error's message crosses the wire from chaincode to client, so the message of every
 * credex error starts with its stable code: `CODE: text`. {@link parseErrorCode} reads the code
 * back out of a message, also when another layer has wrapped it.
 */

/** A stable UPPER_SNAKE error code, e.g. `USCC_INVALID` or `CONSENT_REVOKED`. */
export type ErrorCode = string;

/** Options of a {@link CredexError} besides its code and message. */
export interface CredexErrorOptions {
  /** Context that helps a caller act on the error (never secrets). */
  details?: Record<string, unknown>;
  /** The underlying error, if any. */
  cause?: unknown;
}

/** An error with a stable code; its message is `${code}: ${text}`. */
export class CredexError extends Error {
  /** The stable UPPER_SNAKE code, also the start of the message. */
  readonly code: ErrorCode;
  /** Context that helps a caller act on the error. */
  declare readonly details?: Record<string, unknown>;
  /** The underlying error, if any. */
  declare readonly cause?: unknown;

  /**
   * @param code - stable UPPER_SNAKE code
   * @param text - human-readable text; the message becomes `${code}: ${text}`
   */
  constructor(code: ErrorCode, text: string, options: CredexErrorOptions = {}) {
    super(`${code}: ${text}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CredexError';
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
  }
}

/**
 * Creates a {@link CredexError}; its message is `${code}: ${message}`.
 *
 * @param code - stable UPPER_SNAKE code
 * @param message - human-readable text
 * @param details - context for the caller
 * @param cause - the underlying error
 */
export function credexError(
  code: ErrorCode,
  message: string,
  details?: Record<string, unknown>,
  cause?: unknown,
): CredexError {
  return new CredexError(code, message, { details, cause });
}

/** Whether `e` is a {@link CredexError} (with the given code, if one is given). */
export function isCredexError(e: unknown, code?: ErrorCode): e is CredexError {
  return e instanceof CredexError && (code === undefined || e.code === code);
}

// A code is 2+ chars of A-Z, 0-9 and _, starting with a letter, not glued to a preceding word,
// followed by ': '.
const CODE_PATTERN = /(?<![A-Za-z0-9_])([A-Z][A-Z0-9_]*[A-Z0-9]): /g;
// gRPC status messages read `${number} ${STATUS_NAME}: ${details}`; that name is not ours.
const GRPC_STATUS_PREFIX = /^\d+ [A-Z_]+: /;

/**
 * Reads the first `CODE: text` in a message, also when wrapped
 * (e.g. fabric-gateway's `chaincode response 500, CODE: text`). A leading gRPC status
 * (`10 ABORTED: …`) is skipped, since it is a transport status, not a credex code.
 *
 * @returns the code and the text after it, or `undefined` when the message carries no code
 */
export function parseErrorCode(message: string): { code: string; message: string } | undefined {
  const start = GRPC_STATUS_PREFIX.exec(message)?.[0].length ?? 0;
  CODE_PATTERN.lastIndex = start;
  const match = CODE_PATTERN.exec(message);
  CODE_PATTERN.lastIndex = 0;
  if (match?.[1] === undefined) return undefined;
  return { code: match[1], message: message.slice(match.index + match[0].length) };
}
