import { describe, expect, it } from 'vitest';
import { CredexError, parseErrorCode, statementId } from '@credex/core';
import {
  allSchemas,
  compileSchema,
  fixtureAccessRequest,
  fixtureConsent,
  fixtureEnterprises,
  fixtureObjection,
  fixtureRecord,
  isValid,
  schemaFor,
  validate,
} from '../src/index';
import type { SchemaName } from '../src/index';

/** The SCHEMA_INVALID error `validate` throws for `value`, after checking it left `value` unchanged. */
function failure(name: SchemaName, value: unknown): CredexError {
  const before = structuredClone(value);
  try {
    validate(name, value);
  } catch (e) {
    expect(e).toBeInstanceOf(CredexError);
    expect((e as CredexError).code).toBe('SCHEMA_INVALID');
    expect(value).toEqual(before);
    expect(isValid(name, value)).toBe(false);
    return e as CredexError;
  }
  throw new Error(`${name}: expected SCHEMA_INVALID for ${JSON.stringify(value).slice(0, 200)}`);
}

/** A copy of `o` without `key`. */
function without(o: object, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));
}

const licence = fixtureRecord('gov.admin-licence');
const penalty = fixtureRecord('gov.admin-penalty');
const consentId = statementId('consent', fixtureConsent());

describe('validate', () => {
  it('returns the value itself when valid', () => {
    expect(validate('credit-record', licence)).toBe(licence);
    expect(isValid('credit-record', licence)).toBe(true);
  });

  it('missing required field: names the path of the missing property', () => {
    const fields = without(licence.fields, 'licenceNumber');
    const e = failure('credit-record', { ...licence, fields });
    expect(e.message).toBe('SCHEMA_INVALID: credit-record: /fields/licenceNumber is required');
    expect(e.details).toMatchObject({ schema: 'credit-record', path: '/fields/licenceNumber', keyword: 'required' });
    expect(parseErrorCode(`chaincode response 500, ${e.message}`)?.code).toBe('SCHEMA_INVALID');
  });

  it('extra property: rejected at the record and at the fields level', () => {
    expect(failure('credit-record', { ...licence, publisher: 'GovMSP' }).details?.['path']).toBe('/publisher');
    const e = failure('credit-record', { ...licence, fields: { ...licence.fields, remark: '备注' } });
    expect(e.message).toBe('SCHEMA_INVALID: credit-record: /fields/remark is not allowed here');
    expect(failure('consent', { ...fixtureConsent(), extra: true }).details?.['path']).toBe('/extra');
  });

  it('wrong enum value: lists the allowed values', () => {
    const e = failure('consent', { ...fixtureConsent(), purpose: 'MARKETING' });
    expect(e.message).toContain('consent: /purpose must be one of ["LOAN_APPLICATION",');
    expect(failure('consent', { ...fixtureConsent(), fieldScope: { maxGrade: 5 } }).details?.['path']).toBe(
      '/fieldScope/maxGrade',
    );
    const taxRecord = fixtureRecord('gov.tax-grade');
    expect(failure('credit-record', { ...taxRecord, fields: { ...taxRecord.fields, grade: 'E' } }).details?.['path']).toBe(
      '/fields/grade',
    );
  });

  it('unknown or missing record type', () => {
    expect(failure('credit-record', { ...licence, recordType: 'gov.unknown' }).details?.['path']).toBe('/recordType');
    const untyped = without(licence, 'recordType');
    expect(failure('credit-record', untyped).message).toBe('SCHEMA_INVALID: credit-record: /recordType is required');
    // The record type selects the fields schema: licence fields under the penalty type fail.
    expect(failure('credit-record', { ...penalty, fields: licence.fields }).details?.['path']).toMatch(/^\/fields\//);
  });

  it('oversize strings and arrays', () => {
    const long = failure('objection', fixtureObjection('rec-1', { reason: '理'.repeat(2001) }));
    expect(long.message).toBe('SCHEMA_INVALID: objection: /reason must NOT have more than 2000 characters');
    expect(isValid('objection', fixtureObjection('rec-1', { reason: '理'.repeat(2000) }))).toBe(true);
    const content = '许'.repeat(4001);
    expect(failure('gov.admin-licence', { ...licence.fields, content }).details?.['path']).toBe('/content');

    const ids = Array.from({ length: 10_001 }, (_, i) => `rec-${i}`);
    const tooMany = failure('access-request', fixtureAccessRequest(consentId, ids));
    expect(tooMany.message).toBe('SCHEMA_INVALID: access-request: /recordIds must NOT have more than 10000 items');
    expect(isValid('access-request', fixtureAccessRequest(consentId, ids.slice(1)))).toBe(true);
    const dup = failure('access-request', fixtureAccessRequest(consentId, ['rec-1', 'rec-2', 'rec-1']));
    expect(dup.details?.['keyword']).toBe('uniqueItems');
    expect(failure('access-request', fixtureAccessRequest(consentId, [])).details?.['path']).toBe('/recordIds');
  });

  it('bad USCC shapes are rejected by pattern (lowercase, I/O/S/V/Z, wrong length)', () => {
    const good = fixtureEnterprises.subject.uscc;
    const bad = [good.toLowerCase(), `${good.slice(0, 10)}I${good.slice(11)}`, good.slice(0, 17), `${good}0`, ` ${good.slice(1)}`];
    for (const subject of bad) {
      const e = failure('credit-record', { ...licence, subject });
      expect(e.details?.['path'], subject).toBe('/subject');
    }
    expect(failure('consent', { ...fixtureConsent(), subject: '９１３５０１００Ｍ０００１００Ｙ４３' }).details?.['path']).toBe('/subject');
  });

  it('amounts: negative, fractional and unsafe integers are rejected', () => {
    for (const amountFen of [-1, 1.5, 2 ** 53, '100']) {
      const e = failure('credit-record', { ...penalty, fields: { ...penalty.fields, amountFen } });
      expect(e.details?.['path']).toBe('/fields/amountFen');
    }
    expect(failure('gov.admin-penalty', { ...penalty.fields, amountFen: -100 }).message).toBe(
      'SCHEMA_INVALID: gov.admin-penalty: /amountFen must be >= 0',
    );
  });

  it('timestamps must be in toISOString form, dates must be real dates', () => {
    for (const issuedAt of ['2026-11-01T08:00:00Z', '2026-11-01T16:00:00.000+08:00', '2026-11-01 08:00:00.000Z', '2026-13-01T08:00:00.000Z']) {
      expect(failure('credit-record', { ...licence, issuedAt }).details?.['path'], issuedAt).toBe('/issuedAt');
    }
    for (const decisionDate of ['2025-02-30', '2025-3-12', '20250312']) {
      const e = failure('credit-record', { ...licence, fields: { ...licence.fields, decisionDate } });
      expect(e.details?.['path'], decisionDate).toBe('/fields/decisionDate');
    }
  });

  it('conditional requirements: confirmed receivables and corrected objections', () => {
    const receivable = fixtureRecord('sc.receivable-confirmation');
    const unconfirmedAt = without(receivable.fields, 'confirmedAt');
    expect(failure('sc.receivable-confirmation', unconfirmedAt).details?.['path']).toBe('/confirmedAt');
    expect(failure('sc.receivable-confirmation', { ...receivable.fields, confirmed: 'true' }).details?.['path']).toBe('/confirmed');
    const pending = without(unconfirmedAt, 'confirmationRef');
    expect(isValid('sc.receivable-confirmation', { ...pending, confirmed: false })).toBe(true);

    const objectionId = 'a'.repeat(64);
    expect(failure('objection-resolution', { objectionId, outcome: 'corrected', reason: '已更正' }).details?.['path']).toBe(
      '/supersededBy',
    );
    expect(isValid('objection-resolution', { objectionId, outcome: 'rejected', reason: '驳回', supersededBy: 'rec-2' })).toBe(
      false,
    );
  });

  it('consent scope needs catalogue entries or record types', () => {
    expect(failure('consent', { ...fixtureConsent(), scope: {} }).details?.['path']).toBe('/scope');
    expect(failure('consent', { ...fixtureConsent(), scope: { recordTypes: [] } }).details?.['path']).toBe('/scope/recordTypes');
    expect(isValid('consent', fixtureConsent({ scope: { catalogueEntryIds: ['cat-1'] } }))).toBe(true);
  });

  it('keys, signatures and hashes must have their exact encoded size', () => {
    const request = fixtureAccessRequest(consentId, ['rec-1']);
    expect(failure('signed-access-request', { statement: request, signature: 'A'.repeat(86) + '=' }).details?.['path']).toBe('/signature');
    expect(failure('access-request', { ...request, consentId: consentId.toUpperCase() }).details?.['path']).toBe('/consentId');
    expect(failure('enterprise', { ...fixtureEnterprises.subject, publicKey: 'A'.repeat(44) }).details?.['path']).toBe('/publicKey');
  });

  it('non-objects are rejected', () => {
    for (const value of [null, undefined, 'x', 1, [], true]) failure('consent', value);
  });

  it('an unknown schema name is SCHEMA_UNKNOWN', () => {
    expect(() => validate('nope' as SchemaName, {})).toThrow(/^SCHEMA_UNKNOWN: /);
    expect(() => validate('common' as SchemaName, {})).toThrow(/^SCHEMA_UNKNOWN: /);
    expect(() => schemaFor('toString' as SchemaName)).toThrow(/^SCHEMA_UNKNOWN: /);
  });
});

describe('compileSchema', () => {
  it('compiles a schema that refers to the credex schemas by $id', () => {
    const check = compileSchema<{ subject: string; consent: unknown }>({
      type: 'object',
      additionalProperties: false,
      required: ['subject', 'consent'],
      properties: {
        subject: { $ref: 'https://credex.dev/schemas/common.schema.json#/$defs/uscc' },
        consent: { $ref: 'https://credex.dev/schemas/signed-consent.schema.json' },
      },
    });
    const consent = { statement: fixtureConsent(), signature: `${'A'.repeat(85)}Q` };
    expect(check({ subject: fixtureEnterprises.subject.uscc, consent })).toBe(true);
    expect(check({ subject: 'not-a-uscc', consent })).toBe(false);
    expect(check.errors?.[0]?.instancePath).toBe('/subject');
  });

  it('is strict: unknown keywords are errors', () => {
    expect(() => compileSchema({ type: 'string', maxLenght: 3 })).toThrow(/strict mode: unknown keyword/);
  });
});

describe('schema documents', () => {
  it('each is draft 2020-12 with an $id under https://credex.dev/schemas/', () => {
    for (const schema of allSchemas()) {
      expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
      expect(schema['$id']).toMatch(/^https:\/\/credex\.dev\/schemas\/[a-z0-9.-]+\.schema\.json$/);
    }
    expect(schemaFor('consent')['$id']).toBe('https://credex.dev/schemas/consent.schema.json');
  });

  it('are frozen, so no caller can change what the validator checks', () => {
    const consent = schemaFor('consent');
    expect(() => {
      (consent['properties'] as Record<string, unknown>)['maxUses'] = {};
    }).toThrow(TypeError);
    expect(failure('consent', { ...fixtureConsent(), maxUses: 0 }).details?.['path']).toBe('/maxUses');
  });
});
