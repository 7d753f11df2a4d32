/** The member organizations' profiles as registered on chain. */
import type { FastifyInstance } from 'fastify';
import { errorResponses, ledgerObject, staffSecurity } from '../schemas';

/** Routes under /v1/organizations. */
export default function organizationRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', {
    schema: {
      tags: ['organizations'], summary: 'Every registered organization', security: staffSecurity,
      response: { 200: { type: 'object', properties: { organizations: { type: 'array', items: ledgerObject } } }, ...errorResponses },
    },
  }, async () => ({ organizations: await app.ledger.evaluate('participants', 'ListOrganizations') }));

  app.get<{ Params: { mspId: string } }>('/:mspId', {
    schema: {
      tags: ['organizations'], summary: 'One organization\'s profile', security: staffSecurity,
      params: { type: 'object', required: ['mspId'], properties: { mspId: { type: 'string' } } },
      response: { 200: ledgerObject, ...errorResponses },
    },
  }, async (request) => app.ledger.evaluate('participants', 'GetOrganization', request.params.mspId));
  return Promise.resolve();
}
