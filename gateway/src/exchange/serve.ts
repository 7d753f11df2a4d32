/**
 * The publisher's side of the exchange between organizations.
 *
 * POST /v1/exchange/fetch, in this order and no other: the HTTP message signature is verified
 * (the caller is its keyid) → the requested records' RecordRefs are taken from the store (the
 * ledger keeps batches, not records: the access names each record by its ref, which the ledger
 * proves against its batch root; a record this gateway does not hold anchored is RECORD_UNKNOWN,
 * as the ledger would say) → the access is registered on the ledger (group commit; nothing is
 * served or decided before its transaction has committed, and a refused registration serves
 * nothing) → each record is reduced to the consent's field scope (withheld fields as digests)
 * → negative records past retention are left out → the payload is boxed to the caller's
 * registered x25519 key. Each served record carries the status the registration reported.
 *
 * GET /v1/exchange/anchors/:recordId gives any registered organization the RecordRef of one of
 * this publisher's anchored records (hashes, no data), so an auditor or a subject's gateway can
 * read its status (anchors:GetRecord) or file an objection against it.
 *
 * Retention is decided after registration on purpose: deciding it before would answer an
 * unauthorized caller differently for an expired negative record, an oracle for what exists.
 */
import { credexError, statementId } from '@credex/core';
import type { Signed } from '@credex/core';
import { validate } from '@credex/schemas';
import type { AccessRequest, OrganizationProfile } from '@credex/schemas';
import { boxJson } from './box';
import type { LedgerClient } from '../ledger/client';
import type { Registry } from '../services/registry';
import type { Store, StoredRecord } from '../store/store';
import { refOf } from '../store/store';
import { createAccessRegistrar, type AccessRegistrar, type RegistrarOptions } from './group-commit';
import { verifyRequest, type VerifiedSignature } from './httpsig';
import { isPastRetention, reduceToScope } from './scope';
import type { ConsentOnChain, ExchangeAnchorResponse, ExchangeFetchBody, ExchangeFetchResponse, ExchangePayload, ExchangeRecordsBody, ExchangeRecordsResponse, NotServed, ServedRecord } from './types';

/** Accepted distance of a signature's `created` from now, in seconds. */
export const SIGNATURE_SKEW_SECONDS = 300;

/** What the exchange service needs of the gateway (G1's services). */
export interface ExchangeServeDeps {
  mspId: string;
  /** This gateway's x25519 box secret key (base64url). */
  boxSecretKey: string;
  ledger: Pick<LedgerClient, 'submit' | 'evaluate'>;
  store: Pick<Store, 'getRecords' | 'listRecordsBySubject' | 'nonces'>;
  registry: Pick<Registry, 'organization'>;
  /** Now in ms (tests). */
  now?: () => number;
  groupCommit?: RegistrarOptions;
}

/** An incoming request as the signature covers it. */
export interface SignedHttpRequest {
  method: string;
  /** The request target (path and query). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array;
}

/** The publisher's exchange service. */
export interface ExchangeServer {
  /** Verifies the request's HTTP message signature; the caller is the returned keyId. */
  authenticate(req: SignedHttpRequest): Promise<VerifiedSignature>;
  /** Registers, then serves, an authenticated caller's fetch. */
  fetch(caller: string, body: unknown): Promise<ExchangeFetchResponse>;
  /** The ids of this publisher's records a consent granted to `caller` covers. */
  recordsFor(caller: string, body: unknown): Promise<ExchangeRecordsResponse>;
  /** The RecordRef of one of this publisher's anchored records (RECORD_UNKNOWN otherwise). */
  anchorOf(recordId: string): Promise<ExchangeAnchorResponse>;
  /** Waits for pending registrations (shutdown). */
  drain(): Promise<void>;
}

const CONSENT_CACHE_LIMIT = 10_000;

/** Creates the publisher's exchange service. */
export function createExchangeServer(deps: ExchangeServeDeps): ExchangeServer {
  const now = deps.now ?? Date.now;
  const registrar: AccessRegistrar = createAccessRegistrar(deps.ledger, deps.groupCommit);
  // A consent's statement never changes (its status does, and the ledger decides that).
  const statements = new Map<string, Promise<ConsentOnChain>>();

  const consent = (consentId: string): Promise<ConsentOnChain> => {
    let hit = statements.get(consentId);
    if (hit === undefined) {
      hit = deps.ledger.evaluate<ConsentOnChain>('consents', 'GetConsent', consentId);
      if (statements.size >= CONSENT_CACHE_LIMIT) statements.clear();
      statements.set(consentId, hit);
      hit.catch(() => statements.delete(consentId));
    }
    return hit;
  };

  const requester = async (caller: string): Promise<OrganizationProfile> => {
    const org = await deps.registry.organization(caller);
    if (org === undefined) throw credexError('KEY_UNKNOWN', `organization ${caller} is not registered`);
    return org;
  };

  return {
    authenticate(req: SignedHttpRequest): Promise<VerifiedSignature> {
      return verifyRequest(
        { method: req.method, path: req.url, headers: req.headers, body: req.body },
        async (keyId) => (await deps.registry.organization(keyId))?.requestKey,
        { now: now(), skewSeconds: SIGNATURE_SKEW_SECONDS, nonces: deps.store.nonces },
      );
    },

    async fetch(caller: string, raw: unknown): Promise<ExchangeFetchResponse> {
      const body = parseFetchBody(raw);
      const request = body.request.statement;
      if (request.grantee !== caller) {
        throw credexError('FORBIDDEN', `the request is made for ${request.grantee} but signed by ${caller}`);
      }
      // The access request's own signature is not verified here, only by the chaincode (once per
      // endorsing peer), which refuses that access alone (SIGNATURE_INVALID, the same code and
      // HTTP status as a check here would give) and commits the rest of its group. A check here
      // would add nothing the ledger does not decide: the HTTP message signature just verified
      // was made with the same registered request key of `caller` (= the request's grantee) and
      // covers the body's Content-Digest, so the body, the signed request within it included, is
      // exactly what `caller` sent; a bad signature inside it can only cost the caller its own
      // access, never another caller's, and nothing is served unless the ledger registered it.
      const accessId = statementId('access-request', request);
      // The access names its records by RecordRef: only records this gateway holds anchored can be
      // named. The caller's profile (for its box key) and the store read go at once.
      const [org, stored] = await Promise.all([requester(caller), deps.store.getRecords(request.recordIds)]);
      const unknown = request.recordIds.filter((_, i) => stored[i]?.anchored !== true);
      if (unknown.length > 0) {
        throw credexError('RECORD_UNKNOWN', `${unknown.length} requested record(s) are not anchored records of ${deps.mspId}: ${unknown.slice(0, 5).join(', ')}`, { recordIds: unknown.slice(0, 100) });
      }
      const held = stored as StoredRecord[];
      const registration = await registrar.register({ accessId, consentId: body.consentId, recordIds: request.recordIds, records: held.map(refOf), request: body.request });

      // Registered and committed: only now is anything decided or served.
      const { statement } = await consent(body.consentId);
      const statuses = new Map(registration.records.map((r) => [r.recordId, r.status]));
      const records: ServedRecord[] = [];
      const notServed: NotServed[] = [];
      const t = now();
      request.recordIds.forEach((recordId, i) => {
        const r = held[i] as StoredRecord;
        if (r.sealed.header.subject !== statement.subject) notServed.push({ recordId, code: 'CONSENT_OUT_OF_SCOPE', message: `record ${recordId} is not about ${statement.subject}` });
        else if (isPastRetention(r.sealed, t)) notServed.push({ recordId, code: 'RETENTION_EXPIRED', message: `record ${recordId} is negative information past its 5-year retention (征信业管理条例 第十六条)` });
        else {
          const served: ServedRecord = { record: reduceToScope(r.sealed, statement.fieldScope), batchId: r.batchId, index: r.index, proof: r.proof, root: r.root };
          const status = statuses.get(recordId);
          if (status !== undefined) served.status = status;
          records.push(served);
        }
      });
      const payload: ExchangePayload = { accessId, txId: registration.txId, records, notServed };
      const box = boxJson(payload, org.boxKey, deps.boxSecretKey);
      return { accessId, txId: registration.txId, ...box };
    },

    async recordsFor(caller: string, raw: unknown): Promise<ExchangeRecordsResponse> {
      const body = parseRecordsBody(raw);
      let c: ConsentOnChain;
      try {
        // Status matters here, so the ledger is asked, not the cache.
        c = await deps.ledger.evaluate<ConsentOnChain>('consents', 'GetConsent', body.consentId);
      } catch (e) {
        if ((e as { code?: unknown }).code === 'NOT_FOUND') throw credexError('CONSENT_UNKNOWN', `consent ${body.consentId} does not exist`);
        throw e;
      }
      checkConsentFor(c, caller, now());
      const { catalogueEntryIds = [], recordTypes = [] } = c.statement.scope;
      const t = now();
      const all = await deps.store.listRecordsBySubject(c.subject);
      // A record is superseded only by a record of its own publisher about the same subject, so
      // this listing knows every supersession of ours: no ledger read per record.
      const superseded = new Set(all.filter((r) => r.anchored).flatMap((r) => (r.sealed.header.supersedes === undefined ? [] : [r.sealed.header.supersedes])));
      const live = all.filter(
        (r) => r.anchored && !superseded.has(r.sealed.header.recordId)
          && (catalogueEntryIds.includes(r.sealed.header.catalogueEntryId) || (recordTypes as string[]).includes(r.sealed.header.recordType)) && !isPastRetention(r.sealed, t),
      );
      return { recordIds: live.map((r) => r.sealed.header.recordId).sort() };
    },

    async anchorOf(recordId: string): Promise<ExchangeAnchorResponse> {
      const [r] = await deps.store.getRecords([recordId]);
      if (r?.anchored !== true) throw credexError('RECORD_UNKNOWN', `${recordId} is not an anchored record of ${deps.mspId}`);
      return { record: refOf(r) };
    },

    drain: () => registrar.drain(),
  };
}

// The same rules the chaincode applies at registration, for the read-only listing.
function checkConsentFor(c: ConsentOnChain, caller: string, now: number): void {
  if (c.grantee !== caller) throw credexError('CONSENT_WRONG_GRANTEE', `consent ${c.consentId} is not granted to ${caller}`);
  if (c.status !== 'active') throw credexError('CONSENT_REVOKED', `consent ${c.consentId} was revoked`);
  if (now < Date.parse(c.statement.notBefore)) throw credexError('CONSENT_NOT_YET_VALID', `consent ${c.consentId} is valid from ${c.statement.notBefore}`);
  if (now > Date.parse(c.statement.notAfter)) throw credexError('CONSENT_EXPIRED', `consent ${c.consentId} expired at ${c.statement.notAfter}`);
  if (c.uses >= c.statement.maxUses) throw credexError('CONSENT_EXHAUSTED', `consent ${c.consentId} has no uses left`);
}

const SHA256 = /^[0-9a-f]{64}$/;

function parseFetchBody(raw: unknown): ExchangeFetchBody {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw credexError('SCHEMA_INVALID', 'the body must be {consentId, recordIds?, request}');
  const { consentId, recordIds, request, ...rest } = raw as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw credexError('SCHEMA_INVALID', `unexpected body properties: ${Object.keys(rest).join(', ')}`);
  if (typeof consentId !== 'string' || !SHA256.test(consentId)) throw credexError('SCHEMA_INVALID', 'consentId must be 64 lowercase hex');
  const signed = validate('signed-access-request', request) as Signed<AccessRequest>;
  if (signed.statement.consentId !== consentId) throw credexError('REQUEST_MISMATCH', 'consentId differs from the signed request\'s');
  if (recordIds !== undefined) {
    const same = Array.isArray(recordIds) && recordIds.length === signed.statement.recordIds.length && recordIds.every((id, i) => id === signed.statement.recordIds[i]);
    if (!same) throw credexError('REQUEST_MISMATCH', 'recordIds differ from the signed request\'s');
  }
  return { consentId, request: signed };
}

function parseRecordsBody(raw: unknown): ExchangeRecordsBody {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw credexError('SCHEMA_INVALID', 'the body must be {consentId}');
  const { consentId, ...rest } = raw as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw credexError('SCHEMA_INVALID', `unexpected body properties: ${Object.keys(rest).join(', ')}`);
  if (typeof consentId !== 'string' || !SHA256.test(consentId)) throw credexError('SCHEMA_INVALID', 'consentId must be 64 lowercase hex');
  return { consentId };
}
