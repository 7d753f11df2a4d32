/**
 * Staff authentication: `Authorization: Bearer <token>` against the configured staff tokens,
 * compared in constant time. Register {@link staffAuth} as an `onRequest` hook on the scope
 * that holds staff routes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { credexError } from '@credex/core';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The bearer token of a request, if it carries one. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/** An onRequest hook that lets only requests with a configured staff token through. */
export function staffAuth(tokens: readonly string[]): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const digests = tokens.map(digest);
  return (request: FastifyRequest): Promise<void> => {
    const token = bearerToken(request);
    if (token !== undefined) {
      const given = digest(token);
      if (digests.some((d) => timingSafeEqual(d, given))) return Promise.resolve();
    }
    return Promise.reject(credexError('STAFF_AUTH_REQUIRED', 'this route needs a staff token: Authorization: Bearer <token>'));
  };
}

/** A stable, non-secret key for a caller: its token's hash, its signing key id, or its address. */
export function callerKey(request: FastifyRequest): string {
  const token = bearerToken(request);
  if (token !== undefined) return 'staff:' + digest(token).toString('hex').slice(0, 16);
  const input = request.headers['signature-input'];
  const keyId = typeof input === 'string' ? /keyid="([^"]+)"/.exec(input)?.[1] : undefined;
  // The keyid is not verified yet here: keep a forged one from spending another org's budget.
  if (keyId !== undefined) return `org:${keyId}@${request.ip}`;
  return 'ip:' + request.ip;
}
