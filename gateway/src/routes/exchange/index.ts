/**
 * The exchange between organizations (POST /v1/exchange/*), authenticated by RFC 9421 HTTP
 * message signatures, not by staff tokens. Register with the prefix `/v1/exchange`, outside
 * the staff scope.
 *
 * The body is kept as bytes for the Content-Digest; the signature is verified in preValidation,
 * before the body is parsed or validated and before anything else happens.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { credexError } from '@credex/core';
import { createExchangeServer, type ExchangeServer } from '../../exchange/serve';
import type { RegistrarOptions } from '../../exchange/group-commit';
import type { VerifiedSignature } from '../../exchange/httpsig';
import { errorResponses } from '../schemas';

declare module 'fastify' {
  interface FastifyRequest {
    /** The raw body of an exchange request, as its Content-Digest covers it. */
    exchangeRawBody?: Buffer;
    /** Who signed an exchange request (its keyid, an MSP id). */
    exchangeCaller?: VerifiedSignature;
  }
}

/** Options of the exchange routes. */
export interface ExchangeRoutesOptions {
  /** Group commit tuning (tests, benches). */
  groupCommit?: RegistrarOptions;
  /** Now in ms (tests). */
  now?: () => number;
}

const signatureSecurity = [{ httpMessageSignature: [] }];

const boxedAnswer = {
  type: 'object',
  required: ['accessId', 'txId', 'nonce', 'ciphertext'],
  properties: {
    accessId: { type: 'string', description: 'the registered access (access:GetAccess)' },
    txId: { type: 'string', description: 'the transaction that registered the access' },
    nonce: { type: 'string', description: 'nacl.box nonce, 24 bytes, base64url' },
    ciphertext: { type: 'string', description: 'nacl.box of the JSON {accessId, txId, records: [{record, batchId, index, proof, root}], notServed}, base64url' },
  },
} as const;

const fetchBody = {
  type: 'object',
  required: ['consentId', 'request'],
  properties: {
    consentId: { type: 'string' },
    recordIds: { type: 'array', items: { type: 'string' } },
    request: { type: 'object', description: 'Signed<AccessRequest> (schemas/json/signed-access-request.schema.json), signed with the caller\'s requestKey' },
  },
} as const;

function caller(request: FastifyRequest): string {
  const who = request.exchangeCaller;
  if (who === undefined) throw credexError('SIGNATURE_MISSING', 'the request is not signed');
  return who.keyId;
}

/** Routes under /v1/exchange. */
export default function exchangeRoutes(app: FastifyInstance, opts: ExchangeRoutesOptions): Promise<void> {
  const server: ExchangeServer = createExchangeServer({
    mspId: app.config.mspId,
    boxSecretKey: app.config.keys.boxKey.secretKey,
    ledger: app.ledger,
    store: app.store,
    registry: app.registry,
    ...(opts.now === undefined ? {} : { now: opts.now }),
    ...(opts.groupCommit === undefined ? {} : { groupCommit: opts.groupCommit }),
  });
  app.addHook('onClose', () => server.drain());

  // Keep the exact bytes; parse JSON only after the signature has been checked.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    request.exchangeRawBody = body as Buffer;
    done(null, undefined);
  });
  app.addHook('preValidation', async (request) => {
    request.exchangeCaller = await server.authenticate({
      method: request.method, url: request.url, headers: request.headers, body: request.exchangeRawBody ?? Buffer.alloc(0),
    });
    // A GET is signed over an empty body; it has nothing to parse.
    if (request.method === 'GET') return;
    const raw = request.exchangeRawBody;
    if (raw === undefined || raw.length === 0) throw credexError('JSON_INVALID', 'the body must be JSON');
    try {
      request.body = JSON.parse(raw.toString('utf8'));
    } catch (e) {
      throw credexError('JSON_INVALID', `the body is not JSON: ${(e as Error).message}`);
    }
  });

  app.post('/fetch', {
    schema: {
      tags: ['exchange'],
      summary: 'Fetch records under a consent (organization to organization; registered on the ledger before anything is served)',
      security: signatureSecurity,
      body: fetchBody,
      response: { 200: boxedAnswer, ...errorResponses },
    },
  }, async (request) => server.fetch(caller(request), request.body));

  app.post('/records', {
    schema: {
      tags: ['exchange'],
      summary: 'The ids of this publisher\'s records a consent granted to the caller covers',
      security: signatureSecurity,
      body: { type: 'object', required: ['consentId'], properties: { consentId: { type: 'string' } } },
      response: { 200: { type: 'object', required: ['recordIds'], properties: { recordIds: { type: 'array', items: { type: 'string' } } } }, ...errorResponses },
    },
  }, async (request) => server.recordsFor(caller(request), request.body));

  app.get<{ Params: { recordId: string } }>('/anchors/:recordId', {
    schema: {
      tags: ['exchange'],
      summary: 'Where one of this publisher\'s records is anchored: its RecordRef (batch, index, leaf hash, inclusion proof; hashes, no data), for any registered organization',
      security: signatureSecurity,
      params: { type: 'object', required: ['recordId'], properties: { recordId: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$' } } },
      response: {
        200: {
          type: 'object', required: ['record'],
          properties: {
            record: {
              type: 'object', required: ['recordId', 'batchId', 'index', 'leafHash', 'proof'],
              description: 'RecordRef (schemas/json/record-ref.schema.json)',
              properties: { recordId: { type: 'string' }, batchId: { type: 'string' }, index: { type: 'integer' }, leafHash: { type: 'string' }, proof: { type: 'array', items: { type: 'string' } } },
            },
          },
        },
        ...errorResponses,
      },
    },
  }, async (request) => {
    caller(request);
    return server.anchorOf(request.params.recordId);
  });
  return Promise.resolve();
}
