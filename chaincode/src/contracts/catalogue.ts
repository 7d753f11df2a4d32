import { Context, Info, Transaction } from 'fabric-contract-api';
import { assertUscc } from '@credex/core';
import { maxDataGrade } from '@credex/schemas';
import { encode, exists, listIndexed, parseId, parseJson, putIndex, putJson } from '../codec';
import { CredexContract } from '../contract';
import { fail } from '../errors';
import { publisherRoleOf, roleOf } from '../governance';
import { keys, type KeyPrefix } from '../keys';
import { loadEntry, loadOrganization, type EntryState } from '../state';
import { callerMspId, ledgerTime, requireMember } from '../tx';
import { checkSchema } from '../validation';

/**
 * The data catalogue (数据目录): one entry per dataset of one record type about one subject,
 * offered by one publisher at a price per access. Listed by subject, publisher and type.
 */
@Info({ title: 'catalogue', description: 'Data catalogue entries (数据目录)' })
export class CatalogueContract extends CredexContract {
  constructor() {
    super('catalogue');
  }

  /** Creates an entry published by the caller; status and createdAt are set by the ledger. */
  @Transaction()
  async CreateEntry(ctx: Context, entryJson: string): Promise<string> {
    const publisher = requireMember(ctx);
    const draft = withLedgerFields(parseJson(entryJson), ledgerTime(ctx).iso);
    const entry: EntryState = checkSchema('catalogue-entry', draft);
    if (entry.publisher !== publisher) {
      fail('FORBIDDEN', `${publisher} may publish entries only in its own name, not ${entry.publisher}`);
    }
    const role = publisherRoleOf(entry.recordType);
    if (role !== roleOf(publisher)) {
      fail('FORBIDDEN', `${entry.recordType} records are published by ${role ?? 'no'} organizations, and ${publisher} is not one`);
    }
    if (entry.dataGrade !== maxDataGrade(entry.recordType)) {
      fail('SCHEMA_INVALID', `dataGrade of ${entry.recordType} is ${maxDataGrade(entry.recordType)}, the highest grade of its fields, not ${entry.dataGrade}`);
    }
    await loadOrganization(ctx, publisher);
    const key = keys.entry(ctx.stub, entry.entryId);
    if (await exists(ctx, key)) {
      fail('ALREADY_EXISTS', `catalogue entry ${entry.entryId} already exists`);
    }
    await putJson(ctx, key, entry);
    await putIndex(ctx, keys.entryBySubject(ctx.stub, entry.subject, entry.entryId));
    await putIndex(ctx, keys.entryByPublisher(ctx.stub, entry.publisher, entry.entryId));
    await putIndex(ctx, keys.entryByType(ctx.stub, entry.recordType, entry.entryId));
    return encode(entry);
  }

  @Transaction(false)
  async GetEntry(ctx: Context, entryId: string): Promise<string> {
    return encode(await loadEntry(ctx, parseId('entryId', entryId)));
  }

  @Transaction(false)
  async ListBySubject(ctx: Context, uscc: string): Promise<string> {
    return encode(await listEntries(ctx, keys.entriesBySubject(assertUscc(uscc))));
  }

  @Transaction(false)
  async ListByPublisher(ctx: Context, mspId: string): Promise<string> {
    return encode(await listEntries(ctx, keys.entriesByPublisher(parseId('mspId', mspId))));
  }

  @Transaction(false)
  async ListByType(ctx: Context, recordType: string): Promise<string> {
    return encode(await listEntries(ctx, keys.entriesByType(parseId('recordType', recordType))));
  }

  /** Takes an entry off the catalogue: no new batches, no new accesses. Its publisher only. */
  @Transaction()
  async RetireEntry(ctx: Context, entryId: string): Promise<string> {
    const entry = await loadEntry(ctx, parseId('entryId', entryId));
    const caller = callerMspId(ctx);
    if (entry.publisher !== caller) {
      fail('FORBIDDEN', `only ${entry.publisher} may retire entry ${entry.entryId}`);
    }
    if (entry.status === 'retired') {
      fail('ENTRY_RETIRED', `catalogue entry ${entry.entryId} is already retired`);
    }
    const retired: EntryState = { ...entry, status: 'retired', retiredAt: ledgerTime(ctx).iso };
    await putJson(ctx, keys.entry(ctx.stub, entry.entryId), retired);
    return encode(retired);
  }
}

function listEntries(ctx: Context, range: KeyPrefix): Promise<EntryState[]> {
  return listIndexed<EntryState>(ctx, range, (id) => keys.entry(ctx.stub, id));
}

// The ledger, not the caller, says when an entry was created and that it starts active.
function withLedgerFields(draft: unknown, createdAt: string): unknown {
  if (typeof draft !== 'object' || draft === null || Array.isArray(draft)) {
    return draft;
  }
  if ('status' in draft || 'createdAt' in draft) {
    fail('SCHEMA_INVALID', 'status and createdAt of a catalogue entry are set by the ledger');
  }
  return { ...draft, status: 'active', createdAt };
}
