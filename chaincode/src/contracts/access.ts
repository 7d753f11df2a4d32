import { Context, Info, Transaction } from 'fabric-contract-api';
import { assertUscc, statementId, verifyStatement } from '@credex/core';
import type { AccessGroup, AccessRequest, LedgerAccess, LedgerAccessResult } from '@credex/schemas';
import { MAX_BULK_ARGUMENT_BYTES, compareStrings, encode, exists, getJson, listJson, parseArgument, parseId, putIndex, putJson } from '../codec';
import { CredexContract } from '../contract';
import { describeError, fail } from '../errors';
import { keys, type KeyPrefix } from '../keys';
import { loadConsent, loadEntry, loadOrganization, newRecordCache, resolveRecord, type ConsentState, type EntryState, type OrganizationState, type RecordState } from '../state';
import { ledgerTime, requireMember, timeMs, type LedgerTime } from '../tx';
import { checkPeriod } from '../validation';

type AccessItem = AccessGroup['accesses'][number];

/** One registered access (查询使用登记), as access:GetAccess returns it (schemas/json/ledger-access.schema.json). */
export type AccessState = LedgerAccess;

/** The result of one access of access:RecordAccess (schemas/json/ledger-access-result.schema.json). */
export type AccessResult = LedgerAccessResult;

export interface FeeTotal {
  grantee: string;
  publisher: string;
  accesses: number;
  fee: number;
}

/** The event RecordAccess emits when it registers at least one access. */
export const ACCESS_REGISTERED_EVENT = 'AccessRegistered';

/**
 * The access register (查询使用登记). The publisher's gateway registers each fetch before it
 * serves a record; the chaincode checks the consent and the grantee's signed request and
 * counts the use. Fetches waiting together are registered in one transaction (group commit).
 */
@Info({ title: 'access', description: 'Access register and fees (查询使用登记, 使用者付费)' })
export class AccessContract extends CredexContract {
  constructor() {
    super('access');
  }

  /**
   * Registers a group of accesses by the caller, the records' publisher. Each access is checked
   * on its own: one that fails is reported with its code and not registered, and does not fail
   * the others. Emits AccessRegistered with the registered access ids.
   */
  @Transaction()
  async RecordAccess(ctx: Context, groupJson: string): Promise<string> {
    const publisher = requireMember(ctx);
    const group = parseArgument('access-group', groupJson, MAX_BULK_ARGUMENT_BYTES);
    const session = new RegistrationSession(ctx, publisher);
    const results: AccessResult[] = [];
    for (const access of group.accesses) {
      results.push(await session.register(access));
    }
    await session.writeConsents();
    await session.writeIndexes();
    const accessIds = results.filter((r) => r.ok).map((r) => r.accessId);
    if (accessIds.length > 0) {
      ctx.stub.setEvent(ACCESS_REGISTERED_EVENT, new TextEncoder().encode(encode({ accessIds, publisher, txId: ctx.stub.getTxID() })));
    }
    return encode({ results });
  }

  @Transaction(false)
  async GetAccess(ctx: Context, accessId: string): Promise<string> {
    const access = await getJson<AccessState>(ctx, keys.access(ctx.stub, parseId('accessId', accessId)));
    return encode(access ?? fail('NOT_FOUND', `access ${accessId} is not registered`));
  }

  @Transaction(false)
  async ListBySubject(ctx: Context, uscc: string): Promise<string> {
    return encode(await listAccesses(ctx, keys.accessesBySubject(assertUscc(uscc))));
  }

  @Transaction(false)
  async ListByGrantee(ctx: Context, mspId: string): Promise<string> {
    return encode(await listAccesses(ctx, keys.accessesByGrantee(parseId('mspId', mspId))));
  }

  @Transaction(false)
  async ListByPublisher(ctx: Context, mspId: string): Promise<string> {
    return encode(await listAccesses(ctx, keys.accessesByPublisher(parseId('mspId', mspId))));
  }

  /** Fees per (grantee, publisher) pair for one month `YYYY-MM` (使用者付费), sorted by pair. */
  @Transaction(false)
  async FeeTotals(ctx: Context, period: string): Promise<string> {
    const month = checkPeriod(period);
    const totals = new Map<string, FeeTotal>();
    for (const access of await listAccesses(ctx, keys.accessesByPeriod(month))) {
      const pair = `${access.grantee}\u0000${access.publisher}`;
      const total = totals.get(pair) ?? { grantee: access.grantee, publisher: access.publisher, accesses: 0, fee: 0 };
      total.accesses += 1;
      total.fee += access.fee;
      totals.set(pair, total);
    }
    const sorted = [...totals.entries()].sort(([a], [b]) => compareStrings(a, b)).map(([, total]) => total);
    return encode({ period: month, totals: sorted });
  }
}

// Each index key holds the ids of one transaction's accesses with that value.
async function listAccesses(ctx: Context, range: KeyPrefix): Promise<AccessState[]> {
  const accesses: AccessState[] = [];
  for (const accessIds of await listJson<string[]>(ctx, range)) {
    for (const accessId of accessIds) {
      const access = await getJson<AccessState>(ctx, keys.access(ctx.stub, accessId));
      if (access === undefined) {
        fail('INTERNAL', `index entry points to a missing access ${accessId}`);
      }
      accesses.push(access);
    }
  }
  return accesses;
}

/**
 * Registers the accesses of one transaction. Fabric does not let a transaction read its own
 * writes, so what this transaction already wrote (use counts, nonces, access ids) is kept here;
 * organizations and catalogue entries, which an access does not change, are read once per
 * transaction, and each consent used is written once, at the end, with its final use count.
 */
class RegistrationSession {
  private readonly now: LedgerTime;
  private readonly txId: string;
  private readonly consents = new Map<string, ConsentState>();
  private readonly organizations = new Map<string, OrganizationState>();
  private readonly entries = new Map<string, EntryState>();
  private readonly records = newRecordCache();
  private readonly accessIds = new Set<string>();
  private readonly requestNonces = new Set<string>();
  private readonly registered: AccessState[] = [];

  constructor(
    private readonly ctx: Context,
    private readonly publisher: string,
  ) {
    this.now = ledgerTime(ctx);
    this.txId = ctx.stub.getTxID();
  }

  async register(access: AccessItem): Promise<AccessResult> {
    try {
      const registered = await this.check(access);
      await this.write(registered);
      return {
        accessId: access.accessId,
        ok: true,
        fee: registered.access.fee,
        usesLeft: registered.consent.statement.maxUses - registered.consent.uses,
        records: registered.records.map((r) => ({ recordId: r.recordId, status: r.status })),
      };
    } catch (err) {
      const { code, message } = describeError(err);
      if (code === 'INTERNAL') {
        throw err;
      }
      return { accessId: access.accessId, ok: false, code, message };
    }
  }

  /**
   * Writes the register's indexes for this transaction's accesses: one key per distinct subject,
   * grantee, publisher and period, listing the ids of the accesses that have it.
   */
  async writeIndexes(): Promise<void> {
    const { ctx, now, txId } = this;
    const indexes = new Map<string, string[]>();
    const add = (key: string, accessId: string): void => {
      const ids = indexes.get(key);
      if (ids === undefined) indexes.set(key, [accessId]);
      else ids.push(accessId);
    };
    for (const access of this.registered) {
      add(keys.accessBySubject(ctx.stub, access.subject, now.iso, txId), access.accessId);
      add(keys.accessByGrantee(ctx.stub, access.grantee, now.iso, txId), access.accessId);
      add(keys.accessByPublisher(ctx.stub, access.publisher, now.iso, txId), access.accessId);
      add(keys.accessByPeriod(ctx.stub, access.period, now.iso, txId), access.accessId);
    }
    for (const [key, accessIds] of indexes) {
      await putJson(ctx, key, accessIds.sort());
    }
  }

  /** Writes every consent this transaction used, with its use count after the last access. */
  async writeConsents(): Promise<void> {
    for (const consent of this.consents.values()) {
      await putJson(this.ctx, keys.consent(this.ctx.stub, consent.consentId), consent);
    }
  }

  // Checks one access against the ledger and this transaction; writes nothing.
  private async check(access: AccessItem): Promise<Registration> {
    const { ctx } = this;
    if (this.accessIds.has(access.accessId)) {
      fail('ALREADY_EXISTS', `access ${access.accessId} is already registered`);
    }
    const request = access.request.statement;
    // The id names the signed request, whose nonce is used once: so the id is new exactly when
    // the nonce is, and no read of the access key is needed unless the nonce was used.
    const requestId = statementId('access-request', request);
    if (access.accessId !== requestId) {
      fail('REQUEST_MISMATCH', `access id ${access.accessId} is not the id of its signed request, ${requestId}`);
    }
    const recordIds = [...access.recordIds].sort();
    if (request.consentId !== access.consentId || !sameSortedIds(recordIds, [...request.recordIds].sort())) {
      fail('REQUEST_MISMATCH', `access ${access.accessId} does not name the consent and records of its signed request`);
    }
    const refs = [...access.records].sort((a, b) => compareStrings(a.recordId, b.recordId));
    if (!sameSortedIds(recordIds, refs.map((r) => r.recordId))) {
      fail('REQUEST_MISMATCH', `the record references of access ${access.accessId} do not name exactly its records`);
    }
    const granteeOrg = await this.organization(request.grantee);
    if (!verifyStatement('access-request', request, access.request.signature, granteeOrg.requestKey)) {
      fail('SIGNATURE_INVALID', `access request is not signed by the request key of ${request.grantee}`);
    }
    const nonceKey = keys.requestNonce(ctx.stub, request.grantee, request.nonce);
    if (this.requestNonces.has(nonceKey) || (await exists(ctx, nonceKey))) {
      if (await exists(ctx, keys.access(ctx.stub, access.accessId))) {
        fail('ALREADY_EXISTS', `access ${access.accessId} is already registered`);
      }
      fail('NONCE_REPLAYED', `request nonce ${request.nonce} of ${request.grantee} was already used`);
    }

    const consent = this.consents.get(access.consentId) ?? (await loadConsent(ctx, access.consentId));
    checkConsent(consent, request, this.now);
    const records: RecordState[] = [];
    for (const ref of refs) {
      records.push(await resolveRecord(ctx, ref, this.records));
    }
    const entries = new Map<string, EntryState>();
    for (const record of records) {
      if (record.publisher !== this.publisher) {
        fail('FORBIDDEN', `record ${record.recordId} is published by ${record.publisher}, not ${this.publisher}`);
      }
      if (record.status === 'withdrawn') {
        fail('RECORD_WITHDRAWN', `record ${record.recordId} was withdrawn by its publisher`);
      }
      if (!inScope(consent, record)) {
        fail('CONSENT_OUT_OF_SCOPE', `record ${record.recordId} (${record.recordType} of ${record.subject}) is outside consent ${consent.consentId}`);
      }
      const entry = await this.entry(record.catalogueEntryId);
      if (entry.status !== 'active') {
        fail('ENTRY_RETIRED', `catalogue entry ${entry.entryId} of record ${record.recordId} is retired`);
      }
      entries.set(entry.entryId, entry);
    }
    if (consent.uses >= consent.statement.maxUses) {
      fail('CONSENT_EXHAUSTED', `consent ${consent.consentId} has been used ${consent.uses} of ${consent.statement.maxUses} times`);
    }

    const entryIds = [...entries.keys()].sort();
    const fee = entryIds.reduce((sum, id) => sum + (entries.get(id)?.pricePerAccess ?? 0), 0);
    return {
      nonceKey,
      records,
      consent: { ...consent, uses: consent.uses + 1 },
      access: {
        accessId: access.accessId,
        consentId: consent.consentId,
        subject: consent.subject,
        grantee: request.grantee,
        publisher: this.publisher,
        purpose: request.purpose,
        recordIds,
        records: records.map((r) => ({ recordId: r.recordId, batchId: r.batchId })),
        catalogueEntryIds: entryIds,
        fee,
        request: access.request,
        at: this.now.iso,
        period: this.now.iso.slice(0, 7),
        txId: this.txId,
      },
    };
  }

  private async write({ access, consent, nonceKey }: Registration): Promise<void> {
    const { ctx } = this;
    await putJson(ctx, keys.access(ctx.stub, access.accessId), access);
    await putIndex(ctx, nonceKey);
    this.registered.push(access);
    this.consents.set(consent.consentId, consent);
    this.accessIds.add(access.accessId);
    this.requestNonces.add(nonceKey);
  }

  private async organization(mspId: string): Promise<OrganizationState> {
    const organization = this.organizations.get(mspId) ?? (await loadOrganization(this.ctx, mspId));
    this.organizations.set(mspId, organization);
    return organization;
  }

  private async entry(entryId: string): Promise<EntryState> {
    const entry = this.entries.get(entryId) ?? (await loadEntry(this.ctx, entryId));
    this.entries.set(entryId, entry);
    return entry;
  }
}

interface Registration {
  access: AccessState;
  /** The access's records as resolved before it, sorted by recordId. */
  records: RecordState[];
  /** The consent with this access counted. */
  consent: ConsentState;
  nonceKey: string;
}

// The ledger decides: revoked, outside its window, for another grantee or purpose → nothing.
function checkConsent(consent: ConsentState, request: AccessRequest, now: LedgerTime): void {
  if (consent.status === 'revoked') {
    fail('CONSENT_REVOKED', `consent ${consent.consentId} was revoked at ${consent.revokedAt ?? 'an earlier time'}`);
  }
  if (now.ms < timeMs(consent.statement.notBefore)) {
    fail('CONSENT_NOT_YET_VALID', `consent ${consent.consentId} is valid from ${consent.statement.notBefore}; ledger time is ${now.iso}`);
  }
  if (now.ms > timeMs(consent.statement.notAfter)) {
    fail('CONSENT_EXPIRED', `consent ${consent.consentId} expired at ${consent.statement.notAfter}; ledger time is ${now.iso}`);
  }
  if (request.grantee !== consent.grantee) {
    fail('CONSENT_WRONG_GRANTEE', `consent ${consent.consentId} is granted to ${consent.grantee}, not ${request.grantee}`);
  }
  if (request.purpose !== consent.statement.purpose) {
    fail('CONSENT_WRONG_PURPOSE', `consent ${consent.consentId} is for ${consent.statement.purpose}, not ${request.purpose}`);
  }
}

function inScope(consent: ConsentState, record: RecordState): boolean {
  const { catalogueEntryIds = [], recordTypes = [] } = consent.statement.scope;
  return record.subject === consent.subject && (catalogueEntryIds.includes(record.catalogueEntryId) || (recordTypes as string[]).includes(record.recordType));
}

function sameSortedIds(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}
