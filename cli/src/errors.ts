/**
 * The CLI's errors and exit codes. Every failure leaves as one line on stderr,
 * `credex: CODE: text`, and one of these exit codes.
 */
import { isCredexError } from '@credex/core';

/** Exit codes of every command. */
export const EXIT = {
  OK: 0,
  /** The exchange refused the operation, or it failed. */
  REFUSED: 1,
  /** Bad usage or bad input found before anything was sent. */
  USAGE: 2,
  /** The exchange cannot be reached (not started, wrong URL, ledger down). */
  UNREACHABLE: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Codes of core and schema errors that are the user's input, not a refusal. */
const INPUT_CODES = new Set([
  'USCC_INVALID', 'JCS_INVALID', 'B64_INVALID', 'KEY_INVALID', 'SALT_INVALID', 'SCHEMA_INVALID',
  'RECORD_TYPE_UNKNOWN', 'DISCLOSURE_INVALID', 'HASH_INVALID', 'INDEX_INVALID',
]);

/** An error with a stable code and the exit code it ends the command with. */
export class CliError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly details?: Record<string, unknown>;

  constructor(code: string, text: string, exitCode: ExitCode, details?: Record<string, unknown>) {
    super(`${code}: ${text}`);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
    if (details !== undefined) this.details = details;
  }

  /** The message without its code. */
  get text(): string {
    return this.message.slice(this.code.length + 2);
  }
}

/** Bad usage or input: exit 2. */
export function usageError(code: string, text: string): CliError {
  return new CliError(code, text, EXIT.USAGE);
}

/** Any thrown value as a CliError (core's CredexErrors keep their code). */
export function toCliError(e: unknown): CliError {
  if (e instanceof CliError) return e;
  if (isCredexError(e)) {
    const prefix = `${e.code}: `;
    const text = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    return new CliError(e.code, text, INPUT_CODES.has(e.code) || e.code.endsWith('_INVALID') ? EXIT.USAGE : EXIT.REFUSED);
  }
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ENOENT') return new CliError('FILE_NOT_FOUND', `no such file: ${err.path ?? err.message}`, EXIT.USAGE);
  if (err.code === 'EACCES') return new CliError('FILE_UNREADABLE', `permission denied: ${err.path ?? err.message}`, EXIT.USAGE);
  if (err.code === 'EISDIR') return new CliError('FILE_NOT_FOUND', `is a directory, not a file: ${err.path ?? err.message}`, EXIT.USAGE);
  return new CliError('INTERNAL', e instanceof Error ? e.message : String(e), EXIT.REFUSED);
}

/** The exit code for an error answered by a gateway with this HTTP status and code. */
export function exitCodeOfHttp(status: number, code: string): ExitCode {
  if (status === 503 || status === 504 || code === 'LEDGER_UNAVAILABLE' || code === 'LEDGER_TIMEOUT') return EXIT.UNREACHABLE;
  if (status === 400 || status === 413 || status === 415) return EXIT.USAGE;
  return EXIT.REFUSED;
}
