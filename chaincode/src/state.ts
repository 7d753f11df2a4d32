import type { Context } from 'fabric-contract-api';
import { verifyInclusion } from '@credex/core';
import type { LedgerBatch, LedgerConsent, LedgerRecord, RecordRef } from '@credex/schemas';
import { fail } from './errors';
import type { Role } from './governance';
import { keys } from './keys';
import { getJson, putJson } from './codec';

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

/**
 * What one transaction has read of batches and of their status lists (Fabric does not let a
 * transaction read its own writes), so each is read once per transaction.
 */
export interface RecordCache {
  batches: Map<string, BatchState>;
  /** Per batch: the ids of its records with a status key, as on the ledger plus this transaction's. */
  statusLists: Map<string, Set<string>>;
}

export function newRecordCache(): RecordCache {
  return { batches: new Map(), statusLists: new Map() };
}

/** A leaf of a batch with its inclusion proof: a RecordRef without its batch id. */
export type ProvenLeaf = Pick<RecordRef, 'recordId' | 'index' | 'leafHash' | 'proof'>;

/** RECORD_PROOF_INVALID unless `leaf` is at its index of the batch with this root and size. */
export function checkInclusion(leaf: ProvenLeaf, batch: Pick<BatchState, 'batchId' | 'root' | 'size'>): void {
  if (leaf.index >= batch.size || !verifyInclusion(leaf.leafHash, leaf.index, batch.size, leaf.proof, batch.root)) {
    fail('RECORD_PROOF_INVALID', `record ${leaf.recordId}: leaf ${leaf.leafHash} is not at index ${leaf.index} of batch ${batch.batchId} (size ${batch.size}, root ${batch.root})`);
  }
}

/**
 * The record a reference names, with its status: its batch is anchored (RECORD_UNKNOWN), the
 * leaf is at its index under the batch's root (RECORD_PROOF_INVALID), and a status key, if
 * one was written, is about that same leaf (RECORD_PROOF_INVALID). Without a status key the
 * record is as anchored: active since its batch's transaction. Whether a record has a status
 * key is read from its batch's status list, once per batch and transaction.
 *
 * The ledger cannot check that `ref.recordId` is the id the leaf commits to (it has no record
 * header); whoever holds the record can, and the status key is per (batch, record id).
 */
export async function resolveRecord(ctx: Context, ref: RecordRef, cache: RecordCache = newRecordCache()): Promise<RecordState> {
  const batch = cache.batches.get(ref.batchId) ?? (await getJson<BatchState>(ctx, keys.batch(ctx.stub, ref.batchId)));
  if (batch === undefined) {
    fail('RECORD_UNKNOWN', `record ${ref.recordId}: batch ${ref.batchId} is not anchored`);
  }
  cache.batches.set(batch.batchId, batch);
  checkInclusion(ref, batch);
  if (!(await statusList(ctx, batch.batchId, cache)).has(ref.recordId)) {
    return anchoredRecord(batch, ref);
  }
  const stored = await getJson<RecordState>(ctx, keys.record(ctx.stub, ref.batchId, ref.recordId));
  if (stored === undefined) {
    fail('INTERNAL', `record ${ref.recordId} of batch ${ref.batchId} is listed with a status but has none`);
  }
  if (stored.leafHash !== ref.leafHash || stored.index !== ref.index) {
    fail('RECORD_PROOF_INVALID', `record ${ref.recordId} of batch ${ref.batchId} is the leaf ${stored.leafHash} at index ${stored.index}, not ${ref.leafHash} at ${ref.index}`);
  }
  return stored;
}

/** A record of a batch as anchored: active since the batch's transaction. */
export function anchoredRecord(batch: BatchState, leaf: Pick<RecordRef, 'recordId' | 'index' | 'leafHash'>): RecordState {
  return {
    recordId: leaf.recordId,
    batchId: batch.batchId,
    index: leaf.index,
    leafHash: leaf.leafHash,
    publisher: batch.publisher,
    subject: batch.subject,
    recordType: batch.recordType,
    catalogueEntryId: batch.catalogueEntryId,
    status: 'active',
    history: [{ status: 'active', at: batch.anchoredAt, txId: batch.txId }],
  };
}

/**
 * Writes records' status keys, and once each the status list of every batch that gains a record:
 * the only way a status key is written, so a list always names every record that has one.
 */
export async function saveRecords(ctx: Context, records: readonly RecordState[], cache: RecordCache): Promise<void> {
  const grown = new Map<string, Set<string>>();
  for (const record of records) {
    await putJson(ctx, keys.record(ctx.stub, record.batchId, record.recordId), record);
    const listed = await statusList(ctx, record.batchId, cache);
    if (!listed.has(record.recordId)) {
      listed.add(record.recordId);
      grown.set(record.batchId, listed);
    }
  }
  for (const [batchId, listed] of grown) {
    await putJson(ctx, keys.recordStatusList(ctx.stub, batchId), [...listed].sort());
  }
}

async function statusList(ctx: Context, batchId: string, cache: RecordCache): Promise<Set<string>> {
  let listed = cache.statusLists.get(batchId);
  if (listed === undefined) {
    listed = new Set(await getJson<string[]>(ctx, keys.recordStatusList(ctx.stub, batchId)));
    cache.statusLists.set(batchId, listed);
  }
  return listed;
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
