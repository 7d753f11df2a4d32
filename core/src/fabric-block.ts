/**
 * Fabric block hashes exactly as Fabric's `protoutil` computes them (BlockHeaderBytes,
 * BlockHeaderHash, BlockDataHash) and the walk that checks a chain of blocks with them. It
 * knows nothing of protobuf: callers decode `common.Block` with their own fabric-protos and hand
 * over the header fields and data entries, so node-sim, the gateways and the auditor's CLI
 * check a chain with one piece of code, on node-sim or on a real Fabric network.
 */
import { createHash } from 'node:crypto';

/** The hashed part of a block header (`common.BlockHeader`). */
export interface BlockHeaderFields {
  /** Block number, an unsigned 64-bit integer. */
  number: bigint | number;
  previousHash: Uint8Array;
  dataHash: Uint8Array;
}

/** The result of {@link verifyHeaderChain}: the height reached and the last block's header hash, or the first bad block. */
export type ChainVerification =
  | { ok: true; height: number; lastHeaderHash?: Uint8Array }
  | { ok: false; blockNumber: number; reason: string };

/** A decoded block: its header fields and its data entries (envelopes). */
export interface DecodedBlock {
  header: BlockHeaderFields;
  data: Uint8Array[];
}

const MAX_UINT64 = (1n << 64n) - 1n;

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** DER length octets: short form below 128, else 0x80|n followed by n big-endian bytes. */
function derLength(length: number): number[] {
  if (length < 0x80) return [length];
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return [0x80 | bytes.length, ...bytes];
}

/** Content octets of a non-negative INTEGER: minimal big-endian, 0x00 prefix when the top bit is set. */
function unsignedIntegerContent(value: bigint): number[] {
  const bytes: number[] = [];
  for (let v = value; v > 0n; v >>= 8n) bytes.unshift(Number(v & 0xffn));
  if (bytes.length === 0 || ((bytes[0] ?? 0) & 0x80) !== 0) bytes.unshift(0);
  return bytes;
}

function derElement(tag: number, content: ArrayLike<number>): Uint8Array {
  const header = [tag, ...derLength(content.length)];
  const out = new Uint8Array(header.length + content.length);
  out.set(header, 0);
  out.set(content, header.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Fabric's `BlockHeaderBytes`: the ASN.1 DER encoding of
 * `SEQUENCE { Number INTEGER, PreviousHash OCTET STRING, DataHash OCTET STRING }`
 * (Go's `asn1.Marshal` of a struct with a `*big.Int` and two `[]byte`).
 *
 * @throws RangeError when the number is not an unsigned 64-bit integer
 */
export function blockHeaderBytes(h: BlockHeaderFields): Uint8Array {
  const number = BigInt(h.number);
  if (number < 0n || number > MAX_UINT64) throw new RangeError(`block number ${number} is not a uint64`);
  const content = concat([
    derElement(0x02, unsignedIntegerContent(number)),
    derElement(0x04, h.previousHash),
    derElement(0x04, h.dataHash),
  ]);
  return derElement(0x30, content);
}

/** Fabric's `BlockHeaderHash`: SHA-256 of {@link blockHeaderBytes}; the next block's previous hash. */
export function blockHeaderHash(h: BlockHeaderFields): Uint8Array {
  return sha256(blockHeaderBytes(h));
}

/** Fabric 2.x `BlockDataHash`: SHA-256 over the concatenation of the block's data entries (envelopes). */
export function blockDataHash(data: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const entry of data) hash.update(entry);
  return new Uint8Array(hash.digest());
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/**
 * Walks a chain of blocks in order (each decoded by `decode`, which returns the reason when a
 * block cannot be read) and checks, like a peer joining a channel:
 * consecutive numbers from `opts.firstNumber` (default 0, the genesis block), each block's data
 * hash against its data, and each previous hash against the header hash of the block before.
 * The first block's own previous hash is not checked.
 * Block metadata is not covered by the hash chain (as in Fabric) and is not checked.
 *
 * @returns the height (last number + 1), or the first bad block and why
 */
export async function verifyHeaderChain<B>(
  blocks: AsyncIterable<B> | Iterable<B>,
  decode: (block: B) => DecodedBlock | string,
  opts: { firstNumber?: number } = {},
): Promise<ChainVerification> {
  let expected = opts.firstNumber ?? 0;
  let previousHeaderHash: Uint8Array | undefined;
  for await (const bytes of blocks) {
    const parsed = decode(bytes);
    if (typeof parsed === 'string') return { ok: false, blockNumber: expected, reason: parsed };
    const { header, data } = parsed;
    const number = Number(header.number);
    if (number !== expected) {
      return { ok: false, blockNumber: expected, reason: `header number is ${number}, expected ${expected}` };
    }
    const dataHash = blockDataHash(data);
    if (!equalBytes(dataHash, header.dataHash)) {
      return {
        ok: false,
        blockNumber: number,
        reason: `data hash ${hex(header.dataHash)} does not match the data (${hex(dataHash)})`,
      };
    }
    if (previousHeaderHash !== undefined && !equalBytes(previousHeaderHash, header.previousHash)) {
      return {
        ok: false,
        blockNumber: number,
        reason: `previous hash ${hex(header.previousHash)} is not the header hash of block ${number - 1} (${hex(previousHeaderHash)})`,
      };
    }
    previousHeaderHash = blockHeaderHash(header);
    expected = number + 1;
  }
  return previousHeaderHash === undefined ? { ok: true, height: expected } : { ok: true, height: expected, lastHeaderHash: previousHeaderHash };
}
