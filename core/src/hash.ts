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

// randomBytes costs several µs per call, so salts come from a pool of random bytes refilled
// 256 salts at a time, and the pool is turned into base64url text in one native call rather
// than salt by salt. Each salt takes the next STRIDE bytes (a multiple of 3, so its text starts
// on a 4-character boundary of the pool's text) and uses the first SALT_BYTES of them: the first
// SALT_CHARS - 1 characters are theirs alone, and the last one carries their final bits plus
// bits of the next byte, which are cleared, as b64u's encoding of SALT_BYTES bytes clears them.
// So each salt is exactly b64u of its SALT_BYTES bytes, and no pool byte serves twice.
const POOL_SALTS = 256;
const STRIDE = Math.ceil(SALT_BYTES / 3) * 3;
const STRIDE_CHARS = (STRIDE / 3) * 4;
const SALT_CHARS = Math.ceil((SALT_BYTES * 8) / 6);
const LAST_CHAR_BITS = SALT_BYTES * 8 - (SALT_CHARS - 1) * 6;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Character code in the pool's text → that character with the bits beyond the salt cleared. */
const LAST_CHAR: string[] = (() => {
  const table = new Array<string>(128).fill('');
  const mask = ((1 << LAST_CHAR_BITS) - 1) << (6 - LAST_CHAR_BITS);
  for (let i = 0; i < 64; i++) table[ALPHABET.charCodeAt(i)] = ALPHABET.charAt(i & mask);
  return table;
})();
let poolText = '';
let poolOffset = 0;

/** A fresh salt: {@link SALT_BYTES} random bytes, base64url. */
export function newSalt(): string {
  if (poolOffset + STRIDE_CHARS > poolText.length) {
    poolText = randomBytes(STRIDE * POOL_SALTS).toString('base64url');
    poolOffset = 0;
  }
  const last = poolOffset + SALT_CHARS - 1;
  const salt = poolText.slice(poolOffset, last) + (LAST_CHAR[poolText.charCodeAt(last)] ?? '');
  poolOffset += STRIDE_CHARS;
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
