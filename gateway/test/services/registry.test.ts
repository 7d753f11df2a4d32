import { describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/services/registry';
import { FakeLedger } from '../helpers';

describe('registry', () => {
  it('caches profiles, not their absence, and forgets on invalidate', async () => {
    const ledger = new FakeLedger('GovMSP');
    const registry = createRegistry(ledger, 60_000);
    expect(await registry.organization('BankMSP')).toBeUndefined();
    ledger.orgs.set('BankMSP', { mspId: 'BankMSP', gatewayUrl: 'http://a' });
    expect(await registry.organization('BankMSP')).toMatchObject({ gatewayUrl: 'http://a' });
    ledger.orgs.set('BankMSP', { mspId: 'BankMSP', gatewayUrl: 'http://b' });
    expect(await registry.organization('BankMSP')).toMatchObject({ gatewayUrl: 'http://a' });
    expect(ledger.calls.filter((c) => c.tx === 'GetOrganization')).toHaveLength(2);
    registry.invalidate('BankMSP');
    expect(await registry.organization('BankMSP')).toMatchObject({ gatewayUrl: 'http://b' });
  });
});
