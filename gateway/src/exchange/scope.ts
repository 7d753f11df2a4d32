/**
 * What of a record may be served under a consent: its fields reduced to the consent's field
 * scope (the rest withheld as digests, so the record still verifies), and whether a negative
 * record is past its retention period.
 */
import { disclose, type DisclosedRecord, type SealedRecord } from '@credex/core';
import { fieldGrades } from '@credex/schemas';
import type { Consent } from '@credex/schemas';

/**
 * The names of a record's fields that a consent's field scope discloses: a known field of
 * the record type whose data grade is at most `maxGrade`, and in `fields` when the consent
 * lists fields. Everything else is withheld.
 */
export function disclosedFieldNames(recordType: string, fieldScope: Consent['fieldScope'], present: Iterable<string>): string[] {
  const grades = fieldGrades(recordType);
  const listed = fieldScope.fields === undefined ? undefined : new Set<string>(fieldScope.fields);
  const out: string[] = [];
  for (const name of present) {
    const grade = Object.hasOwn(grades, name) ? grades[name] : undefined;
    if (grade !== undefined && grade <= fieldScope.maxGrade && (listed === undefined || listed.has(name))) out.push(name);
  }
  return out;
}

/** A sealed record reduced to a consent's field scope (withheld fields as digests). */
export function reduceToScope(sealed: SealedRecord, fieldScope: Consent['fieldScope']): DisclosedRecord {
  return disclose(sealed, disclosedFieldNames(sealed.header.recordType, fieldScope, Object.keys(sealed.fieldDigests)));
}

/** Years negative information is kept after its event ended (征信业管理条例 第十六条). */
export const NEGATIVE_RETENTION_YEARS = 5;

function dateOf(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v.length === 10 ? `${v}T00:00:00.000Z` : v);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * When the bad behaviour or event a negative record reports ended (不良行为或者事件终止之日),
 * or undefined when the record is not negative or its event has not ended:
 * - an administrative penalty: its decision date;
 * - a black-list entry: its removal date (an entry without one is still in force);
 * - an overdue or written-off loan: the date the record reports on (reportDate, else the last
 *   repayment, else maturity).
 */
export function negativeEventEnd(sealed: SealedRecord): number | undefined {
  const f = sealed.fields;
  switch (sealed.header.recordType) {
    case 'gov.admin-penalty':
      return dateOf(f.decisionDate);
    case 'gov.redblack-list':
      return f.listType === 'black' ? dateOf(f.expiresOn) : undefined;
    case 'fin.loan-repayment':
      return f.status === 'overdue' || f.status === 'written-off' ? dateOf(f.reportDate ?? f.lastRepaymentDate ?? f.maturityDate) : undefined;
    default:
      return undefined;
  }
}

/** Whether a record is negative information kept past its retention period at `now` (ms). */
export function isPastRetention(sealed: SealedRecord, now: number): boolean {
  const end = negativeEventEnd(sealed);
  if (end === undefined) return false;
  const limit = new Date(end);
  limit.setUTCFullYear(limit.getUTCFullYear() + NEGATIVE_RETENTION_YEARS);
  return now >= limit.getTime();
}
