/**
 * The Fabric client signer of the gateway's ledger connection, made with node:crypto (OpenSSL).
 * fabric-gateway's own `signers.newPrivateKeySigner` computes ECDSA in JavaScript (@noble),
 * ~2 ms of the gateway's CPU per transaction (three signatures: proposal, transaction, commit
 * status); this one gives the same kind of signature — ECDSA over SHA-256 of the message (as
 * fabric-gateway's default hash and a Fabric MSP's SHA2 family), DER, low-S as Fabric requires —
 * for a small fraction of that. Used with `hash.none`: it receives
 * the message itself and hashes it as it signs.
 */
import { sign, type KeyObject } from 'node:crypto';
import { hash, signers, type Hash, type Signer } from '@hyperledger/fabric-gateway';

/** Group orders of the curves Fabric identities use, for the low-S form. */
const CURVE_ORDERS: Record<string, { n: bigint; bytes: number }> = {
  prime256v1: { n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n, bytes: 32 },
  secp384r1: { n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n, bytes: 48 },
};

/** A DER INTEGER's content: big-endian, minimal, with a 0x00 in front when the top bit is set. */
function derInteger(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

function derLength(n: number): Buffer {
  return n < 0x80 ? Buffer.from([n]) : Buffer.from([0x81, n]);
}

/** DER of ECDSA-Sig-Value {r, s}. */
function derSignature(r: bigint, s: bigint): Buffer {
  const rb = derInteger(r);
  const sb = derInteger(s);
  const body = Buffer.concat([Buffer.from([0x02]), derLength(rb.length), rb, Buffer.from([0x02]), derLength(sb.length), sb]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

/**
 * The signer and hash for `connect()` of a client identity's private key: node:crypto ECDSA for
 * P-256 and P-384 keys; fabric-gateway's own signer (with its default SHA-256 hash) for others.
 */
export function fabricSigner(key: KeyObject): { signer: Signer; hash: Hash } {
  const curve = key.asymmetricKeyType === 'ec' ? CURVE_ORDERS[key.asymmetricKeyDetails?.namedCurve ?? ''] : undefined;
  if (curve === undefined) return { signer: signers.newPrivateKeySigner(key), hash: hash.sha256 };
  const signer: Signer = (message) => {
    const raw = sign('sha256', message, { key, dsaEncoding: 'ieee-p1363' });
    const r = BigInt(`0x${raw.subarray(0, curve.bytes).toString('hex')}`);
    let s = BigInt(`0x${raw.subarray(curve.bytes).toString('hex')}`);
    if (s > curve.n >> 1n) s = curve.n - s;
    return Promise.resolve(derSignature(r, s));
  };
  return { signer, hash: hash.none };
}
