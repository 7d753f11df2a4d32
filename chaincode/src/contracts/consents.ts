import { Context, Info, Transaction } from 'fabric-contract-api';
import { assertUscc, statementId } from '@credex/core';
import { encode, exists, listIndexed, parseArgument, parseId, putIndex, putJson } from '../codec';
import { CredexContract } from '../contract';
import { fail } from '../errors';
import { keys, type KeyPrefix } from '../keys';
import { acceptEnterpriseStatement } from '../signatures';
import { loadConsent, loadOrganization, type ConsentState } from '../state';
import { ledgerTime, timeMs } from '../tx';

/**
 * Consents (数据授权): statements signed by the data subject's registered key that let one
 * organization use the subject's data for one purpose, within a window and a number of uses.
 * Any member may submit them; the signature, not the submitter, carries the authority.
 */
@Info({ title: 'consents', description: 'Enterprise-signed consents and their revocations (数据授权)' })
export class ConsentsContract extends CredexContract {
  constructor() {
    super('consents');
  }

  @Transaction()
  async CreateConsent(ctx: Context, signedConsentJson: string): Promise<string> {
    const signed = parseArgument('signed-consent', signedConsentJson);
    const consent = signed.statement;
    const notBefore = timeMs(consent.notBefore);
    const notAfter = timeMs(consent.notAfter);
    if (notAfter <= notBefore) {
      fail('SCHEMA_INVALID', `notAfter ${consent.notAfter} is not after notBefore ${consent.notBefore}`);
    }
    const now = ledgerTime(ctx);
    if (notAfter <= now.ms) {
      fail('CONSENT_EXPIRED', `the consent's window ended at ${consent.notAfter}, before ledger time ${now.iso}`);
    }
    await acceptEnterpriseStatement(ctx, 'consent', consent.subject, signed);
    await loadOrganization(ctx, consent.grantee);
    const consentId = statementId('consent', consent);
    const key = keys.consent(ctx.stub, consentId);
    if (await exists(ctx, key)) {
      fail('ALREADY_EXISTS', `consent ${consentId} already exists`);
    }
    const stored: ConsentState = {
      consentId,
      subject: consent.subject,
      grantee: consent.grantee,
      statement: consent,
      signature: signed.signature,
      status: 'active',
      uses: 0,
      createdAt: now.iso,
      txId: ctx.stub.getTxID(),
    };
    await putJson(ctx, key, stored);
    await putIndex(ctx, keys.consentBySubject(ctx.stub, stored.subject, consentId));
    await putIndex(ctx, keys.consentByGrantee(ctx.stub, stored.grantee, consentId));
    return encode(stored);
  }

  /** Revokes a consent with a revocation signed by its subject; effective at commit. */
  @Transaction()
  async RevokeConsent(ctx: Context, signedRevocationJson: string): Promise<string> {
    const signed = parseArgument('signed-revocation', signedRevocationJson);
    const revocation = signed.statement;
    const consent = await loadConsent(ctx, revocation.consentId);
    if (consent.subject !== revocation.subject) {
      fail('FORBIDDEN', `consent ${consent.consentId} belongs to ${consent.subject}, not ${revocation.subject}`);
    }
    await acceptEnterpriseStatement(ctx, 'revocation', revocation.subject, signed);
    if (consent.status === 'revoked') {
      fail('CONSENT_REVOKED', `consent ${consent.consentId} was already revoked at ${consent.revokedAt ?? 'an earlier time'}`);
    }
    const revoked: ConsentState = { ...consent, status: 'revoked', revokedAt: ledgerTime(ctx).iso, revocation: signed };
    await putJson(ctx, keys.consent(ctx.stub, consent.consentId), revoked);
    return encode(revoked);
  }

  @Transaction(false)
  async GetConsent(ctx: Context, consentId: string): Promise<string> {
    return encode(await loadConsent(ctx, parseId('consentId', consentId)));
  }

  @Transaction(false)
  async ListBySubject(ctx: Context, uscc: string): Promise<string> {
    return encode(await listConsents(ctx, keys.consentsBySubject(assertUscc(uscc))));
  }

  @Transaction(false)
  async ListByGrantee(ctx: Context, mspId: string): Promise<string> {
    return encode(await listConsents(ctx, keys.consentsByGrantee(parseId('mspId', mspId))));
  }
}

function listConsents(ctx: Context, range: KeyPrefix): Promise<ConsentState[]> {
  return listIndexed<ConsentState>(ctx, range, (id) => keys.consent(ctx.stub, id));
}
