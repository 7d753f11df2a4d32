import { describe, expect, it } from 'vitest';
import { credexError } from '@credex/core';
import { createAccessRegistrar, type AccessItem, type SubmitLedger } from '../../src/exchange/group-commit';

// The layer under the registrar: a ledger whose RecordAccess refuses accesses named "bad-*".
class RecordingLedger implements SubmitLedger {
  readonly groups: string[][] = [];
  readonly started: string[][] = [];
  /** While set, transactions wait for it before they commit. */
  gate: Promise<void> | undefined;
  inFlight = 0;
  maxInFlight = 0;
  failNext: Error | undefined;

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- SubmitLedger's signature
  async submit<T>(contract: string, tx: string, arg: string): Promise<{ result: T; txId: string; blockNumber: number }> {
    expect([contract, tx]).toEqual(['access', 'RecordAccess']);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.started.push((JSON.parse(arg) as { accesses: AccessItem[] }).accesses.map((a) => a.accessId));
    await (this.gate ?? new Promise((r) => setTimeout(r, 5)));
    this.inFlight--;
    const { accesses } = JSON.parse(arg) as { accesses: AccessItem[] };
    this.groups.push(accesses.map((a) => a.accessId));
    if (this.failNext !== undefined) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    const results = accesses.map((a) => (a.accessId.startsWith('bad')
      ? { accessId: a.accessId, ok: false, code: 'CONSENT_REVOKED', message: 'revoked' }
      : { accessId: a.accessId, ok: true, fee: 200, usesLeft: 3, records: a.records.map((r) => ({ recordId: r.recordId, status: 'active' })) }));
    return { result: { results } as T, txId: `tx${this.groups.length}`, blockNumber: this.groups.length };
  }
}

/** A ledger whose submits wait until `release` (then clear the gate so later ones pass). */
function gatedLedger(): { ledger: RecordingLedger; release: () => void } {
  const ledger = new RecordingLedger();
  let open = (): void => undefined;
  ledger.gate = new Promise<void>((r) => { open = r; });
  return { ledger, release: () => { ledger.gate = undefined; open(); } };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
}

function access(id: string, consent = 'c'): AccessItem {
  return {
    accessId: id,
    consentId: consent.repeat(64),
    recordIds: ['r1'],
    records: [{ recordId: 'r1', batchId: 'b1', index: 0, leafHash: 'a'.repeat(64), proof: [] }],
    request: { statement: { consentId: consent.repeat(64), grantee: 'BankMSP', purpose: 'LOAN_APPLICATION', recordIds: ['r1'], nonce: `nonce-${id}-0000000`, created: '2026-11-22T00:00:00.000Z' }, signature: 'sig' },
  };
}

async function settle<T>(p: Promise<T>): Promise<T | string> {
  try {
    return await p;
  } catch (e) {
    return (e as { code?: string }).code ?? 'ERR';
  }
}

describe('createAccessRegistrar', () => {
  it('registers accesses arriving together in one transaction and gives each its own result', async () => {
    const ledger = new RecordingLedger();
    const registrar = createAccessRegistrar(ledger, { windowMs: 5 });
    const results = await Promise.all(['a1', 'bad1', 'a2'].map((id) => settle(registrar.register(access(id)))));
    expect(ledger.groups).toEqual([['a1', 'bad1', 'a2']]);
    expect(results[0]).toEqual({ accessId: 'a1', txId: 'tx1', blockNumber: 1, fee: 200, usesLeft: 3, records: [{ recordId: 'r1', status: 'active' }] });
    expect(results[1]).toBe('CONSENT_REVOKED');
    expect(results[2]).toMatchObject({ accessId: 'a2', txId: 'tx1' });
  });

  it('with one transaction in flight, what arrives meanwhile forms the next group', async () => {
    const ledger = new RecordingLedger();
    const registrar = createAccessRegistrar(ledger, { windowMs: 1, maxInFlight: 1 });
    const first = registrar.register(access('x1'));
    await new Promise((r) => setTimeout(r, 3));
    const later = ['x2', 'x3', 'x4'].map((id) => registrar.register(access(id)));
    await Promise.all([first, ...later]);
    expect(ledger.maxInFlight).toBe(1);
    expect(ledger.groups).toEqual([['x1'], ['x2', 'x3', 'x4']]);
  });

  it('never has two transactions in flight that use the same consent; other consents go in parallel', async () => {
    const { ledger, release } = gatedLedger();
    const registrar = createAccessRegistrar(ledger, { windowMs: 1, maxInFlight: 3, minGroupWhileBusy: 1 });
    const first = registrar.register(access('p1', 'A'));
    await until(() => ledger.inFlight === 1);
    // p1 (consent A) is in flight: p2 (A) must wait; q1 (B) goes at once.
    const later = [registrar.register(access('p2', 'A')), registrar.register(access('q1', 'B'))];
    await until(() => ledger.inFlight === 2);
    await new Promise((r) => setTimeout(r, 5));
    expect(ledger.started).toEqual([['p1'], ['q1']]);
    release();
    await Promise.all([first, ...later]);
    expect(ledger.started).toEqual([['p1'], ['q1'], ['p2']]);
  });

  it('while a transaction is in flight, a further one starts only once minGroupWhileBusy accesses wait; fewer wait for it to commit', async () => {
    const { ledger, release } = gatedLedger();
    const registrar = createAccessRegistrar(ledger, { windowMs: 1, maxInFlight: 4, minGroupWhileBusy: 3 });
    const first = registrar.register(access('w1', 'A'));
    await until(() => ledger.inFlight === 1);
    // Two accesses under other consents: fewer than 3, so no second transaction yet.
    const two = [registrar.register(access('w2', 'B')), registrar.register(access('w3', 'C'))];
    await new Promise((r) => setTimeout(r, 10));
    expect(ledger.started).toEqual([['w1']]);
    // A third makes the group worth a transaction of its own, though w1 has not committed.
    const third = registrar.register(access('w4', 'D'));
    await until(() => ledger.inFlight === 2);
    expect(ledger.started).toEqual([['w1'], ['w2', 'w3', 'w4']]);
    // One more waits, then goes once the transactions in flight commit.
    const last = registrar.register(access('w5', 'E'));
    await new Promise((r) => setTimeout(r, 10));
    expect(ledger.started).toHaveLength(2);
    release();
    await Promise.all([first, ...two, third, last]);
    expect(ledger.started).toEqual([['w1'], ['w2', 'w3', 'w4'], ['w5']]);
  });

  it('splits at maxGroup', async () => {
    const ledger = new RecordingLedger();
    const registrar = createAccessRegistrar(ledger, { windowMs: 1, maxGroup: 2, maxInFlight: 1 });
    await Promise.all(['m1', 'm2', 'm3', 'm4', 'm5'].map((id) => registrar.register(access(id))));
    expect(ledger.groups).toEqual([['m1', 'm2'], ['m3', 'm4'], ['m5']]);
  });

  it('a failed transaction fails every access of its group, and the next group still goes', async () => {
    const ledger = new RecordingLedger();
    ledger.failNext = credexError('LEDGER_UNAVAILABLE', 'down');
    const registrar = createAccessRegistrar(ledger, { windowMs: 1 });
    const failed = await Promise.all(['f1', 'f2'].map((id) => settle(registrar.register(access(id)))));
    expect(failed).toEqual(['LEDGER_UNAVAILABLE', 'LEDGER_UNAVAILABLE']);
    await expect(registrar.register(access('f3'))).resolves.toMatchObject({ accessId: 'f3' });
  });

  it('drain waits for pending registrations', async () => {
    const ledger = new RecordingLedger();
    const registrar = createAccessRegistrar(ledger, { windowMs: 50 });
    const pending = registrar.register(access('d1'));
    await registrar.drain();
    expect(ledger.groups).toEqual([['d1']]);
    await expect(pending).resolves.toMatchObject({ accessId: 'd1' });
  });
});
