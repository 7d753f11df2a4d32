/**
 * The verifier of served records (bank and auditor): for each disclosed record, recompute the
 * disclosed fields' digests and the leaf, walk the Merkle path to the root the ledger anchored,
 * and check the record's on-chain status, publisher and subject. Every check is reported by
 * name, so a flipped bit anywhere says where it was found.
 *
 * {@link verifyServedRecord} is pure and synchronous (the hot loop); {@link verifyServedRecords}
 * first reads the anchors it needs from an {@link AnchorSource} (the ledger, cached per batch).
 * The ledger keeps batches, not records: a record's status is read by its RecordRef (anchors:
 * GetRecord), built from what was served — its batch, index and proof — and the leaf the
 * verifier recomputed; the ledger proves that ref against the batch root before it answers.
 */
import { canonicalize, fieldDigest, leafHash, rootFromInclusionProof, verifyInclusion, type RecordHeader } from '@credex/core';
import { fieldGrades } from '@credex/schemas';
import type { AnchoredBatch, AnchoredRecord, RecordRef } from './types';

/** The names of the checks, in the order they are made. */
export type CheckName = 'decrypt' | 'fieldDigests' | 'leaf' | 'merklePath' | 'anchor' | 'status' | 'publisher' | 'subject';

/** The verification of one record: ok only when every check is. */
export interface VerificationReport {
  recordId: string;
  ok: boolean;
  checks: { name: CheckName; ok: boolean; detail?: string }[];
  /** The record's on-chain status, when the ledger knows the record. */
  status?: string;
}

/** What the verifier expects of every record of one answer. */
export interface Expectation {
  /** MSP id of the organization the records were fetched from. */
  publisher: string;
  /** USCC of the consent's subject. */
  subject?: string;
}

/** Where anchors are read. */
export interface AnchorSource {
  /** anchors:GetBatch; undefined when the ledger has no such batch. */
  batch(batchId: string): Promise<AnchoredBatch | undefined>;
  /** anchors:GetRecord of a RecordRef; undefined when the ledger has no such batch or the ref does not prove against it. */
  record(ref: RecordRef): Promise<AnchoredRecord | undefined>;
}

/** The ledger calls an {@link AnchorSource} needs. */
export interface AnchorLedger {
   
  evaluate<T>(contract: string, tx: string, ...args: string[]): Promise<T>;
}

const HEX64 = /^[0-9a-f]{64}$/;
const SALT = /^[A-Za-z0-9_-]{22,}$/;
const ID = /^[A-Za-z0-9._:-]{1,128}$/;
const BATCH_CACHE_LIMIT = 10_000;

function isNotFound(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'NOT_FOUND' || code === 'RECORD_UNKNOWN' || code === 'BATCH_UNKNOWN' || code === 'RECORD_PROOF_INVALID';
}

/**
 * Anchors read from the ledger. Batches never change once anchored, so they are cached;
 * records are read each time, since their status changes (disputed, superseded, withdrawn).
 */
export function ledgerAnchorSource(ledger: AnchorLedger): AnchorSource {
  const batches = new Map<string, Promise<AnchoredBatch | undefined>>();
  const read = async <T>(tx: string, arg: string): Promise<T | undefined> => {
    try {
      return await ledger.evaluate<T>('anchors', tx, arg);
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  };
  return {
    batch(batchId: string): Promise<AnchoredBatch | undefined> {
      let hit = batches.get(batchId);
      if (hit === undefined) {
        hit = read<AnchoredBatch>('GetBatch', batchId);
        if (batches.size >= BATCH_CACHE_LIMIT) batches.clear();
        batches.set(batchId, hit);
        // A batch not (yet) anchored or a failed read is not remembered.
        hit.then((b) => { if (b === undefined) batches.delete(batchId); }, () => batches.delete(batchId));
      }
      return hit;
    },
    record: (ref: RecordRef) => read<AnchoredRecord>('GetRecord', canonicalize(ref)),
  };
}

type Check = VerificationReport['checks'][number];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function headerOf(served: unknown): Partial<RecordHeader> | undefined {
  if (!isObject(served) || !isObject(served.record) || !isObject(served.record.header)) return undefined;
  return served.record.header;
}

/** The record id a served record claims, for reports and lookups ('' when it has none). */
export function claimedRecordId(served: unknown): string {
  const id = headerOf(served)?.recordId;
  return typeof id === 'string' ? id : '';
}

// Recomputes every field's digest; the first malformed field fails the check.
function fieldDigestsOf(header: Partial<RecordHeader>, fields: unknown): { digests?: Record<string, string>; detail?: string } {
  if (!isObject(fields)) return { detail: 'the record has no fields object' };
  let grades: Readonly<Record<string, number>>;
  try {
    grades = fieldGrades(String(header.recordType));
  } catch {
    return { detail: `unknown record type ${JSON.stringify(header.recordType)}` };
  }
  const digests: Record<string, string> = {};
  for (const name of Object.keys(fields)) {
    const f = fields[name];
    if (!Object.hasOwn(grades, name)) return { detail: `field '${name}' is not a field of ${String(header.recordType)}` };
    if (!isObject(f)) return { detail: `field '${name}' is not an object` };
    const keys = Object.keys(f);
    if (keys.length === 1 && typeof f.digest === 'string') {
      if (!HEX64.test(f.digest)) return { detail: `withheld field '${name}': digest is not 64 lowercase hex` };
      digests[name] = f.digest;
    } else if (keys.length === 2 && 'value' in f && typeof f.salt === 'string') {
      if (!SALT.test(f.salt)) return { detail: `field '${name}': salt is not base64url of at least 128 bits` };
      try {
        digests[name] = fieldDigest(name, f.value, f.salt);
      } catch (e) {
        return { detail: `field '${name}': ${(e as Error).message}` };
      }
    } else {
      return { detail: `field '${name}' must be {value, salt} or {digest}` };
    }
  }
  return { digests };
}

function headerProblem(header: Partial<RecordHeader> | undefined): string | undefined {
  if (header === undefined) return 'the record has no header';
  for (const k of ['recordId', 'recordType', 'subject', 'publisher', 'catalogueEntryId', 'issuedAt'] as const) {
    if (typeof header[k] !== 'string') return `header.${k} is missing`;
  }
  return undefined;
}

/**
 * The nodes of one anchored tree (one batch: root and size) already proven to be in it: node
 * position → its hash. A node is proven when it or its parent's other child was on a path that
 * hashed up to the anchored root; the records of one batch then share every inner node, so each
 * is hashed once per batch, and a record that is the sibling of a proven one costs no hashing.
 * Give each tree its own memo (a memo met with another root or size is not used).
 */
export type PathMemo = Map<number, string>;

// Positions are keyed fn * size + lastIndex, exact below 2^53: up to 2^26 leaves per tree.
const MEMO_MAX_SIZE = 2 ** 26;
// Two keys no position takes: the tree the memo belongs to.
const MEMO_ROOT = -1;
const MEMO_SIZE = -2;
// Scratch for one call (verification is synchronous): per step, the node's and its sibling's keys and the node.
const nodeKeys: number[] = [];
const siblingKeys: number[] = [];
const nodes: string[] = [];

/**
 * RFC 9162 §2.1.3.2 inclusion verification, as core's `verifyInclusion`, remembering proven
 * nodes in `memo`. The path is hashed only up to the first node whose position is proven; that
 * node must equal the proven one, and every proof element from there on must equal the proven
 * node at its position — so the record's own leaf and whole proof still lead to the anchored
 * root, and a flipped bit anywhere in a proof fails.
 */
export function verifyInclusionMemo(leaf: string, index: number, treeSize: number, proof: readonly string[], root: string, memo: PathMemo): boolean {
  if (!Array.isArray(proof) || !Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return false;
  const memoRoot = memo.get(MEMO_ROOT);
  if (memoRoot === undefined) {
    if (!HEX64.test(root) || treeSize > MEMO_MAX_SIZE) return verifyInclusion(leaf, index, treeSize, proof, root);
    memo.set(MEMO_ROOT, root);
    memo.set(MEMO_SIZE, String(treeSize));
    // The root is the node at (0, 0).
    memo.set(0, root);
  } else if (memoRoot !== root || memo.get(MEMO_SIZE) !== String(treeSize)) {
    return verifyInclusion(leaf, index, treeSize, proof, root);
  }
  // Walk the positions (they depend only on index and size) to the first proven one, at step `met`.
  let fn = index;
  let sn = treeSize - 1;
  let met = 0;
  let key: number;
  for (;;) {
    // A last node without a right sibling is the same node one level up: one position for both.
    while (fn === sn && fn % 2 === 0 && fn !== 0) {
      fn /= 2;
      sn = fn;
    }
    key = fn * treeSize + sn;
    if (memo.has(key) || met === proof.length || sn === 0) break;
    nodeKeys[met] = key;
    siblingKeys[met] = (fn % 2 === 1 ? fn - 1 : fn + 1) * treeSize + sn;
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
    met++;
  }
  const proven = memo.get(key);
  // A path that ends (or reaches the root) before any proven node cannot reach the anchored root.
  if (proven === undefined) return false;
  // The node at step `met`: the leaf itself, or hashed by core over the proof's first `met` elements.
  let node: string | undefined = leaf;
  if (met > 0) {
    node = undefined;
    const reached = met;
    const top = rootFromInclusionProof(leaf, index, treeSize, met === proof.length ? proof : proof.slice(0, met + 1), (k, _fn, _sn, r) => {
      if (k === reached) {
        node = r;
        return false;
      }
      nodes[k] = r;
      return true;
    });
    if (top !== undefined) node = top;
  }
  if (node !== proven) return false;
  // From the proven node on: every sibling is the proven node at its position, up to the root.
  for (let k = met; k < proof.length; k++) {
    if (sn === 0) return false;
    if (memo.get((fn % 2 === 1 ? fn - 1 : fn + 1) * treeSize + sn) !== proof[k]) return false;
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
    while (fn === sn && fn % 2 === 0 && fn !== 0) {
      fn /= 2;
      sn = fn;
    }
  }
  if (sn !== 0) return false;
  // The path below the proven node is now proven too.
  for (let k = 0; k < met; k++) {
    memo.set(nodeKeys[k] as number, nodes[k] as string);
    memo.set(siblingKeys[k] as number, proof[k] as string);
  }
  return true;
}

/** What a served record says by itself: its header, its recomputed leaf, and the checks made so far. */
interface Content {
  header: Partial<RecordHeader> | undefined;
  leaf: string | undefined;
  checks: Check[];
}

// fieldDigests, and the leaf when it cannot be computed.
function contentOf(served: unknown): Content {
  const checks: Check[] = [];
  const header = headerOf(served);
  let leaf: string | undefined;
  const headerIssue = headerProblem(header);
  if (headerIssue !== undefined || header === undefined) {
    checks.push({ name: 'fieldDigests', ok: false, detail: headerIssue ?? 'the record has no header' });
    return { header, leaf, checks };
  }
  const { digests, detail } = fieldDigestsOf(header, ((served as { record: { fields?: unknown } }).record).fields);
  if (digests === undefined) {
    checks.push({ name: 'fieldDigests', ok: false, detail: detail ?? 'malformed fields' });
    return { header, leaf, checks };
  }
  checks.push({ name: 'fieldDigests', ok: true });
  try {
    leaf = leafHash(header as RecordHeader, digests);
  } catch (e) {
    checks.push({ name: 'leaf', ok: false, detail: `the header has no canonical form: ${(e as Error).message}` });
  }
  return { header, leaf, checks };
}

/**
 * Verifies one served record against what the ledger anchored. Never throws.
 *
 * @param served - as received (untrusted): `{record: {header, fields}, batchId, index, proof, root}`
 * @param chain - the ledger's record (GetRecord of the served record's RecordRef) and its batch
 *   (GetBatch of the served batchId), undefined when the ledger has none
 */
export function verifyServedRecord(
  served: unknown,
  chain: { record: AnchoredRecord | undefined; batch: AnchoredBatch | undefined },
  expect: Expectation,
  memo?: PathMemo,
): VerificationReport {
  return judge(served, contentOf(served), chain, expect, memo);
}

function judge(
  served: unknown,
  content: Content,
  chain: { record: AnchoredRecord | undefined; batch: AnchoredBatch | undefined },
  expect: Expectation,
  memo?: PathMemo,
): VerificationReport {
  const recordId = claimedRecordId(served);
  const checks: Check[] = [...content.checks];
  const fail = (name: CheckName, detail: string): void => {
    checks.push({ name, ok: false, detail });
  };
  const pass = (name: CheckName, detail?: string): void => {
    checks.push(detail === undefined ? { name, ok: true } : { name, ok: true, detail });
  };
  const s = (isObject(served) ? served : {}) as Partial<Record<'record' | 'batchId' | 'index' | 'proof' | 'root', unknown>>;
  const { header, leaf } = content;
  const { record, batch } = chain;

  // leaf: the recomputed leaf is the one anchored for this record id. The ledger reads a record
  // only by a proven ref, so when it knows the batch but not the record, the leaf with the served
  // proof does not reach the anchored root: the record or its proof was changed.
  if (leaf !== undefined) {
    if (record === undefined && batch !== undefined) fail('leaf', `the recomputed leaf with the served proof is not anchored in batch ${batch.batchId}: the record or its proof differs from what was anchored`);
    else if (record === undefined) fail('leaf', `the ledger has no record ${recordId}`);
    else if (leaf !== record.leafHash) fail('leaf', `recomputed leaf ${leaf} differs from the anchored leaf ${record.leafHash}`);
    else pass('leaf');
  } else if (!checks.some((c) => c.name === 'leaf')) {
    fail('leaf', 'no leaf can be computed from a malformed record');
  }

  // merklePath: from the recomputed leaf to the anchored root, at the anchored index and size
  const proof = s.proof;
  const index = record?.index ?? s.index;
  if (leaf === undefined) fail('merklePath', 'no leaf to start the path from');
  else if (batch === undefined) fail('merklePath', `the ledger has no anchored batch for record ${recordId}`);
  else if (!Array.isArray(proof) || !proof.every((p) => typeof p === 'string')) fail('merklePath', 'the proof is not a list of hashes');
  else if (typeof index !== 'number' || !Number.isInteger(index)) fail('merklePath', 'the served index is not an integer');
  else if (!(memo === undefined ? verifyInclusion(leaf, index, batch.size, proof, batch.root) : verifyInclusionMemo(leaf, index, batch.size, proof, batch.root, memo))) {
    fail('merklePath', `the proof does not lead from the leaf at index ${index} of ${batch.size} to the anchored root ${batch.root}`);
  } else if (record === undefined) fail('merklePath', `the ledger does not prove record ${recordId} at index ${index} of batch ${batch.batchId}`);
  else pass('merklePath');

  // anchor: what the publisher says about the record's place is what the ledger anchored
  if (record === undefined && batch === undefined) fail('anchor', `the ledger has no record ${recordId}`);
  else if (record === undefined && batch !== undefined) {
    // What can be checked without the record: the served batch, root, type and entry.
    if (s.batchId !== batch.batchId) fail('anchor', `served batch ${String(s.batchId)} is not the anchored batch ${batch.batchId}`);
    else if (s.root !== batch.root) fail('anchor', `served root ${String(s.root)} is not the anchored root ${batch.root}`);
    else if (header?.recordType !== batch.recordType || header.catalogueEntryId !== batch.catalogueEntryId) {
      fail('anchor', `record type or catalogue entry differ from the batch's ${batch.recordType} / ${batch.catalogueEntryId}`);
    } else pass('anchor');
  } else if (record === undefined) fail('anchor', `the ledger has no record ${recordId}`);
  else if (batch?.batchId !== record.batchId) fail('anchor', `the ledger has no batch ${record.batchId}`);
  else if (s.batchId !== record.batchId) fail('anchor', `served batch ${String(s.batchId)} is not the anchored batch ${record.batchId}`);
  else if (s.index !== record.index) fail('anchor', `served index ${String(s.index)} is not the anchored index ${record.index}`);
  else if (s.root !== batch.root) fail('anchor', `served root ${String(s.root)} is not the anchored root ${batch.root}`);
  else if (header?.recordType !== record.recordType || header.catalogueEntryId !== record.catalogueEntryId) {
    fail('anchor', `record type or catalogue entry differ from the anchored ${record.recordType} / ${record.catalogueEntryId}`);
  } else pass('anchor');

  // status
  if (record === undefined && batch !== undefined) fail('status', 'unknown: the ledger gives the status only of a record proven to be anchored');
  else if (record === undefined) fail('status', 'unknown to the ledger');
  else if (record.status === 'active') pass('status');
  else if (record.status === 'disputed') pass('status', 'disputed: an objection by the subject is open (异议处理中)');
  else if (record.status === 'superseded') fail('status', `superseded by ${record.supersededBy ?? 'a correcting record'}`);
  else fail('status', `the record is ${record.status}`);

  // publisher
  if (header?.publisher !== expect.publisher) fail('publisher', `the header names ${String(header?.publisher)}, the records were fetched from ${expect.publisher}`);
  else if (record !== undefined && record.publisher !== expect.publisher) fail('publisher', `anchored by ${record.publisher}, not ${expect.publisher}`);
  else if (batch !== undefined && batch.publisher !== expect.publisher) fail('publisher', `batch anchored by ${batch.publisher}, not ${expect.publisher}`);
  else pass('publisher');

  // subject
  if (expect.subject !== undefined && header?.subject !== expect.subject) fail('subject', `the header names ${String(header?.subject)}, the consent's subject is ${expect.subject}`);
  else if (record !== undefined && header?.subject !== record.subject) fail('subject', `the header names ${String(header?.subject)}, the ledger ${record.subject}`);
  else if (batch !== undefined && header?.subject !== batch.subject) fail('subject', `the header names ${String(header?.subject)}, the batch is about ${batch.subject}`);
  else pass('subject');

  const report: VerificationReport = { recordId, ok: checks.every((c) => c.ok), checks };
  if (record !== undefined) report.status = record.status;
  return report;
}

/** The RecordRef a served record claims, with the leaf the verifier recomputed; undefined when malformed. */
export function servedRef(served: unknown, leaf: string): RecordRef | undefined {
  if (!isObject(served)) return undefined;
  const { batchId, index, proof } = served;
  const recordId = claimedRecordId(served);
  if (!ID.test(recordId) || typeof batchId !== 'string' || !ID.test(batchId)) return undefined;
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) return undefined;
  if (!Array.isArray(proof) || proof.length > 64 || !proof.every((p) => typeof p === 'string' && HEX64.test(p))) return undefined;
  return { recordId, batchId, index, leafHash: leaf, proof: proof as string[] };
}

/**
 * Verifies served records, reading their anchors from `source` (records concurrently, each
 * batch once, each record by its RecordRef). A record whose claimed id, batch, index or proof
 * is malformed, or whose leaf cannot be computed, is not looked up and fails.
 */
export async function verifyServedRecords(served: readonly unknown[], source: AnchorSource, expect: Expectation, concurrency = 32): Promise<VerificationReport[]> {
  const reports: VerificationReport[] = new Array<VerificationReport>(served.length);
  // One memo per anchored tree (batch, root and size all from the ledger).
  const memos = new Map<string, PathMemo>();
  const memoOf = (b: AnchoredBatch): PathMemo => {
    const key = `${b.batchId}\u0000${b.root}\u0000${b.size}`;
    let m = memos.get(key);
    if (m === undefined) memos.set(key, (m = new Map() as PathMemo));
    return m;
  };
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < served.length; i = next++) {
      const item = served[i];
      const content = contentOf(item);
      // The ledger is asked only about a well-formed ref, built with the leaf recomputed here.
      const ref = content.leaf === undefined ? undefined : servedRef(item, content.leaf);
      const batch = ref === undefined ? undefined : await source.batch(ref.batchId);
      const record = ref === undefined || batch === undefined ? undefined : await source.record(ref);
      reports[i] = judge(item, content, { record, batch }, expect, batch === undefined ? undefined : memoOf(batch));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, served.length) }, worker));
  return reports;
}
