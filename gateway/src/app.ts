/**
 * The gateway application: a Fastify plugin that registers the plugins (errors, docs, rate
 * limits, services), then the routes — staff and auditor routes behind the staff token, and
 * the exchange between organizations (authenticated by HTTP message signatures instead).
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { GatewayConfig } from './config';
import type { LedgerClient } from './ledger/client';
import type { Store } from './store/store';
import errorsPlugin from './plugins/errors';
import docsPlugin from './plugins/docs';
import rateLimitPlugin from './plugins/rate-limit';
import servicesPlugin from './plugins/services';
import { staffAuth } from './plugins/auth';
import recordsRoutes from './routes/records/index';
import catalogueRoutes from './routes/catalogue/index';
import consentRoutes from './routes/consents/index';
import enterpriseRoutes from './routes/enterprises/index';
import objectionRoutes from './routes/objections/index';
import organizationRoutes from './routes/organizations/index';
import auditRoutes from './routes/audit/index';
import exchangeRoutes from './routes/exchange/index';
import fetchRoutes from './routes/fetch/index';
import subjectRoutes from './routes/subjects/index';

/** Options of the application plugin. */
export interface AppOptions {
  config: GatewayConfig;
  /** A ledger client to use instead of connecting to `config.ledger` (tests). */
  ledger?: LedgerClient;
  /** A store to use instead of opening `<dataDir>/store` (tests). */
  store?: Store;
  /** Period of outbox/registration retries in ms (default 15 s; 0 = none). */
  maintenanceMs?: number;
}

/** The application plugin. */
export async function app(fastify: FastifyInstance, opts: AppOptions): Promise<void> {
  const { config } = opts;
  await fastify.register(errorsPlugin);
  await fastify.register(docsPlugin, { mspId: config.mspId, publicUrl: config.publicUrl });
  await fastify.register(rateLimitPlugin, { perMinute: config.limits.ratePerMinute });
  await fastify.register(servicesPlugin, { config, ledger: opts.ledger, store: opts.store, maintenanceMs: opts.maintenanceMs });
  // The publisher's seal workers (started by the first large publish) stop with the app.
  fastify.addHook('onClose', () => fastify.publisher.close());

  // The request id of the logs, for the caller to quote.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });

  fastify.get('/health', {
    schema: { tags: ['health'], summary: 'Liveness', response: { 200: { type: 'object', properties: { ok: { type: 'boolean' }, mspId: { type: 'string' } } } } },
  }, () => ({ ok: true, mspId: config.mspId }));

  // Staff and auditor routes: one scope, one authentication hook.
  await fastify.register(async (staff) => {
    staff.addHook('onRequest', staffAuth(config.staffTokens));
    await staff.register(recordsRoutes, { prefix: '/v1/records' });
    await staff.register(catalogueRoutes, { prefix: '/v1/catalogue' });
    await staff.register(consentRoutes, { prefix: '/v1/consents' });
    await staff.register(enterpriseRoutes, { prefix: '/v1/enterprises' });
    await staff.register(objectionRoutes, { prefix: '/v1/objections' });
    await staff.register(organizationRoutes, { prefix: '/v1/organizations' });
    await staff.register(auditRoutes, { prefix: '/v1/audit' });
    await staff.register(fetchRoutes, { prefix: '/v1/fetch' });
  });

  // Between organizations: authenticated by HTTP message signatures (G2), in a scope of its own.
  await fastify.register(exchangeRoutes, { prefix: '/v1/exchange' });
  // The enterprise's own access history, signed by the enterprise's key.
  await fastify.register(subjectRoutes, { prefix: '/v1/subjects' });
}

/** Fastify server options for a gateway: limits, request ids, logging, strict validation. */
export function serverOptions(config: GatewayConfig, logger: FastifyServerOptions['logger'] = { level: config.logLevel }): FastifyServerOptions {
  return {
    logger,
    bodyLimit: config.limits.bodyBytes,
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  };
}

/** Builds a ready gateway (not listening): for `server.ts` and for tests with `inject`. */
export async function buildApp(opts: AppOptions & { logger?: FastifyServerOptions['logger'] }): Promise<FastifyInstance> {
  const fastify = Fastify(serverOptions(opts.config, opts.logger));
  // Not encapsulated, so the returned instance carries the decorations (config, ledger, store…).
  await fastify.register(fp(app, { name: 'credex-gateway', fastify: '5.x' }), opts);
  await fastify.ready();
  return fastify;
}
