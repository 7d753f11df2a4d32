import type { Context } from 'fabric-contract-api';
import { verifyStatement, type Signed, type StatementKind } from '@credex/core';
import { exists, putIndex } from './codec';
import { fail } from './errors';
import { keys } from './keys';
import { loadEnterprise, type EnterpriseState } from './state';

/**
 * Checks an enterprise-signed statement: the enterprise is registered, the signature verifies
 * with its current key, and the nonce was never used by that enterprise. Consumes the nonce.
 */
export async function acceptEnterpriseStatement<T extends { nonce: string }>(
  ctx: Context,
  kind: StatementKind,
  uscc: string,
  signed: Signed<T>,
): Promise<EnterpriseState> {
  const enterprise = await loadEnterprise(ctx, uscc);
  if (!verifyStatement(kind, signed.statement, signed.signature, enterprise.publicKey)) {
    fail('SIGNATURE_INVALID', `${kind} is not signed by the registered key of ${uscc}`);
  }
  const nonceKey = keys.enterpriseNonce(ctx.stub, uscc, signed.statement.nonce);
  if (await exists(ctx, nonceKey)) {
    fail('NONCE_REPLAYED', `nonce ${signed.statement.nonce} was already used by ${uscc}`);
  }
  await putIndex(ctx, nonceKey);
  return enterprise;
}
