/**
 * Key pairs and the base64url encoding every binary value uses in JSON.
 *
 * Signing keys are ed25519 in tweetnacl's form (32-byte public key, 64-byte secret key =
 * seed ‖ public key); box keys are x25519 for `nacl.box`. Both travel as base64url without
 * padding.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { credexError } from './errors';

/** A key pair, both halves base64url without padding. */
export interface KeyPairB64u {
  publicKey: string;
  secretKey: string;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE: Int16Array = (() => {
  const table = new Int16Array(128).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  return table;
})();

/** base64url without padding (RFC 4648 §5). */
export function b64u(bytes: Uint8Array): string {
  let out = '';
  const n = bytes.length;
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += ALPHABET.charAt(v >>> 18) + ALPHABET.charAt((v >>> 12) & 63) + ALPHABET.charAt((v >>> 6) & 63) + ALPHABET.charAt(v & 63);
  }
  if (n - i === 1) {
    const v = (bytes[i] ?? 0) << 16;
    out += ALPHABET.charAt(v >>> 18) + ALPHABET.charAt((v >>> 12) & 63);
  } else if (n - i === 2) {
    const v = ((bytes[i] ?? 0) << 16) | ((bytes[i + 1] ?? 0) << 8);
    out += ALPHABET.charAt(v >>> 18) + ALPHABET.charAt((v >>> 12) & 63) + ALPHABET.charAt((v >>> 6) & 63);
  }
  return out;
}

/**
 * Decodes strict base64url: only `A-Z a-z 0-9 - _`, no padding, no whitespace, and unused
 * trailing bits zero, so every byte string has exactly one accepted encoding.
 *
 * @throws CredexError `B64_INVALID` otherwise
 */
export function fromB64u(s: string): Uint8Array {
  if (typeof s !== 'string') throw credexError('B64_INVALID', 'base64url value must be a string');
  const rest = s.length % 4;
  if (rest === 1) throw credexError('B64_INVALID', `base64url length ${s.length} is impossible`, { length: s.length });
  const out = new Uint8Array(Math.floor(s.length / 4) * 3 + (rest === 0 ? 0 : rest - 1));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    const v = code < 128 ? (DECODE[code] ?? -1) : -1;
    if (v < 0) {
      throw credexError('B64_INVALID', `character ${i + 1} of a base64url value is not in A-Z a-z 0-9 - _`, { position: i + 1 });
    }
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >>> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw credexError('B64_INVALID', 'base64url value has non-zero trailing bits');
  return out;
}

/** A fresh ed25519 signing key pair (tweetnacl's 64-byte secret key), base64url. */
export function newSigningKeyPair(): KeyPairB64u {
  return encodePair(nacl.sign.keyPair());
}

/** The ed25519 signing key pair of a 32-byte seed, base64url; for fixtures and key derivation. */
export function signingKeyPairFromSeed(seed: Uint8Array): KeyPairB64u {
  if (seed.length !== nacl.sign.seedLength) {
    throw credexError('KEY_INVALID', `an ed25519 seed has ${nacl.sign.seedLength} bytes, got ${seed.length}`);
  }
  return encodePair(nacl.sign.keyPair.fromSeed(seed));
}

/** A fresh x25519 key pair for `nacl.box`, base64url. */
export function newBoxKeyPair(): KeyPairB64u {
  return encodePair(nacl.box.keyPair());
}

function encodePair(pair: nacl.SignKeyPair | nacl.BoxKeyPair): KeyPairB64u {
  return { publicKey: b64u(pair.publicKey), secretKey: b64u(pair.secretKey) };
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const KEY_CACHE_LIMIT = 1024;
const publicKeyObjects = new Map<string, KeyObject>();
const privateKeyObjects = new Map<string, KeyObject>();

/** A bounded cache whose Map insertion order approximates least-recently-used. */
function cachedKey(cache: Map<string, KeyObject>, key: string, make: () => KeyObject): KeyObject {
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const made = make();
  if (cache.size >= KEY_CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(key, made);
  return made;
}

/**
 * A node:crypto KeyObject (cached) for a base64url raw ed25519 public key, so that servers
 * verify with node:crypto the keys and signatures tweetnacl makes.
 *
 * @throws CredexError `B64_INVALID` or `KEY_INVALID`
 */
export function ed25519PublicKeyObject(publicKey: string): KeyObject {
  return cachedKey(publicKeyObjects, publicKey, () => {
    const raw = fromB64u(publicKey);
    if (raw.length !== 32) throw credexError('KEY_INVALID', `an ed25519 public key has 32 bytes, got ${raw.length}`);
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  });
}

/**
 * A node:crypto KeyObject (cached) for a tweetnacl ed25519 secret key (64 bytes: seed ‖ public),
 * for signing on servers at node:crypto's speed with the same keys.
 *
 * @throws CredexError `B64_INVALID` or `KEY_INVALID`
 */
export function ed25519PrivateKeyObject(secretKey: string): KeyObject {
  return cachedKey(privateKeyObjects, secretKey, () => {
    const raw = fromB64u(secretKey);
    if (raw.length !== 64) throw credexError('KEY_INVALID', `an ed25519 secret key has 64 bytes, got ${raw.length}`);
    return createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, raw.subarray(0, 32)]), format: 'der', type: 'pkcs8' });
  });
}
