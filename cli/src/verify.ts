/**
 * Offline verification of a record file as `credex fetch` writes it: the disclosed fields'
 * digests, the leaf, the Merkle path to the root the ledger anchored, the record's status,
 * publisher and subject. An independent implementation on @credex/core, so that an auditor
 * does not have to trust the gateway's own verifier.
 */
import { fieldDigest, leafHash, verifyInclusion } from '@credex/core';
import type { RecordHeader } from '@credex/core';

/** A record as served and saved: disclosed record, batch, index, proof, root. */
export interface SavedRecord {
  record: { header: RecordHeader; fields: Record<string, { value: unknown; salt: string } | { digest: string }> };
  batchId?: string;
  index?: number;
  proof?: string[];
  root?: string;
}

/** What the ledger says about a record and its batch (from an auditor's view). */
export interface ChainView {
  record?: { recordId: string; leafHash: string; index: number; batchId: string; publisher: string; subject: string; status: string; supersededBy?: string };
  batch?: { batchId: string; root: string; size: number; txId?: string };
}

/** One named check. */
export interface Check { name: string; ok: boolean; detail?: string }

/** The verification of one record file. */
export interface Verification { recordId: string; ok: boolean; status?: string; checks: Check[] }

// The leaf a saved record's header and fields hash to, or why there is none.
function leafOf(saved: SavedRecord): { leaf: string } | { error: string } {
  try {
    const digests: Record<string, string> = {};
    for (const [name, f] of Object.entries(saved.record.fields)) digests[name] = 'digest' in f ? f.digest : fieldDigest(name, f.value, f.salt);
    return { leaf: leafHash(saved.record.header, digests) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** The leaf a saved record's header and fields hash to; undefined when a field is malformed. */
export function savedLeaf(saved: SavedRecord): string | undefined {
  const r = leafOf(saved);
  return 'leaf' in r ? r.leaf : undefined;
}

/** Verifies a saved record against the ledger's view of it; never throws. */
export function verifySaved(saved: SavedRecord, chain: ChainView): Verification {
  const checks: Check[] = [];
  const check = (name: string, ok: boolean, detail?: string): void => {
    checks.push(detail === undefined ? { name, ok } : { name, ok, detail });
  };
  const header = saved.record.header;
  const recordId = typeof header.recordId === 'string' ? header.recordId : '';
  const computed = leafOf(saved);
  const leaf = 'leaf' in computed ? computed.leaf : undefined;
  if ('leaf' in computed) check('fieldDigests', true);
  else check('fieldDigests', false, computed.error);
  const onChain = chain.record;
  const batch = chain.batch;
  if (onChain === undefined) check('anchor', false, `the ledger has no record ${recordId}`);
  else if (saved.batchId !== undefined && saved.batchId !== onChain.batchId) check('anchor', false, `the file says batch ${saved.batchId}, the ledger ${onChain.batchId}`);
  else if (saved.index !== undefined && saved.index !== onChain.index) check('anchor', false, `the file says index ${String(saved.index)}, the ledger ${String(onChain.index)}`);
  else check('anchor', true, `batch ${onChain.batchId}, index ${String(onChain.index)}`);
  if (leaf !== undefined && onChain !== undefined) {
    check('leaf', leaf === onChain.leafHash, leaf === onChain.leafHash ? undefined : `recomputed leaf ${leaf} is not the anchored ${onChain.leafHash}`);
  } else check('leaf', false, 'no leaf to compare');
  if (saved.proof === undefined) {
    // The chain view came by the publisher's reference, which the ledger proved against the batch root: the leaf check binds the record.
    check('merklePath', true, 'no proof in the file; the ledger proved the publisher\'s reference for this leaf against the anchored root');
  } else if (leaf !== undefined && onChain !== undefined && batch !== undefined) {
    const ok = Array.isArray(saved.proof) && verifyInclusion(leaf, onChain.index, batch.size, saved.proof, batch.root);
    check('merklePath', ok, ok ? `to root ${batch.root}` : `the proof does not lead to the anchored root ${batch.root}`);
  } else check('merklePath', false, 'no anchored batch to check against');
  if (onChain !== undefined) {
    check('publisher', onChain.publisher === header.publisher, onChain.publisher === header.publisher ? undefined : `anchored by ${onChain.publisher}, the record says ${header.publisher}`);
    check('subject', onChain.subject === header.subject, onChain.subject === header.subject ? undefined : `anchored for ${onChain.subject}, the record says ${header.subject}`);
    // A disputed record is still the publisher's current word (异议处理中); a superseded one is not.
    if (onChain.status === 'active') check('status', true, 'active');
    else if (onChain.status === 'disputed') check('status', true, 'disputed: an objection by the subject is open (异议处理中)');
    else check('status', false, `${onChain.status}${onChain.supersededBy === undefined ? '' : ` by ${onChain.supersededBy}`}`);
  }
  return { recordId, ok: checks.every((c) => c.ok), ...(onChain === undefined ? {} : { status: onChain.status }), checks };
}
