import type { Context } from 'fabric-contract-api';
import type { LedgerBatch, LedgerConsent, LedgerRecord } from '@credex/schemas';
import { fail } from './errors';
import type { Role } from './governance';
import { keys } from './keys';
import { getJson } from './codec';

/**
 * The shapes the contracts keep on the ledger, and the typed reads one contract makes of
 * another's objects (the access register reads consents, records and catalogue entries).
 * Each contract alone writes its own objects.
 */

export interface OrganizationState {
  mspId: string;
  name: string;
  role: Role;
  gatewayUrl: string;
  /** ed25519 public key (base64url) that verifies the organization's access requests. */
  requestKey: string;
  /** x25519 public key (base64url) records are boxed to. */
  boxKey: string;
  registeredAt: string;
  updatedAt: string;
}

export interface EnterpriseKeyPeriod {
  publicKey: string;
  validFrom: string;
  validUntil: string;
  /** The transaction that ended this key's period. */
  txId: string;
}

export interface EnterpriseState {
  uscc: string;
  name: string;
  /** The current ed25519 public key (base64url) that signs the enterprise's statements. */
  publicKey: string;
  keyValidFrom: string;
  /** Earlier keys, oldest first. */
  keyHistory: EnterpriseKeyPeriod[];
  registeredBy: string;
  registeredAt: string;
}

export type EntryStatus = 'active' | 'retired';

export interface EntryState {
  entryId: string;
  subject: string;
  publisher: string;
  recordType: string;
  title: string;
  dataGrade: number;
  pricePerAccess: number;
  status: EntryStatus;
  createdAt: string;
  retiredAt?: string;
}

/** anchors:GetBatch (schemas/json/ledger-batch.schema.json). */
export type BatchState = LedgerBatch;

export type RecordStatus = LedgerRecord['status'];

/** anchors:GetRecord (schemas/json/ledger-record.schema.json). */
export type RecordState = LedgerRecord;

export async function loadOrganization(ctx: Context, mspId: string): Promise<OrganizationState> {
  return (await getJson<OrganizationState>(ctx, keys.organization(ctx.stub, mspId))) ?? fail('ORG_UNKNOWN', `organization ${mspId} is not registered`);
}

export async function loadEnterprise(ctx: Context, uscc: string): Promise<EnterpriseState> {
  return (await getJson<EnterpriseState>(ctx, keys.enterprise(ctx.stub, uscc))) ?? fail('ENTERPRISE_UNKNOWN', `enterprise ${uscc} is not registered`);
}

export async function loadEntry(ctx: Context, entryId: string): Promise<EntryState> {
  return (await getJson<EntryState>(ctx, keys.entry(ctx.stub, entryId))) ?? fail('NOT_FOUND', `catalogue entry ${entryId} does not exist`);
}

export async function loadRecord(ctx: Context, recordId: string): Promise<RecordState> {
  return (await getJson<RecordState>(ctx, keys.record(ctx.stub, recordId))) ?? fail('RECORD_UNKNOWN', `record ${recordId} is not anchored`);
}

/** Moves a record to `status`, keeping the change in its history. */
export function withStatus(record: RecordState, status: RecordStatus, at: string, txId: string): RecordState {
  return { ...record, status, history: [...record.history, { status, at, txId }] };
}

/** consents:GetConsent (schemas/json/ledger-consent.schema.json). */
export type ConsentState = LedgerConsent;

export async function loadConsent(ctx: Context, consentId: string): Promise<ConsentState> {
  return (await getJson<ConsentState>(ctx, keys.consent(ctx.stub, consentId))) ?? fail('CONSENT_UNKNOWN', `consent ${consentId} does not exist`);
}
