import type { Context } from 'fabric-contract-api';
import { fail } from './errors';

/**
 * Every ledger key of the chaincode is built here, so no two contracts can collide and the
 * layout reads in one place. Primary objects are `type [id]` (a record's status key is
 * `record [batchId, recordId]`); most indexes are `type~by [value, id]` composite keys whose
 * value is a one-byte marker and whose last attribute is the object's id. Two hold a JSON list
 * instead: the access register's per-transaction indexes and a batch's record status list.
 */
type Stub = Context['stub'];

/** A partial composite key: everything under it is listed by one range read. */
export interface KeyPrefix {
  objectType: string;
  attributes: string[];
}

const MAX_ATTRIBUTE_LENGTH = 256;

// U+0000 separates composite key attributes and U+10FFFF ends their ranges.
function checkAttribute(value: string): string {
  if (value.length === 0 || value.length > MAX_ATTRIBUTE_LENGTH || value.includes('\u0000') || value.includes('\u{10FFFF}')) {
    fail('SCHEMA_INVALID', `key attribute ${JSON.stringify(value.slice(0, 40))} must be 1-${MAX_ATTRIBUTE_LENGTH} characters without U+0000 or U+10FFFF`);
  }
  return value;
}

function key(stub: Stub, objectType: string, attributes: string[]): string {
  return stub.createCompositeKey(objectType, attributes.map(checkAttribute));
}

function prefix(objectType: string, attributes: string[] = []): KeyPrefix {
  return { objectType, attributes: attributes.map(checkAttribute) };
}

/** The last attribute of an index key: the id of the object it points to. */
export function idOfIndexKey(stub: Stub, indexKey: string): string {
  const { attributes } = stub.splitCompositeKey(indexKey);
  const id = attributes[attributes.length - 1];
  if (id === undefined) {
    fail('INTERNAL', `index key without attributes`);
  }
  return id;
}

export const keys = {
  organization: (stub: Stub, mspId: string): string => key(stub, 'org', [mspId]),
  organizations: (): KeyPrefix => prefix('org'),

  enterprise: (stub: Stub, uscc: string): string => key(stub, 'enterprise', [uscc]),
  /** Nonces of an enterprise's signed statements (consents, revocations, objections, key rotations). */
  enterpriseNonce: (stub: Stub, uscc: string, nonce: string): string => key(stub, 'nonce~enterprise', [uscc, nonce]),
  /** Nonces of an organization's signed access requests. */
  requestNonce: (stub: Stub, mspId: string, nonce: string): string => key(stub, 'nonce~request', [mspId, nonce]),

  entry: (stub: Stub, entryId: string): string => key(stub, 'entry', [entryId]),
  entryBySubject: (stub: Stub, subject: string, entryId: string): string => key(stub, 'entry~subject', [subject, entryId]),
  entriesBySubject: (subject: string): KeyPrefix => prefix('entry~subject', [subject]),
  entryByPublisher: (stub: Stub, publisher: string, entryId: string): string => key(stub, 'entry~publisher', [publisher, entryId]),
  entriesByPublisher: (publisher: string): KeyPrefix => prefix('entry~publisher', [publisher]),
  entryByType: (stub: Stub, recordType: string, entryId: string): string => key(stub, 'entry~type', [recordType, entryId]),
  entriesByType: (recordType: string): KeyPrefix => prefix('entry~type', [recordType]),

  batch: (stub: Stub, batchId: string): string => key(stub, 'batch', [batchId]),
  /**
   * A record's status, written only once it differs from "active as anchored" (or the record
   * supersedes another). Keyed by batch too: two publishers' equal record ids never collide.
   */
  record: (stub: Stub, batchId: string, recordId: string): string => key(stub, 'record', [batchId, recordId]),
  /**
   * The ids of a batch's records that have a status key (a canonical JSON array, sorted), so a
   * transaction reads one key per batch instead of one per record to learn which have changed.
   */
  recordStatusList: (stub: Stub, batchId: string): string => key(stub, 'record~status', [batchId]),

  consent: (stub: Stub, consentId: string): string => key(stub, 'consent', [consentId]),
  consentBySubject: (stub: Stub, subject: string, consentId: string): string => key(stub, 'consent~subject', [subject, consentId]),
  consentsBySubject: (subject: string): KeyPrefix => prefix('consent~subject', [subject]),
  consentByGrantee: (stub: Stub, grantee: string, consentId: string): string => key(stub, 'consent~grantee', [grantee, consentId]),
  consentsByGrantee: (grantee: string): KeyPrefix => prefix('consent~grantee', [grantee]),

  access: (stub: Stub, accessId: string): string => key(stub, 'access', [accessId]),
  /**
   * The access register's indexes are per transaction, not per access: one key per distinct
   * value among a transaction's accesses, `access~by [value, at, txId]` holding the ids of those
   * accesses (a canonical JSON array), so a group of accesses writes a few index keys, and a
   * range lists accesses in ledger-time order.
   */
  accessBySubject: (stub: Stub, subject: string, at: string, txId: string): string => key(stub, 'access~subject', [subject, at, txId]),
  accessesBySubject: (subject: string): KeyPrefix => prefix('access~subject', [subject]),
  accessByGrantee: (stub: Stub, grantee: string, at: string, txId: string): string => key(stub, 'access~grantee', [grantee, at, txId]),
  accessesByGrantee: (grantee: string): KeyPrefix => prefix('access~grantee', [grantee]),
  accessByPublisher: (stub: Stub, publisher: string, at: string, txId: string): string => key(stub, 'access~publisher', [publisher, at, txId]),
  accessesByPublisher: (publisher: string): KeyPrefix => prefix('access~publisher', [publisher]),
  /** Period is the ledger month `YYYY-MM` of the access, for fee totals. */
  accessByPeriod: (stub: Stub, period: string, at: string, txId: string): string => key(stub, 'access~period', [period, at, txId]),
  accessesByPeriod: (period: string): KeyPrefix => prefix('access~period', [period]),

  objection: (stub: Stub, objectionId: string): string => key(stub, 'objection', [objectionId]),
  objectionBySubject: (stub: Stub, subject: string, objectionId: string): string => key(stub, 'objection~subject', [subject, objectionId]),
  objectionsBySubject: (subject: string): KeyPrefix => prefix('objection~subject', [subject]),
  objectionByPublisher: (stub: Stub, publisher: string, objectionId: string): string => key(stub, 'objection~publisher', [publisher, objectionId]),
  objectionsByPublisher: (publisher: string): KeyPrefix => prefix('objection~publisher', [publisher]),
  /** Open objections ordered by deadline (RFC 3339 UTC strings of one length sort as times). */
  openObjection: (stub: Stub, deadline: string, objectionId: string): string => key(stub, 'objection~open', [deadline, objectionId]),
  openObjections: (): KeyPrefix => prefix('objection~open'),
};
