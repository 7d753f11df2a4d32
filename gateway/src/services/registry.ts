/**
 * The on-chain participant registry as the gateway reads it: organization profiles, cached
 * briefly so that every exchange request does not cost a ledger round trip.
 */
import { isCredexError } from '@credex/core';
import type { OrganizationProfile } from '@credex/schemas';
import type { LedgerClient } from '../ledger/client';

export type { OrganizationProfile } from '@credex/schemas';

/** Organization profiles from the ledger. */
export interface Registry {
  /** The profile of `mspId`, or undefined when it has none on chain. */
  organization(mspId: string): Promise<OrganizationProfile | undefined>;
  /** Forgets cached profiles (all, or one). */
  invalidate(mspId?: string): void;
}

/** Creates a registry reading through `ledger`, caching each answer for `ttlMs`. */
export function createRegistry(ledger: LedgerClient, ttlMs = 30_000): Registry {
  const cache = new Map<string, { at: number; profile: Promise<OrganizationProfile | undefined> }>();
  return {
    organization(mspId: string): Promise<OrganizationProfile | undefined> {
      const hit = cache.get(mspId);
      if (hit !== undefined && Date.now() - hit.at < ttlMs) return hit.profile;
      // Only profiles are cached: an organization that registers later is seen at once.
      const profile = ledger.evaluate<OrganizationProfile>('participants', 'GetOrganization', mspId).catch((e: unknown) => {
        cache.delete(mspId);
        if (isCredexError(e) && (e.code === 'ORG_UNKNOWN' || e.code === 'NOT_FOUND')) return undefined;
        throw e;
      });
      cache.set(mspId, { at: Date.now(), profile });
      return profile;
    },
    invalidate(mspId?: string): void {
      if (mspId === undefined) cache.clear();
      else cache.delete(mspId);
    },
  };
}
