import { common, msp } from '@hyperledger/fabric-protos';
import { describe, expect, it } from 'vitest';
import type { Role } from '../src/msp/material';
import {
  chooseEndorsers,
  evaluatePolicy,
  formatPolicy,
  fromSignaturePolicyEnvelope,
  parsePolicy,
  policyOrgs,
  PolicyError,
  toSignaturePolicyEnvelope,
  type Policy,
  type Signer,
} from '../src/policy';

const ORGS = ['GovMSP', 'BankMSP', 'CoreMSP', 'AuditMSP'];

function signer(spec: string): Signer {
  const [mspId, role] = spec.split('.') as [string, Role];
  return { mspId, role };
}

function ok(expr: string, signers: string[], orgs = ORGS): boolean {
  return evaluatePolicy(parsePolicy(expr, orgs), signers.map(signer));
}

function invalid(expr: string, orgs = ORGS): PolicyError {
  try {
    parsePolicy(expr, orgs);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyError);
    expect((e as PolicyError).code).toBe('POLICY_INVALID');
    expect((e as PolicyError).message).toMatch(/^POLICY_INVALID: /);
    return e as PolicyError;
  }
  throw new Error(`'${expr}' parsed`);
}

describe('parsePolicy', () => {
  it('parses principals, AND, OR and OutOf into n-out-of gates', () => {
    const p = parsePolicy("OR('GovMSP.peer', AND('BankMSP.member', \"CoreMSP.admin\"), OutOf(2, 'A.client', 'B.orderer', 'C.peer'))", ORGS);
    const expected: Policy = {
      type: 'outOf',
      n: 1,
      rules: [
        { type: 'signedBy', principal: { mspId: 'GovMSP', role: 'peer' } },
        {
          type: 'outOf',
          n: 2,
          rules: [
            { type: 'signedBy', principal: { mspId: 'BankMSP', role: 'member' } },
            { type: 'signedBy', principal: { mspId: 'CoreMSP', role: 'admin' } },
          ],
        },
        {
          type: 'outOf',
          n: 2,
          rules: [
            { type: 'signedBy', principal: { mspId: 'A', role: 'client' } },
            { type: 'signedBy', principal: { mspId: 'B', role: 'orderer' } },
            { type: 'signedBy', principal: { mspId: 'C', role: 'peer' } },
          ],
        },
      ],
    };
    expect(p).toEqual(expected);
  });

  it('accepts lower- and upper-case gate names and MSP ids with dots and hyphens', () => {
    expect(parsePolicy("and('org1.example-com.peer', 'X.member')", [])).toEqual(parsePolicy("AND('org1.example-com.peer','X.member')", []));
    expect(parsePolicy("outof(1, 'X.peer')", [])).toEqual(parsePolicy("OutOf(1,'X.peer')", []));
    expect(parsePolicy("'org1.example-com.peer'", [])).toEqual({ type: 'signedBy', principal: { mspId: 'org1.example-com', role: 'peer' } });
  });

  it('expands implicit meta policies over the channel organizations', () => {
    const majority = parsePolicy('MAJORITY Endorsement', ORGS);
    expect(majority.type === 'outOf' && majority.n).toBe(3);
    expect(formatPolicy(majority)).toBe("OutOf(3, AND('GovMSP.peer'), AND('BankMSP.peer'), AND('CoreMSP.peer'), AND('AuditMSP.peer'))");
    expect(formatPolicy(parsePolicy('ANY Endorsement', ['A', 'B']))).toBe("OR(AND('A.peer'), AND('B.peer'))");
    expect(formatPolicy(parsePolicy('ALL Endorsement', ['A', 'B']))).toBe("AND(AND('A.peer'), AND('B.peer'))");
    const majorityOf = (n: number): number => {
      const p = parsePolicy('MAJORITY Endorsement', Array.from({ length: n }, (_, i) => `Org${i}MSP`));
      return p.type === 'outOf' ? p.n : 0;
    };
    expect([1, 2, 3, 4, 5, 6].map(majorityOf)).toEqual([1, 2, 2, 3, 3, 4]);
    expect(formatPolicy(parsePolicy('ANY Writers', ['A', 'B']))).toBe("OR(OR('A.admin', 'A.client'), OR('B.admin', 'B.client'))");
  });

  it('rejects malformed policies with POLICY_INVALID', () => {
    const bad = [
      '',
      '   ',
      'OR(',
      "OR('GovMSP.peer'",
      "OR('GovMSP.peer',)",
      "OR('GovMSP.peer') 'BankMSP.peer'",
      "XOR('GovMSP.peer')",
      "OR('GovMSP.superuser')",
      "OR('GovMSP')",
      "OR('.peer')",
      "OR('Gov MSP.peer')",
      "OR(GovMSP.peer)",
      "OutOf('GovMSP.peer')",
      "OutOf(3, 'GovMSP.peer', 'BankMSP.peer')",
      "OutOf(0, 'GovMSP.peer')",
      "OR('GovMSP.peer)",
      "OR('GovMSP.peer'; 'BankMSP.peer')",
      'AND()',
      'SOME Endorsement',
      'MAJORITY Bogus',
      'x'.repeat(10_000),
    ];
    for (const expr of bad) invalid(expr);
    expect(invalid('MAJORITY Endorsement', []).message).toContain('channel');
    expect(invalid("OR('GovMSP.peer' 'BankMSP.peer')").details.position).toBe(17);
  });
});

describe('evaluatePolicy', () => {
  const vectors: [string, string[], boolean][] = [
    ["'GovMSP.peer'", ['GovMSP.peer'], true],
    ["'GovMSP.peer'", ['GovMSP.client'], false],
    ["'GovMSP.peer'", ['BankMSP.peer'], false],
    ["'GovMSP.member'", ['GovMSP.client'], true],
    ["'GovMSP.member'", ['GovMSP.admin'], true],
    ["'GovMSP.admin'", ['GovMSP.peer'], false],
    ["OR('GovMSP.peer', 'BankMSP.peer')", ['BankMSP.peer'], true],
    ["OR('GovMSP.peer', 'BankMSP.peer')", [], false],
    ["AND('GovMSP.peer', 'BankMSP.peer')", ['BankMSP.peer'], false],
    ["AND('GovMSP.peer', 'BankMSP.peer')", ['BankMSP.peer', 'GovMSP.peer'], true],
    // a signature is consumed by one principal
    ["AND('GovMSP.peer', 'GovMSP.peer')", ['GovMSP.peer'], false],
    ["AND('GovMSP.peer', 'GovMSP.peer')", ['GovMSP.peer', 'GovMSP.peer'], true],
    ["AND('GovMSP.member', 'GovMSP.peer')", ['GovMSP.peer'], false],
    ["AND('GovMSP.peer', 'GovMSP.member')", ['GovMSP.peer', 'GovMSP.client'], true],
    ["OutOf(2, 'GovMSP.peer', 'BankMSP.peer', 'CoreMSP.peer')", ['CoreMSP.peer', 'GovMSP.peer'], true],
    ["OutOf(2, 'GovMSP.peer', 'BankMSP.peer', 'CoreMSP.peer')", ['CoreMSP.peer', 'AuditMSP.peer'], false],
    ["OutOf(2, 'GovMSP.peer', 'BankMSP.peer', 'CoreMSP.peer')", ['CoreMSP.peer', 'CoreMSP.peer'], false],
    // nested
    ["AND('GovMSP.peer', OR('BankMSP.peer', 'CoreMSP.peer'))", ['GovMSP.peer', 'CoreMSP.peer'], true],
    ["AND('GovMSP.peer', OR('BankMSP.peer', 'CoreMSP.peer'))", ['BankMSP.peer', 'CoreMSP.peer'], false],
    ["OR(AND('GovMSP.peer', 'BankMSP.peer'), AND('CoreMSP.peer', 'AuditMSP.peer'))", ['AuditMSP.peer', 'CoreMSP.peer'], true],
    ["OR(AND('GovMSP.peer', 'BankMSP.peer'), AND('CoreMSP.peer', 'AuditMSP.peer'))", ['GovMSP.peer', 'AuditMSP.peer'], false],
    ["OutOf(2, AND('GovMSP.peer', 'BankMSP.peer'), 'CoreMSP.peer', OR('AuditMSP.peer', 'GovMSP.admin'))", ['CoreMSP.peer', 'GovMSP.admin'], true],
    ["OutOf(2, AND('GovMSP.peer', 'BankMSP.peer'), 'CoreMSP.peer', OR('AuditMSP.peer', 'GovMSP.admin'))", ['GovMSP.peer', 'GovMSP.admin'], false],
    // Fabric's greedy order: 'GovMSP.member' takes the first Gov signer, the peer, leaving only the client
    ["AND('GovMSP.member', 'GovMSP.peer')", ['GovMSP.peer', 'GovMSP.client'], false],
    ["AND('GovMSP.member', 'GovMSP.peer')", ['GovMSP.client', 'GovMSP.peer'], true],
    // implicit meta
    ['MAJORITY Endorsement', ['GovMSP.peer', 'BankMSP.peer', 'CoreMSP.peer'], true],
    ['MAJORITY Endorsement', ['GovMSP.peer', 'BankMSP.peer'], false],
    ['MAJORITY Endorsement', ['GovMSP.peer', 'GovMSP.peer', 'GovMSP.peer'], false],
    ['MAJORITY Endorsement', ['GovMSP.peer', 'BankMSP.client', 'CoreMSP.peer'], false],
    ['ANY Endorsement', ['AuditMSP.peer'], true],
    ['ANY Endorsement', ['AuditMSP.client', 'EvilMSP.peer'], false],
    ['ALL Endorsement', ['GovMSP.peer', 'BankMSP.peer', 'CoreMSP.peer', 'AuditMSP.peer'], true],
    ['ALL Endorsement', ['GovMSP.peer', 'BankMSP.peer', 'CoreMSP.peer'], false],
  ];
  for (const [expr, signers, expected] of vectors) {
    it(`${expr} with [${signers.join(', ')}] is ${expected ? 'satisfied' : 'not satisfied'}`, () => {
      expect(ok(expr, signers)).toBe(expected);
    });
  }

  it('counts signers with the same id once', () => {
    const p = parsePolicy("AND('GovMSP.peer', 'GovMSP.peer')", ORGS);
    expect(evaluatePolicy(p, [{ mspId: 'GovMSP', role: 'peer', id: 'a' }, { mspId: 'GovMSP', role: 'peer', id: 'a' }])).toBe(false);
    expect(evaluatePolicy(p, [{ mspId: 'GovMSP', role: 'peer', id: 'a' }, { mspId: 'GovMSP', role: 'peer', id: 'b' }])).toBe(true);
  });
});

describe('chooseEndorsers', () => {
  it('chooses 3 of 4 orgs for MAJORITY, preferring the given order', () => {
    const p = parsePolicy('MAJORITY Endorsement', ORGS);
    expect(chooseEndorsers(p, ORGS)).toEqual(['GovMSP', 'BankMSP', 'CoreMSP']);
    expect(chooseEndorsers(p, ['AuditMSP', 'CoreMSP', 'BankMSP', 'GovMSP'])).toEqual(['AuditMSP', 'CoreMSP', 'BankMSP']);
    expect(chooseEndorsers(p, ['AuditMSP', 'CoreMSP'])).toBeUndefined();
  });

  it('chooses a smallest satisfying set', () => {
    const p = parsePolicy("OR(AND('GovMSP.peer', 'BankMSP.peer', 'CoreMSP.peer'), 'AuditMSP.peer')", ORGS);
    expect(chooseEndorsers(p, ORGS)).toEqual(['AuditMSP']);
    const q = parsePolicy("AND('GovMSP.peer', OR('BankMSP.peer', 'CoreMSP.peer'))", ORGS);
    expect(chooseEndorsers(q, ['CoreMSP', 'BankMSP', 'GovMSP'])).toEqual(['CoreMSP', 'GovMSP']);
    expect(chooseEndorsers(parsePolicy('ANY Endorsement', ORGS), ['BankMSP', 'GovMSP'])).toEqual(['BankMSP']);
    expect(chooseEndorsers(parsePolicy('ALL Endorsement', ORGS), ORGS)).toEqual(ORGS);
  });

  it('gives the same answer again for the same policy and peers, not one a caller changed', () => {
    const p = parsePolicy('MAJORITY Endorsement', ORGS);
    const first = chooseEndorsers(p, ORGS)!;
    first.push('EvilMSP');
    expect(chooseEndorsers(p, ORGS)).toEqual(['GovMSP', 'BankMSP', 'CoreMSP']);
    expect(chooseEndorsers(p, ['BankMSP', 'CoreMSP', 'AuditMSP', 'GovMSP'])).toEqual(['BankMSP', 'CoreMSP', 'AuditMSP']);
    expect(chooseEndorsers(p, ['BankMSP'])).toBeUndefined();
    expect(chooseEndorsers(p, ['BankMSP'])).toBeUndefined();
  });

  it('returns undefined when one peer per org cannot satisfy the policy', () => {
    expect(chooseEndorsers(parsePolicy("AND('GovMSP.peer', 'GovMSP.peer')", ORGS), ORGS)).toBeUndefined();
    expect(chooseEndorsers(parsePolicy("'GovMSP.admin'", ORGS), ORGS)).toBeUndefined();
    expect(chooseEndorsers(parsePolicy("'EvilMSP.peer'", ORGS), ORGS)).toBeUndefined();
    expect(chooseEndorsers(parsePolicy("'GovMSP.member'", ORGS), ORGS)).toEqual(['GovMSP']);
  });
});

describe('policyOrgs and formatPolicy', () => {
  it('lists the named orgs and prints a policy that parses back to itself', () => {
    const expr = "OutOf(2, AND('GovMSP.peer', 'BankMSP.member'), 'CoreMSP.admin', OR('GovMSP.client', 'AuditMSP.peer'))";
    const p = parsePolicy(expr, ORGS);
    expect(policyOrgs(p)).toEqual(['GovMSP', 'BankMSP', 'CoreMSP', 'AuditMSP']);
    expect(formatPolicy(p)).toBe(expr);
    const majority = parsePolicy('MAJORITY Endorsement', ORGS);
    expect(parsePolicy(formatPolicy(majority), [])).toEqual(majority);
  });
});

describe('SignaturePolicyEnvelope', () => {
  it('encodes as Fabric does: a ROLE principal per occurrence, signed_by indexes, n_out_of gates', () => {
    const p = parsePolicy("OR('GovMSP.peer', AND('BankMSP.member', 'GovMSP.admin'))", ORGS);
    const envelope = common.SignaturePolicyEnvelope.deserializeBinary(toSignaturePolicyEnvelope(p));
    expect(envelope.getVersion()).toBe(0);
    const roles = envelope.getIdentitiesList().map((i) => {
      expect(i.getPrincipalClassification()).toBe(msp.MSPPrincipal.Classification.ROLE);
      const r = msp.MSPRole.deserializeBinary(i.getPrincipal_asU8());
      return [r.getMspIdentifier(), r.getRole()];
    });
    expect(roles).toEqual([
      ['GovMSP', msp.MSPRole.MSPRoleType.PEER],
      ['BankMSP', msp.MSPRole.MSPRoleType.MEMBER],
      ['GovMSP', msp.MSPRole.MSPRoleType.ADMIN],
    ]);
    const rule = envelope.getRule()!.getNOutOf()!;
    expect(rule.getN()).toBe(1);
    expect(rule.getRulesList()[0]!.getSignedBy()).toBe(0);
    const inner = rule.getRulesList()[1]!.getNOutOf()!;
    expect(inner.getN()).toBe(2);
    expect(inner.getRulesList().map((r) => r.getSignedBy())).toEqual([1, 2]);
  });

  it('round-trips every role and nested gates', () => {
    const exprs = [
      "OutOf(2, 'A.member', 'B.admin', OR('C.client', 'D.peer', 'E.orderer'))",
      'MAJORITY Endorsement',
      "'org1.example.com.peer'",
    ];
    for (const expr of exprs) {
      const p = parsePolicy(expr, ORGS);
      expect(fromSignaturePolicyEnvelope(toSignaturePolicyEnvelope(p))).toEqual(p);
    }
  });

  it('rejects envelopes it cannot read with POLICY_INVALID', () => {
    const dangling = new common.SignaturePolicyEnvelope();
    const rule = new common.SignaturePolicy();
    rule.setSignedBy(3);
    dangling.setRule(rule);
    const noRule = new common.SignaturePolicyEnvelope();
    for (const bytes of [Uint8Array.of(0xff, 0xff), dangling.serializeBinary(), noRule.serializeBinary()]) {
      expect(() => fromSignaturePolicyEnvelope(bytes)).toThrow(PolicyError);
    }
  });
});
