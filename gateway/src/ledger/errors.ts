/**
 * The one converter from fabric-gateway and gRPC failures to {@link LedgerError}s with stable
 * codes: a chaincode error keeps its own code (`CONSENT_REVOKED`…), a commit failure gets the
 * validation code's name (`MVCC_READ_CONFLICT`…), transport trouble is `LEDGER_UNAVAILABLE`
 * or `LEDGER_TIMEOUT`.
 */
import { CredexError, parseErrorCode } from '@credex/core';
import { CommitError, GatewayError, StatusCode } from '@hyperledger/fabric-gateway';
import { status as GrpcStatus } from '@grpc/grpc-js';

const GRPC_DEADLINE_EXCEEDED: number = GrpcStatus.DEADLINE_EXCEEDED;
const GRPC_UNAVAILABLE: number = GrpcStatus.UNAVAILABLE;
const STATUS_NAMES = new Map<number, string>(Object.entries(StatusCode).map(([name, code]) => [code, name]));

/** A failed ledger call, with the stable code of why and the transaction id when there was one. */
export class LedgerError extends CredexError {
  readonly txId: string | undefined;
  /** Whether the same call may succeed when retried (MVCC conflict, timeout, unavailable). */
  readonly retryable: boolean;

  constructor(code: string, text: string, opts: { txId?: string; retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, text, { cause: opts.cause, details: opts.details });
    this.name = 'LedgerError';
    this.txId = opts.txId;
    this.retryable = opts.retryable ?? false;
  }
}

const RETRYABLE_COMMIT = new Set(['MVCC_READ_CONFLICT', 'PHANTOM_READ_CONFLICT']);

/**
 * What a Fabric gateway says when its endorsers ran the same proposal against different
 * committed states (a block committed between their executions): the proposal itself is
 * fine, and endorsing it again settles it, as an MVCC conflict would.
 */
const ENDORSEMENT_MISMATCH = 'ProposalResponsePayloads do not match';

/** Converts anything a fabric-gateway call threw into a {@link LedgerError}. */
export function toLedgerError(err: unknown, context: { tx: string; txId?: string }): LedgerError {
  if (err instanceof LedgerError) return err;
  if (err instanceof CommitError) {
    const name = STATUS_NAMES.get(err.code) ?? `TX_INVALID_${err.code}`;
    return new LedgerError(name, `${context.tx} was not committed: ${name}`, {
      txId: err.transactionId, retryable: RETRYABLE_COMMIT.has(name), cause: err,
    });
  }
  if (err instanceof GatewayError) {
    for (const message of [...err.details.map((d) => d.message), err.message]) {
      const parsed = parseErrorCode(message);
      if (parsed !== undefined) {
        return new LedgerError(parsed.code, parsed.message, { txId: context.txId, cause: err, details: { tx: context.tx } });
      }
    }
    if (err.details.some((d) => d.message.includes(ENDORSEMENT_MISMATCH))) {
      return new LedgerError('ENDORSEMENT_MISMATCH', `${context.tx}: the endorsers' results differ (the ledger moved between them)`, {
        txId: context.txId, retryable: true, cause: err,
      });
    }
    if (err.code === GRPC_DEADLINE_EXCEEDED) {
      return new LedgerError('LEDGER_TIMEOUT', `${context.tx}: the ledger did not answer in time`, { txId: context.txId, retryable: true, cause: err });
    }
    if (err.code === GRPC_UNAVAILABLE) {
      return new LedgerError('LEDGER_UNAVAILABLE', `${context.tx}: the ledger is unavailable`, { txId: context.txId, retryable: true, cause: err });
    }
    return new LedgerError('LEDGER_ERROR', `${context.tx}: ${err.message}`, { txId: context.txId, cause: err, details: { grpcCode: err.code } });
  }
  const message = err instanceof Error ? err.message : String(err);
  const parsed = parseErrorCode(message);
  if (parsed !== undefined) return new LedgerError(parsed.code, parsed.message, { txId: context.txId, cause: err });
  return new LedgerError('LEDGER_ERROR', `${context.tx}: ${message}`, { txId: context.txId, cause: err });
}
