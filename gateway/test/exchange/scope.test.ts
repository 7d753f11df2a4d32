import { describe, expect, it } from 'vitest';
import { leafHashOfDisclosed, newBoxKeyPair, sealRecord, type SealedRecord } from '@credex/core';
import { fieldGrades, fixtureEnterprises, fixtureRecord, type RecordType } from '@credex/schemas';
import { boxJson, openJson } from '../../src/exchange/box';
import { disclosedFieldNames, isPastRetention, reduceToScope } from '../../src/exchange/scope';

const subject = fixtureEnterprises.subject.uscc;

function seal(t: RecordType, fields?: Record<string, unknown>): SealedRecord {
  const r = fixtureRecord(t, subject);
  return sealRecord({ recordId: r.recordId, recordType: t, subject, publisher: 'GovMSP', catalogueEntryId: `cat-${t}`, issuedAt: r.issuedAt }, fields ?? (r.fields as unknown as Record<string, unknown>));
}

describe('reduceToScope', () => {
  it('discloses exactly the fields up to the consent grade, withholds the rest as digests, and the leaf is unchanged', () => {
    const grades = fieldGrades('fin.loan-repayment');
    const s = seal('fin.loan-repayment');
    for (const maxGrade of [1, 2, 3, 4] as const) {
      const d = reduceToScope(s, { maxGrade });
      for (const [name, field] of Object.entries(d.fields)) {
        const grade = grades[name] ?? 99;
        if (grade <= maxGrade) expect(field).toEqual({ value: s.fields[name], salt: s.salts[name] });
        else expect(field).toEqual({ digest: s.fieldDigests[name] });
      }
      expect(Object.keys(d.fields).sort()).toEqual(Object.keys(s.fields).sort());
      expect(leafHashOfDisclosed(d)).toBe(s.leafHash);
    }
    const g2 = reduceToScope(s, { maxGrade: 2 });
    expect(g2.fields.loanContractNo).toHaveProperty('digest'); // grade 4
    expect(g2.fields.principalFen).toHaveProperty('digest'); // grade 3
    expect(g2.fields.status).toHaveProperty('value'); // grade 2
  });

  it('a listed field scope narrows further; a listed field above the grade stays withheld', () => {
    const s = seal('fin.loan-repayment');
    expect(disclosedFieldNames('fin.loan-repayment', { maxGrade: 2, fields: ['lender', 'status', 'principalFen'] }, Object.keys(s.fields)).sort()).toEqual(['lender', 'status']);
    const d = reduceToScope(s, { maxGrade: 2, fields: ['lender', 'status', 'principalFen'] });
    expect(Object.entries(d.fields).filter(([, f]) => 'value' in f).map(([n]) => n).sort()).toEqual(['lender', 'status']);
    expect(leafHashOfDisclosed(d)).toBe(s.leafHash);
  });

  it('a field the record type does not know is never disclosed', () => {
    expect(disclosedFieldNames('gov.tax-grade', { maxGrade: 4 }, ['year', 'secretNote'])).toEqual(['year']);
  });
});

describe('isPastRetention (征信业管理条例 第十六条)', () => {
  const day = (d: string): number => Date.parse(`${d}T00:00:00.000Z`);
  it('a penalty is kept 5 years from its decision date', () => {
    const s = seal('gov.admin-penalty'); // decided 2025-06-20
    expect(isPastRetention(s, day('2030-06-19'))).toBe(false);
    expect(isPastRetention(s, day('2030-06-20'))).toBe(true);
  });

  it('a black-list entry is kept 5 years from its removal; an entry without removal date stays; a red-list entry is not negative', () => {
    const fields = fixtureRecord('gov.redblack-list', subject).fields;
    const black = seal('gov.redblack-list', { ...fields, listType: 'black', expiresOn: '2020-01-01' });
    expect(isPastRetention(black, day('2024-12-31'))).toBe(false);
    expect(isPastRetention(black, day('2025-01-01'))).toBe(true);
    const open: Record<string, unknown> = { ...fields };
    delete open.expiresOn;
    expect(isPastRetention(seal('gov.redblack-list', { ...open, listType: 'black' }), day('2060-01-01'))).toBe(false);
    expect(isPastRetention(seal('gov.redblack-list', { ...fields, expiresOn: '2000-01-01' }), day('2060-01-01'))).toBe(false);
  });

  it('an overdue or written-off loan is kept 5 years from its report date; a normal one always', () => {
    const fields = fixtureRecord('fin.loan-repayment', subject).fields;
    const overdue = seal('fin.loan-repayment', { ...fields, status: 'written-off', reportDate: '2019-03-31' });
    expect(isPastRetention(overdue, day('2024-03-30'))).toBe(false);
    expect(isPastRetention(overdue, day('2024-03-31'))).toBe(true);
    expect(isPastRetention(seal('fin.loan-repayment', { ...fields, status: 'normal', reportDate: '2000-01-01' }), day('2060-01-01'))).toBe(false);
    expect(isPastRetention(seal('gov.admin-licence'), day('2099-01-01'))).toBe(false);
  });
});

describe('boxJson / openJson', () => {
  const publisher = newBoxKeyPair();
  const bank = newBoxKeyPair();
  const payload = { accessId: 'a1', records: [{ text: '西安某科技有限公司', n: 1 }] };

  it('round-trips between the two parties with a fresh nonce each time', () => {
    const a = boxJson(payload, bank.publicKey, publisher.secretKey);
    const b = boxJson(payload, bank.publicKey, publisher.secretKey);
    expect(a.nonce).not.toBe(b.nonce);
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(openJson(a, publisher.publicKey, bank.secretKey)).toEqual(payload);
    expect(openJson(b, publisher.publicKey, bank.secretKey)).toEqual(payload);
  });

  it('a third party, an altered ciphertext or nonce do not open (DECRYPT_FAILED)', () => {
    const a = boxJson(payload, bank.publicKey, publisher.secretKey);
    const eve = newBoxKeyPair();
    const code = (f: () => unknown): string => {
      try {
        f();
        return 'OK';
      } catch (e) {
        return (e as { code: string }).code;
      }
    };
    expect(code(() => openJson(a, publisher.publicKey, eve.secretKey))).toBe('DECRYPT_FAILED');
    const flipped = (a.ciphertext[10] === 'A' ? 'B' : 'A');
    expect(code(() => openJson({ ...a, ciphertext: a.ciphertext.slice(0, 10) + flipped + a.ciphertext.slice(11) }, publisher.publicKey, bank.secretKey))).toBe('DECRYPT_FAILED');
    expect(code(() => openJson({ ...a, nonce: b64Flip(a.nonce) }, publisher.publicKey, bank.secretKey))).toBe('DECRYPT_FAILED');
    expect(code(() => openJson({ ...a, nonce: 'short' }, publisher.publicKey, bank.secretKey))).toBe('DECRYPT_FAILED');
  });
});

function b64Flip(s: string): string {
  return (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
}
