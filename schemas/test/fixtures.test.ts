import { describe, expect, it } from 'vitest';
import {
  disclose,
  isValidUscc,
  leafHashOfDisclosed,
  newSalt,
  leafHash,
  merkleRoot,
  newBoxKeyPair,
  newSigningKeyPair,
  sealRecord,
  sha256Hex,
  signStatement,
  statementId,
  verifyInclusion,
  verifyStatement,
} from '@credex/core';
import {
  fixtureAccessRequest,
  fixtureAnchorBatch,
  fixtureAuthorities,
  fixtureCatalogueEntry,
  fixtureConsent,
  fixtureEnterprise,
  fixtureEnterprises,
  fixtureEntryDraft,
  fixtureFields,
  fixtureKeyRotation,
  fixtureObjection,
  fixtureObjectionResolution,
  fixtureOrganization,
  fixtureOrgs,
  fixtureRecord,
  fixtureRecordRefs,
  fixtureRecords,
  fixtureRevocation,
  fixtureSealedBatch,
  fieldsUpToGrade,
  isValid,
  maxDataGrade,
  recordTypes,
  validate,
} from '../src/index';

describe('fixtures', () => {
  it('every fixture USCC is valid per GB 32100-2015', () => {
    for (const party of [...Object.values(fixtureEnterprises), ...Object.values(fixtureAuthorities)]) {
      expect(isValidUscc(party.uscc), `${party.name} ${party.uscc}`).toBe(true);
    }
  });

  it('fixtureRecords gives one valid record of every type, about the given subject', () => {
    const other = fixtureEnterprises.other;
    for (const subject of [fixtureEnterprises.subject, other]) {
      const records = fixtureRecords(subject.uscc);
      expect(records.map((r) => r.recordType)).toEqual(recordTypes);
      for (const record of records) {
        expect(validate('credit-record', record)).toBe(record);
        expect(validate(record.recordType, record.fields)).toBe(record.fields);
        expect(record.subject).toBe(subject.uscc);
      }
      const receivable = fixtureRecord('sc.receivable-confirmation', subject.uscc);
      expect(receivable.fields.creditorUscc).toBe(subject.uscc);
      expect(receivable.fields.creditorName).toBe(subject.name);
    }
    const ids = fixtureRecords(other.uscc, { idPrefix: 'b2', issuedAt: '2026-11-02T00:00:00.000Z' });
    expect(ids.every((r) => r.recordId.startsWith('b2-') && r.issuedAt === '2026-11-02T00:00:00.000Z')).toBe(true);
  });

  it('fixture content is in Chinese', () => {
    const licence = fixtureFields()['gov.admin-licence'];
    expect(licence.authority).toBe('西安市市场监督管理局');
    expect(licence.content).toContain('西安某科技有限公司');
    expect(fixtureFields()['gov.tax-grade'].assessedBy).toBe('国家税务总局西安市税务局');
  });

  it('catalogue entries validate and carry the type’s highest data grade', () => {
    for (const recordType of recordTypes) {
      const entry = fixtureCatalogueEntry({ recordType, publisher: 'CoreMSP' });
      expect(validate('catalogue-entry', entry)).toBe(entry);
      expect(entry.dataGrade).toBe(maxDataGrade(recordType));
    }
  });

  it('statements validate, and signed with real keys they validate and verify', () => {
    const enterpriseKey = newSigningKeyPair();
    const bankKey = newSigningKeyPair();
    const consent = fixtureConsent();
    const consentId = statementId('consent', consent);
    const revocation = fixtureRevocation(consentId);
    const record = fixtureRecord('gov.admin-penalty');
    const request = fixtureAccessRequest(consentId, [record.recordId]);
    const objection = fixtureObjection(record.recordId);
    const rotation = fixtureKeyRotation(newSigningKeyPair().publicKey);

    const signed = [
      ['consent', consent, enterpriseKey],
      ['revocation', revocation, enterpriseKey],
      ['access-request', request, bankKey],
      ['objection', objection, enterpriseKey],
      ['key-rotation', rotation, enterpriseKey],
    ] as const;
    for (const [kind, statement, key] of signed) {
      expect(isValid(kind, statement), kind).toBe(true);
      const form = { statement, signature: signStatement(kind, statement, key.secretKey) };
      expect(validate(`signed-${kind}`, form)).toBe(form);
      expect(verifyStatement(kind, statement, form.signature, key.publicKey)).toBe(true);
    }

    const group = {
      accesses: [
        {
          accessId: 'acc-1',
          consentId,
          recordIds: request.recordIds,
          records: fixtureRecordRefs('batch-1', request.recordIds.map((recordId, i) => ({ recordId, leafHash: sha256Hex(String(i)) }))).refs,
          request: { statement: request, signature: signStatement('access-request', request, bankKey.secretKey) },
        },
      ],
    };
    expect(validate('access-group', group)).toBe(group);
  });

  it('two consents get different nonces unless one is given', () => {
    expect(fixtureConsent().nonce).not.toBe(fixtureConsent().nonce);
    expect(fixtureConsent({ nonce: 'fixed-nonce-0000001' }).nonce).toBe('fixed-nonce-0000001');
  });

  it('objection resolutions (rejected and corrected) validate', () => {
    const objectionId = statementId('objection', fixtureObjection('rec-1'));
    expect(isValid('objection-resolution', fixtureObjectionResolution(objectionId))).toBe(true);
    expect(isValid('objection-resolution', fixtureObjectionResolution(objectionId, 'rec-2'))).toBe(true);
  });

  it('organization profiles and enterprise registrations validate', () => {
    for (const mspId of Object.keys(fixtureOrgs) as (keyof typeof fixtureOrgs)[]) {
      const profile = fixtureOrganization(mspId, {
        requestKey: newSigningKeyPair().publicKey,
        boxKey: newBoxKeyPair().publicKey,
      });
      expect(validate('organization-profile', profile)).toBe(profile);
    }
    expect(isValid('enterprise', fixtureEnterprise(newSigningKeyPair().publicKey))).toBe(true);
  });

  it('record headers and disclosed records built by core validate', () => {
    const { fields, ...posted } = fixtureRecord('fin.loan-repayment');
    const header = { ...posted, publisher: 'BankMSP', catalogueEntryId: 'cat-loans-1' };
    expect(validate('record-header', header)).toBe(header);
    const sealed = sealRecord(header, { ...fields });
    const disclosed = disclose(sealed, fieldsUpToGrade('fin.loan-repayment', 2));
    expect(validate('disclosed-record', disclosed)).toBe(disclosed);
    expect(disclosed.fields['loanContractNo']).toEqual({ digest: sealed.fieldDigests['loanContractNo'] });
    expect(leafHashOfDisclosed(disclosed)).toBe(sealed.leafHash);

    const both = { ...disclosed, fields: { ...disclosed.fields, lender: { value: 'x', salt: newSalt(), digest: 'a'.repeat(64) } } };
    expect(isValid('disclosed-record', both)).toBe(false);
    const badName = { ...disclosed, fields: { ...disclosed.fields, 'bad name': { digest: 'a'.repeat(64) } } };
    expect(isValid('disclosed-record', badName)).toBe(false);
    const shortSalt = { ...disclosed, fields: { lender: { value: 'x', salt: 'AAAA' } } };
    expect(isValid('disclosed-record', shortSalt)).toBe(false);
  });

  it('an anchor batch of sealed fixture records validates; each reference proves its leaf against the root', () => {
    const entry = fixtureCatalogueEntry();
    const leaves = fixtureRecords().map(({ fields, ...header }) => {
      const sealed = sealRecord({ ...header, publisher: entry.publisher, catalogueEntryId: entry.entryId }, { ...fields });
      expect(sealed.leafHash).toBe(leafHash(sealed.header, sealed.fieldDigests));
      return { recordId: header.recordId, leafHash: sealed.leafHash };
    });
    const { root, refs } = fixtureRecordRefs('b-7', leaves);
    expect(root).toBe(merkleRoot(leaves.map((l) => l.leafHash)));
    const batch = fixtureAnchorBatch(entry.entryId, root, leaves.length, { batchId: 'b-7' });
    expect(validate('anchor-batch', batch)).toBe(batch);
    expect(batch).toEqual({ batchId: 'b-7', catalogueEntryId: entry.entryId, root, size: 7 });
    expect(refs.map((r) => [r.recordId, r.batchId, r.index])).toEqual(leaves.map((l, i) => [l.recordId, 'b-7', i]));
    for (const ref of refs) {
      expect(validate('record-ref', ref)).toBe(ref);
      expect(verifyInclusion(ref.leafHash, ref.index, batch.size, ref.proof, root)).toBe(true);
    }
    expect(isValid('record-ref', { ...refs[0], proof: Array.from({ length: 65 }, () => root) })).toBe(false);
    expect(isValid('anchor-batch', { ...batch, records: [] })).toBe(false);
    expect(isValid('anchor-batch', { ...batch, size: 10_001 })).toBe(false);
  });

  it('a sealed batch: one leaf per fixture record with its reference, the root is their Merkle root, supersessions listed', () => {
    const entry = fixtureEntryDraft({ recordType: 'gov.admin-penalty', publisher: 'GovMSP' });
    expect(entry).not.toHaveProperty('status');
    expect(entry).not.toHaveProperty('createdAt');
    const old = fixtureSealedBatch(entry, { count: 2, idPrefix: 'o', batchId: 'b-0' }).leaves[1]!.ref;
    const { batch, leaves } = fixtureSealedBatch(entry, { count: 3, idPrefix: 'x', batchId: 'b-1', supersedes: [undefined, old] });
    expect(validate('anchor-batch', batch)).toBe(batch);
    expect(batch).toMatchObject({ batchId: 'b-1', catalogueEntryId: entry.entryId, size: 3, root: merkleRoot(leaves.map((l) => l.leafHash)) });
    // Salts are fresh, so the leaf is checked by its id and shape; the root binds the leaves.
    expect(leaves.map((l) => l.recordId)).toEqual([0, 1, 2].map((i) => fixtureRecord('gov.admin-penalty', entry.subject, { idPrefix: `x${i}` }).recordId));
    expect(leaves.map((l) => l.supersedes)).toEqual([undefined, old.recordId, undefined]);
    for (const [i, leaf] of leaves.entries()) {
      expect(leaf.ref).toMatchObject({ recordId: leaf.recordId, batchId: 'b-1', index: i, leafHash: leaf.leafHash });
      expect(verifyInclusion(leaf.leafHash, i, 3, leaf.ref.proof, batch.root)).toBe(true);
    }
    const { recordId, index, leafHash: hash, proof } = leaves[1]!.ref;
    expect(batch.supersessions).toEqual([{ record: { recordId, index, leafHash: hash, proof }, supersedes: old }]);
  });
});
