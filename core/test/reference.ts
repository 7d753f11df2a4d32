/**
 * Straightforward reference implementations of core's hot paths, written as the specifications
 * read (RFC 8785, RFC 6962 §2.1, RFC 9162 §2.1.3.2, the record sealing rules) with no speed
 * tricks: createHash, Buffers, sorting every object's keys, no caches. The equivalence tests
 * check core's optimized code against these on many random inputs.
 */
import { createHash } from 'node:crypto';

/** A JCS_INVALID failure as core reports it: the JSONPath of the offending value. */
export class ReferenceJcsError extends Error {
  constructor(readonly path: string) {
    super(`cannot canonicalize ${path}`);
  }
}

/** RFC 8785 canonical JSON, rejecting what JSON cannot represent (as core's canonicalize). */
export function refCanonicalize(value: unknown, path = '$', ancestors: object[] = []): string {
  if (typeof value === 'string') {
    if (/\p{Cs}/u.test(value)) throw new ReferenceJcsError(path);
    return JSON.stringify(value);
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ReferenceJcsError(path);
    return String(value);
  }
  if (typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  if (typeof value !== 'object') throw new ReferenceJcsError(path);
  if (ancestors.includes(value) || ancestors.length >= 200) throw new ReferenceJcsError(path);
  const inner = [...ancestors, value];
  if (Array.isArray(value)) return `[${value.map((v, i) => refCanonicalize(v, `${path}[${i}]`, inner)).join(',')}]`;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new ReferenceJcsError(path);
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .sort()
    .map((k) => {
      if (/\p{Cs}/u.test(k)) throw new ReferenceJcsError(`${path}.${k}`);
      return `${JSON.stringify(k)}:${refCanonicalize(record[k], `${path}.${k}`, inner)}`;
    });
  return `{${members.join(',')}}`;
}

export function refSha256(...parts: (Uint8Array | string)[]): Buffer {
  const h = createHash('sha256');
  for (const p of parts) h.update(typeof p === 'string' ? Buffer.from(p, 'utf8') : p);
  return h.digest();
}

export function refFieldDigest(name: string, value: unknown, salt: string): string {
  return refSha256(refCanonicalize({ n: name, s: salt, v: value })).toString('hex');
}

export function refLeafHash(header: object, fieldDigests: Record<string, string>): string {
  return refSha256(Buffer.from([0]), refCanonicalize({ header, fieldDigests })).toString('hex');
}

/** Field digests and leaf of a record sealed with the given salts. */
export function refSeal(header: object, fields: Record<string, unknown>, salts: Record<string, string>): { fieldDigests: Record<string, string>; leafHash: string } {
  const fieldDigests: Record<string, string> = {};
  for (const name of Object.keys(fields)) fieldDigests[name] = refFieldDigest(name, fields[name], salts[name] ?? '');
  return { fieldDigests, leafHash: refLeafHash(header, fieldDigests) };
}

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 6962 MTH over leaf hashes (which already carry the 0x00 prefix), recursive. */
export function refMerkleRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return refSha256('');
  if (leaves.length === 1) return leaves[0]!;
  const k = split(leaves.length);
  return refSha256(Buffer.from([1]), refMerkleRoot(leaves.slice(0, k)), refMerkleRoot(leaves.slice(k)));
}

/** RFC 6962 PATH(m, D[n]), recursive. */
export function refInclusionProof(leaves: readonly Buffer[], m: number): Buffer[] {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  if (m < k) return [...refInclusionProof(leaves.slice(0, k), m), refMerkleRoot(leaves.slice(k))];
  return [...refInclusionProof(leaves.slice(k), m - k), refMerkleRoot(leaves.slice(0, k))];
}

/** A step of the walk as core's InclusionStep sees it. */
export type RefStep = [k: number, index: number, lastIndex: number, node: string];

/**
 * RFC 9162 §2.1.3.2, as written: the root a proof leads to, or undefined. `steps` receives the
 * state before each proof element is used; `stopAt` ends the walk before that step.
 */
export function refRootFromProof(leafHash: unknown, index: unknown, treeSize: unknown, proof: unknown, steps?: RefStep[], stopAt?: number): string | undefined {
  const isHash = (h: unknown): h is string => typeof h === 'string' && /^[0-9a-f]{64}$/.test(h);
  if (!isHash(leafHash) || !Array.isArray(proof) || !proof.every(isHash)) return undefined;
  if (typeof index !== 'number' || typeof treeSize !== 'number') return undefined;
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(treeSize) || index < 0 || index >= treeSize) return undefined;
  let fn = index;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leafHash, 'hex');
  for (let k = 0; k < proof.length; k++) {
    steps?.push([k, fn, sn, r.toString('hex')]);
    if (k === stopAt) return undefined;
    if (sn === 0) return undefined;
    const p = Buffer.from(proof[k] as string, 'hex');
    if (fn % 2 === 1 || fn === sn) {
      r = refSha256(Buffer.from([1]), p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = fn / 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = refSha256(Buffer.from([1]), r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r.toString('hex') : undefined;
}
