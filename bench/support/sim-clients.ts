/**
 * What the node-sim benches' client processes share: fabric-gateway connections whose signing
 * is done by node:crypto (so the clients' own signing weighs little on node-sim's figures),
 * credex statement signing, and CPU time read from /proc.
 */
import { createPrivateKey, sign as signWithNode } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, type Gateway } from '@hyperledger/fabric-gateway';
import { b64u, ed25519PrivateKeyObject, signed as signedBy, statementBytes, type KeyPairB64u, type Signed, type StatementKind } from '@credex/core';
import type { SimOrg } from '@credex/node-sim';

export const signed = <T>(kind: StatementKind, statement: T, key: KeyPairB64u): Signed<T> => signedBy(kind, statement, key.secretKey);
export const json = (v: unknown): string => JSON.stringify(v);

/**
 * The same ed25519 signature as core's signStatement (tweetnacl), made with node:crypto: the
 * bench's own client-side signing should not weigh on the figures (DESIGN: ~100x faster).
 */
export function nodeSigner(key: KeyPairB64u): (kind: StatementKind, statement: unknown) => string {
  const privateKey = ed25519PrivateKeyObject(key.secretKey);
  return (kind, statement) => b64u(signWithNode(null, statementBytes(kind, statement), privateKey));
}

/** P-256 order, for the low-S form Fabric requires. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * An ECDSA P-256 signer for the fabric-gateway client made with node:crypto (OpenSSL), low-S
 * and DER like the client's own signer (which computes in JavaScript, ~10x slower). Used with
 * `hash.none`, so it gets the message itself and hashes it with SHA-256 as the client's would.
 */
export function nodeEcdsaSigner(keyPem: string): (message: Uint8Array) => Promise<Uint8Array> {
  const key = createPrivateKey(keyPem);
  const int = (v: bigint): Buffer => {
    let hex = v.toString(16);
    if (hex.length % 2 === 1) hex = `0${hex}`;
    const bytes = Buffer.from(hex, 'hex');
    return (bytes[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  };
  return (message) => {
    const raw = signWithNode('sha256', message, { key, dsaEncoding: 'ieee-p1363' });
    const r = BigInt(`0x${raw.subarray(0, 32).toString('hex')}`);
    let s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
    if (s > P256_N >> 1n) s = P256_N - s;
    const rb = int(r);
    const sb = int(s);
    return Promise.resolve(Buffer.concat([Buffer.from([0x30, rb.length + sb.length + 4, 0x02, rb.length]), rb, Buffer.from([0x02, sb.length]), sb]));
  };
}

/** A fabric-gateway connection to `org`'s peer as its client identity, over TLS. */
export function connectOrg(org: SimOrg): { gateway: Gateway; close: () => void } {
  const client = new grpc.Client(org.peerEndpoint, grpc.credentials.createSsl(Buffer.from(org.tlsCaCertPem)), {
    'grpc.ssl_target_name_override': org.hostnameOverride,
  });
  const id = org.identities.client;
  const gateway = connect({
    client,
    identity: { mspId: org.mspId, credentials: Buffer.from(id.certPem) },
    signer: nodeEcdsaSigner(id.keyPem),
    hash: hash.none,
  });
  return {
    gateway,
    close: () => {
      gateway.close();
      client.close();
    },
  };
}

/** Parent pid and CPU ms (user + system, all threads) of a process, from /proc; throws where there is none. */
function procStat(pid: number | string): { ppid: number; ms: number } {
  const fields = readFileSync(`/proc/${String(pid)}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { ppid: Number(fields[1]), ms: (Number(fields[11]) + Number(fields[12])) * 10 };
}

/** CPU ms of a process from /proc (all its threads); undefined where there is no /proc. */
export function cpuMsOf(pid: number | string): number | undefined {
  try {
    return procStat(pid).ms;
  } catch {
    return undefined;
  }
}

/** CPU ms of this process's children except `exclude` (e.g. the clients' process, leaving the chaincodes). */
export function childrenCpuMs(exclude: number | undefined): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const t = procStat(pid);
      if (t.ppid === process.pid && Number(pid) !== exclude) total += t.ms;
    } catch {
      // ended meanwhile, or no /proc
    }
  }
  return total;
}
