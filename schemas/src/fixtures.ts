/**
 * Realistic fixtures (Chinese content, valid USCCs) for every credex schema, for tests of every
 * package. Builders take overrides; nonces are fresh unless given, so that fixtures can be
 * submitted more than once without replay errors.
 */
import { buildMerkleTree, newSalt, sealRecord, usccCheckChar } from '@credex/core';
import type {
  AccessRequest,
  AnchorBatch,
  CatalogueEntry,
  Consent,
  CreditRecord,
  DataGrade,
  Enterprise,
  KeyRotation,
  Objection,
  ObjectionResolution,
  OrganizationProfile,
  OrgRole,
  RecordRef,
  RecordType,
  Revocation,
  SchemaTypes,
} from './types.gen';
import { maxDataGrade, recordTypes } from './record-types';

/** A USCC from its first 17 characters, with the GB 32100-2015 check character appended. */
export function usccOf(first17: string): string {
  return first17 + usccCheckChar(first17);
}

/** A named party with its USCC. */
export interface FixtureParty {
  uscc: string;
  name: string;
}

/** The enterprises of the fixtures: subject, its core-enterprise customer, a second subject. */
export const fixtureEnterprises = {
  /** 西安某科技有限公司 — the usual data subject (a supplier). */
  subject: { uscc: usccOf('91610131MA6W3QXF1'), name: '西安某科技有限公司' },
  /** 陕西某重工装备集团有限公司 — the core enterprise buying from the subject. */
  coreEnterprise: { uscc: usccOf('91610000719873452'), name: '陕西某重工装备集团有限公司' },
  /** 咸阳某新材料股份有限公司 — a second subject. */
  other: { uscc: usccOf('91610400MA6XR0T2K'), name: '咸阳某新材料股份有限公司' },
} as const satisfies Record<string, FixtureParty>;

/** Government and financial bodies that issue records in the fixtures. */
export const fixtureAuthorities = {
  market: { uscc: usccOf('11610100MB2957761'), name: '西安市市场监督管理局' },
  tax: { uscc: usccOf('11610100MB1F00345'), name: '国家税务总局西安市税务局' },
  credit: { uscc: usccOf('11610100016000238'), name: '西安市发展和改革委员会' },
  ecology: { uscc: usccOf('11610100MB2960813'), name: '西安市生态环境局' },
  bank: { uscc: usccOf('91610000220539716'), name: '中国某银行股份有限公司西安分行' },
} as const satisfies Record<string, FixtureParty>;

/** The member organizations of the default network (docs/CONTRACTS.md). */
export const fixtureOrgs = {
  GovMSP: { role: 'government', name: '西安市信用信息共享平台' },
  BankMSP: { role: 'bank', name: '中国某银行股份有限公司西安分行' },
  Bank2MSP: { role: 'bank', name: '西安某农村商业银行股份有限公司' },
  CoreMSP: { role: 'core', name: '陕西某重工装备集团有限公司' },
  AuditMSP: { role: 'auditor', name: '陕西省某会计师事务所（审计）' },
} as const satisfies Record<string, { role: OrgRole; name: string }>;

/** A fixture timestamp (toISOString form). */
export const FIXTURE_TIME = '2026-11-01T08:00:00.000Z';

type FieldsOf = { [T in RecordType]: SchemaTypes[T] };

/** The `fields` of one record of each type about `subject` (its name is used where a party is named). */
export function fixtureFields(subject: FixtureParty = fixtureEnterprises.subject): FieldsOf {
  const { market, tax, ecology, bank } = fixtureAuthorities;
  const core = fixtureEnterprises.coreEnterprise;
  return {
    'gov.admin-licence': {
      decisionDocumentName: '准予行政许可决定书',
      licenceNumber: '西市监许字〔2025〕第0312号',
      category: 'registration',
      certificateName: '食品经营许可证',
      certificateNumber: 'JY16101310087654',
      content: `准予${subject.name}从事预包装食品销售（不含冷藏冷冻食品）`,
      decisionDate: '2025-03-12',
      validFrom: '2025-03-12',
      validTo: '2030-03-11',
      authority: market.name,
      authorityUscc: market.uscc,
      legalRepresentative: '张某某',
      dataSource: market.name,
    },
    'gov.admin-penalty': {
      decisionNumber: '西环罚〔2025〕47号',
      violationType: '超标排放大气污染物',
      facts: `${subject.name}于2025年5月8日经在线监测发现废气排放口非甲烷总烃浓度超过排放标准。`,
      basis: '《中华人民共和国大气污染防治法》第九十九条第二项',
      penaltyType: ['warning', 'fine'],
      content: '警告，并处罚款人民币十二万元整',
      amountFen: 12_000_000,
      decisionDate: '2025-06-20',
      authority: ecology.name,
      authorityUscc: ecology.uscc,
      publicUntil: '2026-06-20',
      legalRepresentative: '张某某',
    },
    'gov.redblack-list': {
      listType: 'red',
      listName: '纳税信用A级纳税人名单',
      reason: '连续三年纳税信用评价为A级',
      issuingBody: tax.name,
      issuingBodyUscc: tax.uscc,
      listedOn: '2025-04-30',
      expiresOn: '2026-04-29',
      basis: '《纳税信用管理办法（试行）》第二十九条',
      measures: '在融资授信、发票领用等方面给予便利',
    },
    'gov.tax-grade': {
      year: 2024,
      grade: 'A',
      score: 96,
      assessedBy: tax.name,
      assessedByUscc: tax.uscc,
      assessedOn: '2025-04-15',
    },
    'fin.loan-repayment': {
      loanContractNo: 'XAFH-2024-LD-000871',
      lender: bank.name,
      lenderUscc: bank.uscc,
      loanType: 'working-capital',
      guaranteeType: 'credit',
      principalFen: 300_000_000,
      balanceFen: 125_000_000,
      startDate: '2024-09-15',
      maturityDate: '2025-09-14',
      status: 'normal',
      classification: 'pass',
      overdueDays: 0,
      overdueAmountFen: 0,
      lastRepaymentDate: '2025-06-15',
      reportDate: '2025-06-30',
    },
    'sc.receivable-confirmation': {
      debtorUscc: core.uscc,
      debtorName: core.name,
      creditorUscc: subject.uscc,
      creditorName: subject.name,
      contractNumber: 'SXZG-CG-2025-1187',
      invoiceNumber: '25612000000012345678',
      amountFen: 86_420_000,
      issueDate: '2025-07-02',
      dueDate: '2025-10-31',
      confirmed: true,
      confirmedAt: '2025-07-05T02:30:00.000Z',
      confirmationRef: 'QQ-2025-0705-0042',
    },
    'sc.payment-performance': {
      debtorUscc: core.uscc,
      debtorName: core.name,
      creditorUscc: subject.uscc,
      creditorName: subject.name,
      periodStart: '2025-01-01',
      periodEnd: '2025-06-30',
      invoicesDue: 24,
      invoicesPaidOnTime: 22,
      averageDaysLate: 3.5,
      maxDaysLate: 9,
      amountDueFen: 512_300_000,
      amountPaidFen: 498_700_000,
      deliveriesDue: 36,
      deliveryOnTimeRate: 0.972,
      qualityRejectRate: 0.008,
    },
  };
}

/** Options of {@link fixtureRecords} and {@link fixtureRecord}. */
export interface FixtureRecordOptions {
  /** Name of the subject (default: the fixture subject's name, or 某企业 for another USCC). */
  subjectName?: string;
  /** issuedAt of the records (default {@link FIXTURE_TIME}). */
  issuedAt?: string;
  /** recordId prefix (default `rec`); ids are `${prefix}-${recordType}-${subjectUscc}`. */
  idPrefix?: string;
}

function subjectParty(subjectUscc: string, name?: string): FixtureParty {
  const known = Object.values(fixtureEnterprises).find((e) => e.uscc === subjectUscc);
  return { uscc: subjectUscc, name: name ?? known?.name ?? '某企业有限公司' };
}

/** One valid credit record of the given type about `subjectUscc`. */
export function fixtureRecord<T extends RecordType>(
  recordType: T,
  subjectUscc: string = fixtureEnterprises.subject.uscc,
  options: FixtureRecordOptions = {},
): Extract<CreditRecord, { recordType: T }> {
  const fields = fixtureFields(subjectParty(subjectUscc, options.subjectName))[recordType];
  return {
    recordId: `${options.idPrefix ?? 'rec'}-${recordType}-${subjectUscc}`,
    recordType,
    subject: subjectUscc,
    issuedAt: options.issuedAt ?? FIXTURE_TIME,
    fields,
  } as Extract<CreditRecord, { recordType: T }>;
}

/** One valid credit record of every type about `subjectUscc`, in {@link recordTypes} order. */
export function fixtureRecords(
  subjectUscc: string = fixtureEnterprises.subject.uscc,
  options: FixtureRecordOptions = {},
): CreditRecord[] {
  return recordTypes.map((t) => fixtureRecord(t, subjectUscc, options));
}

/** A catalogue entry for one record type about a subject, published by `publisher`. */
export function fixtureCatalogueEntry(overrides: Partial<CatalogueEntry> = {}): CatalogueEntry {
  const recordType = overrides.recordType ?? 'gov.admin-licence';
  const subject = overrides.subject ?? fixtureEnterprises.subject.uscc;
  return {
    entryId: `cat-${recordType}-${subject}`,
    subject,
    publisher: 'GovMSP',
    recordType,
    title: `${subjectParty(subject).name} ${recordTypeTitle(recordType)}`,
    dataGrade: maxDataGrade(recordType),
    pricePerAccess: 200,
    status: 'active',
    createdAt: FIXTURE_TIME,
    ...overrides,
  };
}

/** A catalogue entry as catalogue:CreateEntry takes it: without status and createdAt, which the ledger sets. */
export function fixtureEntryDraft(overrides: Partial<CatalogueEntry> = {}): Omit<CatalogueEntry, 'status' | 'createdAt'> {
  const draft: Partial<CatalogueEntry> = fixtureCatalogueEntry(overrides);
  delete draft.status;
  delete draft.createdAt;
  return draft as Omit<CatalogueEntry, 'status' | 'createdAt'>;
}

function recordTypeTitle(t: RecordType): string {
  const titles: Record<RecordType, string> = {
    'gov.admin-licence': '行政许可信息',
    'gov.admin-penalty': '行政处罚信息',
    'gov.redblack-list': '红黑名单信息',
    'gov.tax-grade': '纳税信用等级',
    'fin.loan-repayment': '贷款还款记录',
    'sc.receivable-confirmation': '应收账款确权',
    'sc.payment-performance': '付款与履约表现',
  };
  return titles[t];
}

/** A consent statement by the fixture subject to BankMSP for loan application review. */
export function fixtureConsent(overrides: Partial<Consent> = {}): Consent {
  return {
    subject: fixtureEnterprises.subject.uscc,
    grantee: 'BankMSP',
    scope: { recordTypes: ['gov.admin-licence', 'gov.admin-penalty', 'gov.tax-grade', 'sc.receivable-confirmation'] },
    purpose: 'LOAN_APPLICATION',
    fieldScope: { maxGrade: 2 satisfies DataGrade },
    notBefore: '2026-11-01T00:00:00.000Z',
    notAfter: '2027-10-31T23:59:59.999Z',
    maxUses: 10,
    nonce: newSalt(),
    ...overrides,
  };
}

/** A revocation of `consentId` by the fixture subject. */
export function fixtureRevocation(consentId: string, overrides: Partial<Revocation> = {}): Revocation {
  return { consentId, subject: fixtureEnterprises.subject.uscc, nonce: newSalt(), ...overrides };
}

/** BankMSP's access request for `recordIds` under `consentId`. */
export function fixtureAccessRequest(
  consentId: string,
  recordIds: string[],
  overrides: Partial<AccessRequest> = {},
): AccessRequest {
  return {
    consentId,
    grantee: 'BankMSP',
    purpose: 'LOAN_APPLICATION',
    recordIds,
    nonce: newSalt(),
    created: '2026-11-02T01:00:00.000Z',
    ...overrides,
  };
}

/** The fixture subject's objection against `recordId`. */
export function fixtureObjection(recordId: string, overrides: Partial<Objection> = {}): Objection {
  return {
    subject: fixtureEnterprises.subject.uscc,
    recordId,
    reason: '该处罚已于2025年9月经行政复议撤销，请更正',
    nonce: newSalt(),
    ...overrides,
  };
}

/** A publisher's resolution of an objection: rejected, or corrected when `supersededBy` is given. */
export function fixtureObjectionResolution(
  objectionId: string,
  supersededBy?: string,
): ObjectionResolution {
  return supersededBy === undefined
    ? { objectionId, outcome: 'rejected', reason: '经核查，原处罚决定未被撤销，记录准确' }
    : { objectionId, outcome: 'corrected', reason: '经核查属实，已发布更正记录', supersededBy };
}

/** The profile of a member organization; keys are base64url ed25519 / x25519 public keys. */
export function fixtureOrganization(
  mspId: keyof typeof fixtureOrgs,
  keys: { requestKey: string; boxKey: string },
  gatewayUrl = 'http://127.0.0.1:7400',
): OrganizationProfile {
  const org = fixtureOrgs[mspId];
  return { mspId, name: org.name, role: org.role, gatewayUrl, ...keys };
}

/** An enterprise registration of the fixture subject with `publicKey`. */
export function fixtureEnterprise(publicKey: string, party: FixtureParty = fixtureEnterprises.subject): Enterprise {
  return { uscc: party.uscc, name: party.name, publicKey };
}

/** A key rotation of the fixture subject to `newPublicKey`. */
export function fixtureKeyRotation(newPublicKey: string, overrides: Partial<KeyRotation> = {}): KeyRotation {
  return { uscc: fixtureEnterprises.subject.uscc, newPublicKey, nonce: newSalt(), ...overrides };
}

/** An anchor batch as anchors:AnchorBatch takes it: root and size only, and the batch's supersessions if any. */
export function fixtureAnchorBatch(
  catalogueEntryId: string,
  root: string,
  size: number,
  options: { batchId?: string; supersessions?: AnchorBatch['supersessions'] } = {},
): AnchorBatch {
  const { batchId = `batch-${catalogueEntryId}-1`, supersessions = [] } = options;
  return { batchId, catalogueEntryId, root, size, ...(supersessions.length === 0 ? {} : { supersessions }) };
}

/**
 * A reference to each leaf of a batch (leaves in index order), with its RFC 6962 inclusion
 * proof against the batch's root (core's buildMerkleTree), and that root.
 */
export function fixtureRecordRefs(batchId: string, leaves: readonly { recordId: string; leafHash: string }[]): { root: string; refs: RecordRef[] } {
  const tree = buildMerkleTree(leaves.map((l) => l.leafHash));
  const refs = leaves.map((l, index): RecordRef => ({ recordId: l.recordId, batchId, index, leafHash: l.leafHash, proof: tree.proof(index) }));
  return { root: tree.root, refs };
}

/** A supersession of anchors:AnchorBatch: the new record `ref` names (proven against its batch's root, so no batch id) supersedes `supersedes`. */
export function fixtureSupersession(ref: RecordRef, supersedes: RecordRef): NonNullable<AnchorBatch['supersessions']>[number] {
  return { record: { recordId: ref.recordId, index: ref.index, leafHash: ref.leafHash, proof: ref.proof }, supersedes };
}

/** A leaf of an anchored batch: the record's id, leaf hash and reference (and the id of the record it supersedes). */
export interface FixtureLeaf {
  recordId: string;
  leafHash: string;
  ref: RecordRef;
  supersedes?: string;
}

/**
 * `count` fixture records of an entry's type, sealed (core's `sealRecord`) and put in one
 * anchor batch with their Merkle root: the batch as anchors:AnchorBatch takes it, and its leaves
 * with their references. `supersedes[i]`, when given, is the reference of the record that record
 * i corrects: its header names it, and the batch lists the supersession.
 * Record ids are `${idPrefix}${i}-${recordType}-${subject}`.
 */
export function fixtureSealedBatch(
  entry: { entryId: string; recordType: RecordType; subject: string; publisher: string },
  options: { count?: number; idPrefix?: string; batchId?: string; supersedes?: readonly (RecordRef | undefined)[] } = {},
): { batch: AnchorBatch; leaves: FixtureLeaf[] } {
  const { count = 2, idPrefix = 'rec', batchId = `batch-${entry.entryId}-1`, supersedes = [] } = options;
  const sealed = Array.from({ length: count }, (_, i) => {
    const record = fixtureRecord(entry.recordType, entry.subject, { idPrefix: `${idPrefix}${i}` });
    const replaced = supersedes[i]?.recordId;
    const { leafHash } = sealRecord(
      {
        recordId: record.recordId,
        recordType: entry.recordType,
        subject: entry.subject,
        publisher: entry.publisher,
        catalogueEntryId: entry.entryId,
        issuedAt: record.issuedAt,
        ...(replaced === undefined ? {} : { supersedes: replaced }),
      },
      record.fields as unknown as Record<string, unknown>,
    );
    return { recordId: record.recordId, leafHash };
  });
  const { root, refs } = fixtureRecordRefs(batchId, sealed);
  const leaves = refs.map((ref, i): FixtureLeaf => {
    const replaced = supersedes[i]?.recordId;
    return { recordId: ref.recordId, leafHash: ref.leafHash, ref, ...(replaced === undefined ? {} : { supersedes: replaced }) };
  });
  const supersessions = refs.flatMap((ref, i) => {
    const old = supersedes[i];
    return old === undefined ? [] : [fixtureSupersession(ref, old)];
  });
  return { batch: fixtureAnchorBatch(entry.entryId, root, count, { batchId, supersessions }), leaves };
}
