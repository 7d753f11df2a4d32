/**
 * OpenAPI 3 from the route schemas (@fastify/swagger), served with a docs page at /docs
 * (@fastify/swagger-ui). Registered before the routes so that it sees them all.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';

async function docsPlugin(app: FastifyInstance, opts: { mspId: string; publicUrl: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: `credex gateway — ${opts.mspId}`,
        description: 'An organization\'s gateway to the credex credit data exchange: publish, catalogue, consents, objections, fetch and audit.',
        version: '0.1.0',
      },
      servers: [{ url: opts.publicUrl }],
      components: {
        securitySchemes: {
          staffToken: { type: 'http', scheme: 'bearer' },
          httpMessageSignature: { type: 'apiKey', in: 'header', name: 'Signature', description: 'RFC 9421 HTTP Message Signature (ed25519) with Signature-Input and Content-Digest; keyid = the caller\'s MSP id' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

/** OpenAPI document at /docs/json and a docs page at /docs. */
export default fp(docsPlugin, { name: 'credex-docs', fastify: '5.x' });
