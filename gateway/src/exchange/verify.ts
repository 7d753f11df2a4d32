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

// The grades of the known record types (only those: an unknown type is not remembered).
const gradesByType = new Map<string, Readonly<Record<string, number>>>();

// Recomputes every field's digest: the digests, or what is wrong with the first malformed field.
function fieldDigestsOf(header: Partial<RecordHeader>, fields: unknown): Record<string, string> | string {
  if (!isObject(fields)) return 'the record has no fields object';
  let grades = gradesByType.get(header.recordType as string);
  if (grades === undefined) {
    try {
      grades = fieldGrades(String(header.recordType));
    } catch {
      return `unknown record type ${JSON.stringify(header.recordType)}`;
    }
    gradesByType.set(header.recordType as string, grades);
  }
  const digests: Record<string, string> = {};
  for (const name of Object.keys(fields)) {
    const f = fields[name];
    if (!Object.hasOwn(grades, name)) return `field '${name}' is not a field of ${String(header.recordType)}`;
    if (!isObject(f)) return `field '${name}' is not an object`;
    // Counted rather than listed: one array less per field.
    let keys = 0;
    for (const k in f) if (Object.hasOwn(f, k)) keys++;
    const { digest, salt } = f;
    if (keys === 1 && typeof digest === 'string') {
      if (!HEX64.test(digest)) return `withheld field '${name}': digest is not 64 lowercase hex`;
      digests[name] = digest;
    } else if (keys === 2 && typeof salt === 'string' && Object.hasOwn(f, 'value')) {
      if (!SALT.test(salt)) return `field '${name}': salt is not base64url of at least 128 bits`;
      try {
        digests[name] = fieldDigest(name, f.value, salt);
      } catch (e) {
        return `field '${name}': ${(e as Error).message}`;
      }
    } else {
      return `field '${name}' must be {value, salt} or {digest}`;
    }
  }
  return digests;
}

const HEADER_STRINGS = ['recordId', 'recordType', 'subject', 'publisher', 'catalogueEntryId', 'issuedAt'] as const;

function headerProblem(header: Partial<RecordHeader> | undefined): string | undefined {
  if (header === undefined) return 'the record has no header';
  for (const k of HEADER_STRINGS) {
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
let stepsToHash = 0;
let reachedNode: string | undefined;

// Keeps each node core's walk hashes, and stops it at step `stepsToHash`, keeping that node.
function onStep(k: number, _index: number, _lastIndex: number, node: string): boolean {
  if (k === stepsToHash) {
    reachedNode = node;
    return false;
  }
  nodes[k] = node;
  return true;
}

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
    stepsToHash = met;
    reachedNode = undefined;
    node = rootFromInclusionProof(leaf, index, treeSize, met === proof.length ? proof : proof.slice(0, met + 1), onStep) ?? reachedNode;
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
  /** Appended to by {@link judge}, which takes the content once. */
  checks: Check[];
  /** Every check so far passed. */
  ok: boolean;
}

// A passed check without detail is the same for every record: one frozen object each.
const PASSED: Readonly<Record<CheckName, Check>> = Object.freeze({
  decrypt: Object.freeze({ name: 'decrypt', ok: true }),
  fieldDigests: Object.freeze({ name: 'fieldDigests', ok: true }),
  leaf: Object.freeze({ name: 'leaf', ok: true }),
  merklePath: Object.freeze({ name: 'merklePath', ok: true }),
  anchor: Object.freeze({ name: 'anchor', ok: true }),
  status: Object.freeze({ name: 'status', ok: true }),
  publisher: Object.freeze({ name: 'publisher', ok: true }),
  subject: Object.freeze({ name: 'subject', ok: true }),
});

// fieldDigests, and the leaf when it cannot be computed.
function contentOf(served: unknown): Content {
  const header = headerOf(served);
  const headerIssue = headerProblem(header);
  if (headerIssue !== undefined || header === undefined) {
    return { header, leaf: undefined, checks: [{ name: 'fieldDigests', ok: false, detail: headerIssue ?? 'the record has no header' }], ok: false };
  }
  const digests = fieldDigestsOf(header, ((served as { record: { fields?: unknown } }).record).fields);
  if (typeof digests === 'string') return { header, leaf: undefined, checks: [{ name: 'fieldDigests', ok: false, detail: digests }], ok: false };
  try {
    return { header, leaf: leafHash(header as RecordHeader, digests), checks: [PASSED.fieldDigests], ok: true };
  } catch (e) {
    return { header, leaf: undefined, checks: [PASSED.fieldDigests, { name: 'leaf', ok: false, detail: `the header has no canonical form: ${(e as Error).message}` }], ok: false };
  }
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

function failed(name: CheckName, detail: string): Check {
  return { name, ok: false, detail };
}

function isStringList(v: unknown): v is string[] {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

// The checks after fieldDigests, appended to the content's (which is taken, not copied).
function judge(
  served: unknown,
  content: Content,
  chain: { record: AnchoredRecord | undefined; batch: AnchoredBatch | undefined },
  expect: Expectation,
  memo?: PathMemo,
): VerificationReport {
  const { header, leaf, checks } = content;
  const recordId = typeof header?.recordId === 'string' ? header.recordId : '';
  const s = (isObject(served) ? served : {}) as Partial<Record<'record' | 'batchId' | 'index' | 'proof' | 'root', unknown>>;
  const { record, batch } = chain;

  // leaf: the recomputed leaf is the one anchored for this record id. The ledger reads a record
  // only by a proven ref, so when it knows the batch but not the record, the leaf with the served
  // proof does not reach the anchored root: the record or its proof was changed.
  if (leaf !== undefined) {
    if (record === undefined && batch !== undefined) checks.push(failed('leaf', `the recomputed leaf with the served proof is not anchored in batch ${batch.batchId}: the record or its proof differs from what was anchored`));
    else if (record === undefined) checks.push(failed('leaf', `the ledger has no record ${recordId}`));
    else if (leaf !== record.leafHash) checks.push(failed('leaf', `recomputed leaf ${leaf} differs from the anchored leaf ${record.leafHash}`));
    else checks.push(PASSED.leaf);
  } else if (checks[checks.length - 1]?.name !== 'leaf') {
    checks.push(failed('leaf', 'no leaf can be computed from a malformed record'));
  }

  // merklePath: from the recomputed leaf to the anchored root, at the anchored index and size
  const proof = s.proof;
  const index = record?.index ?? s.index;
  if (leaf === undefined) checks.push(failed('merklePath', 'no leaf to start the path from'));
  else if (batch === undefined) checks.push(failed('merklePath', `the ledger has no anchored batch for record ${recordId}`));
  else if (!isStringList(proof)) checks.push(failed('merklePath', 'the proof is not a list of hashes'));
  else if (typeof index !== 'number' || !Number.isInteger(index)) checks.push(failed('merklePath', 'the served index is not an integer'));
  else if (!(memo === undefined ? verifyInclusion(leaf, index, batch.size, proof, batch.root) : verifyInclusionMemo(leaf, index, batch.size, proof, batch.root, memo))) {
    checks.push(failed('merklePath', `the proof does not lead from the leaf at index ${index} of ${batch.size} to the anchored root ${batch.root}`));
  } else if (record === undefined) checks.push(failed('merklePath', `the ledger does not prove record ${recordId} at index ${index} of batch ${batch.batchId}`));
  else checks.push(PASSED.merklePath);

  // anchor: what the publisher says about the record's place is what the ledger anchored
  if (record === undefined) {
    if (batch === undefined) checks.push(failed('anchor', `the ledger has no record ${recordId}`));
    // What can be checked without the record: the served batch, root, type and entry.
    else if (s.batchId !== batch.batchId) checks.push(failed('anchor', `served batch ${String(s.batchId)} is not the anchored batch ${batch.batchId}`));
    else if (s.root !== batch.root) checks.push(failed('anchor', `served root ${String(s.root)} is not the anchored root ${batch.root}`));
    else if (header?.recordType !== batch.recordType || header.catalogueEntryId !== batch.catalogueEntryId) {
      checks.push(failed('anchor', `record type or catalogue entry differ from the batch's ${batch.recordType} / ${batch.catalogueEntryId}`));
    } else checks.push(PASSED.anchor);
  } else if (batch?.batchId !== record.batchId) checks.push(failed('anchor', `the ledger has no batch ${record.batchId}`));
  else if (s.batchId !== record.batchId) checks.push(failed('anchor', `served batch ${String(s.batchId)} is not the anchored batch ${record.batchId}`));
  else if (s.index !== record.index) checks.push(failed('anchor', `served index ${String(s.index)} is not the anchored index ${record.index}`));
  else if (s.root !== batch.root) checks.push(failed('anchor', `served root ${String(s.root)} is not the anchored root ${batch.root}`));
  else if (header?.recordType !== record.recordType || header.catalogueEntryId !== record.catalogueEntryId) {
    checks.push(failed('anchor', `record type or catalogue entry differ from the anchored ${record.recordType} / ${record.catalogueEntryId}`));
  } else checks.push(PASSED.anchor);

  // status
  if (record === undefined && batch !== undefined) checks.push(failed('status', 'unknown: the ledger gives the status only of a record proven to be anchored'));
  else if (record === undefined) checks.push(failed('status', 'unknown to the ledger'));
  else if (record.status === 'active') checks.push(PASSED.status);
  else if (record.status === 'disputed') checks.push({ name: 'status', ok: true, detail: 'disputed: an objection by the subject is open (异议处理中)' });
  else if (record.status === 'superseded') checks.push(failed('status', `superseded by ${record.supersededBy ?? 'a correcting record'}`));
  else checks.push(failed('status', `the record is ${record.status}`));

  // publisher
  if (header?.publisher !== expect.publisher) checks.push(failed('publisher', `the header names ${String(header?.publisher)}, the records were fetched from ${expect.publisher}`));
  else if (record !== undefined && record.publisher !== expect.publisher) checks.push(failed('publisher', `anchored by ${record.publisher}, not ${expect.publisher}`));
  else if (batch !== undefined && batch.publisher !== expect.publisher) checks.push(failed('publisher', `batch anchored by ${batch.publisher}, not ${expect.publisher}`));
  else checks.push(PASSED.publisher);

  // subject
  if (expect.subject !== undefined && header?.subject !== expect.subject) checks.push(failed('subject', `the header names ${String(header?.subject)}, the consent's subject is ${expect.subject}`));
  else if (record !== undefined && header?.subject !== record.subject) checks.push(failed('subject', `the header names ${String(header?.subject)}, the ledger ${record.subject}`));
  else if (batch !== undefined && header?.subject !== batch.subject) checks.push(failed('subject', `the header names ${String(header?.subject)}, the batch is about ${batch.subject}`));
  else checks.push(PASSED.subject);

  let ok = content.ok;
  for (let i = 0; ok && i < checks.length; i++) ok = (checks[i] as Check).ok;
  return record === undefined ? { recordId, ok, checks } : { recordId, ok, checks, status: record.status };
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
  // One memo per anchored batch; a memo is bound to the first root and size it is used with, and
  // not used with another (verifyInclusionMemo checks), so a source's answers need not agree.
  const memos = new Map<string, PathMemo>();
  const memoOf = (b: AnchoredBatch): PathMemo => {
    let m = memos.get(b.batchId);
    if (m === undefined) memos.set(b.batchId, (m = new Map() as PathMemo));
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
