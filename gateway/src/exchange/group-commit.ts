/**
 * Group commit of access registrations: accesses arriving within a few milliseconds are
 * registered in one access:RecordAccess transaction; each caller waits for the commit of the
 * transaction that registers its access and gets its own result. One transaction is in flight
 * at a time, so accesses to one consent never race each other into an MVCC conflict; the
 * next group gathers while it commits.
 */
import { canonicalize, credexError } from '@credex/core';
import type { Signed } from '@credex/core';
import type { AccessRequest } from '@credex/schemas';
import type { AccessResult } from './types';

/** One access to register (an item of access-group). */
export interface AccessItem {
  accessId: string;
  consentId: string;
  recordIds: string[];
  request: Signed<AccessRequest>;
}

/** A registered access: where it committed. */
export interface Registration {
  accessId: string;
  txId: string;
  blockNumber: number;
  fee: number;
  usesLeft: number;
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
  /** At most this many bytes of accesses per transaction argument (default 900 KiB). */
  maxBytes?: number;
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
  const queue: Waiter[] = [];
  let inFlight: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  const takeGroup = (): Waiter[] => {
    const group: Waiter[] = [];
    let bytes = 0;
    while (queue.length > 0 && group.length < maxGroup) {
      const next = queue[0] as Waiter;
      if (group.length > 0 && bytes + next.json.length + 1 > maxBytes) break;
      bytes += next.json.length + 1;
      group.push(next);
      queue.shift();
    }
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
        else if (r.ok) w.resolve({ accessId: r.accessId, txId, blockNumber, fee: r.fee, usesLeft: r.usesLeft });
        else w.reject(credexError(r.code, r.message, { accessId: r.accessId, txId }));
      }
    } catch (e) {
      for (const w of group) w.reject(e);
    }
  };

  const pump = (): void => {
    if (inFlight !== undefined || queue.length === 0) return;
    const group = takeGroup();
    inFlight = commit(group).finally(() => {
      inFlight = undefined;
      pump();
    });
  };

  const schedule = (): void => {
    if (inFlight !== undefined || timer !== undefined) return;
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
      while (queue.length > 0 || inFlight !== undefined || timer !== undefined) {
        if (timer !== undefined) {
          clearTimeout(timer);
          timer = undefined;
          pump();
        }
        await (inFlight ?? Promise.resolve());
      }
    },
  };
}
