/**
 * The organization's own profile on chain: registered, or updated when its gateway URL or
 * keys differ from the configuration.
 */
import type { FastifyBaseLogger } from 'fastify';
import { canonicalize } from '@credex/core';
import type { OrganizationProfile } from '@credex/schemas';
import type { GatewayConfig } from '../config';
import type { LedgerClient } from '../ledger/client';
import type { Registry } from './registry';

/** Roles of the default network's members (the chaincode definition is what decides). */
const KNOWN_ROLES: Readonly<Record<string, OrganizationProfile['role']>> = {
  GovMSP: 'government', BankMSP: 'bank', Bank2MSP: 'bank', CoreMSP: 'core', AuditMSP: 'auditor',
};

/** The profile this gateway's configuration describes. */
export function desiredProfile(config: GatewayConfig, current?: OrganizationProfile): OrganizationProfile {
  return {
    mspId: config.mspId,
    name: config.orgName,
    role: config.role ?? current?.role ?? KNOWN_ROLES[config.mspId] ?? 'core',
    gatewayUrl: config.publicUrl,
    requestKey: config.keys.requestKey.publicKey,
    boxKey: config.keys.boxKey.publicKey,
  };
}

/**
 * Registers the organization's profile when it is missing or differs.
 *
 * @returns the transaction id of the registration, or undefined when nothing had to change
 */
export async function ensureRegistered(deps: { config: GatewayConfig; ledger: LedgerClient; registry: Registry; log: FastifyBaseLogger }): Promise<string | undefined> {
  const { config, ledger, registry, log } = deps;
  registry.invalidate(config.mspId);
  const current = await registry.organization(config.mspId);
  const desired = desiredProfile(config, current);
  const same = current !== undefined && current.gatewayUrl === desired.gatewayUrl && current.requestKey === desired.requestKey
    && current.boxKey === desired.boxKey && current.name === desired.name;
  if (same) return undefined;
  const { txId } = await ledger.submit('participants', 'RegisterOrganization', canonicalize(desired));
  registry.invalidate(config.mspId);
  log.info({ txId, mspId: config.mspId, gatewayUrl: desired.gatewayUrl }, 'organization profile registered');
  return txId;
}
