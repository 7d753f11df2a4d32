/**
 * POST /v1/fetch — a bank's staff fetch records under a consent from the publisher's gateway;
 * every record comes back verified, with its report. Register with the prefix `/v1/fetch`
 * inside the staff scope.
 */
import type { FastifyInstance } from 'fastify';
import { createExchangeClient, type ExchangeClient, type FetchInput } from '../../exchange/client';
import { errorResponses, staffSecurity } from '../schemas';

const check = {
  type: 'object',
  required: ['name', 'ok'],
  properties: { name: { type: 'string' }, ok: { type: 'boolean' }, detail: { type: 'string' } },
} as const;

const report = {
  type: 'object',
  required: ['recordId', 'ok', 'checks'],
  properties: { recordId: { type: 'string' }, ok: { type: 'boolean' }, status: { type: 'string' }, checks: { type: 'array', items: check } },
} as const;

const fetchResult = {
  type: 'object',
  required: ['publisher', 'accessId', 'txId', 'records', 'notServed'],
  properties: {
    publisher: { type: 'string' },
    accessId: { type: 'string' },
    txId: { type: 'string' },
    records: {
      type: 'array',
      description: 'each verified record with its place in its anchored batch (batchId, index, proof, root) and its verification report; a record that failed verification is returned as its report only',
      items: {
        type: 'object',
        required: ['report'],
        properties: {
          record: { type: 'object', additionalProperties: true, description: 'DisclosedRecord: header and fields ({value, salt} or {digest} when withheld)' },
          batchId: { type: 'string', description: 'the anchored batch holding the record' },
          index: { type: 'integer', minimum: 0, description: 'the record\'s leaf index in its batch' },
          proof: { type: 'array', items: { type: 'string' }, description: 'RFC 6962 audit path, leaf to root (lowercase hex)' },
          root: { type: 'string', description: 'the batch\'s Merkle root as anchored on chain' },
          report,
        },
      },
    },
    notServed: {
      type: 'array',
      items: { type: 'object', required: ['recordId', 'code', 'message'], properties: { recordId: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;

const fetchBody = {
  type: 'object',
  required: ['consentId'],
  additionalProperties: false,
  properties: {
    consentId: { type: 'string', pattern: '^[0-9a-f]{64}$' },
    publisher: { type: 'string', minLength: 1, maxLength: 64, description: 'MSP id of the publisher; needed only when the consent covers several' },
    recordIds: { type: 'array', minItems: 1, maxItems: 10_000, uniqueItems: true, items: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } },
  },
} as const;

/** Options of the fetch route (tests may give their own client). */
export interface FetchRoutesOptions {
  client?: ExchangeClient;
}

/** Routes under /v1/fetch. */
export default async function fetchRoutes(app: FastifyInstance, opts: FetchRoutesOptions): Promise<void> {
  const client = opts.client ?? createExchangeClient({
    mspId: app.config.mspId,
    keys: app.config.keys,
    ledger: app.ledger,
    registry: app.registry,
  });
  app.post<{ Body: FetchInput }>('/', {
    schema: {
      tags: ['fetch'],
      summary: 'Fetch and verify records under a consent from the publisher\'s gateway',
      security: staffSecurity,
      body: fetchBody,
      response: { 200: fetchResult, ...errorResponses },
    },
  }, async (request) => {
    const result = await client.fetch(request.body);
    request.log.info({ accessId: result.accessId, txId: result.txId, publisher: result.publisher, records: result.records.length, failed: result.records.filter((r) => !r.report.ok).length }, 'fetched');
    return result;
  });
  await Promise.resolve();
}
