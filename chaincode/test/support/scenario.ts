/**
 * A run through every contract: consents, a group of accesses, a revocation, an objection
 * corrected by a superseding record, another rejected, and failures along the way.
 */
import { fixtureObjection, fixtureObjectionResolution, fixtureRevocation } from '@credex/schemas';
import { json, signed, standardWorld, SUBJECT, type World } from './world';

export async function objectionScenario(): Promise<{ world: World }> {
  const { world, licence, penalty, receivable } = await standardWorld();
  const consentId = await world.createConsent({ maxUses: 3, scope: { recordTypes: ['gov.admin-licence', 'gov.admin-penalty', 'sc.receivable-confirmation'] } });
  world.cc.setTime('2026-11-03T10:00:00.000Z');
  await world.cc.submit('GovMSP', 'access:RecordAccess', json({ accesses: [world.access(consentId, [licence.records[0]!.ref]), world.access(consentId, [penalty.records[0]!.ref, penalty.records[1]!.ref])] }));
  await world.cc.submit('CoreMSP', 'access:RecordAccess', json({ accesses: [world.access(consentId, [receivable.records[0]!.ref]), world.access(consentId, [receivable.records[1]!.ref])] }));
  const key = world.enterpriseKey(SUBJECT);
  const objection = signed('objection', fixtureObjection(penalty.records[0]!.recordId), key);
  const filed = await world.cc.submit<{ objectionId: string }>('BankMSP', 'objections:FileObjection', json(objection), json(penalty.records[0]!.ref));
  const [fix] = await world.anchor('GovMSP', { entryId: penalty.entryId, recordType: 'gov.admin-penalty', subject: SUBJECT }, 1, [penalty.records[0]!.ref]);
  await world.cc.submit('GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution(filed.result.objectionId, fix!.recordId)));
  const second = await world.cc.submit<{ objectionId: string }>('BankMSP', 'objections:FileObjection', json(signed('objection', fixtureObjection(licence.records[1]!.recordId), key)), json(licence.records[1]!.ref));
  await world.cc.submit('GovMSP', 'objections:ResolveObjection', json(fixtureObjectionResolution(second.result.objectionId)));
  await world.cc.submit('BankMSP', 'consents:RevokeConsent', json(signed('revocation', fixtureRevocation(consentId), key)));
  await world.cc.submit('GovMSP', 'anchors:WithdrawRecord', json(licence.records[1]!.ref));
  await world.cc.submit('CoreMSP', 'catalogue:RetireEntry', receivable.entryId);
  return { world };
}
