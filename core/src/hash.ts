/**
 * SHA-256 hashing and per-field salted digests.
 *
 * A field digest commits to a field's name, salt and canonical value, so a withheld field can
 * travel as its digest without revealing its value (selective disclosure), and a disclosed
 * one is checked by recomputing it.
 */
import { randomBytes } from 'node:crypto';
import { sha256HexOf } from './digest';
import { canonicalize, canonicalString, nameLiteral } from './jcs';

/** Bytes of a salt; 128 bits, so a withheld value cannot be guessed from its digest. */
export const SALT_BYTES = 16;

/** Lowercase hex SHA-256 of bytes, or of a string's UTF-8 bytes. */
export function sha256Hex(data: Uint8Array | string): string {
  return sha256HexOf(data);
}

// randomBytes costs several µs per call; drawing salts from a pool refilled 256 at a time
// keeps sealing cheap. Each pool byte is handed out once. Buffer's native base64url is the same
// text as core's b64u (RFC 4648 §5, no padding) at a fraction of the cost.
const POOL_SALTS = 256;
let pool: Buffer = Buffer.alloc(0);
let poolOffset = 0;

/** A fresh salt: {@link SALT_BYTES} random bytes, base64url. */
export function newSalt(): string {
  if (poolOffset + SALT_BYTES > pool.length) {
    pool = randomBytes(SALT_BYTES * POOL_SALTS);
    poolOffset = 0;
  }
  const salt = pool.toString('base64url', poolOffset, poolOffset + SALT_BYTES);
  poolOffset += SALT_BYTES;
  return salt;
}

/**
 * The digest of one record field: `sha256Hex(canonicalBytes({n: name, s: salt, v: value}))`.
 *
 * @throws CredexError `JCS_INVALID` when the value has no JSON form
 */
export function fieldDigest(name: string, value: unknown, salt: string): string {
  // The keys n < s < v are already in canonical order, so the object is written directly.
  return sha256HexOf(`{"n":${nameLiteral(name)},"s":${canonicalString(salt)},"v":${canonicalize(value)}}`);
}

/**
 * {@link fieldDigest} for a salt known to be base64url (fresh from {@link newSalt}, or checked
 * against the salt pattern), whose JSON literal is itself in quotes. Inside core only.
 */
export function fieldDigestOfBase64urlSalt(name: string, value: unknown, salt: string): string {
  return sha256HexOf(`{"n":${nameLiteral(name)},"s":"${salt}","v":${canonicalize(value)}}`);
}
