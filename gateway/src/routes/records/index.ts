/**
 * Publishing (POST /v1/records) and the publisher's own view of its records.
 * `Accept: application/x-ndjson` streams progress lines, then the result line.
 */
import { PassThrough } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { credexError, isCredexError, normalizeUscc } from '@credex/core';
import { errorText, httpStatusOf } from '../../errors';
import type { PublishInput, PublishProgress, PublishedRecord } from '../../services/publish';
import { MAX_RECORDS_PER_PUBLISH } from '../../services/publish';
import type { StoredRecord } from '../../store/store';
import { errorResponses, idParam, staffSecurity } from '../schemas';

const publishedRecord = {
  type: 'object',
  required: ['recordId', 'leafHash', 'batchId', 'index', 'size', 'proof', 'root', 'txId'],
  properties: {
    recordId: { type: 'string' },
    leafHash: { type: 'string' },
    batchId: { type: 'string' },
    index: { type: 'integer' },
    size: { type: 'integer', description: 'number of records in the anchored batch (Merkle tree size)' },
    proof: { type: 'array', items: { type: 'string' } },
    root: { type: 'string' },
    txId: { type: 'string' },
    blockNumber: { type: 'integer' },
  },
} as const;

const publishBody = {
  type: 'object',
  required: ['catalogueEntryId', 'records'],
  additionalProperties: false,
  properties: {
    catalogueEntryId: { type: 'string', minLength: 1, maxLength: 128 },
    records: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_RECORDS_PER_PUBLISH,
      description: 'credit records (schemas/json/credit-record.schema.json): {recordId, recordType, subject, issuedAt, supersedes?, fields}',
      items: { type: 'object' },
    },
  },
} as const;

const storedRecordSchema = {
  type: 'object',
  properties: {
    record: { type: 'object', additionalProperties: true, description: 'the sealed record: header, fields, salts, fieldDigests, leafHash' },
    batchId: { type: 'string' },
    index: { type: 'integer' },
    proof: { type: 'array', items: { type: 'string' } },
    root: { type: 'string' },
    txId: { type: 'string' },
  },
} as const;

function wantsNdjson(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('application/x-ndjson');
}

function errorLine(e: unknown): { type: 'error'; code: string; message: string } {
  if (isCredexError(e) && httpStatusOf(e.code) < 500) return { type: 'error', code: e.code, message: errorText(e) };
  return { type: 'error', code: isCredexError(e) ? e.code : 'INTERNAL', message: 'publish failed; see the gateway log' };
}

async function publishStreaming(app: FastifyInstance, request: FastifyRequest<{ Body: PublishInput }>, reply: FastifyReply): Promise<FastifyReply> {
  const stream = new PassThrough();
  let started!: () => void;
  const firstProgress = new Promise<void>((resolve) => (started = resolve));
  const onProgress = (p: PublishProgress): void => {
    stream.write(JSON.stringify({ type: 'progress', ...p }) + '\n');
    started();
  };
  const run = app.publisher.publish(request.body, { onProgress, log: request.log });
  // Input errors found before any progress are plain JSON errors with their status.
  await Promise.race([firstProgress, run]);
  run.then(
    (records) => stream.end(JSON.stringify({ type: 'result', records }) + '\n'),
    (e: unknown) => {
      request.log.warn({ err: e }, 'streamed publish failed');
      stream.end(JSON.stringify(errorLine(e)) + '\n');
    },
  );
  return reply.type('application/x-ndjson').send(stream);
}

function view(r: StoredRecord): Record<string, unknown> {
  return { record: r.sealed, batchId: r.batchId, index: r.index, proof: r.proof, root: r.root, txId: r.txId };
}

/** Routes under /v1/records. */
export default function recordsRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: PublishInput }>('/', {
    schema: {
      tags: ['records'],
      summary: 'Publish records of a catalogue entry: validate, seal, batch, store, anchor',
      description: 'Idempotent per recordId. With `Accept: application/x-ndjson` the response streams `{type:"progress",phase,done,total}` lines, then `{type:"result",records}` or `{type:"error",code,message}`.',
      security: staffSecurity,
      body: publishBody,
      response: { 200: { type: 'object', required: ['records'], properties: { records: { type: 'array', items: publishedRecord } } }, ...errorResponses },
    },
  }, async (request, reply) => {
    if (wantsNdjson(request)) return publishStreaming(app, request, reply);
    const records: PublishedRecord[] = await app.publisher.publish(request.body, { log: request.log });
    // JSON.stringify writes the records (exactly the schema's fields) in a third of the time the
    // schema's serializer takes for a large publish; a JSON string is sent as it is.
    return reply.type('application/json; charset=utf-8').send(JSON.stringify({ records }));
  });

  app.get<{ Params: { id: string } }>('/:id', {
    schema: {
      tags: ['records'], summary: 'One of this organization\'s anchored records, sealed, with its proof', security: staffSecurity,
      params: idParam, response: { 200: storedRecordSchema, ...errorResponses },
    },
  }, async (request) => {
    const record = await app.store.getRecord(request.params.id);
    if (record === undefined) throw credexError('RECORD_UNKNOWN', `no record ${request.params.id} in this gateway`);
    if (!record.anchored) throw credexError('RECORD_UNANCHORED', `record ${request.params.id} is not anchored yet`);
    return view(record);
  });

  app.get<{ Querystring: { subject: string } }>('/', {
    schema: {
      tags: ['records'], summary: 'This organization\'s anchored records about a subject', security: staffSecurity,
      querystring: { type: 'object', required: ['subject'], properties: { subject: { type: 'string' } } },
      response: { 200: { type: 'object', properties: { records: { type: 'array', items: storedRecordSchema } } }, ...errorResponses },
    },
  }, async (request) => {
    const subject = normalizeUscc(request.query.subject);
    const records = (await app.store.listRecordsBySubject(subject)).filter((r) => r.anchored);
    return { records: records.map(view) };
  });
  return Promise.resolve();
}
