/** The catalogue (数据目录): this organization's entries — create, list, retire. */
import type { FastifyInstance } from 'fastify';
import { canonicalize, credexError, normalizeUscc } from '@credex/core';
import { isRecordType, maxDataGrade } from '@credex/schemas';
import { errorResponses, idParam, ledgerObject, staffSecurity, submitted } from '../schemas';

interface NewEntry {
  entryId?: string;
  subject: string;
  recordType: string;
  title: string;
  pricePerAccess: number;
}

/** Routes under /v1/catalogue. */
export default function catalogueRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: NewEntry }>('/', {
    schema: {
      tags: ['catalogue'], summary: 'Create a catalogue entry published by this organization', security: staffSecurity,
      body: {
        type: 'object', required: ['subject', 'recordType', 'title', 'pricePerAccess'], additionalProperties: false,
        properties: {
          entryId: { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,128}$', description: 'default: <mspId>.<recordType>.<subject>' },
          subject: { type: 'string', description: 'USCC of the enterprise the records are about' },
          recordType: { type: 'string' },
          title: { type: 'string', minLength: 1, maxLength: 200 },
          pricePerAccess: { type: 'integer', minimum: 0, description: 'fen per access' },
        },
      },
      response: { 201: submitted('entry'), ...errorResponses },
    },
  }, async (request, reply) => {
    const { recordType, title, pricePerAccess } = request.body;
    const subject = normalizeUscc(request.body.subject);
    if (!isRecordType(recordType)) throw credexError('RECORD_TYPE_UNKNOWN', `no credit record type ${JSON.stringify(recordType)}`);
    const entry = {
      entryId: request.body.entryId ?? `${app.config.mspId}.${recordType}.${subject}`,
      subject, publisher: app.config.mspId, recordType, title, dataGrade: maxDataGrade(recordType), pricePerAccess,
    };
    const { result, txId, blockNumber } = await app.ledger.submit('catalogue', 'CreateEntry', canonicalize(entry));
    request.log.info({ txId, entryId: entry.entryId }, 'catalogue entry created');
    return reply.status(201).send({ entry: result, txId, blockNumber });
  });

  app.get<{ Querystring: { subject?: string; publisher?: string; recordType?: string } }>('/', {
    schema: {
      tags: ['catalogue'], summary: 'List entries by subject, publisher or record type (default: this organization\'s)', security: staffSecurity,
      querystring: { type: 'object', properties: { subject: { type: 'string' }, publisher: { type: 'string' }, recordType: { type: 'string' } } },
      response: { 200: { type: 'object', properties: { entries: { type: 'array', items: ledgerObject } } }, ...errorResponses },
    },
  }, async (request) => {
    const { subject, publisher, recordType } = request.query;
    let entries: unknown[];
    if (subject !== undefined) entries = await app.ledger.evaluate('catalogue', 'ListBySubject', normalizeUscc(subject));
    else if (recordType !== undefined) entries = await app.ledger.evaluate('catalogue', 'ListByType', recordType);
    else entries = await app.ledger.evaluate('catalogue', 'ListByPublisher', publisher ?? app.config.mspId);
    return { entries };
  });

  app.get<{ Params: { id: string } }>('/:id', {
    schema: { tags: ['catalogue'], summary: 'One catalogue entry', security: staffSecurity, params: idParam, response: { 200: ledgerObject, ...errorResponses } },
  }, async (request) => app.ledger.evaluate('catalogue', 'GetEntry', request.params.id));

  app.post<{ Params: { id: string } }>('/:id/retire', {
    schema: { tags: ['catalogue'], summary: 'Retire an entry: no new records, no new accesses', security: staffSecurity, params: idParam, response: { 200: submitted('entry'), ...errorResponses } },
  }, async (request) => {
    const { result, txId, blockNumber } = await app.ledger.submit('catalogue', 'RetireEntry', request.params.id);
    request.log.info({ txId, entryId: request.params.id }, 'catalogue entry retired');
    return { entry: result, txId, blockNumber };
  });
  return Promise.resolve();
}
