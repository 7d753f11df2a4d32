/**
 * The requester's side of the exchange (a bank fetching under a consent): find the publisher's
 * gateway and keys in the on-chain registry, sign the access request and the HTTP request,
 * call, open the box, and verify every record against the ledger. Nothing unverified is
 * returned as data: a record that fails is returned only as its failing report.
 */
import { randomBytes, sign } from 'node:crypto';
import { b64u, credexError, isCredexError, statementBytes } from '@credex/core';
import type { DisclosedRecord, Signed } from '@credex/core';
import { validate } from '@credex/schemas';
import type { AccessRequest, CatalogueEntry, OrganizationProfile } from '@credex/schemas';
import type { LedgerClient } from '../ledger/client';
import type { Registry } from '../services/registry';
import { openJson } from './box';
import { ed25519PrivateKey, signRequest } from './httpsig';
import type { ConsentOnChain, ExchangeFetchResponse, ExchangePayload, ExchangeRecordsResponse, NotServed, RecordRef, ServedRecord } from './types';
import { ledgerAnchorSource, verifyServedRecords, type AnchorSource, type CheckName, type VerificationReport } from './verify';

/** What the bank's staff asks for. */
export interface FetchInput {
  consentId: string;
  /** MSP id of the publisher to fetch from; needed only when the consent covers several. */
  publisher?: string;
  /** Which records; by default every record of the publisher the consent covers. */
  recordIds?: string[];
}

/**
 * One fetched record: the disclosed record with its place in the anchored batch (batch, index,
 * RFC 6962 proof, root), so that it can be verified again offline, and its report; or only a
 * failing report.
 */
export interface FetchedRecord {
  record?: DisclosedRecord;
  batchId?: string;
  index?: number;
  /** RFC 6962 audit path, leaf to root. */
  proof?: string[];
  root?: string;
  report: VerificationReport;
}

/** The answer to the bank's staff. */
export interface FetchResult {
  publisher: string;
  accessId: string;
  txId: string;
  /** Every served record verified, each with its report. */
  records: FetchedRecord[];
  /** Records the publisher registered but did not serve (e.g. RETENTION_EXPIRED). */
  notServed: NotServed[];
}

/** What the exchange client needs of the gateway. */
export interface ExchangeClientDeps {
  mspId: string;
  keys: { requestKey: { secretKey: string }; boxKey: { secretKey: string } };
  ledger: Pick<LedgerClient, 'evaluate'>;
  registry: Pick<Registry, 'organization'>;
  /** Where anchors are read for verification (default: the ledger, batches cached). */
  anchors?: AnchorSource;
  /** HTTP transport (default: global fetch). */
  http?: typeof fetch;
  /** Deadline of one call to a publisher, ms (default 60 s). */
  timeoutMs?: number;
  now?: () => number;
}

/** The bank side of the exchange. */
export interface ExchangeClient {
  fetch(input: FetchInput): Promise<FetchResult>;
}

/** Signs an access request with an ed25519 secret key (node:crypto; same bytes as core's signStatement). */
export function signAccessRequest(request: AccessRequest, secretKey: string): Signed<AccessRequest> {
  const signature = sign(null, statementBytes('access-request', request), ed25519PrivateKey(secretKey));
  return { statement: request, signature: b64u(signature) };
}

const decoder = new TextDecoder();

/** What a signed call to another organization's gateway needs. */
export interface GatewayCallDeps {
  mspId: string;
  keys: { requestKey: { secretKey: string } };
  http?: typeof fetch;
  timeoutMs?: number;
}

/**
 * Calls another organization's exchange route, RFC 9421-signed with our request key; a GET is
 * signed over an empty body. Its error code is passed on.
 *
 * @throws CredexError PUBLISHER_UNREACHABLE, PUBLISHER_ANSWER_INVALID, or the answer's own code
 */
export async function callGateway<T>(deps: GatewayCallDeps, org: OrganizationProfile, method: 'GET' | 'POST', path: string, payload?: unknown): Promise<T> {
  const http = deps.http ?? fetch;
  const url = new URL(path, org.gatewayUrl.endsWith('/') ? org.gatewayUrl : `${org.gatewayUrl}/`);
  const body = method === 'GET' ? new Uint8Array(0) : new TextEncoder().encode(JSON.stringify(payload));
  const headers = signRequest({ method, url: url.href, body }, { keyId: deps.mspId, secretKey: deps.keys.requestKey.secretKey });
  let res: Response;
  try {
    res = await http(url, {
      method, ...(method === 'GET' ? {} : { body }), headers: method === 'GET' ? headers : { ...headers, 'content-type': 'application/json' },
      signal: AbortSignal.timeout(deps.timeoutMs ?? 60_000),
    });
  } catch (e) {
    throw credexError('PUBLISHER_UNREACHABLE', `the gateway of ${org.mspId} at ${url.origin} did not answer: ${(e as Error).message}`, { publisher: org.mspId }, e);
  }
  const text = decoder.decode(await res.arrayBuffer());
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw credexError('PUBLISHER_ANSWER_INVALID', `the gateway of ${org.mspId} answered ${res.status} without JSON`, { publisher: org.mspId, status: res.status });
  }
  if (!res.ok) {
    const { code, message } = json as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]*$/.test(code)) {
      throw credexError(code, typeof message === 'string' ? message : `refused by ${org.mspId}`, { publisher: org.mspId, status: res.status });
    }
    throw credexError('PUBLISHER_ANSWER_INVALID', `the gateway of ${org.mspId} answered ${res.status}`, { publisher: org.mspId, status: res.status });
  }
  return json as T;
}

/**
 * Asks a publisher's gateway where one of its records is anchored (GET /v1/exchange/anchors/:id):
 * its RecordRef, checked to be well formed and about `recordId`. Hashes only; the ledger proves it.
 *
 * @throws CredexError ORG_UNKNOWN, RECORD_UNKNOWN (the publisher's answer), PUBLISHER_*
 */
export async function requestRecordRef(deps: GatewayCallDeps & { registry: Pick<Registry, 'organization'> }, publisher: string, recordId: string): Promise<RecordRef> {
  const org = await deps.registry.organization(publisher);
  if (org === undefined) throw credexError('ORG_UNKNOWN', `publisher ${publisher} is not registered`);
  const answer = await callGateway<{ record?: unknown }>(deps, org, 'GET', `v1/exchange/anchors/${encodeURIComponent(recordId)}`);
  let ref: RecordRef;
  try {
    ref = validate('record-ref', answer.record);
  } catch (e) {
    throw credexError('PUBLISHER_ANSWER_INVALID', `the gateway of ${publisher} answered no RecordRef: ${(e as Error).message}`, { publisher }, e);
  }
  if (ref.recordId !== recordId) throw credexError('PUBLISHER_ANSWER_INVALID', `the gateway of ${publisher} answered the ref of ${ref.recordId}, not ${recordId}`, { publisher });
  return ref;
}

/** Creates the exchange client of one gateway. */
export function createExchangeClient(deps: ExchangeClientDeps): ExchangeClient {
  const http = deps.http ?? fetch;
  const now = deps.now ?? Date.now;
  const anchors = deps.anchors ?? ledgerAnchorSource(deps.ledger);
  const timeoutMs = deps.timeoutMs ?? 60_000;

  const call = <T>(org: OrganizationProfile, path: string, payload: unknown): Promise<T> => callGateway<T>({ mspId: deps.mspId, keys: deps.keys, http, timeoutMs }, org, 'POST', path, payload);

  const publisherOf = async (c: ConsentOnChain, given: string | undefined): Promise<string> => {
    if (given !== undefined) return given;
    const { catalogueEntryIds = [], recordTypes = [] } = c.statement.scope;
    const publishers = new Set<string>();
    for (const id of catalogueEntryIds) {
      const entry = await deps.ledger.evaluate<CatalogueEntry>('catalogue', 'GetEntry', id).catch(() => undefined);
      if (entry !== undefined) publishers.add(entry.publisher);
    }
    if (recordTypes.length > 0) {
      const entries = await deps.ledger.evaluate<CatalogueEntry[]>('catalogue', 'ListBySubject', c.subject);
      for (const e of entries) if ((recordTypes as string[]).includes(e.recordType) && e.status === 'active') publishers.add(e.publisher);
    }
    const [only, ...more] = publishers;
    if (only === undefined) throw credexError('PUBLISHER_NOT_FOUND', `no catalogue entry of consent ${c.consentId} names a publisher`);
    if (more.length > 0) throw credexError('PUBLISHER_REQUIRED', `consent ${c.consentId} covers records of ${[...publishers].sort().join(', ')}; name one as publisher`, { publishers: [...publishers].sort() });
    return only;
  };

  return {
    async fetch(input: FetchInput): Promise<FetchResult> {
      const c = await deps.ledger.evaluate<ConsentOnChain>('consents', 'GetConsent', input.consentId).catch((e: unknown) => {
        if (isCredexError(e, 'NOT_FOUND')) throw credexError('CONSENT_UNKNOWN', `consent ${input.consentId} does not exist`);
        throw e;
      });
      if (c.grantee !== deps.mspId) throw credexError('CONSENT_WRONG_GRANTEE', `consent ${c.consentId} is granted to ${c.grantee}, not ${deps.mspId}`);
      const publisher = await publisherOf(c, input.publisher);
      const org = await deps.registry.organization(publisher);
      if (org === undefined) throw credexError('ORG_UNKNOWN', `publisher ${publisher} is not registered`);

      const recordIds = input.recordIds ?? (await call<ExchangeRecordsResponse>(org, 'v1/exchange/records', { consentId: c.consentId })).recordIds;
      if (recordIds.length === 0) throw credexError('RECORD_NOT_FOUND', `${publisher} holds no record that consent ${c.consentId} covers`);
      const request = signAccessRequest({
        consentId: c.consentId, grantee: deps.mspId, purpose: c.statement.purpose, recordIds,
        nonce: b64u(randomBytes(16)), created: new Date(now()).toISOString(),
      }, deps.keys.requestKey.secretKey);
      const answer = await call<ExchangeFetchResponse>(org, 'v1/exchange/fetch', { consentId: c.consentId, request });
      if (typeof answer.nonce !== 'string' || typeof answer.ciphertext !== 'string') {
        throw credexError('PUBLISHER_ANSWER_INVALID', `the gateway of ${publisher} answered without a box`);
      }
      const payload = openJson(answer, org.boxKey, deps.keys.boxKey.secretKey) as Partial<ExchangePayload>;
      if (payload.accessId !== answer.accessId || payload.txId !== answer.txId || !Array.isArray(payload.records)) {
        throw credexError('PUBLISHER_ANSWER_INVALID', `the boxed payload of ${publisher} does not match its envelope`);
      }
      const served = payload.records;
      const reports = await verifyServedRecords(served, anchors, { publisher, subject: c.subject });
      const decrypt = { name: 'decrypt' as CheckName, ok: true };
      const requested = new Set(recordIds);
      const records = reports.map((report, i): FetchedRecord => {
        const full = { ...report, checks: [decrypt, ...report.checks] };
        // A record we did not ask for is not covered by the registered access: never data.
        if (!requested.has(report.recordId)) {
          return { report: { ...full, ok: false, checks: [...full.checks, { name: 'anchor', ok: false, detail: 'not one of the requested records' }] } };
        }
        if (!report.ok) return { report: full };
        const { record, batchId, index, proof, root } = served[i] as ServedRecord;
        return { record, batchId, index, proof, root, report: full };
      });
      const notServed: NotServed[] = Array.isArray(payload.notServed) ? payload.notServed.filter((n) => typeof n.recordId === 'string' && requested.has(n.recordId)) : [];
      const answered = new Set([...reports.map((r) => r.recordId), ...notServed.map((n) => n.recordId)]);
      for (const id of recordIds) {
        if (!answered.has(id)) notServed.push({ recordId: id, code: 'NOT_SERVED', message: `${publisher} registered the access but returned nothing for ${id}` });
      }
      return { publisher, accessId: answer.accessId, txId: answer.txId, records, notServed };
    },
  };
}
