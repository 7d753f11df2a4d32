/**
 * A channel for ledger, validator and orderer tests: real org material (four orgs and the
 * orderer org) in a temp folder, an MSP registry, the MAJORITY policy, a real genesis block,
 * and helpers to open ledgers and orderers in sub-folders.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { genesisBlock } from '../../src/genesis';
import { openLedger, type Ledger } from '../../src/ledger/ledger';
import { ensureOrdererMaterial, ensureOrgMaterial, type OrgMaterial } from '../../src/msp/material';
import { createMspRegistry, type MspRegistry } from '../../src/msp/msp';
import { createOrderer, type Orderer } from '../../src/orderer';
import { parsePolicy, type Policy } from '../../src/policy';

export const CHANNEL = 'credex';
export const CHAINCODE = 'credex';
export const ORGS = ['GovMSP', 'BankMSP', 'CoreMSP', 'AuditMSP'];

export interface TestMaterial {
  dir: string;
  orgs: OrgMaterial[];
  ordererOrg: OrgMaterial;
  msp: MspRegistry;
  policy: Policy;
  /** The chaincode's policy; other namespaces are undefined. */
  policies: (chaincodeName: string) => Policy;
  cleanup(): Promise<void>;
}

/** Org material under `dir` (generated on first use, loaded afterwards). */
export async function loadMaterial(dir: string): Promise<Omit<TestMaterial, 'cleanup'>> {
  const [ordererOrg, orgs] = await Promise.all([
    ensureOrdererMaterial(dir),
    Promise.all(ORGS.map((mspId) => ensureOrgMaterial(dir, mspId))),
  ]);
  const policy = parsePolicy('MAJORITY Endorsement', ORGS);
  return {
    dir,
    orgs,
    ordererOrg,
    msp: createMspRegistry(orgs.map((o) => ({ mspId: o.mspId, caCertPem: o.caCertPem }))),
    policy,
    policies: (name) => {
      if (name !== CHAINCODE) throw new Error(`chaincode ${name} is not defined`);
      return policy;
    },
  };
}

export async function createMaterial(): Promise<TestMaterial> {
  const dir = await mkdtemp(path.join(tmpdir(), 'node-sim-c1-'));
  const material = await loadMaterial(dir);
  return { ...material, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function org(m: Pick<TestMaterial, 'orgs'>, mspId: string): OrgMaterial {
  const found = m.orgs.find((o) => o.mspId === mspId);
  if (found === undefined) throw new Error(`no org ${mspId}`);
  return found;
}

export function openTestLedger(m: Omit<TestMaterial, 'cleanup'>, dir: string): Promise<Ledger> {
  return openLedger(dir, {
    channelId: CHANNEL,
    genesis: () => genesisBlock({ channelId: CHANNEL, orgs: m.orgs, orderer: m.ordererOrg, maxMessageCount: 10, batchTimeoutMs: 50 }),
  });
}

export function openTestOrderer(
  m: Omit<TestMaterial, 'cleanup'>,
  ledger: Ledger,
  batch: { maxMessageCount: number; batchTimeoutMs: number },
): Orderer {
  return createOrderer({ ledger, msp: m.msp, policies: m.policies, signer: m.ordererOrg.peer, ...batch });
}

/** Endorsers satisfying MAJORITY of the four orgs. */
export function majority(m: Pick<TestMaterial, 'orgs'>): OrgMaterial['peer'][] {
  return ['GovMSP', 'BankMSP', 'CoreMSP'].map((id) => org(m, id).peer);
}
