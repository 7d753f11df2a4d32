/**
 * Members' roles, fixed by the chaincode definition: changing them means a new chaincode
 * version approved through the channel's lifecycle, never a transaction argument.
 */
export type Role = 'government' | 'bank' | 'core' | 'auditor';

const ROLE_BY_MSP: ReadonlyMap<string, Role> = new Map<string, Role>([
  ['GovMSP', 'government'],
  ['BankMSP', 'bank'],
  ['Bank2MSP', 'bank'],
  ['CoreMSP', 'core'],
  ['AuditMSP', 'auditor'],
]);

/** The role of a member organization, or undefined for an MSP that is not a member. */
export function roleOf(mspId: string): Role | undefined {
  return ROLE_BY_MSP.get(mspId);
}

/** Every member MSP id, sorted. */
export function memberMspIds(): string[] {
  return [...ROLE_BY_MSP.keys()].sort();
}
