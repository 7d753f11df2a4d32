/**
 * What travels between organizations' gateways (POST /v1/exchange/*) and what the ledger says
 * about anchors and consents, as the exchange reads it (docs/CONTRACTS.md, chaincode state).
 */
import type { DisclosedRecord, Signed } from '@credex/core';
import type { AccessRequest, Consent } from '@credex/schemas';

/** One record as served: disclosed within the consent's scope, with its Merkle proof. */
export interface ServedRecord {
  record: DisclosedRecord;
  batchId: string;
  index: number;
  /** RFC 6962 audit path, leaf to root. */
  proof: string[];
  root: string;
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

/** anchors:GetBatch. */
export interface AnchoredBatch {
  batchId: string;
  catalogueEntryId: string;
  publisher: string;
  subject: string;
  recordType: string;
  root: string;
  size: number;
  anchoredAt: string;
  txId: string;
}

/** anchors:GetRecord. */
export interface AnchoredRecord {
  recordId: string;
  batchId: string;
  index: number;
  leafHash: string;
  publisher: string;
  subject: string;
  recordType: string;
  catalogueEntryId: string;
  status: 'active' | 'disputed' | 'superseded' | 'withdrawn';
  supersedes?: string;
  supersededBy?: string;
}

/** consents:GetConsent. */
export interface ConsentOnChain {
  consentId: string;
  subject: string;
  grantee: string;
  statement: Consent;
  status: 'active' | 'revoked';
  uses: number;
}

/** One entry of access:RecordAccess's result. */
export type AccessResult =
  | { accessId: string; ok: true; fee: number; usesLeft: number }
  | { accessId: string; ok: false; code: string; message: string };
