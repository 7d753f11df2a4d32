import { describe, expect, it } from 'vitest';
import { isCredexError } from '@credex/core';
import { fieldGrades, fieldsUpToGrade, isRecordType, maxDataGrade, recordTypes, schemaFor } from '../src/index';

type Node = Record<string, unknown>;

describe('record types', () => {
  it('lists the seven credit record types', () => {
    expect(recordTypes).toEqual([
      'gov.admin-licence',
      'gov.admin-penalty',
      'gov.redblack-list',
      'gov.tax-grade',
      'fin.loan-repayment',
      'sc.receivable-confirmation',
      'sc.payment-performance',
    ]);
    expect(isRecordType('gov.tax-grade')).toBe(true);
    expect(isRecordType('gov.tax')).toBe(false);
    expect(isRecordType(42)).toBe(false);
  });

  it('the credit-record schema has one branch per record type, selecting that type’s fields schema', () => {
    const record = schemaFor('credit-record');
    const branches = Object.values(record['$defs'] as Record<string, Node>);
    const pairs = branches.map((b) => {
      const props = b['properties'] as Record<string, Node>;
      return [props['recordType']?.['const'], props['fields']?.['$ref']];
    });
    expect(pairs).toEqual(recordTypes.map((t) => [t, `${t}.schema.json`]));
  });

  it.each(recordTypes)('%s: closed object, every field has a data grade 1–4 and a Chinese title', (t) => {
    const schema = schemaFor(t);
    expect(schema['additionalProperties']).toBe(false);
    const props = schema['properties'] as Record<string, Node>;
    expect(Object.keys(props).length).toBeGreaterThan(2);
    for (const [name, prop] of Object.entries(props)) {
      expect([1, 2, 3, 4], `${t}.${name}`).toContain(prop['x-dataGrade']);
      expect(prop['title'], `${t}.${name}`).toMatch(/\p{Script=Han}/u);
    }
    for (const required of schema['required'] as string[]) expect(props).toHaveProperty(required);
  });

  it('fieldGrades reads x-dataGrade for every field', () => {
    const grades = fieldGrades('fin.loan-repayment');
    expect(Object.keys(grades).sort()).toEqual(Object.keys(schemaFor('fin.loan-repayment')['properties'] as Node).sort());
    expect(grades['loanContractNo']).toBe(4);
    expect(grades['lender']).toBe(1);
    expect(grades['principalFen']).toBe(3);
    expect(fieldGrades('gov.tax-grade')).toEqual({
      assessedBy: 1,
      assessedByUscc: 1,
      assessedOn: 1,
      grade: 2,
      score: 3,
      year: 1,
    });
  });

  it('maxDataGrade is the highest field grade', () => {
    expect(maxDataGrade('gov.admin-licence')).toBe(2);
    expect(maxDataGrade('gov.tax-grade')).toBe(3);
    expect(maxDataGrade('fin.loan-repayment')).toBe(4);
    expect(maxDataGrade('sc.receivable-confirmation')).toBe(4);
  });

  it('fieldsUpToGrade keeps fields at or below the grade, sorted', () => {
    expect(fieldsUpToGrade('gov.tax-grade', 1)).toEqual(['assessedBy', 'assessedByUscc', 'assessedOn', 'year']);
    expect(fieldsUpToGrade('gov.tax-grade', 4)).toEqual(Object.keys(fieldGrades('gov.tax-grade')));
  });

  it('an unknown record type is RECORD_TYPE_UNKNOWN', () => {
    expect(() => fieldGrades('gov.unknown')).toThrow(/^RECORD_TYPE_UNKNOWN: /);
    try {
      maxDataGrade('__proto__');
      expect.unreachable();
    } catch (e) {
      expect(isCredexError(e, 'RECORD_TYPE_UNKNOWN')).toBe(true);
    }
  });
});
