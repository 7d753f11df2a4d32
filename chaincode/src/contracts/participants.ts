import { Context, Info, Transaction } from 'fabric-contract-api';
import { assertUscc } from '@credex/core';
import { encode, exists, getJson, listJson, parseArgument, parseId, putJson } from '../codec';
import { CredexContract } from '../contract';
import { fail } from '../errors';
import { roleOf } from '../governance';
import { keys } from '../keys';
import { acceptEnterpriseStatement } from '../signatures';
import { loadEnterprise, loadOrganization, type EnterpriseState, type OrganizationState } from '../state';
import { callerMspId, ledgerTime, requireRole } from '../tx';

/**
 * The participant registry: member organizations' profiles (each written only by that
 * organization) and enterprises' signing keys bound to their USCC (bound by a government
 * organization, rotated by the enterprise itself with the key it replaces).
 */
@Info({ title: 'participants', description: 'Organization profiles and enterprise keys' })
export class ParticipantsContract extends CredexContract {
  constructor() {
    super('participants');
  }

  /** Creates or updates the caller's own organization profile. */
  @Transaction()
  async RegisterOrganization(ctx: Context, profileJson: string): Promise<string> {
    const profile = parseArgument('organization-profile', profileJson);
    const caller = callerMspId(ctx);
    if (profile.mspId !== caller) {
      fail('FORBIDDEN', `${caller} may register only its own profile, not ${profile.mspId}`);
    }
    const role = roleOf(caller);
    if (role !== profile.role) {
      fail('FORBIDDEN', `${caller} has role ${role ?? 'none'} in the chaincode definition, not ${profile.role}`);
    }
    const now = ledgerTime(ctx).iso;
    const key = keys.organization(ctx.stub, caller);
    const previous = await getJson<OrganizationState>(ctx, key);
    const organization: OrganizationState = {
      mspId: caller,
      name: profile.name,
      role,
      gatewayUrl: profile.gatewayUrl,
      requestKey: profile.requestKey,
      boxKey: profile.boxKey,
      registeredAt: previous?.registeredAt ?? now,
      updatedAt: now,
    };
    await putJson(ctx, key, organization);
    return encode(organization);
  }

  @Transaction(false)
  async GetOrganization(ctx: Context, mspId: string): Promise<string> {
    return encode(await loadOrganization(ctx, parseId('mspId', mspId)));
  }

  @Transaction(false)
  async ListOrganizations(ctx: Context): Promise<string> {
    return encode(await listJson<OrganizationState>(ctx, keys.organizations()));
  }

  /** Binds an enterprise's ed25519 key to its USCC (government organizations only). */
  @Transaction()
  async RegisterEnterprise(ctx: Context, enterpriseJson: string): Promise<string> {
    const registrar = requireRole(ctx, ['government']);
    const input = parseArgument('enterprise', enterpriseJson);
    const key = keys.enterprise(ctx.stub, input.uscc);
    if (await exists(ctx, key)) {
      fail('ALREADY_EXISTS', `enterprise ${input.uscc} is already registered; it rotates its key with RotateEnterpriseKey`);
    }
    const now = ledgerTime(ctx).iso;
    const enterprise: EnterpriseState = {
      uscc: input.uscc,
      name: input.name,
      publicKey: input.publicKey,
      keyValidFrom: now,
      keyHistory: [],
      registeredBy: registrar,
      registeredAt: now,
    };
    await putJson(ctx, key, enterprise);
    return encode(enterprise);
  }

  /** Replaces an enterprise's key; the rotation is signed by the key being replaced. */
  @Transaction()
  async RotateEnterpriseKey(ctx: Context, signedRotationJson: string): Promise<string> {
    const signed = parseArgument('signed-key-rotation', signedRotationJson);
    const { uscc, newPublicKey } = signed.statement;
    const enterprise = await acceptEnterpriseStatement(ctx, 'key-rotation', uscc, signed);
    if (newPublicKey === enterprise.publicKey) {
      fail('ALREADY_EXISTS', `${uscc} already uses this key`);
    }
    const { iso: now } = ledgerTime(ctx);
    const rotated: EnterpriseState = {
      ...enterprise,
      publicKey: newPublicKey,
      keyValidFrom: now,
      keyHistory: [
        ...enterprise.keyHistory,
        { publicKey: enterprise.publicKey, validFrom: enterprise.keyValidFrom, validUntil: now, txId: ctx.stub.getTxID() },
      ],
    };
    await putJson(ctx, keys.enterprise(ctx.stub, uscc), rotated);
    return encode(rotated);
  }

  @Transaction(false)
  async GetEnterprise(ctx: Context, uscc: string): Promise<string> {
    return encode(await loadEnterprise(ctx, assertUscc(uscc)));
  }
}
