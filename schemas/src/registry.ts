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
import keyRotationSchema from '../json/key-rotation.schema.json' with { type: 'json' };
import objectionResolutionSchema from '../json/objection-resolution.schema.json' with { type: 'json' };
import objectionSchema from '../json/objection.schema.json' with { type: 'json' };
import organizationProfileSchema from '../json/organization-profile.schema.json' with { type: 'json' };
import recordHeaderSchema from '../json/record-header.schema.json' with { type: 'json' };
import revocationSchema from '../json/revocation.schema.json' with { type: 'json' };
import scPaymentPerformanceSchema from '../json/sc.payment-performance.schema.json' with { type: 'json' };
import scReceivableConfirmationSchema from '../json/sc.receivable-confirmation.schema.json' with { type: 'json' };
import signedAccessRequestSchema from '../json/signed-access-request.schema.json' with { type: 'json' };
import signedConsentSchema from '../json/signed-consent.schema.json' with { type: 'json' };
import signedKeyRotationSchema from '../json/signed-key-rotation.schema.json' with { type: 'json' };
import signedObjectionSchema from '../json/signed-objection.schema.json' with { type: 'json' };
import signedRevocationSchema from '../json/signed-revocation.schema.json' with { type: 'json' };

/** The schemas by name; a name is the file name without `.schema.json`. */
export const schemaDocuments = {
  'access-group': accessGroupSchema as AnySchemaObject,
  'access-request': accessRequestSchema as AnySchemaObject,
  'anchor-batch': anchorBatchSchema as AnySchemaObject,
  'catalogue-entry': catalogueEntrySchema as AnySchemaObject,
  'common': commonSchema as AnySchemaObject,
  'consent': consentSchema as AnySchemaObject,
  'credit-record': creditRecordSchema as AnySchemaObject,
  'disclosed-record': disclosedRecordSchema as AnySchemaObject,
  'enterprise': enterpriseSchema as AnySchemaObject,
  'fin.loan-repayment': finLoanRepaymentSchema as AnySchemaObject,
  'gov.admin-licence': govAdminLicenceSchema as AnySchemaObject,
  'gov.admin-penalty': govAdminPenaltySchema as AnySchemaObject,
  'gov.redblack-list': govRedblackListSchema as AnySchemaObject,
  'gov.tax-grade': govTaxGradeSchema as AnySchemaObject,
  'key-rotation': keyRotationSchema as AnySchemaObject,
  'objection-resolution': objectionResolutionSchema as AnySchemaObject,
  'objection': objectionSchema as AnySchemaObject,
  'organization-profile': organizationProfileSchema as AnySchemaObject,
  'record-header': recordHeaderSchema as AnySchemaObject,
  'revocation': revocationSchema as AnySchemaObject,
  'sc.payment-performance': scPaymentPerformanceSchema as AnySchemaObject,
  'sc.receivable-confirmation': scReceivableConfirmationSchema as AnySchemaObject,
  'signed-access-request': signedAccessRequestSchema as AnySchemaObject,
  'signed-consent': signedConsentSchema as AnySchemaObject,
  'signed-key-rotation': signedKeyRotationSchema as AnySchemaObject,
  'signed-objection': signedObjectionSchema as AnySchemaObject,
  'signed-revocation': signedRevocationSchema as AnySchemaObject,
} as const;

/** Name of a credex schema, e.g. `consent` or `gov.tax-grade`. */
export type SchemaName = Exclude<keyof typeof schemaDocuments, 'common'>;

/** Base of every schema's `$id`. */
export const SCHEMA_ID_BASE = 'https://credex.dev/schemas/';

/** The `$id` of the named schema. */
export function schemaId(name: SchemaName | 'common'): string {
  return `${SCHEMA_ID_BASE}${name}.schema.json`;
}
