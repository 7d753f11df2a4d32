/** JSON Schemas shared by the staff and auditor routes (documented in the OpenAPI output). */

const err = { $ref: 'ErrorBody#' } as const;

/** Standard error responses of a route. */
export const errorResponses = {
  400: err, 401: err, 403: err, 404: err, 409: err, 413: err, 429: err, 500: err, 503: err,
} as const;

/** An object whose shape the chaincode defines (docs/CONTRACTS.md); passed through as is. */
export const ledgerObject = { type: 'object', additionalProperties: true } as const;

/** A signed statement `{statement, signature}` (consent, revocation, objection, key rotation). */
export const signedStatement = {
  type: 'object',
  required: ['statement', 'signature'],
  additionalProperties: false,
  properties: {
    statement: { type: 'object', additionalProperties: true },
    signature: { type: 'string', description: 'ed25519 signature, base64url' },
  },
} as const;

export const idParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 128 } },
} as const;

/** The result of a submitted transaction. */
export function submitted(resultName: string): Record<string, unknown> {
  return {
    type: 'object',
    required: ['txId', resultName],
    properties: { txId: { type: 'string' }, blockNumber: { type: 'integer' }, [resultName]: ledgerObject },
  };
}

export const staffSecurity = [{ staffToken: [] }];
