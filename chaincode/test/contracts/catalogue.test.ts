import { describe, expect, it } from 'vitest';
import { fixtureEntryDraft as entryDraft } from '@credex/schemas';
import { World, json, OTHER, SUBJECT } from '../support/world';

interface Entry {
  entryId: string;
  subject: string;
  publisher: string;
  recordType: string;
  status: string;
  createdAt: string;
  retiredAt?: string;
  pricePerAccess: number;
}

async function members(): Promise<World> {
  const world = new World();
  await world.registerOrganizations();
  return world;
}

describe('catalogue', () => {
  it('creates entries in the caller\'s name with ledger status and time, and lists them by subject, publisher and type', async () => {
    const world = await members();
    world.cc.setTime('2026-11-05T09:30:00.000Z');
    const licence = await world.createEntry('GovMSP', 'gov.admin-licence');
    const tax = await world.createEntry('GovMSP', 'gov.tax-grade');
    const receivable = await world.createEntry('CoreMSP', 'sc.receivable-confirmation');
    const repayment = await world.createEntry('BankMSP', 'fin.loan-repayment');
    const otherLicence = await world.createEntry('GovMSP', 'gov.admin-licence', { subject: OTHER });

    const entry = await world.cc.evaluate<Entry>('BankMSP', 'catalogue:GetEntry', licence);
    expect(entry).toMatchObject({ entryId: licence, subject: SUBJECT, publisher: 'GovMSP', recordType: 'gov.admin-licence', status: 'active', createdAt: '2026-11-05T09:30:00.000Z' });

    const ids = (list: Entry[]): string[] => list.map((e) => e.entryId);
    expect(ids(await world.cc.evaluate<Entry[]>('BankMSP', 'catalogue:ListBySubject', SUBJECT)).sort()).toEqual([licence, tax, receivable, repayment].sort());
    expect(ids(await world.cc.evaluate<Entry[]>('BankMSP', 'catalogue:ListBySubject', OTHER))).toEqual([otherLicence]);
    expect(ids(await world.cc.evaluate<Entry[]>('BankMSP', 'catalogue:ListByPublisher', 'CoreMSP'))).toEqual([receivable]);
    expect(ids(await world.cc.evaluate<Entry[]>('BankMSP', 'catalogue:ListByType', 'gov.admin-licence')).sort()).toEqual([licence, otherLicence].sort());
    expect(ids(await world.cc.evaluate<Entry[]>('BankMSP', 'catalogue:ListByPublisher', 'BankMSP'))).toEqual([repayment]);
    expect(await world.cc.evaluate<Entry[]>('BankMSP', 'catalogue:ListByPublisher', 'Bank2MSP')).toEqual([]);
  });

  it('refuses entries for another publisher, from unregistered or non-member orgs, with ledger fields, bad USCC or bad shape', async () => {
    const world = await members();
    await world.cc.expectRejected('FORBIDDEN', 'BankMSP', 'catalogue:CreateEntry', json(entryDraft({ publisher: 'GovMSP' })));
    await world.cc.expectRejected('FORBIDDEN', 'EvilMSP', 'catalogue:CreateEntry', json(entryDraft({ publisher: 'EvilMSP' })));
    // Public records are the government's; supply-chain ones the core enterprise's.
    await world.cc.expectRejected('FORBIDDEN', 'BankMSP', 'catalogue:CreateEntry', json(entryDraft({ publisher: 'BankMSP', recordType: 'gov.tax-grade' })));
    await world.cc.expectRejected('FORBIDDEN', 'GovMSP', 'catalogue:CreateEntry', json(entryDraft({ publisher: 'GovMSP', recordType: 'sc.payment-performance' })));
    await world.cc.expectRejected('FORBIDDEN', 'AuditMSP', 'catalogue:CreateEntry', json(entryDraft({ publisher: 'AuditMSP' })));
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'catalogue:CreateEntry', json(entryDraft({ dataGrade: 4 })));
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'catalogue:CreateEntry', json({ ...entryDraft(), status: 'active' }));
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'catalogue:CreateEntry', json({ ...entryDraft(), pricePerAccess: -1 }));
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'catalogue:CreateEntry', json([entryDraft()]));
    await world.cc.expectRejected('USCC_INVALID', 'GovMSP', 'catalogue:CreateEntry', json(entryDraft({ subject: '91350100M000100Y4Z' })));
    await world.cc.expectRejected('JSON_INVALID', 'GovMSP', 'catalogue:CreateEntry', '{"entryId":"x" "subject":1}');
    await world.cc.expectRejected('JSON_INVALID', 'GovMSP', 'catalogue:CreateEntry', '{"entryId":"\\ud800"}');
    await world.cc.expectRejected('PAYLOAD_TOO_LARGE', 'GovMSP', 'catalogue:CreateEntry', json({ ...entryDraft(), title: 'x'.repeat(70_000) }));

    const fresh = new World();
    await fresh.cc.expectRejected('ORG_UNKNOWN', 'GovMSP', 'catalogue:CreateEntry', json(entryDraft()));
    await world.createEntry('GovMSP', 'gov.admin-licence');
    await world.cc.expectRejected('ALREADY_EXISTS', 'GovMSP', 'catalogue:CreateEntry', json(entryDraft()));
    await world.cc.expectRejected('NOT_FOUND', 'GovMSP', 'catalogue:GetEntry', 'no-such-entry');
    await world.cc.expectRejected('USCC_INVALID', 'GovMSP', 'catalogue:ListBySubject', 'not-a-uscc');
    await world.cc.expectRejected('SCHEMA_INVALID', 'GovMSP', 'catalogue:GetEntry', '');
    await world.cc.expectRejected('UNKNOWN_TRANSACTION', 'GovMSP', 'catalogue:DeleteEverything');
  });

  it('retires an entry by its publisher only, once', async () => {
    const world = await members();
    const id = await world.createEntry('CoreMSP', 'sc.payment-performance');
    await world.cc.expectRejected('FORBIDDEN', 'GovMSP', 'catalogue:RetireEntry', id);
    await world.cc.expectRejected('NOT_FOUND', 'CoreMSP', 'catalogue:RetireEntry', 'cat-missing');
    world.cc.setTime('2026-12-31T16:00:00.000Z');
    const { result } = await world.cc.submit<Entry>('CoreMSP', 'catalogue:RetireEntry', id);
    expect(result).toMatchObject({ status: 'retired', retiredAt: '2026-12-31T16:00:00.000Z' });
    await world.cc.expectRejected('ENTRY_RETIRED', 'CoreMSP', 'catalogue:RetireEntry', id);
    expect(await world.cc.evaluate<Entry>('AuditMSP', 'catalogue:GetEntry', id)).toEqual(result);
  });
});
