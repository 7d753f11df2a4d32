import { describe, expect, it } from 'vitest';
import { newSigningKeyPair, statementId } from '@credex/core';
import { fixtureRevocation, validate, type LedgerConsent as ConsentState } from '@credex/schemas';
import { World, json, signed, OTHER, SUBJECT } from '../support/world';


async function world(): Promise<World> {
  const w = new World();
  await w.registerOrganizations();
  await w.registerEnterprises();
  return w;
}

describe('consents', () => {
  it('creates a consent signed by the subject and lists it by subject and by grantee', async () => {
    const w = await world();
    const consent = w.signedConsent();
    const { result } = await w.cc.submit<ConsentState>('Bank2MSP', 'consents:CreateConsent', json(consent));
    const consentId = statementId('consent', consent.statement);
    expect(result).toMatchObject({ consentId, subject: SUBJECT, grantee: 'BankMSP', status: 'active', uses: 0, createdAt: '2026-11-02T02:00:00.000Z' });
    expect(() => validate('ledger-consent', result)).not.toThrow();
    const toCore = await (async () => {
      const c = w.signedConsent({ grantee: 'CoreMSP', purpose: 'SUPPLY_CHAIN_FINANCE' });
      await w.cc.submit('CoreMSP', 'consents:CreateConsent', json(c));
      return statementId('consent', c.statement);
    })();
    const ofOther = await (async () => {
      const c = w.signedConsent({ subject: OTHER });
      await w.cc.submit('BankMSP', 'consents:CreateConsent', json(c));
      return statementId('consent', c.statement);
    })();
    expect(await w.cc.evaluate<ConsentState>('AuditMSP', 'consents:GetConsent', consentId)).toEqual(result);
    const ids = (l: ConsentState[]): string[] => l.map((c) => c.consentId).sort();
    expect(ids(await w.cc.evaluate<ConsentState[]>('AuditMSP', 'consents:ListBySubject', SUBJECT))).toEqual([consentId, toCore].sort());
    expect(ids(await w.cc.evaluate<ConsentState[]>('AuditMSP', 'consents:ListByGrantee', 'BankMSP'))).toEqual([consentId, ofOther].sort());
    expect(ids(await w.cc.evaluate<ConsentState[]>('AuditMSP', 'consents:ListByGrantee', 'CoreMSP'))).toEqual([toCore]);
  });

  it('refuses bad signatures, wrong signers, replayed nonces, expired windows, unknown parties and bad input, changing nothing', async () => {
    const w = await world();
    const other = w.enterpriseKey(OTHER);
    await w.cc.expectRejected('SIGNATURE_INVALID', 'BankMSP', 'consents:CreateConsent', json(w.signedConsent({}, other)));
    const good = w.signedConsent();
    const flipped = { ...good, statement: { ...good.statement, maxUses: good.statement.maxUses + 1 } };
    await w.cc.expectRejected('SIGNATURE_INVALID', 'BankMSP', 'consents:CreateConsent', json(flipped));
    await w.cc.expectRejected('CONSENT_EXPIRED', 'BankMSP', 'consents:CreateConsent', json(w.signedConsent({ notBefore: '2026-01-01T00:00:00.000Z', notAfter: '2026-11-01T00:00:00.000Z' })));
    await w.cc.expectRejected('SCHEMA_INVALID', 'BankMSP', 'consents:CreateConsent', json(w.signedConsent({ notBefore: '2027-01-01T00:00:00.000Z', notAfter: '2026-12-01T00:00:00.000Z' })));
    await w.cc.expectRejected('SCHEMA_INVALID', 'BankMSP', 'consents:CreateConsent', json(w.signedConsent({ scope: {} })));
    await w.cc.expectRejected('SCHEMA_INVALID', 'BankMSP', 'consents:CreateConsent', json({ ...good, signature: 'not-a-signature' }));
    await w.cc.expectRejected('ORG_UNKNOWN', 'BankMSP', 'consents:CreateConsent', json(w.signedConsent({ grantee: 'Bank3MSP' })));
    const unknownUscc = '91350100M000100Y43';
    await w.cc.expectRejected('ENTERPRISE_UNKNOWN', 'BankMSP', 'consents:CreateConsent', json(w.signedConsent({ subject: unknownUscc }, newSigningKeyPair())));
    await w.cc.expectRejected('USCC_INVALID', 'BankMSP', 'consents:CreateConsent', json(w.signedConsent({ subject: '91350100M000100Y4Z' }, newSigningKeyPair())));
    await w.cc.expectRejected('JSON_INVALID', 'BankMSP', 'consents:CreateConsent', `${json(good)}}`);
    await w.cc.expectRejected('PAYLOAD_TOO_LARGE', 'BankMSP', 'consents:CreateConsent', json({ ...good, padding: ' '.repeat(70_000) }));

    await w.cc.submit('BankMSP', 'consents:CreateConsent', json(good));
    await w.cc.expectRejected('NONCE_REPLAYED', 'Bank2MSP', 'consents:CreateConsent', json(good));
    // Same nonce in a different consent by the same subject is a replay too.
    await w.cc.expectRejected('NONCE_REPLAYED', 'BankMSP', 'consents:CreateConsent', json(w.signedConsent({ nonce: good.statement.nonce, maxUses: 3 })));
    // The other enterprise may use that nonce: nonces are per subject.
    await w.cc.submit('BankMSP', 'consents:CreateConsent', json(w.signedConsent({ subject: OTHER, nonce: good.statement.nonce })));
    await w.cc.expectRejected('CONSENT_UNKNOWN', 'BankMSP', 'consents:GetConsent', 'f'.repeat(64));
  });

  it('accepts a consent whose window has not begun yet', async () => {
    const w = await world();
    const { result } = await w.cc.submit<ConsentState>('BankMSP', 'consents:CreateConsent', json(w.signedConsent({ notBefore: '2027-01-01T00:00:00.000Z', notAfter: '2027-06-30T00:00:00.000Z' })));
    expect(result.status).toBe('active');
  });

  it('revokes with a revocation signed by the subject, once, effective at commit', async () => {
    const w = await world();
    const consentId = await w.createConsent();
    const key = w.enterpriseKey(SUBJECT);
    await w.cc.expectRejected('SIGNATURE_INVALID', 'BankMSP', 'consents:RevokeConsent', json(signed('revocation', fixtureRevocation(consentId), w.enterpriseKey(OTHER))));
    await w.cc.expectRejected('FORBIDDEN', 'BankMSP', 'consents:RevokeConsent', json(signed('revocation', fixtureRevocation(consentId, { subject: OTHER }), w.enterpriseKey(OTHER))));
    await w.cc.expectRejected('CONSENT_UNKNOWN', 'BankMSP', 'consents:RevokeConsent', json(signed('revocation', fixtureRevocation('0'.repeat(64)), key)));
    await w.cc.expectRejected('USCC_INVALID', 'BankMSP', 'consents:RevokeConsent', json(signed('revocation', fixtureRevocation(consentId, { subject: '91350100M000100Y4Z' }), key)));
    w.cc.setTime('2026-11-20T10:00:00.000Z');
    const revocation = signed('revocation', fixtureRevocation(consentId), key);
    const { result } = await w.cc.submit<ConsentState>('GovMSP', 'consents:RevokeConsent', json(revocation));
    expect(result).toMatchObject({ status: 'revoked', revokedAt: '2026-11-20T10:00:00.000Z' });
    await w.cc.expectRejected('NONCE_REPLAYED', 'BankMSP', 'consents:RevokeConsent', json(revocation));
    await w.cc.expectRejected('CONSENT_REVOKED', 'BankMSP', 'consents:RevokeConsent', json(signed('revocation', fixtureRevocation(consentId), key)));
  });
});
