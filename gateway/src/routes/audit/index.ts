/**
 * The auditor's views: a record's provenance, a subject's access history (知情权), the ledger's
 * block hash chain, fee totals.
 */
import type { FastifyInstance } from 'fastify';
import { credexError, normalizeUscc, verifyInclusion } from '@credex/core';
import type { LedgerAccess as AccessState, LedgerBatch as BatchState, LedgerRecord as RecordState } from '@credex/schemas';
import { verifyBlockChain } from '../../ledger/blockchain';
import { errorResponses, idParam, ledgerObject, staffSecurity } from '../schemas';


/** Routes under /v1/audit. */
export default function auditRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { id: string } }>('/records/:id', {
    schema: {
      tags: ['audit'], summary: 'Provenance of a record: batch, root, transaction, block, publisher, status history, accesses', security: staffSecurity,
      params: idParam,
      response: {
        200: {
          type: 'object',
          properties: {
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
    const record = await app.ledger.evaluate<RecordState>('anchors', 'GetRecord', request.params.id);
    const [batch, accesses, stored] = await Promise.all([
      app.ledger.evaluate<BatchState>('anchors', 'GetBatch', record.batchId),
      app.ledger.evaluate<AccessState[]>('access', 'ListBySubject', record.subject),
      app.store.getRecord(record.recordId),
    ]);
    const out: Record<string, unknown> = { record, batch, accesses: accesses.filter((a) => a.recordIds.includes(record.recordId)) };
    if (stored?.blockNumber !== undefined && stored.blockNumber >= 0 && stored.batchId === batch.batchId) out.blockNumber = stored.blockNumber;
    if (stored !== undefined) {
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
  }, async () => {
    const info = await app.ledger.chainInfo();
    const check = await verifyBlockChain(info.height, (n) => app.ledger.block(n));
    if (check.ok && check.currentBlockHash !== info.currentBlockHash) {
      return { ok: false, height: info.height, blockNumber: info.height - 1, reason: 'the peer\'s current block hash is not the hash of its last block', peerCurrentBlockHash: info.currentBlockHash };
    }
    return { ...check, peerCurrentBlockHash: info.currentBlockHash };
  });

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
