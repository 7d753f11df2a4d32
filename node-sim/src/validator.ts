/**
 * Commit-time validation of a block's transactions, as a Fabric peer's txvalidator (envelope,
 * creator signature, duplicate tx id, endorsements against the chaincode's endorsement policy)
 * followed by kvledger's MVCC validation (read versions, range-query phantoms), in block order.
 * Each transaction gets a `TxValidationCode`; only VALID transactions' writes are visible to
 * the transactions after them in the same block.
 */
import { createHash } from 'node:crypto';
import { common, peer } from '@hyperledger/fabric-protos';
import { compareKeys } from './chaincode/rwset';
import type { RangeQueryRecord, RwSet, StateReader, Version } from './chaincode/types';
import { parseEnvelope, type ParsedEnvelope } from './ledger/envelope';
import type { Ledger } from './ledger/ledger';
import type { MspRegistry, ValidatedIdentity } from './msp/msp';
import { evaluatePolicy, type Policy, type Signer } from './policy';

const Code = peer.TxValidationCode;

/** A transaction to validate; the orderer passes what it already checked at broadcast. */
export interface PendingTx {
  envelope: Uint8Array;
  parsed?: ParsedEnvelope;
  /** The creator's identity and envelope signature were verified in this process already. */
  creatorVerified?: boolean;
}

/** The outcome for a block: one code per transaction (the TRANSACTIONS_FILTER) and why. */
export interface BlockValidation {
  codes: Uint8Array;
  /** Empty for valid transactions. */
  reasons: string[];
  parsed: ParsedEnvelope[];
}

export interface Validator {
  /** Validates the transactions of block `blockNumber` against the committed ledger (height = blockNumber). */
  validateBlock(blockNumber: number, txs: (Uint8Array | PendingTx)[]): Promise<BlockValidation>;
}

export interface ValidatorOptions {
  channelId: string;
  msp: MspRegistry;
  /** Endorsement policy of a chaincode (namespace); throws when the chaincode is not defined. */
  policies: (chaincodeName: string) => Policy;
  ledger: Pick<Ledger, 'versions' | 'hasTxs' | 'state'>;
  /** Endorsement signatures this process made itself; see {@link createSignatureMemo}. */
  ownSignatures?: SignatureMemo;
}

/**
 * Signatures made in this process with real private keys (node-sim's peers' endorsements).
 * Verifying such a signature over the same message again cannot fail, so the validator skips
 * the ECDSA verification when it finds the exact (message, signature) pair here — a
 * verification cache filled by the signer. Any other bytes are verified as usual.
 */
export interface SignatureMemo {
  /** Records that `signatureDer` is a valid signature over `message` (call right after signing). */
  remember(message: Uint8Array, signatureDer: Uint8Array): void;
  /** Whether exactly this (message, signature) pair was remembered. */
  knows(message: Uint8Array, signatureDer: Uint8Array): boolean;
}

/** A {@link SignatureMemo} holding the last `capacity` signatures (default 65,536). */
export function createSignatureMemo(capacity = 65_536): SignatureMemo {
  const digests = new Map<string, string>();
  const digest = (message: Uint8Array): string => createHash('sha256').update(message).digest('base64');
  const keyOf = (signature: Uint8Array): string => Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('base64');
  return {
    remember(message, signatureDer) {
      if (digests.size >= capacity) {
        const oldest = digests.keys().next();
        if (oldest.done !== true) digests.delete(oldest.value);
      }
      digests.set(keyOf(signatureDer), digest(message));
    },
    knows(message, signatureDer) {
      const expected = digests.get(keyOf(signatureDer));
      return expected !== undefined && expected === digest(message);
    },
  };
}

/** Creates the validator of one channel. */
export function createValidator(opts: ValidatorOptions): Validator {
  return {
    validateBlock: (blockNumber, txs) => validateBlock(opts, blockNumber, txs),
  };
}

interface BlockWrite {
  isDelete: boolean;
  version: Version;
}

async function validateBlock(
  opts: ValidatorOptions,
  blockNumber: number,
  txs: (Uint8Array | PendingTx)[],
): Promise<BlockValidation> {
  const pending = txs.map((t) => (t instanceof Uint8Array ? { envelope: t } : t));
  const parsed = pending.map((t) => t.parsed ?? parseEnvelope(t.envelope));
  const codes = new Uint8Array(parsed.length);
  const reasons = parsed.map(() => '');
  const reject = (i: number, code: number, reason: string): void => {
    codes[i] = code;
    reasons[i] = reason;
  };

  parsed.forEach((tx, i) => {
    checkEnvelope(opts, tx, pending[i]?.creatorVerified === true, (code, reason) => {
      reject(i, code, reason);
    });
  });

  // Duplicates among the transactions that passed so far, as Fabric's txvalidator: against the
  // ledger, then later occurrences within the block (markTXIdDuplicates).
  const candidates = parsed.flatMap((tx, i) => (codes[i] === Code.VALID ? [{ i, txId: tx.txId }] : []));
  const inLedger = await opts.ledger.hasTxs(candidates.map((c) => c.txId));
  const seen = new Set<string>();
  candidates.forEach(({ i, txId }, j) => {
    if (inLedger[j] === true) reject(i, Code.DUPLICATE_TXID, `tx id ${txId} is already in the ledger`);
    else if (seen.has(txId)) reject(i, Code.DUPLICATE_TXID, `tx id ${txId} occurs earlier in the block`);
    seen.add(txId);
  });

  parsed.forEach((tx, i) => {
    if (codes[i] !== Code.VALID || tx.action === undefined) return;
    const failure = checkEndorsements(opts, tx);
    if (failure !== undefined) reject(i, failure.code, failure.reason);
  });

  await checkMvcc(opts, blockNumber, parsed, codes, reject);
  return { codes, reasons, parsed };
}

/** Fabric's ValidateTransaction order: headers, creator and signature, then type and body, then channel. */
function checkEnvelope(
  opts: ValidatorOptions,
  tx: ParsedEnvelope,
  creatorVerified: boolean,
  reject: (code: number, reason: string) => void,
): void {
  if (tx.code !== Code.VALID && tx.failedIn !== 'body') {
    reject(tx.code, tx.reason);
    return;
  }
  if (!creatorVerified) {
    const creator = deserialize(opts.msp, tx.creator);
    if (typeof creator === 'string') {
      reject(Code.BAD_CREATOR_SIGNATURE, `creator: ${creator}`);
      return;
    }
    if (!opts.msp.verify(creator, tx.payload, tx.signature)) {
      reject(Code.BAD_CREATOR_SIGNATURE, 'envelope signature does not verify against the creator');
      return;
    }
  }
  if (tx.headerType !== common.HeaderType.ENDORSER_TRANSACTION) {
    if (tx.headerType === common.HeaderType.CONFIG) {
      reject(Code.INVALID_CONFIG_TRANSACTION, 'config updates are not supported after the genesis block');
    } else {
      reject(Code.UNKNOWN_TX_TYPE, `header type ${tx.headerType} is not supported`);
    }
    return;
  }
  // Problems of the transaction body count only once the creator's signature holds.
  if (tx.code !== Code.VALID) {
    reject(tx.code, tx.reason);
    return;
  }
  if (tx.channelId !== opts.channelId) {
    reject(Code.TARGET_CHAIN_NOT_FOUND, `channel ${tx.channelId} is not ${opts.channelId}`);
    return;
  }
  if (tx.action === undefined) reject(Code.INVALID_ENDORSER_TRANSACTION, 'no endorsed action');
}

function deserialize(msp: MspRegistry, serialized: Uint8Array): ValidatedIdentity | string {
  try {
    return msp.deserialize(serialized);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Fabric's default VSCC: valid, distinct endorser signatures satisfying each written namespace's policy. */
function checkEndorsements(opts: ValidatorOptions, tx: ParsedEnvelope): { code: number; reason: string } | undefined {
  const action = tx.action;
  if (action === undefined) return { code: Code.INVALID_ENDORSER_TRANSACTION, reason: 'no endorsed action' };
  const signers: Signer[] = [];
  const distinct = new Set<string>();
  for (const { endorser, signature } of action.endorsements) {
    const identityKey = Buffer.from(endorser).toString('base64');
    if (distinct.has(identityKey)) continue;
    const id = deserialize(opts.msp, endorser);
    if (typeof id === 'string') continue;
    const signed = Buffer.concat([action.proposalResponsePayload, endorser]);
    if (opts.ownSignatures?.knows(signed, signature) !== true && !opts.msp.verify(id, signed, signature)) continue;
    distinct.add(identityKey);
    signers.push({ mspId: id.mspId, role: id.role, id: identityKey });
  }
  const namespaces = new Set([action.chaincodeName]);
  for (const { namespace, rwset } of action.namespaces) if (rwset.writes.length > 0) namespaces.add(namespace);
  for (const ns of namespaces) {
    let policy: Policy;
    try {
      policy = opts.policies(ns);
    } catch (e) {
      return { code: Code.INVALID_CHAINCODE, reason: `no endorsement policy for ${ns}: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (!evaluatePolicy(policy, signers)) {
      const orgs = signers.map((s) => `${s.mspId}.${s.role}`).join(', ') || 'none';
      return { code: Code.ENDORSEMENT_POLICY_FAILURE, reason: `endorsements of ${orgs} do not satisfy the policy of ${ns}` };
    }
  }
  return undefined;
}

async function checkMvcc(
  opts: ValidatorOptions,
  blockNumber: number,
  parsed: ParsedEnvelope[],
  codes: Uint8Array,
  reject: (i: number, code: number, reason: string) => void,
): Promise<void> {
  // One lookup for every committed version any candidate transaction read.
  const readKeys: { ns: string; key: string }[] = [];
  parsed.forEach((tx, i) => {
    if (codes[i] !== Code.VALID) return;
    for (const { namespace, rwset } of tx.action?.namespaces ?? []) {
      for (const read of rwset.reads) readKeys.push({ ns: namespace, key: read.key });
    }
  });
  const committed = new Map<string, Version | undefined>();
  const versions = await opts.ledger.versions(readKeys);
  readKeys.forEach((k, i) => committed.set(`${k.ns}\u0000${k.key}`, versions[i]));

  const blockWrites = new Map<string, Map<string, BlockWrite>>();
  for (const [i, tx] of parsed.entries()) {
    if (codes[i] !== Code.VALID || tx.action === undefined) continue;
    const conflict = await findConflict(opts.ledger.state, tx.action.namespaces, committed, blockWrites);
    if (conflict !== undefined) {
      reject(i, conflict.code, conflict.reason);
      continue;
    }
    for (const { namespace, rwset } of tx.action.namespaces) {
      let nsWrites = blockWrites.get(namespace);
      if (nsWrites === undefined) blockWrites.set(namespace, (nsWrites = new Map<string, BlockWrite>()));
      for (const w of rwset.writes) nsWrites.set(w.key, { isDelete: w.isDelete, version: { blockNum: blockNumber, txNum: i } });
    }
  }
}

async function findConflict(
  state: StateReader,
  namespaces: { namespace: string; rwset: RwSet }[],
  committed: Map<string, Version | undefined>,
  blockWrites: Map<string, Map<string, BlockWrite>>,
): Promise<{ code: number; reason: string } | undefined> {
  for (const { namespace, rwset } of namespaces) {
    const nsWrites = blockWrites.get(namespace);
    for (const read of rwset.reads) {
      if (nsWrites?.has(read.key) === true) {
        return { code: Code.MVCC_READ_CONFLICT, reason: `${namespace}/${read.key} was written earlier in this block` };
      }
      const current = committed.get(`${namespace}\u0000${read.key}`);
      if (!sameVersion(current, read.version)) {
        return { code: Code.MVCC_READ_CONFLICT, reason: `${namespace}/${read.key} changed since it was read` };
      }
    }
    for (const rq of rwset.rangeQueries) {
      if (!(await rangeStillMatches(state, namespace, rq, nsWrites))) {
        return {
          code: Code.PHANTOM_READ_CONFLICT,
          reason: `range [${rq.startKey}, ${rq.endKey}${rq.itrExhausted ? ')' : ']'} of ${namespace} changed since it was read`,
        };
      }
    }
  }
  return undefined;
}

function sameVersion(a: Version | undefined, b: Version | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.blockNum === b.blockNum && a.txNum === b.txNum;
}

/**
 * Re-runs a range query over committed state merged with this block's earlier valid writes
 * and compares it with what simulation saw (Fabric's rangeQueryResultsValidator). When the
 * simulation stopped early, `endKey` is the last key it read and is included.
 */
async function rangeStillMatches(
  state: StateReader,
  ns: string,
  rq: RangeQueryRecord,
  nsWrites: Map<string, BlockWrite> | undefined,
): Promise<boolean> {
  const includeEnd = !rq.itrExhausted && rq.endKey !== '';
  // The smallest key after endKey in byte order: endKey followed by U+0000.
  const exclusiveEnd = includeEnd ? `${rq.endKey}\u0000` : rq.endKey;
  const inRange = (key: string): boolean =>
    compareKeys(key, rq.startKey) >= 0 && (exclusiveEnd === '' || compareKeys(key, exclusiveEnd) < 0);
  const local = [...(nsWrites ?? new Map<string, BlockWrite>()).entries()]
    .filter(([key]) => inRange(key))
    .sort(([a], [b]) => compareKeys(a, b));

  const expected = rq.reads;
  let at = 0;
  let localAt = 0;
  // Block writes that sort before the next committed key (or all, at the end) are entries of the
  // merged view unless they are deletes; each must match the next recorded read.
  const takeLocalBefore = (key: string | undefined): boolean => {
    while (localAt < local.length) {
      const entry = local[localAt];
      if (entry === undefined) break;
      const [localKey, write] = entry;
      if (key !== undefined && compareKeys(localKey, key) >= 0) break;
      localAt++;
      if (write.isDelete) continue;
      if (!matches(expected[at], localKey, write.version)) return false;
      at++;
    }
    return true;
  };

  for await (const item of state.range(ns, rq.startKey, exclusiveEnd)) {
    if (!takeLocalBefore(item.key)) return false;
    const next = local[localAt];
    if (next !== undefined && next[0] === item.key) {
      // This block rewrote the committed key: the merged view shows the block's version (or nothing).
      localAt++;
      if (next[1].isDelete) continue;
      if (!matches(expected[at], item.key, next[1].version)) return false;
      at++;
      continue;
    }
    if (!matches(expected[at], item.key, item.version)) return false;
    at++;
  }
  if (!takeLocalBefore(undefined)) return false;
  return at === expected.length;
}

function matches(expected: { key: string; version: Version } | undefined, key: string, version: Version): boolean {
  return expected !== undefined && expected.key === key && sameVersion(expected.version, version);
}
