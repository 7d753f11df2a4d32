/** Consents (数据授权): submit enterprise-signed consents and revocations; list them. */
import type { FastifyInstance } from 'fastify';
import { canonicalize, credexError, normalizeUscc, statementId } from '@credex/core';
import type { Signed } from '@credex/core';
import type { Consent, Revocation } from '@credex/schemas';
import { validate } from '@credex/schemas';
import { errorResponses, idParam, ledgerObject, signedStatement, staffSecurity, submitted } from '../schemas';

/** Routes under /v1/consents. */
export default function consentRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: Signed<Consent> }>('/', {
    schema: {
      tags: ['consents'], summary: 'Submit a consent signed by the subject enterprise (CreateConsent)', security: staffSecurity,
      body: signedStatement, response: { 201: { ...submitted('consent'), properties: { ...submitted('consent').properties as object, consentId: { type: 'string' } } }, ...errorResponses },
    },
  }, async (request, reply) => {
    const signed = validate('signed-consent', request.body) as Signed<Consent>;
    const { result, txId, blockNumber } = await app.ledger.submit('consents', 'CreateConsent', canonicalize(signed));
    const consentId = statementId('consent', signed.statement);
    request.log.info({ txId, consentId }, 'consent created');
    return reply.status(201).send({ consentId, consent: result, txId, blockNumber });
  });

  app.post<{ Body: Signed<Revocation> }>('/revoke', {
    schema: {
      tags: ['consents'], summary: 'Submit a revocation signed by the subject enterprise (RevokeConsent)', security: staffSecurity,
      body: signedStatement, response: { 200: submitted('consent'), ...errorResponses },
    },
  }, async (request) => {
    const signed = validate('signed-revocation', request.body) as Signed<Revocation>;
    const { result, txId, blockNumber } = await app.ledger.submit('consents', 'RevokeConsent', canonicalize(signed));
    request.log.info({ txId, consentId: signed.statement.consentId }, 'consent revoked');
    return { consent: result, txId, blockNumber };
  });

  app.get<{ Querystring: { subject?: string; grantee?: string } }>('/', {
    schema: {
      tags: ['consents'], summary: 'List consents by subject (USCC) or grantee (MSP id)', security: staffSecurity,
      querystring: { type: 'object', properties: { subject: { type: 'string' }, grantee: { type: 'string' } } },
      response: { 200: { type: 'object', properties: { consents: { type: 'array', items: ledgerObject } } }, ...errorResponses },
    },
  }, async (request) => {
    const { subject, grantee } = request.query;
    if (subject !== undefined) return { consents: await app.ledger.evaluate('consents', 'ListBySubject', normalizeUscc(subject)) };
    if (grantee !== undefined) return { consents: await app.ledger.evaluate('consents', 'ListByGrantee', grantee) };
    throw credexError('QUERY_INVALID', 'give ?subject=<USCC> or ?grantee=<MSP id>');
  });

  app.get<{ Params: { id: string } }>('/:id', {
    schema: { tags: ['consents'], summary: 'One consent', security: staffSecurity, params: idParam, response: { 200: ledgerObject, ...errorResponses } },
  }, async (request) => app.ledger.evaluate('consents', 'GetConsent', request.params.id));
  return Promise.resolve();
}
