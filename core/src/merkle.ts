/**
 * Merkle trees over record leaf hashes, per RFC 6962 §2.1 (tree hash and audit paths) and
 * RFC 9162 §2.1.3.2 (inclusion verification).
 *
 * Leaves are the records' leaf hashes, which already carry the 0x00 leaf prefix (see
 * `leafHash`); an inner node is `sha256(0x01 ‖ left ‖ right)`; the empty tree's root is
 * `sha256('')`. A proof binds a leaf to a root only together with the tree size, so verifiers
 * take size and root from the same anchor.
 */
import { sha256HexOf } from './digest';
import { credexError } from './errors';

/** A Merkle tree built once, to take its root and every leaf's proof without rebuilding. */
export interface MerkleTree {
  readonly size: number;
  /** Lowercase hex root. */
  readonly root: string;
  /** The RFC 6962 audit path of leaf `index`, leaf to root, lowercase hex. */
  proof(index: number): string[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const EMPTY_ROOT = sha256HexOf('');
// 0x01 ‖ left ‖ right, reused: hashing is synchronous, so one scratch buffer is enough.
// Nodes stay lowercase hex from end to end: crypto.hash's hex output costs less than half its
// 'buffer' output, writing hex into the scratch buffer is cheap, and proofs and roots are hex.
const nodeInput = Buffer.alloc(65);
nodeInput[0] = 0x01;

/** sha256(0x01 ‖ left ‖ right) of two 64-char lowercase hex hashes (checked by the caller). */
function nodeHash(left: string, right: string): string {
  nodeInput.write(left, 1, 32, 'hex');
  nodeInput.write(right, 33, 32, 'hex');
  return sha256HexOf(nodeInput);
}

function checkLeaves(leafHashes: readonly string[]): string[] {
  for (let i = 0; i < leafHashes.length; i++) {
    const h = leafHashes[i];
    if (typeof h !== 'string' || !HEX64.test(h)) {
      throw credexError('HASH_INVALID', `leaf ${i} is not a 64-char lowercase hex hash`, { index: i });
    }
  }
  return leafHashes.slice();
}

/**
 * All levels of the tree, leaves first. Building bottom-up and carrying an unpaired last node
 * up unchanged gives exactly RFC 6962's MTH, which splits at the largest power of two < n.
 */
function levelsOf(leaves: string[]): string[][] {
  const levels: string[][] = [leaves];
  let level = leaves;
  while (level.length > 1) {
    const next: string[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i] as string, level[i + 1] as string));
    if (level.length % 2 === 1) next.push(level[level.length - 1] as string);
    levels.push(next);
    level = next;
  }
  return levels;
}

function pathOf(levels: string[][], index: number): string[] {
  const size = levels[0]?.length ?? 0;
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw credexError('INDEX_INVALID', `leaf index ${index} is outside a tree of ${size}`, { index, size });
  }
  const path: string[] = [];
  let i = index;
  for (let l = 0; l + 1 < levels.length; l++) {
    const sibling = (levels[l] as string[])[i ^ 1];
    if (sibling !== undefined) path.push(sibling);
    i >>= 1;
  }
  return path;
}

/**
 * Builds the tree of `leafHashes` once; its `proof(i)` then costs no hashing, so a publisher
 * gets every record's proof of a 20,000-record batch in one pass.
 *
 * @throws CredexError `HASH_INVALID` for a leaf that is not 64 lowercase hex
 */
export function buildMerkleTree(leafHashes: readonly string[]): MerkleTree {
  const levels = levelsOf(checkLeaves(leafHashes));
  const top = levels[levels.length - 1]?.[0];
  return {
    size: leafHashes.length,
    root: top ?? EMPTY_ROOT,
    proof: (index: number): string[] => pathOf(levels, index),
  };
}

/**
 * The RFC 6962 Merkle tree hash of the leaf hashes (lowercase hex); `sha256('')` when empty.
 *
 * @throws CredexError `HASH_INVALID` for a leaf that is not 64 lowercase hex
 */
export function merkleRoot(leafHashes: string[]): string {
  return buildMerkleTree(leafHashes).root;
}

/**
 * The RFC 6962 audit path of leaf `index`, from the leaf's sibling up to the root's child.
 * For many proofs of one tree use {@link buildMerkleTree}.
 *
 * @throws CredexError `INDEX_INVALID` when index is not in [0, n); `HASH_INVALID` for a bad leaf
 */
export function inclusionProof(leafHashes: string[], index: number): string[] {
  return buildMerkleTree(leafHashes).proof(index);
}

/**
 * One step of walking an inclusion proof: before `proof[k]` is used, the path is at node
 * `node` (lowercase hex), position `index` of a level whose last position is `lastIndex`.
 * Return false to stop the walk (the walk then yields no root).
 */
export type InclusionStep = (k: number, index: number, lastIndex: number, node: string) => boolean;

/**
 * The root an inclusion proof leads to from a leaf, per RFC 9162 §2.1.3.2; undefined when the
 * input is malformed, the proof is too long or too short for the tree size, or `onStep` stopped
 * the walk. Never throws. A proof proves inclusion only when this equals the anchored root of a
 * tree of `treeSize` leaves (see {@link verifyInclusion}).
 *
 * @param leafHash - the record's leaf hash (lowercase hex)
 * @param index - the leaf's 0-based position
 * @param treeSize - the number of leaves in the tree
 * @param proof - the audit path, leaf to root
 * @param onStep - called before each proof element is used (e.g. to remember or reuse proven
 *   path states)
 */
export function rootFromInclusionProof(leafHash: string, index: number, treeSize: number, proof: readonly string[], onStep?: InclusionStep): string | undefined {
  if (!isHash(leafHash) || !Array.isArray(proof) || !proof.every(isHash)) return undefined;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return undefined;
  // Sizes may exceed 2^31, so shift with division rather than >>.
  let fn = index;
  let sn = treeSize - 1;
  let r = leafHash;
  for (let k = 0; k < proof.length; k++) {
    if (onStep !== undefined && !onStep(k, fn, sn, r)) return undefined;
    if (sn === 0) return undefined;
    const sibling = proof[k] as string;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(sibling, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = fn / 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) return undefined;
  return r;
}

/**
 * Verifies an inclusion proof per RFC 9162 §2.1.3.2. Never throws: malformed input is false.
 *
 * @param leafHash - the record's leaf hash (lowercase hex)
 * @param index - the leaf's 0-based position
 * @param treeSize - the number of leaves in the anchored tree
 * @param proof - the audit path, leaf to root
 * @param root - the anchored root (lowercase hex)
 */
export function verifyInclusion(leafHash: string, index: number, treeSize: number, proof: readonly string[], root: string): boolean {
  return isHash(root) && rootFromInclusionProof(leafHash, index, treeSize, proof) === root;
}

function isHash(h: unknown): h is string {
  return typeof h === 'string' && HEX64.test(h);
}
