/**
 * Per-caller rate limits (429 RATE_LIMITED): a caller is a staff token, an organization's
 * signing key id, or else an address.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import rateLimit from '@fastify/rate-limit';
import { credexError } from '@credex/core';
import { callerKey } from './auth';

async function rateLimitPlugin(app: FastifyInstance, opts: { perMinute: number }): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    max: opts.perMinute,
    timeWindow: 60_000,
    keyGenerator: callerKey,
    errorResponseBuilder: (_request, context) =>
      credexError('RATE_LIMITED', `more than ${context.max} requests in ${context.after}; retry later`, { retryAfter: context.after }),
  });
}

/** Per-caller rate limits. */
export default fp(rateLimitPlugin, { name: 'credex-rate-limit', fastify: '5.x' });
