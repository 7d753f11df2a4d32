/**
 * SHA-256 primitives used inside core (not exported from the package).
 *
 * Node ≥ 20.12 has the one-shot `crypto.hash`, about twice as fast as `createHash` for the
 * short inputs hashed here (field digests, leaves, tree nodes); older Nodes (a Fabric peer's
 * Node 16/18 chaincode runtime) fall back to `createHash`.
 */
import * as crypto from 'node:crypto';

type OneShotHash = (algorithm: string, data: string | Uint8Array, outputEncoding: 'hex' | 'buffer') => string | Buffer;
const oneShot = (crypto as unknown as { hash?: OneShotHash }).hash;

/** Lowercase hex SHA-256 of bytes or of a string's UTF-8. */
export const sha256HexOf: (data: string | Uint8Array) => string =
  oneShot === undefined
    ? (data) => crypto.createHash('sha256').update(data).digest('hex')
    : (data) => oneShot('sha256', data, 'hex') as string;

/** SHA-256 of bytes, as a Buffer. */
export const sha256BytesOf: (data: Uint8Array) => Buffer =
  oneShot === undefined
    ? (data) => crypto.createHash('sha256').update(data).digest()
    : (data) => oneShot('sha256', data, 'buffer') as Buffer;
