/**
 * A populated ledger for the contract tests: the five member organizations with real ed25519
 * and x25519 keys, two enterprises registered by GovMSP, catalogue entries, and anchored
 * batches of sealed fixture records (real leaf hashes and Merkle roots from @credex/core).
 */
import {
  newBoxKeyPair,
  newSigningKeyPair,
  signed as signedBy,
  statementId,
  type KeyPairB64u,
  type Signed,
  type StatementKind,
} from '@credex/core';
import {
  fixtureAccessRequest,
  fixtureConsent,
  fixtureEnterprise,
  fixtureEnterprises,
  fixtureEntryDraft,
  fixtureOrganization,
  fixtureOrgs,
  fixtureSealedBatch,
  type AccessRequest,
  type CatalogueEntry,
  type Consent,
  type RecordRef,
  type RecordType,
} from '@credex/schemas';
import { TestChaincode } from './harness';

export type MspId = keyof typeof fixtureOrgs;
export const MSP_IDS = Object.keys(fixtureOrgs) as MspId[];

export const SUBJECT = fixtureEnterprises.subject.uscc;
export const OTHER = fixtureEnterprises.other.uscc;

export interface AnchoredRecord {
  recordId: string;
  leafHash: string;
  entryId: string;
  /** The record's reference with its inclusion proof, as the ledger's record transactions take it. */
  ref: RecordRef;
}

export function signed<T>(kind: StatementKind, statement: T, key: KeyPairB64u): Signed<T> {
  return signedBy(kind, statement, key.secretKey);
}

export function json(value: unknown): string {
  return JSON.stringify(value);
}


export class World {
  readonly cc = new TestChaincode();
  readonly requestKeys = new Map<MspId, KeyPairB64u>(MSP_IDS.map((m) => [m, newSigningKeyPair()]));
  readonly enterpriseKeys = new Map<string, KeyPairB64u>([
    [SUBJECT, newSigningKeyPair()],
    [OTHER, newSigningKeyPair()],
  ]);
  private batchCount = 0;

  requestKey(mspId: MspId): KeyPairB64u {
    return this.requestKeys.get(mspId)!;
  }

  enterpriseKey(uscc: string): KeyPairB64u {
    return this.enterpriseKeys.get(uscc)!;
  }

  async registerOrganizations(): Promise<void> {
    for (const mspId of MSP_IDS) {
      const profile = fixtureOrganization(mspId, { requestKey: this.requestKey(mspId).publicKey, boxKey: newBoxKeyPair().publicKey });
      await this.cc.submit(mspId, 'participants:RegisterOrganization', json(profile));
    }
  }

  async registerEnterprises(): Promise<void> {
    await this.cc.submit('GovMSP', 'participants:RegisterEnterprise', json(fixtureEnterprise(this.enterpriseKey(SUBJECT).publicKey)));
    await this.cc.submit('GovMSP', 'participants:RegisterEnterprise', json(fixtureEnterprise(this.enterpriseKey(OTHER).publicKey, fixtureEnterprises.other)));
  }

  async createEntry(publisher: MspId, recordType: RecordType, overrides: Partial<CatalogueEntry> = {}): Promise<string> {
    const draft = fixtureEntryDraft({ publisher, recordType, ...overrides });
    await this.cc.submit(publisher, 'catalogue:CreateEntry', json(draft));
    return draft.entryId;
  }

  /** Seals fixture records of the entry's type and anchors them in one batch. */
  async anchor(
    publisher: MspId,
    entry: { entryId: string; recordType: RecordType; subject: string },
    count = 2,
    supersedes: (RecordRef | undefined)[] = [],
  ): Promise<AnchoredRecord[]> {
    const batchNo = ++this.batchCount;
    const { batch, leaves } = fixtureSealedBatch({ ...entry, publisher }, { count, idPrefix: `b${batchNo}r`, batchId: `batch-${batchNo}`, supersedes });
    await this.cc.submit(publisher, 'anchors:AnchorBatch', json(batch));
    return leaves.map((l) => ({ recordId: l.recordId, leafHash: l.leafHash, entryId: entry.entryId, ref: l.ref }));
  }

  signedConsent(overrides: Partial<Consent> = {}, key?: KeyPairB64u): Signed<Consent> {
    const statement = fixtureConsent(overrides);
    return signed('consent', statement, key ?? this.enterpriseKey(statement.subject));
  }

  async createConsent(overrides: Partial<Consent> = {}): Promise<string> {
    const consent = this.signedConsent(overrides);
    await this.cc.submit('BankMSP', 'consents:CreateConsent', json(consent));
    return statementId('consent', consent.statement);
  }

  /** One access of a RecordAccess group for the records `refs` name, signed by the grantee's request key; its id is the request's statement id. */
  access(consentId: string, refs: RecordRef[], overrides: Partial<AccessRequest> = {}, signer?: KeyPairB64u): {
    accessId: string;
    consentId: string;
    recordIds: string[];
    records: RecordRef[];
    request: Signed<AccessRequest>;
  } {
    const recordIds = refs.map((r) => r.recordId);
    const request = fixtureAccessRequest(consentId, recordIds, overrides);
    const key = signer ?? this.requestKey(request.grantee as MspId);
    return { accessId: statementId('access-request', request), consentId, recordIds, records: refs, request: signed('access-request', request, key) };
  }
}

/** The usual world: members, enterprises, a public licence entry (GovMSP) and a receivable entry (CoreMSP), each with anchored records. */
export async function standardWorld(): Promise<{
  world: World;
  licence: { entryId: string; records: AnchoredRecord[] };
  penalty: { entryId: string; records: AnchoredRecord[] };
  receivable: { entryId: string; records: AnchoredRecord[] };
}> {
  const world = new World();
  world.cc.setTime('2026-11-02T02:00:00.000Z');
  await world.registerOrganizations();
  await world.registerEnterprises();
  const licenceId = await world.createEntry('GovMSP', 'gov.admin-licence', { pricePerAccess: 200 });
  const penaltyId = await world.createEntry('GovMSP', 'gov.admin-penalty', { pricePerAccess: 300 });
  const receivableId = await world.createEntry('CoreMSP', 'sc.receivable-confirmation', { pricePerAccess: 500 });
  const licence = await world.anchor('GovMSP', { entryId: licenceId, recordType: 'gov.admin-licence', subject: SUBJECT });
  const penalty = await world.anchor('GovMSP', { entryId: penaltyId, recordType: 'gov.admin-penalty', subject: SUBJECT });
  const receivable = await world.anchor('CoreMSP', { entryId: receivableId, recordType: 'sc.receivable-confirmation', subject: SUBJECT });
  return {
    world,
    licence: { entryId: licenceId, records: licence },
    penalty: { entryId: penaltyId, records: penalty },
    receivable: { entryId: receivableId, records: receivable },
  };
}
