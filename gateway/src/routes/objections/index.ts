/**
 * Objections (异议申诉): submit an enterprise-signed objection; the publisher resolves it by
 * rejecting with a reason, or by correcting — publishing a superseding record in the same call.
 */
import type { FastifyInstance } from 'fastify';
import { canonicalize, credexError, normalizeUscc, statementId } from '@credex/core';
import type { Signed } from '@credex/core';
import type { Objection } from '@credex/schemas';
import { validate } from '@credex/schemas';
import type { PublishedRecord } from '../../services/publish';
import { errorResponses, idParam, ledgerObject, signedStatement, staffSecurity, submitted } from '../schemas';

interface Resolution {
  outcome: 'rejected' | 'corrected';
  reason: string;
  /** For `corrected`: the correcting record (its `supersedes` is set to the disputed record). */
  record?: Record<string, unknown>;
  /** For `corrected`: the entry to publish it under (default: the disputed record's entry). */
  catalogueEntryId?: string;
}

interface ObjectionState { objectionId: string; recordId: string; publisher: string; status: string }

/** Routes under /v1/objections. */
export default function objectionRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: Signed<Objection> & { record?: unknown; publisher?: string } }>('/', {
    schema: {
      tags: ['objections'], summary: 'Submit an objection signed by the record\'s subject (the record becomes disputed)', security: staffSecurity,
      description: 'The record is named to the ledger by its RecordRef: `record` when given, else from this gateway\'s store (it published the record), else from the gateway of `publisher`; neither: 400 RECORD_REF_REQUIRED.',
      body: {
        ...signedStatement,
        properties: {
          ...signedStatement.properties,
          record: { type: 'object', additionalProperties: true, description: 'the record\'s RecordRef (schemas/json/record-ref.schema.json)' },
          publisher: { type: 'string', minLength: 1, maxLength: 64, description: 'MSP id of the record\'s publisher, asked for its RecordRef' },
        },
      },
      response: { 201: submitted('objection'), ...errorResponses },
    },
  }, async (request, reply) => {
    const { record, publisher, ...rest } = request.body;
    const signed = validate('signed-objection', rest) as Signed<Objection>;
    const ref = await app.recordRefs.resolve(signed.statement.recordId, { ...(record === undefined ? {} : { record }), ...(publisher === undefined ? {} : { publisher }) });
    const { result, txId, blockNumber } = await app.ledger.submit('objections', 'FileObjection', canonicalize(signed), canonicalize(ref));
    request.log.info({ txId, objectionId: statementId('objection', signed.statement) }, 'objection filed');
    return reply.status(201).send({ objection: result, txId, blockNumber });
  });

  app.post<{ Params: { id: string }; Body: Resolution }>('/:id/resolve', {
    schema: {
      tags: ['objections'], summary: 'Resolve an objection against one of this organization\'s records', security: staffSecurity,
      params: idParam,
      body: {
        type: 'object', required: ['outcome', 'reason'], additionalProperties: false,
        properties: {
          outcome: { type: 'string', enum: ['rejected', 'corrected'] },
          reason: { type: 'string', minLength: 1, maxLength: 2000 },
          record: { type: 'object', description: 'for corrected: the correcting credit record' },
          catalogueEntryId: { type: 'string' },
        },
      },
      response: {
        200: { ...submitted('objection'), properties: { ...submitted('objection').properties as object, published: { type: 'object', additionalProperties: true } } },
        ...errorResponses,
      },
    },
  }, async (request) => {
    const { outcome, reason, record } = request.body;
    const objection = await app.ledger.evaluate<ObjectionState>('objections', 'GetObjection', request.params.id);
    if (objection.publisher !== app.config.mspId) {
      throw credexError('FORBIDDEN', `objection ${objection.objectionId} is against a record of ${objection.publisher}`);
    }
    if (objection.status !== 'open') throw credexError('OBJECTION_CLOSED', `objection ${objection.objectionId} is ${objection.status}`);
    let published: PublishedRecord | undefined;
    if (outcome === 'corrected') {
      if (record === undefined) throw credexError('RESOLUTION_INVALID', 'a correction needs the correcting record');
      // The disputed record is ours, so our store holds it (and the correction's supersession needs its ref from there).
      const disputed = await app.store.getRecord(objection.recordId);
      if (disputed === undefined) throw credexError('RECORD_UNKNOWN', `record ${objection.recordId} is not in this gateway's store`);
      const catalogueEntryId = request.body.catalogueEntryId ?? disputed.sealed.header.catalogueEntryId;
      [published] = await app.publisher.publish({ catalogueEntryId, records: [record] }, { supersedes: objection.recordId, log: request.log });
    } else if (record !== undefined) {
      throw credexError('RESOLUTION_INVALID', 'a rejection carries no record');
    }
    const resolution = {
      objectionId: objection.objectionId, outcome, reason,
      ...(published === undefined ? {} : { supersededBy: published.recordId }),
    };
    const { result, txId, blockNumber } = await app.ledger.submit('objections', 'ResolveObjection', canonicalize(resolution));
    request.log.info({ txId, objectionId: objection.objectionId, outcome }, 'objection resolved');
    return { objection: result, txId, blockNumber, ...(published === undefined ? {} : { published }) };
  });

  app.get<{ Querystring: { subject: string } }>('/', {
    schema: {
      tags: ['objections'], summary: 'Objections by subject', security: staffSecurity,
      querystring: { type: 'object', required: ['subject'], properties: { subject: { type: 'string' } } },
      response: { 200: { type: 'object', properties: { objections: { type: 'array', items: ledgerObject } } }, ...errorResponses },
    },
  }, async (request) => ({ objections: await app.ledger.evaluate('objections', 'ListBySubject', normalizeUscc(request.query.subject)) }));

  app.get('/overdue', {
    schema: {
      tags: ['objections'], summary: 'Open objections past their 20-day deadline', security: staffSecurity,
      response: { 200: { type: 'object', properties: { objections: { type: 'array', items: ledgerObject } } }, ...errorResponses },
    },
  }, async () => ({ objections: await app.ledger.evaluate('objections', 'ListOverdue') }));

  app.get<{ Params: { id: string } }>('/:id', {
    schema: { tags: ['objections'], summary: 'One objection', security: staffSecurity, params: idParam, response: { 200: ledgerObject, ...errorResponses } },
  }, async (request) => app.ledger.evaluate('objections', 'GetObjection', request.params.id));
  return Promise.resolve();
}
