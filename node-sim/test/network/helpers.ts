/** Test helpers: the unmodified fabric-gateway client connected to a node-sim peer over real gRPC. */
import { createPrivateKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, signers, type Gateway } from '@hyperledger/fabric-gateway';
import type { SimNetwork } from '../../src/index';

export const KV_CHAINCODE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/kv-chaincode');

export interface ClientIdentity {
  mspId: string;
  certPem: string;
  keyPem: string;
}

export interface Connection {
  gateway: Gateway;
  client: grpc.Client;
  close(): void;
}

/** A gateway connection to `peerMspId`'s peer, signing as `identity` (default: that org's client). */
export function connectTo(network: SimNetwork, peerMspId: string, identity?: ClientIdentity): Connection {
  const org = network.orgs.get(peerMspId);
  if (org === undefined) throw new Error(`no org ${peerMspId}`);
  const id = identity ?? org.identities.client;
  const credentials = network.tls ? grpc.credentials.createSsl(Buffer.from(org.tlsCaCertPem)) : grpc.credentials.createInsecure();
  const client = new grpc.Client(org.peerEndpoint, credentials, { 'grpc.ssl_target_name_override': org.hostnameOverride });
  const gateway = connect({
    client,
    identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) },
    signer: signers.newPrivateKeySigner(createPrivateKey(id.keyPem)),
    hash: hash.sha256,
    evaluateOptions: () => ({ deadline: Date.now() + 15_000 }),
    endorseOptions: () => ({ deadline: Date.now() + 15_000 }),
    submitOptions: () => ({ deadline: Date.now() + 15_000 }),
    commitStatusOptions: () => ({ deadline: Date.now() + 30_000 }),
  });
  return {
    gateway,
    client,
    close: () => {
      gateway.close();
      client.close();
    },
  };
}

export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export const utf8 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');

/** Takes items from an async iterator until `n` arrived. */
export async function take<T>(iterable: AsyncIterable<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  if (n <= 0) return out;
  for await (const item of iterable) {
    out.push(item);
    if (out.length >= n) break;
  }
  return out;
}
