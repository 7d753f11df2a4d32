import { describe, expect, it } from 'vitest';
import { status as GrpcStatus, Metadata } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { CommitError, EndorseError, StatusCode } from '@hyperledger/fabric-gateway';
import { toLedgerError } from '../../src/ledger/errors';

function serviceError(code: GrpcStatus, details: string): ServiceError {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: new Metadata() });
}

describe('toLedgerError', () => {
  it('keeps a chaincode error\'s code, from the endorsers\' details', () => {
    const err = new EndorseError({
      code: GrpcStatus.ABORTED, transactionId: 'tx1', message: '10 ABORTED: failed to endorse transaction, see attached details for more info',
      details: [{ address: 'peer0:7051', mspId: 'GovMSP', message: 'chaincode response 500, CONSENT_REVOKED: consent abc was revoked' }],
      cause: serviceError(GrpcStatus.ABORTED, 'failed'),
    });
    const e = toLedgerError(err, { tx: 'access:RecordAccess', txId: 'tx1' });
    expect(e).toMatchObject({ code: 'CONSENT_REVOKED', txId: 'tx1', retryable: false });
    expect(e.message).toBe('CONSENT_REVOKED: consent abc was revoked');
  });

  it('names a commit failure by its validation code; MVCC conflicts are retryable', () => {
    const mvcc = toLedgerError(new CommitError({ code: StatusCode.MVCC_READ_CONFLICT, transactionId: 'tx2' }), { tx: 'x' });
    expect(mvcc).toMatchObject({ code: 'MVCC_READ_CONFLICT', txId: 'tx2', retryable: true });
    const policy = toLedgerError(new CommitError({ code: StatusCode.ENDORSEMENT_POLICY_FAILURE, transactionId: 'tx3' }), { tx: 'x' });
    expect(policy).toMatchObject({ code: 'ENDORSEMENT_POLICY_FAILURE', retryable: false });
  });

  it('turns transport trouble into LEDGER_UNAVAILABLE / LEDGER_TIMEOUT', () => {
    const down = new EndorseError({ code: GrpcStatus.UNAVAILABLE, transactionId: 't', details: [], cause: serviceError(GrpcStatus.UNAVAILABLE, 'No connection established') });
    expect(toLedgerError(down, { tx: 'x' })).toMatchObject({ code: 'LEDGER_UNAVAILABLE', retryable: true });
    const slow = new EndorseError({ code: GrpcStatus.DEADLINE_EXCEEDED, transactionId: 't', details: [], cause: serviceError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded') });
    expect(toLedgerError(slow, { tx: 'x' })).toMatchObject({ code: 'LEDGER_TIMEOUT', retryable: true });
  });

  it('makes endorsers that saw different ledger states a retryable ENDORSEMENT_MISMATCH, not a 500', () => {
    const err = new EndorseError({
      code: GrpcStatus.ABORTED, transactionId: 'tx4', message: '10 ABORTED: failed to collect enough transaction endorsements, see attached details for more info',
      details: [{ address: 'peer0.bank:7051', mspId: 'BankMSP', message: 'ProposalResponsePayloads do not match' }],
      cause: serviceError(GrpcStatus.ABORTED, 'failed'),
    });
    expect(toLedgerError(err, { tx: 'access:RecordAccess' })).toMatchObject({ code: 'ENDORSEMENT_MISMATCH', retryable: true });
  });
});
