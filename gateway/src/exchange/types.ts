/**
 * What travels between organizations' gateways (POST /v1/exchange/*) and what the ledger says
 * about anchors and consents, as the exchange reads it (docs/CONTRACTS.md, chaincode state).
 */
import type { DisclosedRecord, Signed } from '@credex/core';
import type { AccessRequest, LedgerAccessResult, LedgerBatch, LedgerConsent, LedgerRecord } from '@credex/schemas';
import type { RecordRef } from '../store/store';

export type { RecordRef } from '../store/store';

/** One record as served: disclosed within the consent's scope, with its Merkle proof. */
export interface ServedRecord {
  record: DisclosedRecord;
  batchId: string;
  index: number;
  /** RFC 6962 audit path, leaf to root. */
  proof: string[];
  root: string;
  /** The record's status on the ledger when the access was registered (informational: the verifier reads it itself). */
  status?: string;
}

/** A requested record the publisher registered but did not serve, and why. */
export interface NotServed {
  recordId: string;
  code: string;
  message: string;
}

/** The plaintext the publisher boxes to the requester. */
export interface ExchangePayload {
  accessId: string;
  txId: string;
  records: ServedRecord[];
  notServed: NotServed[];
}

/** Body of POST /v1/exchange/fetch. */
export interface ExchangeFetchBody {
  consentId: string;
  /** When given, must equal the signed request's recordIds. */
  recordIds?: string[];
  request: Signed<AccessRequest>;
}

/** Response of POST /v1/exchange/fetch: the payload boxed (nacl.box) to the requester's boxKey. */
export interface ExchangeFetchResponse {
  accessId: string;
  txId: string;
  /** 24 bytes, base64url. */
  nonce: string;
  /** nacl.box of the UTF-8 JSON {@link ExchangePayload}, base64url. */
  ciphertext: string;
}

/** Body of POST /v1/exchange/records: which of the publisher's records a consent covers. */
export interface ExchangeRecordsBody {
  consentId: string;
}

/** Response of POST /v1/exchange/records. */
export interface ExchangeRecordsResponse {
  recordIds: string[];
}

/** Response of GET /v1/exchange/anchors/:recordId: where one of the publisher's records is anchored (hashes, no data). */
export interface ExchangeAnchorResponse {
  record: RecordRef;
}

/** anchors:GetBatch. */
export type AnchoredBatch = LedgerBatch;

/** anchors:GetRecord, as the exchange reads it (it does not need the status history). */
export type AnchoredRecord = Omit<LedgerRecord, 'history'>;

/** consents:GetConsent, as the exchange reads it. */
export type ConsentOnChain = Pick<LedgerConsent, 'consentId' | 'subject' | 'grantee' | 'statement' | 'status' | 'uses'>;

/** One entry of access:RecordAccess's result. */
export type AccessResult = LedgerAccessResult;
