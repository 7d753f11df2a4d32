/**
 * @credex/core — what chaincode, gateways and verifiers share: errors, USCC, canonical JSON,
 * hashing, selective-disclosure records, Merkle proofs, signed statements and keys.
 */
export * from './errors';
export * from './uscc';
export { canonicalBytes, canonicalize, canonicalString, MAX_JSON_DEPTH } from './jcs';
export { fieldDigest, newSalt, SALT_BYTES, sha256Hex } from './hash';
export * from './record';
export * from './merkle';
export * from './statements';
export * from './keys';
export * from './fabric-block';
