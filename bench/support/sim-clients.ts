/**
 * What the node-sim benches' client processes share: fabric-gateway connections signing with
 * node:crypto (the gateway's own fabricSigner, so the clients' signing weighs little on
 * node-sim's figures), credex statement signing, the access world and latency percentiles.
 */
import { createPrivateKey, sign as signWithNode } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { connect, type Contract, type Gateway } from '@hyperledger/fabric-gateway';
import { b64u, ed25519PrivateKeyObject, newBoxKeyPair, newSigningKeyPair, signed as signedBy, signStatement, statementBytes, statementId, type KeyPairB64u, type Signed, type StatementKind } from '@credex/core';
import { fixtureAccessRequest, fixtureConsent, fixtureEnterprise, fixtureEntryDraft, fixtureOrganization, fixtureSealedBatch, type RecordRef } from '@credex/schemas';
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

/** The p-th percentile (nearest rank) of ascending `sorted`; NaN for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

type FixtureOrg = Parameters<typeof fixtureOrganization>[0];

/** What the access benches set up on a fresh network: keys, one anchored record and consents to it. */
export interface AccessWorld {
  requestKeys: Map<string, KeyPairB64u>;
  /** The one anchored record every access names. */
  ref: RecordRef;
  /** `consents` consents of the subject for BankMSP, one per concurrent client. */
  consents: string[];
  /** One access:RecordAccess argument: BankMSP's signed request for the record under `consentId`. */
  accessGroup(consentId: string): string;
}

/**
 * Registers `orgs` and an enterprise, creates GovMSP's catalogue entry for it, anchors one
 * record and creates `consents` consents to BankMSP (50 at a time), through `cc(mspId)`.
 */
export async function setUpAccessWorld(cc: (mspId: string) => Contract, orgs: readonly FixtureOrg[], consents: number, idPrefix: string): Promise<AccessWorld> {
  const requestKeys = new Map(orgs.map((m) => [m, newSigningKeyPair()]));
  const subjectKey = newSigningKeyPair();
  await Promise.all(
    orgs.map((m) =>
      cc(m).submitTransaction(
        'participants:RegisterOrganization',
        json(fixtureOrganization(m, { requestKey: requestKeys.get(m)?.publicKey ?? '', boxKey: newBoxKeyPair().publicKey })),
      ),
    ),
  );
  await cc('GovMSP').submitTransaction('participants:RegisterEnterprise', json(fixtureEnterprise(subjectKey.publicKey)));
  const entry = fixtureEntryDraft({ publisher: 'GovMSP', recordType: 'gov.admin-licence' });
  await cc('GovMSP').submitTransaction('catalogue:CreateEntry', json(entry));
  const { batch, leaves } = fixtureSealedBatch(entry, { count: 1, idPrefix, batchId: `${idPrefix}-1` });
  await cc('GovMSP').submitTransaction('anchors:AnchorBatch', json(batch));
  const ref = leaves[0]?.ref;
  if (ref === undefined) throw new Error('the fixture batch has no record');
  const consentIds: string[] = [];
  for (let i = 0; i < consents; i += 50) {
    const group = Array.from({ length: Math.min(50, consents - i) }, () => signed('consent', fixtureConsent({ maxUses: 1_000_000, scope: { recordTypes: ['gov.admin-licence'] } }), subjectKey));
    await Promise.all(group.map((c) => cc('BankMSP').submitTransaction('consents:CreateConsent', json(c))));
    consentIds.push(...group.map((c) => statementId('consent', c.statement)));
  }
  const bankKey = requestKeys.get('BankMSP');
  if (bankKey === undefined) throw new Error('BankMSP is not among the orgs');
  const signRequest = nodeSigner(bankKey);
  const probe = fixtureAccessRequest('probe', ['probe']);
  if (signRequest('access-request', probe) !== signStatement('access-request', probe, bankKey.secretKey)) {
    throw new Error('node:crypto and tweetnacl ed25519 signatures differ');
  }
  return {
    requestKeys,
    ref,
    consents: consentIds,
    accessGroup(consentId) {
      const request = fixtureAccessRequest(consentId, [ref.recordId]);
      return json({ accesses: [{ accessId: statementId('access-request', request), consentId, recordIds: [ref.recordId], records: [ref], request: { statement: request, signature: signRequest('access-request', request) } }] });
    },
  };
}
