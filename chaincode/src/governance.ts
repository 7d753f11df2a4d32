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

// Who may publish which records (DESIGN.md "Who uses it"): government bodies the public
// records (gov.*), banks the financial ones (fin.*), core enterprises the supply-chain ones (sc.*).
const PUBLISHER_ROLE_BY_DOMAIN: ReadonlyMap<string, Role> = new Map<string, Role>([
  ['gov', 'government'],
  ['fin', 'bank'],
  ['sc', 'core'],
]);

/** The role that publishes records of a type (`gov.tax-grade` → government), if any. */
export function publisherRoleOf(recordType: string): Role | undefined {
  return PUBLISHER_ROLE_BY_DOMAIN.get(recordType.split('.')[0] ?? '');
}
