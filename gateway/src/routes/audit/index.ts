/**
 * The auditor's views: a record's provenance, a subject's access history (知情权), the ledger's
 * block hash chain, fee totals.
 */
import type { FastifyInstance } from 'fastify';
import { canonicalize, credexError, normalizeUscc, verifyInclusion } from '@credex/core';
import type { LedgerAccess as AccessState, LedgerBatch as BatchState, LedgerRecord as RecordState } from '@credex/schemas';
import { checkLedger } from '../../ledger/blockchain';
import { errorResponses, idParam, ledgerObject, staffSecurity } from '../schemas';


/** Routes under /v1/audit. */
export default function auditRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { id: string }; Querystring: { publisher?: string; ref?: string } }>('/records/:id', {
    schema: {
      tags: ['audit'], summary: 'Provenance of a record: batch, root, transaction, block, publisher, status history, accesses', security: staffSecurity,
      description: 'The ledger keeps batches, not records: the record is read by its RecordRef, from this gateway\'s store when it published the record, else from the gateway of `publisher` (GET /v1/exchange/anchors/:id), else from `ref` (a RecordRef as JSON). Neither: 400 RECORD_REF_REQUIRED.',
      params: idParam,
      querystring: {
        type: 'object', additionalProperties: false,
        properties: {
          publisher: { type: 'string', minLength: 1, maxLength: 64, description: 'MSP id of the record\'s publisher, asked for its RecordRef' },
          ref: { type: 'string', maxLength: 8192, description: 'the record\'s RecordRef as JSON (e.g. from a fetched record file)' },
        },
      },
      response: {
        200: {
          type: 'object',
          properties: {
            ref: { type: 'object', additionalProperties: true, description: 'the RecordRef the ledger was asked with' },
            record: ledgerObject, batch: ledgerObject, accesses: { type: 'array', items: ledgerObject },
            blockNumber: { type: 'integer' },
            offChain: {
              type: 'object', description: 'present when this gateway holds the record (its publisher)',
              properties: { leafMatches: { type: 'boolean' }, proofVerifies: { type: 'boolean' }, anchored: { type: 'boolean' } },
            },
          },
        },
        ...errorResponses,
      },
    },
  }, async (request) => {
    const { publisher, ref: refJson } = request.query;
    let given: unknown;
    if (refJson !== undefined) {
      try {
        given = JSON.parse(refJson);
      } catch (e) {
        throw credexError('JSON_INVALID', `ref is not JSON: ${(e as Error).message}`);
      }
    }
    const ref = await app.recordRefs.resolve(request.params.id, { ...(given === undefined ? {} : { record: given }), ...(publisher === undefined ? {} : { publisher }) });
    const record = await app.ledger.evaluate<RecordState>('anchors', 'GetRecord', canonicalize(ref));
    const [batch, accesses, stored] = await Promise.all([
      app.ledger.evaluate<BatchState>('anchors', 'GetBatch', record.batchId),
      app.ledger.evaluate<AccessState[]>('access', 'ListBySubject', record.subject),
      app.store.getRecord(record.recordId),
    ]);
    // An access names each record with its batch: two publishers' equal record ids are told apart.
    const named = (a: AccessState): boolean => a.records.some((r) => r.recordId === record.recordId && r.batchId === record.batchId);
    const out: Record<string, unknown> = { ref, record, batch, accesses: accesses.filter(named) };
    if (stored?.blockNumber !== undefined && stored.blockNumber >= 0 && stored.batchId === batch.batchId) out.blockNumber = stored.blockNumber;
    if (stored !== undefined && stored.batchId === record.batchId) {
      out.offChain = {
        anchored: stored.anchored,
        leafMatches: stored.sealed.leafHash === record.leafHash,
        proofVerifies: verifyInclusion(stored.sealed.leafHash, record.index, batch.size, stored.proof, batch.root),
      };
    }
    return out;
  });

  app.get<{ Params: { uscc: string } }>('/subjects/:uscc/accesses', {
    schema: {
      tags: ['audit'], summary: 'Every registered access to a subject\'s records (知情权)', security: staffSecurity,
      params: { type: 'object', required: ['uscc'], properties: { uscc: { type: 'string' } } },
      response: { 200: { type: 'object', properties: { subject: { type: 'string' }, accesses: { type: 'array', items: ledgerObject } } }, ...errorResponses },
    },
  }, async (request) => {
    const subject = normalizeUscc(request.params.uscc);
    return { subject, accesses: await app.ledger.evaluate('access', 'ListBySubject', subject) };
  });

  app.get('/ledger', {
    schema: {
      tags: ['audit'], summary: 'Check the block hash chain from genesis to the current height', security: staffSecurity,
      response: {
        200: {
          type: 'object',
          properties: {
            ok: { type: 'boolean' }, height: { type: 'integer' }, currentBlockHash: { type: 'string' },
            peerCurrentBlockHash: { type: 'string' }, blockNumber: { type: 'integer' }, reason: { type: 'string' },
          },
        },
        ...errorResponses,
      },
    },
  }, () => checkLedger(app.ledger));

  app.get<{ Querystring: { period: string } }>('/fees', {
    schema: {
      tags: ['audit'], summary: 'Fee totals per (grantee, publisher) for a month (使用者付费)', security: staffSecurity,
      querystring: { type: 'object', required: ['period'], properties: { period: { type: 'string' } } },
      response: { 200: ledgerObject, ...errorResponses },
    },
  }, async (request) => {
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(request.query.period)) throw credexError('PERIOD_INVALID', 'period must be YYYY-MM');
    return app.ledger.evaluate('access', 'FeeTotals', request.query.period);
  });
  return Promise.resolve();
}
