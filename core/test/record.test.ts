import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { disclose, leafHash, leafHashOfDisclosed, sealRecord, type DisclosedRecord, type RecordHeader } from '../src/record';
import { fieldDigest, newSalt } from '../src/hash';
import { canonicalBytes } from '../src/jcs';
import { CredexError } from '../src/errors';

const header: RecordHeader = {
  recordId: 'rec-2026-000123',
  recordType: 'administrative-penalty',
  subject: '91350100M000100Y43',
  publisher: 'GovMSP',
  catalogueEntryId: 'cat-0001',
  issuedAt: '2026-11-22T02:11:44.000Z',
};

const fields = {
  decisionNumber: '榕环罚〔2026〕12号',
  penaltyType: '罚款',
  reason: '未按规定办理排污许可证,擅自排放水污染物',
  amountFen: 5_000_000,
  legalBasis: ['《中华人民共和国水污染防治法》第八十三条'],
  decidedOn: '2026-10-08',
  authority: { name: '福州市生态环境局', uscc: '11350100MB1776035J' },
};

function expectCode(f: () => unknown, code: string): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CredexError);
    expect((e as CredexError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('sealRecord and leafHash', () => {
  it('salts every field, digests it and hashes 0x00 ‖ canonical {header, fieldDigests}', () => {
    const sealed = sealRecord(header, fields);
    expect(Object.keys(sealed.salts).sort()).toEqual(Object.keys(fields).sort());
    for (const [name, value] of Object.entries(fields)) {
      expect(sealed.salts[name]).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(sealed.fieldDigests[name]).toBe(fieldDigest(name, value, sealed.salts[name]!));
    }
    const independent = createHash('sha256')
      .update(Buffer.from([0x00]))
      .update(canonicalBytes({ header, fieldDigests: sealed.fieldDigests }))
      .digest('hex');
    expect(sealed.leafHash).toBe(independent);
    expect(leafHash(header, sealed.fieldDigests)).toBe(independent);
    expect(sealed.header).toBe(header);
    expect(sealed.fields).toBe(fields);
  });

  it('is reproducible from the same salts and differs with fresh ones', () => {
    const a = sealRecord(header, fields);
    expect(sealRecord(header, fields, a.salts).leafHash).toBe(a.leafHash);
    expect(sealRecord(header, { ...fields }, { ...a.salts }).fieldDigests).toEqual(a.fieldDigests);
    expect(sealRecord(header, fields).leafHash).not.toBe(a.leafHash);
  });

  it('fills in salts missing from a partial salt map', () => {
    const salt = newSalt();
    const sealed = sealRecord(header, fields, { penaltyType: salt });
    expect(sealed.salts.penaltyType).toBe(salt);
    expect(Object.keys(sealed.salts)).toHaveLength(Object.keys(fields).length);
  });

  it('binds the header: any header change changes the leaf', () => {
    const sealed = sealRecord(header, fields);
    for (const change of [
      { subject: '91350100M000100Y51' },
      { recordId: 'rec-2026-000124' },
      { issuedAt: '2026-11-22T02:11:45.000Z' },
      { supersedes: 'rec-2026-000001' },
    ]) {
      expect(leafHash({ ...header, ...change }, sealed.fieldDigests)).not.toBe(sealed.leafHash);
    }
  });

  it('rejects bad salts and values without JSON form, naming the field', () => {
    expectCode(() => sealRecord(header, fields, { penaltyType: 'short' }), 'SALT_INVALID');
    expectCode(() => sealRecord(header, fields, { penaltyType: `${newSalt()}+` }), 'SALT_INVALID');
    expectCode(() => sealRecord(header, fields, { notAField: newSalt() }), 'SALT_INVALID');
    expectCode(() => sealRecord(header, { ...fields, amountFen: undefined }), 'JCS_INVALID');
    expectCode(() => sealRecord({ ...header, supersedes: undefined }, fields), 'JCS_INVALID');
  });

  it('seals a record without fields', () => {
    const sealed = sealRecord(header, {});
    expect(sealed.fieldDigests).toEqual({});
    expect(leafHashOfDisclosed(disclose(sealed, []))).toBe(sealed.leafHash);
  });
});

describe('selective disclosure', () => {
  const sealed = sealRecord(header, fields);

  it('gives the same leaf hash with any subset of fields withheld', () => {
    const names = Object.keys(fields);
    for (let mask = 0; mask < 1 << names.length; mask++) {
      const shown = names.filter((_, i) => (mask & (1 << i)) !== 0);
      const d = disclose(sealed, shown);
      expect(leafHashOfDisclosed(d)).toBe(sealed.leafHash);
    }
  });

  it('sends disclosed fields as {value, salt} and withheld ones as {digest} only', () => {
    const d = disclose(sealed, new Set(['penaltyType', 'amountFen', 'noSuchField']));
    expect(d.header).toEqual(header);
    expect(d.fields.penaltyType).toEqual({ value: '罚款', salt: sealed.salts.penaltyType });
    expect(d.fields.amountFen).toEqual({ value: 5_000_000, salt: sealed.salts.amountFen });
    expect(d.fields.reason).toEqual({ digest: sealed.fieldDigests.reason });
    expect(JSON.stringify(d)).not.toContain('排污');
    expect(Object.keys(d.fields).sort()).toEqual(Object.keys(fields).sort());
  });

  it('survives a JSON round trip', () => {
    const d = JSON.parse(JSON.stringify(disclose(sealed, ['reason', 'authority']))) as DisclosedRecord;
    expect(leafHashOfDisclosed(d)).toBe(sealed.leafHash);
  });

  it('detects a changed value, salt, digest, header, or a dropped, added or swapped field', () => {
    const d = disclose(sealed, ['amountFen', 'penaltyType']);
    const tampered: DisclosedRecord[] = [
      { ...d, fields: { ...d.fields, amountFen: { value: 500_000, salt: sealed.salts.amountFen! } } },
      { ...d, fields: { ...d.fields, amountFen: { value: '5000000', salt: sealed.salts.amountFen! } } },
      { ...d, fields: { ...d.fields, amountFen: { value: 5_000_000, salt: newSalt() } } },
      { ...d, fields: { ...d.fields, reason: { digest: 'f'.repeat(64) } } },
      { ...d, fields: { ...d.fields, reason: { digest: sealed.fieldDigests.decidedOn! }, decidedOn: { digest: sealed.fieldDigests.reason! } } },
      { ...d, header: { ...d.header, publisher: 'BankMSP' } },
      { ...d, fields: Object.fromEntries(Object.entries(d.fields).filter(([k]) => k !== 'reason')) },
      { ...d, fields: { ...d.fields, extra: { value: 1, salt: newSalt() } } },
    ];
    for (const t of tampered) expect(leafHashOfDisclosed(t)).not.toBe(sealed.leafHash);
  });

  it('rejects a disclosed field that is neither {value, salt} nor a 64-hex {digest}', () => {
    const d = disclose(sealed, []);
    const bad: unknown[] = [
      { digest: 'F'.repeat(64) },
      { digest: 'f'.repeat(63) },
      { value: 1 },
      { salt: newSalt() },
      { value: 1, salt: newSalt(), digest: 'f'.repeat(64) },
      {},
    ];
    for (const field of bad) {
      expectCode(() => leafHashOfDisclosed({ ...d, fields: { ...d.fields, reason: field as never } }), 'DISCLOSURE_INVALID');
    }
  });
});
