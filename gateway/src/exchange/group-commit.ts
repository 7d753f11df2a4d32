/**
 * Group commit of access registrations: accesses arriving within a few milliseconds are
 * registered in one access:RecordAccess transaction; each caller waits for the commit of the
 * transaction that registers its access and gets its own result. A few transactions may be in
 * flight, but never two using the same consent, so our own registrations never race each
 * other into an MVCC conflict; the next group gathers while they commit.
 *
 * Larger groups are cheaper per access: a transaction costs the ledger a fixed ~17 ms of CPU
 * (endorsement on each peer, ordering, validation, the gateway's own signing and commit
 * status) besides ~3 ms per access (bench:fetch's diagnostic: 20 ms per access alone, 3.6 in a
 * group of 50). So while a transaction is in flight, a further one starts only once
 * `minGroupWhileBusy` accesses wait for it; fewer wait for a transaction to finish. An idle
 * registrar still sends after `windowMs`, so a lone access is not held back.
 */
import { canonicalize, credexError } from '@credex/core';
import type { Signed } from '@credex/core';
import type { AccessRequest } from '@credex/schemas';
import type { AccessResult, RecordRef } from './types';

/** One access to register (an item of access-group). */
export interface AccessItem {
  accessId: string;
  consentId: string;
  recordIds: string[];
  /** A RecordRef of each record of recordIds (the same set), which the ledger proves against its batch. */
  records: RecordRef[];
  request: Signed<AccessRequest>;
}

/** A registered access: where it committed, and each record's status on the ledger then. */
export interface Registration {
  accessId: string;
  txId: string;
  blockNumber: number;
  fee: number;
  usesLeft: number;
  records: { recordId: string; status: string }[];
}

/** The ledger call the registrar needs. */
export interface SubmitLedger {
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the result type
  submit<T>(contract: string, tx: string, ...args: string[]): Promise<{ result: T; txId: string; blockNumber: number }>;
}

/** Options of {@link createAccessRegistrar}. */
export interface RegistrarOptions {
  /** How long the first access of an idle registrar waits for company, in ms (default 2). */
  windowMs?: number;
  /** At most this many accesses per transaction (default 256, the access-group limit). */
  maxGroup?: number;
  /** At most this many characters of accesses per transaction argument (default 900 Ki). */
  maxBytes?: number;
  /**
   * At most this many transactions in flight (default 4). Accesses under a consent that a
   * transaction in flight uses wait for the next group, so concurrent transactions never
   * contend for one consent's use count (no MVCC conflicts between our own registrations).
   */
  maxInFlight?: number;
  /**
   * While a transaction is in flight, another starts only when at least this many accesses can
   * go into it (default 16); smaller groups wait for a transaction to finish.
   */
  minGroupWhileBusy?: number;
}

/** Registers accesses, grouped. */
export interface AccessRegistrar {
  /**
   * Resolves once the transaction registering `access` has committed.
   *
   * @throws CredexError the chaincode's code for this access (CONSENT_REVOKED…), or the
   *   transaction's (LEDGER_UNAVAILABLE, MVCC_READ_CONFLICT…) when the whole group failed
   */
  register(access: AccessItem): Promise<Registration>;
  /** Waits for every pending registration. */
  drain(): Promise<void>;
}

interface Waiter {
  access: AccessItem;
  /** The access's canonical JSON, as it goes into the group argument. */
  json: string;
  resolve: (r: Registration) => void;
  reject: (e: unknown) => void;
}

/** Creates a registrar submitting through `ledger`. */
export function createAccessRegistrar(ledger: SubmitLedger, opts: RegistrarOptions = {}): AccessRegistrar {
  const windowMs = opts.windowMs ?? 2;
  const maxGroup = opts.maxGroup ?? 256;
  const maxBytes = opts.maxBytes ?? 900 * 1024;
  const maxInFlight = opts.maxInFlight ?? 4;
  const minGroupWhileBusy = Math.max(1, Math.min(opts.minGroupWhileBusy ?? 16, maxGroup));
  let queue: Waiter[] = [];
  const inFlight = new Set<Promise<void>>();
  // Consents used by a transaction in flight: their accesses wait for the next group.
  const busy = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;

  const takeGroup = (): Waiter[] => {
    const group: Waiter[] = [];
    const rest: Waiter[] = [];
    let bytes = 0;
    for (const w of queue) {
      const fits = group.length < maxGroup && (group.length === 0 || bytes + w.json.length + 1 <= maxBytes);
      if (fits && !busy.has(w.access.consentId)) {
        bytes += w.json.length + 1;
        group.push(w);
      } else {
        rest.push(w);
      }
    }
    queue = rest;
    return group;
  };

  const commit = async (group: Waiter[]): Promise<void> => {
    try {
      const { result, txId, blockNumber } = await ledger.submit<{ results: AccessResult[] }>(
        'access', 'RecordAccess', `{"accesses":[${group.map((w) => w.json).join(',')}]}`,
      );
      const byId = new Map(result.results.map((r) => [r.accessId, r]));
      for (const w of group) {
        const r = byId.get(w.access.accessId);
        if (r === undefined) w.reject(credexError('LEDGER_RESULT_INVALID', `RecordAccess did not report access ${w.access.accessId}`, { txId }));
        else if (r.ok) w.resolve({ accessId: r.accessId, txId, blockNumber, fee: r.fee, usesLeft: r.usesLeft, records: r.records });
        else w.reject(credexError(r.code, r.message, { accessId: r.accessId, txId }));
      }
    } catch (e) {
      for (const w of group) w.reject(e);
    }
  };

  // Whether at least `n` queued accesses could go into a transaction now (their consents not busy).
  const ready = (n: number): boolean => {
    if (queue.length < n) return false;
    let count = 0;
    for (const w of queue) if (!busy.has(w.access.consentId) && ++count >= n) return true;
    return false;
  };

  const pump = (): void => {
    while (inFlight.size < maxInFlight && queue.length > 0) {
      if (inFlight.size > 0 && !ready(minGroupWhileBusy)) return;
      const group = takeGroup();
      if (group.length === 0) return;
      const consents = [...new Set(group.map((w) => w.access.consentId))];
      for (const c of consents) busy.set(c, (busy.get(c) ?? 0) + 1);
      const done: Promise<void> = commit(group).finally(() => {
        for (const c of consents) {
          const n = (busy.get(c) ?? 1) - 1;
          if (n === 0) busy.delete(c);
          else busy.set(c, n);
        }
        inFlight.delete(done);
        pump();
      });
      inFlight.add(done);
    }
  };

  const schedule = (): void => {
    if (timer !== undefined || inFlight.size >= maxInFlight) return;
    if (queue.length >= maxGroup) {
      pump();
      return;
    }
    timer = setTimeout(() => {
      timer = undefined;
      pump();
    }, windowMs);
  };

  return {
    register(access: AccessItem): Promise<Registration> {
      return new Promise<Registration>((resolve, reject) => {
        queue.push({ access, json: canonicalize(access), resolve, reject });
        schedule();
      });
    },
    async drain(): Promise<void> {
      while (queue.length > 0 || inFlight.size > 0 || timer !== undefined) {
        if (timer !== undefined) {
          clearTimeout(timer);
          timer = undefined;
        }
        pump();
        await Promise.race(inFlight.size > 0 ? [...inFlight] : [Promise.resolve()]);
      }
    },
  };
}
