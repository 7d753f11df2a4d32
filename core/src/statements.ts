/**
 * Signed statements (consents, revocations, objections, access requests, key rotations).
 *
 * The signed bytes are `credex/${kind}/v1\n` followed by the body's canonical JSON; the
 * per-kind prefix keeps a signature for one kind from passing as another. Signing uses
 * tweetnacl (works in browsers and CLIs); verification uses node:crypto, far faster, for the
 * chaincode and servers. Both produce and accept the same ed25519 keys and signatures.
 */
import { verify } from 'node:crypto';
import { sha256HexOf } from './digest';
import nacl from 'tweetnacl';
import { credexError } from './errors';
import { canonicalize } from './jcs';
import { b64u, ed25519PublicKeyObject, fromB64u } from './keys';

/** The kinds of statement; each has its own domain-separation prefix. */
export type StatementKind = 'consent' | 'revocation' | 'objection' | 'access-request' | 'key-rotation';

/** The statement kinds, for validation. */
export const STATEMENT_KINDS: readonly StatementKind[] = ['consent', 'revocation', 'objection', 'access-request', 'key-rotation'];

/** A statement with its base64url ed25519 signature. */
export interface Signed<T> {
  statement: T;
  signature: string;
}

const encoder = new TextEncoder();
// DER of SubjectPublicKeyInfo {id-Ed25519} up to the 32 raw key bytes (RFC 8410).

function assertKind(kind: StatementKind): void {
  if (!STATEMENT_KINDS.includes(kind)) {
    throw credexError('STATEMENT_KIND_INVALID', `unknown statement kind '${kind}'`, { kind });
  }
}

function statementText(kind: StatementKind, body: unknown): string {
  assertKind(kind);
  return `credex/${kind}/v1\n${canonicalize(body)}`;
}

/**
 * The bytes a statement's signature covers: UTF-8 of `credex/${kind}/v1\n` ‖ canonical JSON.
 *
 * @throws CredexError `STATEMENT_KIND_INVALID`, or `JCS_INVALID` for a body with no JSON form
 */
export function statementBytes(kind: StatementKind, body: unknown): Uint8Array {
  return encoder.encode(statementText(kind, body));
}

/**
 * Signs a statement with an ed25519 secret key (tweetnacl's 64-byte form, raw or base64url).
 *
 * @returns the signature, base64url
 * @throws CredexError `KEY_INVALID` for a key that is not 64 bytes, `B64_INVALID` for bad
 *   base64url, `STATEMENT_KIND_INVALID`, `JCS_INVALID`
 */
export function signStatement(kind: StatementKind, body: unknown, secretKey: Uint8Array | string): string {
  const key = typeof secretKey === 'string' ? fromB64u(secretKey) : secretKey;
  if (key.length !== nacl.sign.secretKeyLength) {
    throw credexError('KEY_INVALID', `an ed25519 secret key has ${nacl.sign.secretKeyLength} bytes, got ${key.length}`);
  }
  return b64u(nacl.sign.detached(statementBytes(kind, body), key));
}

/**
 * A statement with its signature by `secretKey` (as signStatement), in the `{statement,
 * signature}` form every signed statement travels in.
 */
export function signed<T>(kind: StatementKind, statement: T, secretKey: Uint8Array | string): Signed<T> {
  return { statement, signature: signStatement(kind, statement, secretKey) };
}

/**
 * Verifies a statement's ed25519 signature with node:crypto. Never throws: a malformed key,
 * signature, kind or body gives false.
 *
 * @param signature - base64url, 64 bytes
 * @param publicKey - base64url, 32 bytes
 */
export function verifyStatement(kind: StatementKind, body: unknown, signature: string, publicKey: string): boolean {
  try {
    const sig = fromB64u(signature);
    if (sig.length !== 64) return false;
    return verify(null, statementBytes(kind, body), ed25519PublicKeyObject(publicKey), sig);
  } catch {
    return false;
  }
}

/**
 * The id of a statement, e.g. a consentId: `sha256Hex(statementBytes(kind, body))`.
 *
 * @throws CredexError `STATEMENT_KIND_INVALID`, `JCS_INVALID`
 */
export function statementId(kind: StatementKind, body: unknown): string {
  return sha256HexOf(statementText(kind, body));
}

