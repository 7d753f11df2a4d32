/**
 * ECDSA P-256 signatures in DER, as Fabric handles them: strict DER only, and only the low-S
 * form (s ≤ n/2), since Fabric rejects the malleable high-S twin of a valid signature.
 */

/** Order n of the P-256 group. */
export const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const HALF_N = P256_N >> 1n;

/** r and s of an ECDSA signature. */
export interface EcdsaSignature {
  r: bigint;
  s: bigint;
}

function readInteger(der: Uint8Array, at: number): { value: bigint; next: number } | undefined {
  if (der[at] !== 0x02) return undefined;
  const len = der[at + 1];
  if (len === undefined || len === 0 || len > 33 || at + 2 + len > der.length) return undefined;
  const first = der[at + 2] ?? 0;
  if (first & 0x80) return undefined; // negative
  if (first === 0 && len > 1 && ((der[at + 3] ?? 0) & 0x80) === 0) return undefined; // not minimal
  let value = 0n;
  for (let i = at + 2; i < at + 2 + len; i++) value = (value << 8n) | BigInt(der[i] ?? 0);
  return { value, next: at + 2 + len };
}

/**
 * Parses a strict-DER `SEQUENCE { r INTEGER, s INTEGER }` with 0 < r, s < n.
 *
 * @returns the pair, or `undefined` when the bytes are not exactly such a signature
 */
export function parseEcdsaSignatureDer(der: Uint8Array): EcdsaSignature | undefined {
  // A P-256 signature is at most 72 bytes, so the sequence length always fits in one byte.
  if (der.length < 8 || der[0] !== 0x30 || der[1] !== der.length - 2) return undefined;
  const r = readInteger(der, 2);
  if (r === undefined) return undefined;
  const s = readInteger(der, r.next);
  if (s === undefined || s.next !== der.length) return undefined;
  if (r.value <= 0n || r.value >= P256_N || s.value <= 0n || s.value >= P256_N) return undefined;
  return { r: r.value, s: s.value };
}

function integerBytes(v: bigint): number[] {
  const bytes: number[] = [];
  for (let x = v; x > 0n; x >>= 8n) bytes.unshift(Number(x & 0xffn));
  if (bytes.length === 0) bytes.push(0);
  if ((bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return bytes;
}

/** Encodes r and s as a DER `SEQUENCE { INTEGER, INTEGER }` (exactly as given, no S normalisation). */
export function encodeEcdsaSignatureDer(sig: EcdsaSignature): Uint8Array {
  const r = integerBytes(sig.r);
  const s = integerBytes(sig.s);
  return Uint8Array.from([0x30, r.length + s.length + 4, 0x02, r.length, ...r, 0x02, s.length, ...s]);
}

/** Whether s is in the lower half of the group order, the only form Fabric accepts. */
export function isLowS(sig: EcdsaSignature): boolean {
  return sig.s <= HALF_N;
}

/** The low-S form of a signature: s replaced by n − s when s > n/2. */
export function toLowS(sig: EcdsaSignature): EcdsaSignature {
  return isLowS(sig) ? sig : { r: sig.r, s: P256_N - sig.s };
}
