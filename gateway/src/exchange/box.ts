/**
 * Payload encryption between organizations: nacl.box (x25519 + xsalsa20-poly1305) with a fresh
 * 24-byte nonce per message. The shared key of a peer is computed once (`nacl.box.before`) and
 * cached, so each message costs only `box.after`.
 */
import nacl from 'tweetnacl';
import { b64u, credexError, fromB64u } from '@credex/core';

const SHARED_CACHE_LIMIT = 1024;
const shared = new Map<string, Uint8Array>();
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function sharedKey(peerPublicKey: string, mySecretKey: string): Uint8Array {
  const id = `${peerPublicKey}\u0000${mySecretKey}`;
  let key = shared.get(id);
  if (key === undefined) {
    const pub = fromB64u(peerPublicKey);
    const sec = fromB64u(mySecretKey);
    if (pub.length !== nacl.box.publicKeyLength || sec.length !== nacl.box.secretKeyLength) {
      throw credexError('KEY_INVALID', 'x25519 box keys have 32 bytes');
    }
    key = nacl.box.before(pub, sec);
    if (shared.size >= SHARED_CACHE_LIMIT) shared.clear();
    shared.set(id, key);
  }
  return key;
}

/** Boxes the UTF-8 JSON of `payload` to `peerPublicKey`; nonce and ciphertext base64url. */
export function boxJson(payload: unknown, peerPublicKey: string, mySecretKey: string): { nonce: string; ciphertext: string } {
  const nonce = nacl.randomBytes(nacl.box.nonceLength);
  const ciphertext = nacl.box.after(encoder.encode(JSON.stringify(payload)), nonce, sharedKey(peerPublicKey, mySecretKey));
  return { nonce: b64u(nonce), ciphertext: b64u(ciphertext) };
}

/**
 * Opens a box from `peerPublicKey` and parses its JSON.
 *
 * @throws CredexError `DECRYPT_FAILED` when the box does not open (wrong key, altered bytes)
 *   or does not hold JSON
 */
export function openJson(box: { nonce: string; ciphertext: string }, peerPublicKey: string, mySecretKey: string): unknown {
  let plain: Uint8Array | null;
  try {
    const nonce = fromB64u(box.nonce);
    if (nonce.length !== nacl.box.nonceLength) throw new Error('a box nonce has 24 bytes');
    plain = nacl.box.open.after(fromB64u(box.ciphertext), nonce, sharedKey(peerPublicKey, mySecretKey));
  } catch (e) {
    throw credexError('DECRYPT_FAILED', `the payload cannot be opened: ${(e as Error).message}`, undefined, e);
  }
  if (plain === null) throw credexError('DECRYPT_FAILED', 'the payload does not open with the publisher\'s box key (altered or not for us)');
  try {
    return JSON.parse(decoder.decode(plain));
  } catch (e) {
    throw credexError('DECRYPT_FAILED', 'the opened payload is not UTF-8 JSON', undefined, e);
  }
}
