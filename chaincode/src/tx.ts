import type { Context } from 'fabric-contract-api';
import { fail } from './errors';
import { roleOf, type Role } from './governance';

/** The transaction's time (its proposal timestamp): the only clock the chaincode reads. */
export interface LedgerTime {
  /** Milliseconds since the epoch. */
  ms: number;
  /** RFC 3339 UTC, e.g. `2026-11-22T02:11:44.000Z`. */
  iso: string;
}

export function ledgerTime(ctx: Context): LedgerTime {
  const { seconds, nanos } = ctx.stub.getTxTimestamp();
  const ms = seconds.toNumber() * 1000 + Math.floor(nanos / 1_000_000);
  return { ms, iso: new Date(ms).toISOString() };
}

/** Milliseconds of an RFC 3339 time from a validated argument. */
export function timeMs(iso: string): number {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) {
    fail('SCHEMA_INVALID', `${JSON.stringify(iso)} is not an RFC 3339 time`);
  }
  return ms;
}

/** The MSP id of the submitting client: who the caller is, as the peer authenticated it. */
export function callerMspId(ctx: Context): string {
  return ctx.clientIdentity.getMSPID();
}

/** The caller's MSP id, if its role is one of `roles`; FORBIDDEN otherwise. */
export function requireRole(ctx: Context, roles: readonly Role[]): string {
  const mspId = callerMspId(ctx);
  const role = roleOf(mspId);
  if (role === undefined || !roles.includes(role)) {
    fail('FORBIDDEN', `${mspId} (${role ?? 'not a member'}) may not do this; allowed roles: ${roles.join(', ')}`);
  }
  return mspId;
}

/** The caller's MSP id, if it is a member of the channel's governance; FORBIDDEN otherwise. */
export function requireMember(ctx: Context): string {
  return requireRole(ctx, ['government', 'bank', 'core', 'auditor']);
}
