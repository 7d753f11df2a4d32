import { describe, expect, it } from 'vitest';
import { newBoxKeyPair, newSigningKeyPair, signStatement } from '@credex/core';
import { fixtureEnterprise, fixtureEnterprises, fixtureKeyRotation, fixtureOrganization } from '@credex/schemas';
import { World, json, signed, SUBJECT } from '../support/world';

interface Org {
  mspId: string;
  role: string;
  requestKey: string;
  registeredAt: string;
  updatedAt: string;
}
interface Enterprise {
  uscc: string;
  publicKey: string;
  keyValidFrom: string;
  keyHistory: { publicKey: string; validFrom: string; validUntil: string; txId: string }[];
  registeredBy: string;
}

describe('participants', () => {
  it('registers each organization by itself, with its role from the chaincode definition, and updates it', async () => {
    const world = new World();
    await world.registerOrganizations();
    const orgs = await world.cc.evaluate<Org[]>('AuditMSP', 'participants:ListOrganizations');
    expect(orgs.map((o) => [o.mspId, o.role])).toEqual([
      ['AuditMSP', 'auditor'],
      ['Bank2MSP', 'bank'],
      ['BankMSP', 'bank'],
      ['CoreMSP', 'core'],
      ['GovMSP', 'government'],
    ]);
    const firstTime = world.cc.nowIso;
    world.cc.setTime('2026-11-03T00:00:00.000Z');
    const newKey = newSigningKeyPair();
    const profile = fixtureOrganization('BankMSP', { requestKey: newKey.publicKey, boxKey: newBoxKeyPair().publicKey }, 'https://bank.example.cn:7443');
    await world.cc.submit('BankMSP', 'participants:RegisterOrganization', json(profile));
    const bank = await world.cc.evaluate<Org>('GovMSP', 'participants:GetOrganization', 'BankMSP');
    expect(bank).toMatchObject({ mspId: 'BankMSP', requestKey: newKey.publicKey, registeredAt: firstTime, updatedAt: '2026-11-03T00:00:00.000Z' });
  });

  it("refuses a profile for another organization, a role the definition does not give, and non-members", async () => {
    const world = new World();
    const keys = { requestKey: newSigningKeyPair().publicKey, boxKey: newBoxKeyPair().publicKey };
    await world.cc.expectRejected('FORBIDDEN', 'BankMSP', 'participants:RegisterOrganization', json(fixtureOrganization('GovMSP', keys)));
    await world.cc.expectRejected('FORBIDDEN', 'BankMSP', 'participants:RegisterOrganization', json({ ...fixtureOrganization('BankMSP', keys), role: 'government' }));
    await world.cc.expectRejected('FORBIDDEN', 'EvilMSP', 'participants:RegisterOrganization', json({ ...fixtureOrganization('BankMSP', keys), mspId: 'EvilMSP' }));
    await world.cc.expectRejected('SCHEMA_INVALID', 'BankMSP', 'participants:RegisterOrganization', json({ ...fixtureOrganization('BankMSP', keys), requestKey: 'short' }));
    await world.cc.expectRejected('JSON_INVALID', 'BankMSP', 'participants:RegisterOrganization', '{"mspId": "BankMSP",');
    await world.cc.expectRejected('PAYLOAD_TOO_LARGE', 'BankMSP', 'participants:RegisterOrganization', json({ ...fixtureOrganization('BankMSP', keys), name: '银'.repeat(30_000) }));
    await world.cc.expectRejected('ORG_UNKNOWN', 'BankMSP', 'participants:GetOrganization', 'BankMSP');
    expect(world.cc.ledger.size).toBe(0);
  });

  it('lets only government organizations bind an enterprise key to a valid USCC, once', async () => {
    const world = new World();
    const key = newSigningKeyPair();
    const registration = json(fixtureEnterprise(key.publicKey));
    await world.cc.expectRejected('FORBIDDEN', 'BankMSP', 'participants:RegisterEnterprise', registration);
    await world.cc.expectRejected('USCC_INVALID', 'GovMSP', 'participants:RegisterEnterprise', json({ ...fixtureEnterprise(key.publicKey), uscc: '91350100M000100Y4Z' }));
    await world.cc.expectRejected('USCC_INVALID', 'GovMSP', 'participants:RegisterEnterprise', json({ ...fixtureEnterprise(key.publicKey), uscc: '91350100m000100y43' }));
    await world.cc.expectRejected('ENTERPRISE_UNKNOWN', 'GovMSP', 'participants:GetEnterprise', SUBJECT);
    const { result } = await world.cc.submit<Enterprise>('GovMSP', 'participants:RegisterEnterprise', registration);
    expect(result).toMatchObject({ uscc: SUBJECT, publicKey: key.publicKey, registeredBy: 'GovMSP', keyHistory: [] });
    await world.cc.expectRejected('ALREADY_EXISTS', 'GovMSP', 'participants:RegisterEnterprise', json(fixtureEnterprise(newSigningKeyPair().publicKey)));
    await world.cc.expectRejected('USCC_INVALID', 'BankMSP', 'participants:GetEnterprise', '91350100M000100Y4Z');
    expect(await world.cc.evaluate<Enterprise>('BankMSP', 'participants:GetEnterprise', SUBJECT)).toEqual(result);
  });

  it('rotates an enterprise key with a rotation signed by the current key, keeping the history', async () => {
    const world = new World();
    await world.registerEnterprises();
    const oldKey = world.enterpriseKey(SUBJECT);
    const newKey = newSigningKeyPair();
    world.cc.setTime('2026-12-01T00:00:00.000Z');
    const rotation = signed('key-rotation', fixtureKeyRotation(newKey.publicKey), oldKey);
    const { result } = await world.cc.submit<Enterprise>('AuditMSP', 'participants:RotateEnterpriseKey', json(rotation));
    expect(result.publicKey).toBe(newKey.publicKey);
    expect(result.keyValidFrom).toBe('2026-12-01T00:00:00.000Z');
    expect(result.keyHistory).toEqual([{ publicKey: oldKey.publicKey, validFrom: '2026-11-02T02:00:00.000Z', validUntil: '2026-12-01T00:00:00.000Z', txId: expect.any(String) }]);

    // The same rotation again, the old key, a rotation to the current key, a bad signature.
    await world.cc.expectRejected('NONCE_REPLAYED', 'AuditMSP', 'participants:RotateEnterpriseKey', json(signed('key-rotation', rotation.statement, newKey)));
    await world.cc.expectRejected('SIGNATURE_INVALID', 'AuditMSP', 'participants:RotateEnterpriseKey', json(signed('key-rotation', fixtureKeyRotation(newSigningKeyPair().publicKey), oldKey)));
    await world.cc.expectRejected('ALREADY_EXISTS', 'AuditMSP', 'participants:RotateEnterpriseKey', json(signed('key-rotation', fixtureKeyRotation(newKey.publicKey), newKey)));
    const tampered = { statement: fixtureKeyRotation(newSigningKeyPair().publicKey), signature: signStatement('key-rotation', fixtureKeyRotation(newKey.publicKey), newKey.secretKey) };
    await world.cc.expectRejected('SIGNATURE_INVALID', 'AuditMSP', 'participants:RotateEnterpriseKey', json(tampered));
    const stranger = fixtureEnterprise(newKey.publicKey, { uscc: '91350100M000100Y43', name: '福建某公司' });
    await world.cc.expectRejected('ENTERPRISE_UNKNOWN', 'AuditMSP', 'participants:RotateEnterpriseKey', json(signed('key-rotation', fixtureKeyRotation(newSigningKeyPair().publicKey, { uscc: stranger.uscc }), newKey)));
    await world.cc.expectRejected('USCC_INVALID', 'AuditMSP', 'participants:RotateEnterpriseKey', json(signed('key-rotation', fixtureKeyRotation(newSigningKeyPair().publicKey, { uscc: '91350100M000100Y4Z' }), newKey)));
    expect(fixtureEnterprises.subject.uscc).toBe(SUBJECT);
  });
});
