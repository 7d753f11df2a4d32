/**
 * The gateway's ledger client against node-sim: results and transaction ids, chaincode error
 * codes, MVCC conflicts retried, an unreachable peer reported as LEDGER_UNAVAILABLE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalize, newBoxKeyPair, newSigningKeyPair } from '@credex/core';
import { fixtureOrganization } from '@credex/schemas';
import { createLedgerClient, transactionCodes } from '@credex/gateway';
import type { LedgerClient } from '@credex/gateway';
import type { Harness } from './gateway-harness';
import { freePort, startHarness } from './gateway-harness';

// Fabric's TxValidationCode.MVCC_READ_CONFLICT. (This file must not import @hyperledger/fabric-protos:
// the root copy is another version than fabric-gateway's, and both register the same global classes.)
const MVCC_READ_CONFLICT = 11;

describe('gateway ledger client over node-sim', () => {
  let h: Harness;
  let ledger: LedgerClient;

  beforeAll(async () => {
    h = await startHarness();
    const { ledger: cfg, mspId } = h.config('BankMSP');
    ledger = await createLedgerClient({ ...cfg, mspId });
  }, 120_000);

  afterAll(async () => {
    ledger.close();
    await h.stop();
  });

  const profile = (): string => canonicalize(fixtureOrganization('BankMSP', { requestKey: newSigningKeyPair().publicKey, boxKey: newBoxKeyPair().publicKey }));

  it('submits, returning the parsed result, the transaction id and its block', async () => {
    const { result, txId, blockNumber } = await ledger.submit<{ mspId: string }>('participants', 'RegisterOrganization', profile());
    expect(result.mspId).toBe('BankMSP');
    expect(txId).toMatch(/^[0-9a-f]{64}$/);
    expect(blockNumber).toBeGreaterThan(0);
    expect((await ledger.chainInfo()).height).toBeGreaterThan(blockNumber);
  });

  it('retries a transaction that lost an MVCC race, so concurrent updates of one key all commit', async () => {
    const before = (await ledger.chainInfo()).height;
    const results = await Promise.all([1, 2].map(() => ledger.submit('participants', 'RegisterOrganization', profile())));
    expect(new Set(results.map((r) => r.txId)).size).toBe(2);
    // The race did happen: a transaction between then and now failed validation with MVCC_READ_CONFLICT.
    const after = (await ledger.chainInfo()).height;
    const codes: number[] = [];
    for (let n = before; n < after; n++) {
      codes.push(...transactionCodes(await ledger.block(n)));
    }
    expect(codes).toContain(MVCC_READ_CONFLICT);
  });

  it('reports a contract error by its code, with no retry', async () => {
    const other = canonicalize(fixtureOrganization('GovMSP', { requestKey: newSigningKeyPair().publicKey, boxKey: newBoxKeyPair().publicKey }));
    await expect(ledger.submit('participants', 'RegisterOrganization', other)).rejects.toMatchObject({ code: 'FORBIDDEN', retryable: false });
    await expect(ledger.evaluate('participants', 'GetOrganization', 'NoSuchMSP')).rejects.toMatchObject({ code: 'ORG_UNKNOWN' });
  });

  it('reports a peer it cannot reach as LEDGER_UNAVAILABLE', async () => {
    const { ledger: cfg, mspId } = h.config('BankMSP');
    const dead = await createLedgerClient({ ...cfg, mspId, peerEndpoint: `127.0.0.1:${await freePort()}`, deadlines: { evaluate: 3000 } });
    try {
      await expect(dead.evaluate('participants', 'ListOrganizations')).rejects.toMatchObject({ code: expect.stringMatching(/^LEDGER_(UNAVAILABLE|TIMEOUT)$/) as string });
    } finally {
      dead.close();
    }
  });
});
