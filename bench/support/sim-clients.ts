/**
 * What the node-sim benches' client processes share: fabric-gateway connections whose signing
 * is done by node:crypto (the gateway's own fabricSigner) (so the clients' own signing weighs little on node-sim's figures),
 * credex statement signing, and CPU time read from /proc.
 */
import { createPrivateKey, sign as signWithNode } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { connect, type Gateway } from '@hyperledger/fabric-gateway';
import { b64u, ed25519PrivateKeyObject, signed as signedBy, statementBytes, type KeyPairB64u, type Signed, type StatementKind } from '@credex/core';
import type { SimOrg } from '@credex/node-sim';
import { fabricSigner } from '../../gateway/src/ledger/signer';

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

/** A fabric-gateway connection to `org`'s peer as its client identity, over TLS. */
export function connectOrg(org: SimOrg): { gateway: Gateway; close: () => void } {
  const client = new grpc.Client(org.peerEndpoint, grpc.credentials.createSsl(Buffer.from(org.tlsCaCertPem)), {
    'grpc.ssl_target_name_override': org.hostnameOverride,
  });
  const id = org.identities.client;
  const gateway = connect({
    client,
    identity: { mspId: org.mspId, credentials: Buffer.from(id.certPem) },
    ...fabricSigner(createPrivateKey(id.keyPem)),
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
