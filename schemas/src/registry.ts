/**
 * Every credex JSON Schema, imported statically so that bundlers (the chaincode's esbuild build)
 * inline them: nothing is read from disk at run time.
 */
import type { AnySchemaObject } from 'ajv/dist/2020';

import accessGroupSchema from '../json/access-group.schema.json' with { type: 'json' };
import accessRequestSchema from '../json/access-request.schema.json' with { type: 'json' };
import anchorBatchSchema from '../json/anchor-batch.schema.json' with { type: 'json' };
import catalogueEntrySchema from '../json/catalogue-entry.schema.json' with { type: 'json' };
import commonSchema from '../json/common.schema.json' with { type: 'json' };
import consentSchema from '../json/consent.schema.json' with { type: 'json' };
import creditRecordSchema from '../json/credit-record.schema.json' with { type: 'json' };
import disclosedRecordSchema from '../json/disclosed-record.schema.json' with { type: 'json' };
import enterpriseSchema from '../json/enterprise.schema.json' with { type: 'json' };
import finLoanRepaymentSchema from '../json/fin.loan-repayment.schema.json' with { type: 'json' };
import govAdminLicenceSchema from '../json/gov.admin-licence.schema.json' with { type: 'json' };
import govAdminPenaltySchema from '../json/gov.admin-penalty.schema.json' with { type: 'json' };
import govRedblackListSchema from '../json/gov.redblack-list.schema.json' with { type: 'json' };
import govTaxGradeSchema from '../json/gov.tax-grade.schema.json' with { type: 'json' };
import ledgerAccessResultSchema from '../json/ledger-access-result.schema.json' with { type: 'json' };
import ledgerAccessSchema from '../json/ledger-access.schema.json' with { type: 'json' };
import ledgerBatchSchema from '../json/ledger-batch.schema.json' with { type: 'json' };
import ledgerConsentSchema from '../json/ledger-consent.schema.json' with { type: 'json' };
import ledgerRecordSchema from '../json/ledger-record.schema.json' with { type: 'json' };
import keyRotationSchema from '../json/key-rotation.schema.json' with { type: 'json' };
import objectionResolutionSchema from '../json/objection-resolution.schema.json' with { type: 'json' };
import objectionSchema from '../json/objection.schema.json' with { type: 'json' };
import organizationProfileSchema from '../json/organization-profile.schema.json' with { type: 'json' };
import recordHeaderSchema from '../json/record-header.schema.json' with { type: 'json' };
import recordRefSchema from '../json/record-ref.schema.json' with { type: 'json' };
import revocationSchema from '../json/revocation.schema.json' with { type: 'json' };
import scPaymentPerformanceSchema from '../json/sc.payment-performance.schema.json' with { type: 'json' };
import scReceivableConfirmationSchema from '../json/sc.receivable-confirmation.schema.json' with { type: 'json' };
import signedAccessRequestSchema from '../json/signed-access-request.schema.json' with { type: 'json' };
import signedConsentSchema from '../json/signed-consent.schema.json' with { type: 'json' };
import signedKeyRotationSchema from '../json/signed-key-rotation.schema.json' with { type: 'json' };
import signedObjectionSchema from '../json/signed-objection.schema.json' with { type: 'json' };
import signedRevocationSchema from '../json/signed-revocation.schema.json' with { type: 'json' };

/** Freezes a schema and everything in it: the documents are shared with the validator. */
function frozen(schema: unknown): AnySchemaObject {
  if (typeof schema === 'object' && schema !== null && !Object.isFrozen(schema)) {
    for (const v of Object.values(schema)) frozen(v);
    Object.freeze(schema);
  }
  return schema as AnySchemaObject;
}

/** The schemas by name (deeply frozen); a name is the file name without `.schema.json`. */
export const schemaDocuments = {
  'access-group': frozen(accessGroupSchema),
  'access-request': frozen(accessRequestSchema),
  'anchor-batch': frozen(anchorBatchSchema),
  'catalogue-entry': frozen(catalogueEntrySchema),
  'common': frozen(commonSchema),
  'consent': frozen(consentSchema),
  'credit-record': frozen(creditRecordSchema),
  'disclosed-record': frozen(disclosedRecordSchema),
  'enterprise': frozen(enterpriseSchema),
  'fin.loan-repayment': frozen(finLoanRepaymentSchema),
  'gov.admin-licence': frozen(govAdminLicenceSchema),
  'gov.admin-penalty': frozen(govAdminPenaltySchema),
  'gov.redblack-list': frozen(govRedblackListSchema),
  'gov.tax-grade': frozen(govTaxGradeSchema),
  'key-rotation': frozen(keyRotationSchema),
  'ledger-access': frozen(ledgerAccessSchema),
  'ledger-access-result': frozen(ledgerAccessResultSchema),
  'ledger-batch': frozen(ledgerBatchSchema),
  'ledger-consent': frozen(ledgerConsentSchema),
  'ledger-record': frozen(ledgerRecordSchema),
  'objection-resolution': frozen(objectionResolutionSchema),
  'objection': frozen(objectionSchema),
  'organization-profile': frozen(organizationProfileSchema),
  'record-header': frozen(recordHeaderSchema),
  'record-ref': frozen(recordRefSchema),
  'revocation': frozen(revocationSchema),
  'sc.payment-performance': frozen(scPaymentPerformanceSchema),
  'sc.receivable-confirmation': frozen(scReceivableConfirmationSchema),
  'signed-access-request': frozen(signedAccessRequestSchema),
  'signed-consent': frozen(signedConsentSchema),
  'signed-key-rotation': frozen(signedKeyRotationSchema),
  'signed-objection': frozen(signedObjectionSchema),
  'signed-revocation': frozen(signedRevocationSchema),
} as const;

/** Name of a credex schema, e.g. `consent` or `gov.tax-grade`. */
export type SchemaName = Exclude<keyof typeof schemaDocuments, 'common'>;

/** Base of every schema's `$id`. */
export const SCHEMA_ID_BASE = 'https://credex.dev/schemas/';

/** The `$id` of the named schema. */
export function schemaId(name: SchemaName | 'common'): string {
  return `${SCHEMA_ID_BASE}${name}.schema.json`;
}
