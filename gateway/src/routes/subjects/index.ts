/**
 * The enterprise's own view of the accesses to its data (知情权), without a staff token:
 * GET /v1/subjects/:uscc/accesses signed per RFC 9421 (ed25519, created, nonce, Content-Digest
 * of the empty body) by the key registered on chain for that USCC, with keyid
 * `enterprise:<USCC>`. A signature for another USCC than the path's is refused.
 */
import type { FastifyInstance } from 'fastify';
import { credexError, isCredexError, normalizeUscc } from '@credex/core';
import { verifyRequest } from '../../exchange/httpsig';
import { errorResponses, ledgerObject } from '../schemas';

const KEY_PREFIX = 'enterprise:';
const SKEW_SECONDS = 300;

/** Routes under /v1/subjects (signed by the enterprise, not the staff). */
export default function subjectRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { uscc: string } }>('/:uscc/accesses', {
    schema: {
      tags: ['subjects'],
      summary: 'Every registered access to the caller\'s own records (知情权), signed by the enterprise\'s key',
      description: 'RFC 9421 signature (covered: @method, @path, content-digest; params created, nonce, keyid="enterprise:<USCC>", alg="ed25519") by the ed25519 key registered for the USCC.',
      security: [{ httpMessageSignature: [] }],
      params: { type: 'object', required: ['uscc'], properties: { uscc: { type: 'string' } } },
      response: { 200: { type: 'object', properties: { subject: { type: 'string' }, accesses: { type: 'array', items: ledgerObject } } }, ...errorResponses },
    },
  }, async (request) => {
    const subject = normalizeUscc(request.params.uscc);
    const lookupKey = async (keyId: string): Promise<string | undefined> => {
      if (keyId !== KEY_PREFIX + subject) throw credexError('KEY_UNKNOWN', `this view is signed by ${KEY_PREFIX}${subject}, not ${keyId}`);
      try {
        return (await app.ledger.evaluate<{ publicKey: string }>('participants', 'GetEnterprise', subject)).publicKey;
      } catch (e) {
        if (isCredexError(e, 'ENTERPRISE_UNKNOWN')) return undefined;
        throw e;
      }
    };
    await verifyRequest(
      { method: request.method, path: request.url, headers: request.headers, body: new Uint8Array() },
      lookupKey,
      { now: Date.now(), skewSeconds: SKEW_SECONDS, nonces: app.store.nonces },
    );
    return { subject, accesses: await app.ledger.evaluate('access', 'ListBySubject', subject) };
  });
  return Promise.resolve();
}
