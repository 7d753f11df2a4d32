/**
 * The one error handler: every error leaves as `{ code, message }` (plus `details` for client
 * errors) with the HTTP status of its stable code; 5xx details are logged, never returned.
 */
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance } from 'fastify';
import { isCredexError } from '@credex/core';
import { errorText, httpStatusOf } from '../errors';

/** The body of every error response. */
export interface ErrorBody {
  code: string;
  message: string;
  details?: Record<string, unknown>;
}

/** JSON Schema of {@link ErrorBody}, for route response schemas. */
export const errorBodySchema = {
  $id: 'ErrorBody',
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', description: 'stable UPPER_SNAKE error code' },
    message: { type: 'string' },
    details: { type: 'object', additionalProperties: true },
  },
} as const;

const FASTIFY_CODES: Readonly<Record<string, [string, number]>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 413],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 415],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['JSON_INVALID', 400],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['JSON_INVALID', 400],
  FST_ERR_CTP_INVALID_JSON_BODY: ['JSON_INVALID', 400],
};

const SERVER_MESSAGES: Readonly<Record<string, string>> = {
  LEDGER_UNAVAILABLE: 'the ledger is unavailable; try again later',
  LEDGER_TIMEOUT: 'the ledger did not answer in time; try again later',
};

function classify(err: FastifyError | Error): ErrorBody & { status: number } {
  if (isCredexError(err)) {
    const status = httpStatusOf(err.code);
    return { status, code: err.code, message: errorText(err), ...(err.details === undefined ? {} : { details: err.details }) };
  }
  const fe = err as FastifyError;
  if (fe.validation !== undefined) {
    return { status: 400, code: 'SCHEMA_INVALID', message: err.message, details: { in: fe.validationContext ?? 'request' } };
  }
  const mapped = FASTIFY_CODES[fe.code];
  if (mapped !== undefined) return { status: mapped[1], code: mapped[0], message: err.message };
  if (err instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(err.message))) {
    return { status: 400, code: 'JSON_INVALID', message: err.message };
  }
  if (fe.statusCode === 429) return { status: 429, code: 'RATE_LIMITED', message: err.message };
  if (fe.statusCode !== undefined && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, code: 'BAD_REQUEST', message: err.message };
  }
  return { status: 500, code: 'INTERNAL', message: err.message };
}

async function errorsPlugin(app: FastifyInstance): Promise<void> {
  app.addSchema(errorBodySchema);
  app.setErrorHandler((err: FastifyError | Error, request, reply) => {
    const { status, ...body } = classify(err);
    const txId = (err as { txId?: unknown }).txId;
    if (status >= 500) {
      request.log.error({ err, code: body.code, txId }, 'request failed');
      return reply.status(status).send({ code: body.code, message: SERVER_MESSAGES[body.code] ?? 'internal error; see the gateway log' });
    }
    request.log.info({ code: body.code, txId, status }, body.message);
    return reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    return reply.status(404).send({ code: 'ROUTE_NOT_FOUND', message: `no route ${request.method} ${request.url}` });
  });
  await Promise.resolve();
}

/** Error handler, not-found handler and the shared `ErrorBody` schema. */
export default fp(errorsPlugin, { name: 'credex-errors', fastify: '5.x' });
