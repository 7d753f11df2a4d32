/**
 * The credex chaincode itself (the repository's `chaincode/` package, run as a peer's external
 * builder would) on node-sim, through the unmodified fabric-gateway client: a registered access
 * and its event, then a revocation and a withdrawal racing an access, each decided by MVCC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Contract } from '@hyperledger/fabric-gateway';
import { peer } from '@hyperledger/fabric-protos';
import {
  newBoxKeyPair,
  newSigningKeyPair,
  signed as signStatementBy,
  statementId,
  type KeyPairB64u,
  type StatementKind,
} from '@credex/core';
import {
  fixtureAccessRequest,
  fixtureConsent,
  fixtureEnterprise,
  fixtureEntryDraft,
  fixtureOrganization,
  fixtureRevocation,
  fixtureSealedBatch,
  type RecordRef,
} from '@credex/schemas';
import { startSimNetwork, type SimNetwork } from '../../src/index';
import { connectTo, take, tempDir, utf8, type Connection } from './helpers';

const ORGS = ['GovMSP', 'BankMSP', 'CoreMSP', 'AuditMSP'] as const;

const signed = <T>(kind: StatementKind, statement: T, key: KeyPairB64u) => signStatementBy(kind, statement, key.secretKey);
const json = (v: unknown): string => JSON.stringify(v);

let sim: SimNetwork;
let removeDir: () => Promise<void>;
const conns = new Map<string, Connection>();
const contracts = new Map<string, Contract>();
const requestKeys = new Map<string, KeyPairB64u>(ORGS.map((m) => [m, newSigningKeyPair()]));
const subjectKey = newSigningKeyPair();
let refs: RecordRef[] = [];

const cc = (mspId: string): Contract => contracts.get(mspId)!;

function access(consentId: string, records: RecordRef[]) {
  const ids = records.map((r) => r.recordId);
  const request = fixtureAccessRequest(consentId, ids);
  return { accessId: statementId('access-request', request), consentId, recordIds: ids, records, request: signed('access-request', request, requestKeys.get('BankMSP')!) };
}

async function createConsent(): Promise<string> {
  const consent = signed('consent', fixtureConsent({ scope: { recordTypes: ['gov.admin-licence'] } }), subjectKey);
  await cc('BankMSP').submitTransaction('consents:CreateConsent', json(consent));
  return statementId('consent', consent.statement);
}

beforeAll(async () => {
  const tmp = await tempDir('node-sim-credex-');
  removeDir = tmp.remove;
  sim = await startSimNetwork({ dataDir: tmp.dir, batch: { batchTimeoutMs: 10 } });
  for (const mspId of ORGS) {
    const conn = connectTo(sim, mspId);
    conns.set(mspId, conn);
    contracts.set(mspId, conn.gateway.getNetwork(sim.channel).getContract(sim.chaincodeName));
  }
  await Promise.all(
    ORGS.map((mspId) =>
      cc(mspId).submitTransaction(
        'participants:RegisterOrganization',
        json(fixtureOrganization(mspId, { requestKey: requestKeys.get(mspId)!.publicKey, boxKey: newBoxKeyPair().publicKey })),
      ),
    ),
  );
  await cc('GovMSP').submitTransaction('participants:RegisterEnterprise', json(fixtureEnterprise(subjectKey.publicKey)));
  const entry = fixtureEntryDraft({ publisher: 'GovMSP', recordType: 'gov.admin-licence' });
  await cc('GovMSP').submitTransaction('catalogue:CreateEntry', json(entry));
  const { batch, leaves } = fixtureSealedBatch(entry, { count: 3, idPrefix: 'sim', batchId: 'batch-sim-1' });
  refs = leaves.map((l) => l.ref);
  await cc('GovMSP').submitTransaction('anchors:AnchorBatch', json(batch));
}, 120_000);

afterAll(async () => {
  for (const conn of conns.values()) conn.close();
  await sim.stop();
  await removeDir();
});

describe('credex chaincode on node-sim', () => {
  it('registers an access, emits AccessRegistered, and serves it to the auditor', async () => {
    const consentId = await createConsent();
    const network = conns.get('BankMSP')!.gateway.getNetwork(sim.channel);
    const group = { accesses: [access(consentId, [refs[0]!])] };
    const events = await network.getChaincodeEvents(sim.chaincodeName);
    try {
      const arriving = take(events, 1);
      const result = JSON.parse(utf8(await cc('GovMSP').submitTransaction('access:RecordAccess', json(group)))) as {
        results: { accessId: string; ok: boolean }[];
      };
      expect(result.results).toEqual([expect.objectContaining({ accessId: group.accesses[0]!.accessId, ok: true, records: [{ recordId: refs[0]!.recordId, status: 'active' }] })]);
      const [event] = await arriving;
      expect(event?.eventName).toBe('AccessRegistered');
      expect(JSON.parse(utf8(event!.payload))).toMatchObject({ accessIds: [group.accesses[0]!.accessId], publisher: 'GovMSP' });
    } finally {
      events.close();
    }
    const stored = JSON.parse(utf8(await cc('AuditMSP').evaluateTransaction('access:GetAccess', group.accesses[0]!.accessId))) as Record<string, unknown>;
    expect(stored).toMatchObject({ accessId: group.accesses[0]!.accessId, consentId, grantee: 'BankMSP', publisher: 'GovMSP' });
  });

  it('decides a revocation racing an access by MVCC: the held access is invalid and changes nothing', async () => {
    const consentId = await createConsent();
    const held = access(consentId, [refs[1]!]);
    const tx = await cc('GovMSP').newProposal('access:RecordAccess', { arguments: [json({ accesses: [held] })] }).endorse();
    expect(JSON.parse(utf8(tx.getResult()))).toMatchObject({ results: [{ accessId: held.accessId, ok: true }] });

    await cc('BankMSP').submitTransaction('consents:RevokeConsent', json(signed('revocation', fixtureRevocation(consentId), subjectKey)));

    const status = await (await tx.submit()).getStatus();
    expect(status.code).toBe(peer.TxValidationCode.MVCC_READ_CONFLICT);
    const err = await cc('AuditMSP').evaluateTransaction('access:GetAccess', held.accessId).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(JSON.stringify((err as { details?: unknown }).details)).toContain('NOT_FOUND');
    const consent = JSON.parse(utf8(await cc('BankMSP').evaluateTransaction('consents:GetConsent', consentId))) as { uses: number; status?: string };
    expect(consent.uses).toBe(0);
    // A fresh access after the revocation is refused by the chaincode itself.
    const again = JSON.parse(
      utf8(await cc('GovMSP').submitTransaction('access:RecordAccess', json({ accesses: [access(consentId, [refs[1]!])] }))),
    ) as { results: { ok: boolean; code?: string }[] };
    expect(again.results[0]).toMatchObject({ ok: false, code: 'CONSENT_REVOKED' });
  });

  it('decides a withdrawal racing an access by MVCC: the held access of the withdrawn record is invalid and changes nothing', async () => {
    const consentId = await createConsent();
    const ref = refs[2]!;
    const held = access(consentId, [ref]);
    const tx = await cc('GovMSP').newProposal('access:RecordAccess', { arguments: [json({ accesses: [held] })] }).endorse();
    expect(JSON.parse(utf8(tx.getResult()))).toMatchObject({ results: [{ accessId: held.accessId, ok: true, records: [{ recordId: ref.recordId, status: 'active' }] }] });

    await cc('GovMSP').submitTransaction('anchors:WithdrawRecord', json(ref));

    const status = await (await tx.submit()).getStatus();
    expect(status.code).toBe(peer.TxValidationCode.MVCC_READ_CONFLICT);
    const err = await cc('AuditMSP').evaluateTransaction('access:GetAccess', held.accessId).catch((e: unknown) => e as Error);
    expect(JSON.stringify((err as { details?: unknown }).details)).toContain('NOT_FOUND');
    const consent = JSON.parse(utf8(await cc('BankMSP').evaluateTransaction('consents:GetConsent', consentId))) as { uses: number };
    expect(consent.uses).toBe(0);
    const record = JSON.parse(utf8(await cc('AuditMSP').evaluateTransaction('anchors:GetRecord', json(ref)))) as { status: string };
    expect(record.status).toBe('withdrawn');
    // A fresh access to the withdrawn record is refused by the chaincode itself.
    const again = JSON.parse(utf8(await cc('GovMSP').submitTransaction('access:RecordAccess', json({ accesses: [access(consentId, [ref])] })))) as {
      results: { ok: boolean; code?: string }[];
    };
    expect(again.results[0]).toMatchObject({ ok: false, code: 'RECORD_WITHDRAWN' });
  });
});
