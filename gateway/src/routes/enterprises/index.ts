/** Enterprises: the government organization binds a USCC to the enterprise's ed25519 key. */
import type { FastifyInstance } from 'fastify';
import { canonicalize, normalizeUscc } from '@credex/core';
import { validate } from '@credex/schemas';
import { errorResponses, ledgerObject, signedStatement, staffSecurity, submitted } from '../schemas';

interface NewEnterprise { uscc: string; name: string; publicKey: string }

/** Routes under /v1/enterprises. */
export default function enterpriseRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: NewEnterprise }>('/', {
    schema: {
      tags: ['enterprises'], summary: 'Register an enterprise\'s key (government organizations only)', security: staffSecurity,
      body: {
        type: 'object', required: ['uscc', 'name', 'publicKey'], additionalProperties: false,
        properties: { uscc: { type: 'string' }, name: { type: 'string' }, publicKey: { type: 'string', description: 'ed25519, base64url' } },
      },
      response: { 201: submitted('enterprise'), ...errorResponses },
    },
  }, async (request, reply) => {
    const enterprise = validate('enterprise', { ...request.body, uscc: normalizeUscc(request.body.uscc) });
    const { result, txId, blockNumber } = await app.ledger.submit('participants', 'RegisterEnterprise', canonicalize(enterprise));
    request.log.info({ txId, uscc: enterprise.uscc }, 'enterprise registered');
    return reply.status(201).send({ enterprise: result, txId, blockNumber });
  });

  app.post('/rotate-key', {
    schema: {
      tags: ['enterprises'], summary: 'Submit a key rotation signed by the enterprise\'s current key', security: staffSecurity,
      body: signedStatement, response: { 200: submitted('enterprise'), ...errorResponses },
    },
  }, async (request) => {
    const signed = validate('signed-key-rotation', request.body);
    const { result, txId, blockNumber } = await app.ledger.submit('participants', 'RotateEnterpriseKey', canonicalize(signed));
    return { enterprise: result, txId, blockNumber };
  });

  app.get<{ Params: { uscc: string } }>('/:uscc', {
    schema: {
      tags: ['enterprises'], summary: 'An enterprise and its key history', security: staffSecurity,
      params: { type: 'object', required: ['uscc'], properties: { uscc: { type: 'string' } } },
      response: { 200: ledgerObject, ...errorResponses },
    },
  }, async (request) => app.ledger.evaluate('participants', 'GetEnterprise', normalizeUscc(request.params.uscc)));
  return Promise.resolve();
}
