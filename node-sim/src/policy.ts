/**
 * Endorsement policies as Fabric writes and evaluates them.
 *
 * Two forms are accepted:
 * - Fabric's signature policy language (`peer lifecycle … --signature-policy`):
 *   `AND(…)`, `OR(…)`, `OutOf(n, …)` over principals `'MSPID.role'`, role one of
 *   `member | admin | client | peer | orderer` (`member` is any identity of that MSP);
 * - an implicit meta policy over the channel's organizations, e.g. `MAJORITY Endorsement`
 *   (the default of a chaincode definition), `ANY Endorsement`, `ALL Endorsement`, where each
 *   organization's `Endorsement` policy is one signature of one of its peers.
 *
 * Both become one tree of n-out-of gates over principals. Evaluation is Fabric's (cauthdsl):
 * signers are deduplicated by identity, each gate tries every sub-policy in order on a copy of
 * the "used" marks and keeps the marks of each sub-policy that succeeds, and a principal
 * consumes the first unused signer that satisfies it — so a signature counts at most once, and
 * `AND('A.peer', 'A.peer')` needs two distinct A signers.
 */
import { common, msp } from '@hyperledger/fabric-protos';
import type { Role } from './msp/material';

/** The role a principal asks for; `member` is satisfied by every role of the MSP. */
export type PrincipalRole = Role | 'member';

/** One signature of an identity of `mspId` with role `role`. */
export interface Principal {
  mspId: string;
  role: PrincipalRole;
}

/** A policy tree: a principal, or at least `n` of `rules` (AND = all, OR = 1). */
export type Policy = { type: 'signedBy'; principal: Principal } | { type: 'outOf'; n: number; rules: Policy[] };

/** A signer of a proposal response; `id` (e.g. the serialized identity) deduplicates signers. */
export interface Signer {
  mspId: string;
  role: Role;
  id?: string;
}

/** A policy that cannot be parsed; code POLICY_INVALID. */
export class PolicyError extends Error {
  readonly code = 'POLICY_INVALID';
  readonly details: { expr: string; position?: number };

  constructor(text: string, details: { expr: string; position?: number }) {
    super(`POLICY_INVALID: ${text}`);
    this.name = 'PolicyError';
    this.details = details;
  }
}

const PRINCIPAL_ROLES: readonly PrincipalRole[] = ['member', 'admin', 'client', 'peer', 'orderer'];
// Fabric: ^([[:alnum:].-]+)([.])(member|admin|client|peer|orderer)$ — the MSP id may contain dots.
const PRINCIPAL = /^([A-Za-z0-9.-]+)\.(member|admin|client|peer|orderer)$/;
const IMPLICIT_META = /^\s*(ANY|ALL|MAJORITY)\s+([A-Za-z]+)\s*$/;
const MAX_POLICY_LENGTH = 8192;

/**
 * Each channel organization's own policies as Fabric's sample configtx.yaml defines them; an
 * implicit meta policy names one of them.
 */
const ORG_POLICIES: Record<string, readonly Role[]> = {
  Endorsement: ['peer'],
  Readers: ['admin', 'peer', 'client'],
  Writers: ['admin', 'client'],
  Admins: ['admin'],
};

type Token =
  | { kind: 'ident'; text: string; at: number }
  | { kind: 'number'; value: number; at: number }
  | { kind: 'string'; text: string; at: number }
  | { kind: '(' | ')' | ','; at: number };

function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: c, at: i });
      i++;
    } else if (c === "'" || c === '"') {
      const end = expr.indexOf(c, i + 1);
      if (end < 0) throw new PolicyError(`unterminated string at ${i}`, { expr, position: i });
      tokens.push({ kind: 'string', text: expr.slice(i + 1, end), at: i });
      i = end + 1;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(expr.slice(i))?.[0] ?? '';
      tokens.push({ kind: 'number', value: Number(m), at: i });
      i += m.length;
    } else if (/[A-Za-z]/.test(c)) {
      const m = /^[A-Za-z]+/.exec(expr.slice(i))?.[0] ?? '';
      tokens.push({ kind: 'ident', text: m, at: i });
      i += m.length;
    } else {
      throw new PolicyError(`unexpected '${c}' at ${i}`, { expr, position: i });
    }
  }
  return tokens;
}

class Parser {
  private pos = 0;

  constructor(
    private readonly expr: string,
    private readonly tokens: Token[],
  ) {}

  parse(): Policy {
    const policy = this.rule();
    const extra = this.tokens[this.pos];
    if (extra !== undefined) this.fail(`unexpected input at ${extra.at}`, extra.at);
    return policy;
  }

  private fail(text: string, position?: number): never {
    throw new PolicyError(text, { expr: this.expr, position: position ?? this.expr.length });
  }

  private next(): Token {
    const t = this.tokens[this.pos];
    if (t === undefined) this.fail('unexpected end of policy');
    this.pos++;
    return t;
  }

  private expect(kind: '(' | ')' | ','): void {
    const t = this.next();
    if (t.kind !== kind) this.fail(`expected '${kind}' at ${t.at}`, t.at);
  }

  private rule(): Policy {
    const t = this.next();
    if (t.kind === 'string') return { type: 'signedBy', principal: this.principal(t.text, t.at) };
    if (t.kind !== 'ident') return this.fail(`expected a principal or AND, OR, OutOf at ${t.at}`, t.at);
    const gate = t.text.toLowerCase();
    if (gate !== 'and' && gate !== 'or' && gate !== 'outof') this.fail(`unknown gate '${t.text}' at ${t.at}`, t.at);
    this.expect('(');
    let n: number | undefined;
    if (gate === 'outof') {
      const count = this.next();
      if (count.kind !== 'number') this.fail(`OutOf needs a number first, at ${count.at}`, count.at);
      n = count.value;
      this.expect(',');
    }
    const rules = [this.rule()];
    for (let sep = this.next(); sep.kind !== ')'; sep = this.next()) {
      if (sep.kind !== ',') this.fail(`expected ',' or ')' at ${sep.at}`, sep.at);
      rules.push(this.rule());
    }
    n ??= gate === 'and' ? rules.length : 1;
    if (n < 1 || n > rules.length) {
      // Fabric rejects n > rules; n = 0 would need no signature at all, which no endorsement policy means.
      this.fail(`OutOf(${n}, …) over ${rules.length} rules can never be meant`, t.at);
    }
    return { type: 'outOf', n, rules };
  }

  private principal(text: string, at: number): Principal {
    const m = PRINCIPAL.exec(text);
    const mspId = m?.[1];
    const role = PRINCIPAL_ROLES.find((r) => r === m?.[2]);
    if (mspId === undefined || role === undefined) {
      this.fail(`'${text}' is not a principal 'MSPID.role' (role: ${PRINCIPAL_ROLES.join(', ')})`, at);
    }
    return { mspId, role };
  }
}

function implicitMeta(expr: string, rule: string, subPolicy: string, channelOrgs: string[]): Policy {
  const roles = ORG_POLICIES[subPolicy];
  if (roles === undefined) {
    throw new PolicyError(`unknown organization policy '${subPolicy}' (${Object.keys(ORG_POLICIES).join(', ')})`, { expr });
  }
  if (channelOrgs.length === 0) throw new PolicyError(`'${expr}' needs the channel's organizations`, { expr });
  const orgs = [...new Set(channelOrgs)];
  const rules = orgs.map(
    (mspId): Policy => ({
      type: 'outOf',
      n: 1,
      rules: roles.map((role): Policy => ({ type: 'signedBy', principal: { mspId, role } })),
    }),
  );
  const n = rule === 'ANY' ? 1 : rule === 'ALL' ? orgs.length : Math.floor(orgs.length / 2) + 1;
  return { type: 'outOf', n, rules };
}

/**
 * Parses an endorsement policy (see the module comment for the two forms).
 *
 * @param channelOrgs - the channel's organizations, in order; used by implicit meta policies
 * @throws PolicyError POLICY_INVALID
 */
export function parsePolicy(expr: string, channelOrgs: string[]): Policy {
  if (expr.length > MAX_POLICY_LENGTH) throw new PolicyError(`policy longer than ${MAX_POLICY_LENGTH} characters`, { expr: expr.slice(0, 100) });
  const meta = IMPLICIT_META.exec(expr);
  if (meta?.[1] !== undefined && meta[2] !== undefined) return implicitMeta(expr, meta[1], meta[2], channelOrgs);
  const tokens = tokenize(expr);
  if (tokens.length === 0) throw new PolicyError('empty policy', { expr });
  return new Parser(expr, tokens).parse();
}

function satisfies(signer: Signer, principal: Principal): boolean {
  return signer.mspId === principal.mspId && (principal.role === 'member' || principal.role === signer.role);
}

function evaluate(p: Policy, signers: Signer[], used: boolean[]): boolean {
  if (p.type === 'signedBy') {
    const i = signers.findIndex((s, j) => used[j] !== true && satisfies(s, p.principal));
    if (i < 0) return false;
    used[i] = true;
    return true;
  }
  let verified = 0;
  for (const rule of p.rules) {
    const tentative = used.slice();
    if (evaluate(rule, signers, tentative)) {
      verified++;
      tentative.forEach((u, j) => (used[j] = u));
    }
  }
  return verified >= p.n;
}

function deduplicate(signers: Signer[]): Signer[] {
  const seen = new Set<string>();
  return signers.filter((s) => {
    if (s.id === undefined) return true;
    if (seen.has(s.id)) return false;
    seen.add(s.id);
    return true;
  });
}

/**
 * Whether the signers satisfy the policy, as Fabric decides it (each signature used at most
 * once; signers with the same `id` count once).
 */
export function evaluatePolicy(p: Policy, signers: Signer[]): boolean {
  const unique = deduplicate(signers);
  return evaluate(p, unique, unique.map(() => false));
}

function* combinations(n: number, k: number, start = 0, prefix: number[] = []): Generator<number[]> {
  if (prefix.length === k) {
    yield prefix;
    return;
  }
  for (let i = start; i <= n - (k - prefix.length); i++) yield* combinations(n, k, i + 1, [...prefix, i]);
}

/**
 * A smallest set of organizations whose peers (one peer each, role `peer`) satisfy the
 * policy; among sets of that size, the first in the order of `available`.
 *
 * @returns the organizations in the order of `available`, or `undefined` when no subset can
 */
export function chooseEndorsers(p: Policy, available: string[]): string[] | undefined {
  // Asked for every transaction with the same policy and peers; the answer never changes.
  let byAvailable = chosenCache.get(p);
  if (byAvailable === undefined) {
    byAvailable = new Map();
    chosenCache.set(p, byAvailable);
  }
  const key = available.join('\n');
  if (byAvailable.has(key)) return byAvailable.get(key)?.slice();
  const chosen = searchEndorsers(p, available);
  if (byAvailable.size >= 64) byAvailable.clear();
  byAvailable.set(key, chosen);
  return chosen?.slice();
}

const chosenCache = new WeakMap<Policy, Map<string, string[] | undefined>>();

function searchEndorsers(p: Policy, available: string[]): string[] | undefined {
  const orgs = [...new Set(available)];
  for (let k = 1; k <= orgs.length; k++) {
    for (const indexes of combinations(orgs.length, k)) {
      const chosen = indexes.map((i) => orgs[i] ?? '');
      if (evaluatePolicy(p, chosen.map((mspId) => ({ mspId, role: 'peer' })))) return chosen;
    }
  }
  return undefined;
}

/** The organizations a policy names, in order of first appearance. */
export function policyOrgs(p: Policy): string[] {
  const out = new Set<string>();
  const walk = (q: Policy): void => {
    if (q.type === 'signedBy') out.add(q.principal.mspId);
    else q.rules.forEach(walk);
  };
  walk(p);
  return [...out];
}

/** The policy in Fabric's signature policy language (implicit meta policies come out expanded). */
export function formatPolicy(p: Policy): string {
  if (p.type === 'signedBy') return `'${p.principal.mspId}.${p.principal.role}'`;
  const inner = p.rules.map(formatPolicy).join(', ');
  if (p.n === 1 && p.rules.length > 1) return `OR(${inner})`;
  if (p.n === p.rules.length) return `AND(${inner})`;
  return `OutOf(${p.n}, ${inner})`;
}

const ROLE_TYPES: Record<PrincipalRole, msp.MSPRole.MSPRoleTypeMap[keyof msp.MSPRole.MSPRoleTypeMap]> = {
  member: msp.MSPRole.MSPRoleType.MEMBER,
  admin: msp.MSPRole.MSPRoleType.ADMIN,
  client: msp.MSPRole.MSPRoleType.CLIENT,
  peer: msp.MSPRole.MSPRoleType.PEER,
  orderer: msp.MSPRole.MSPRoleType.ORDERER,
};

/**
 * `common.SignaturePolicyEnvelope` bytes of a policy, as Fabric's policy parser builds them
 * (one ROLE principal per principal occurrence, `signed_by` indexes into them, version 0).
 */
export function toSignaturePolicyEnvelope(p: Policy): Uint8Array {
  const identities: msp.MSPPrincipal[] = [];
  const build = (q: Policy): common.SignaturePolicy => {
    const rule = new common.SignaturePolicy();
    if (q.type === 'signedBy') {
      const role = new msp.MSPRole();
      role.setMspIdentifier(q.principal.mspId);
      role.setRole(ROLE_TYPES[q.principal.role]);
      const principal = new msp.MSPPrincipal();
      principal.setPrincipalClassification(msp.MSPPrincipal.Classification.ROLE);
      principal.setPrincipal(role.serializeBinary());
      rule.setSignedBy(identities.length);
      identities.push(principal);
    } else {
      const gate = new common.SignaturePolicy.NOutOf();
      gate.setN(q.n);
      gate.setRulesList(q.rules.map(build));
      rule.setNOutOf(gate);
    }
    return rule;
  };
  const envelope = new common.SignaturePolicyEnvelope();
  envelope.setVersion(0);
  envelope.setRule(build(p));
  envelope.setIdentitiesList(identities);
  return envelope.serializeBinary();
}

/**
 * Reads `common.SignaturePolicyEnvelope` bytes (ROLE principals only, as the policy language
 * writes them).
 *
 * @throws PolicyError POLICY_INVALID
 */
export function fromSignaturePolicyEnvelope(bytes: Uint8Array): Policy {
  const expr = '<SignaturePolicyEnvelope>';
  const fail = (text: string): never => {
    throw new PolicyError(text, { expr });
  };
  let envelope: common.SignaturePolicyEnvelope;
  try {
    envelope = common.SignaturePolicyEnvelope.deserializeBinary(bytes);
  } catch {
    return fail('not a SignaturePolicyEnvelope');
  }
  const principals = envelope.getIdentitiesList().map((identity): Principal => {
    if (identity.getPrincipalClassification() !== msp.MSPPrincipal.Classification.ROLE) fail('only ROLE principals are supported');
    const role = msp.MSPRole.deserializeBinary(identity.getPrincipal_asU8());
    const name = PRINCIPAL_ROLES.find((r) => ROLE_TYPES[r] === role.getRole());
    if (name === undefined) return fail(`unknown MSP role ${role.getRole()}`);
    return { mspId: role.getMspIdentifier(), role: name };
  });
  const read = (rule: common.SignaturePolicy | undefined, depth: number): Policy => {
    if (rule === undefined || depth > 64) return fail('missing or too deeply nested rule');
    if (rule.getTypeCase() === common.SignaturePolicy.TypeCase.SIGNED_BY) {
      const principal = principals[rule.getSignedBy()];
      if (principal === undefined) return fail(`signed_by ${rule.getSignedBy()} names no identity`);
      return { type: 'signedBy', principal };
    }
    const gate = rule.getNOutOf();
    if (gate === undefined) return fail('rule is neither signed_by nor n_out_of');
    return { type: 'outOf', n: gate.getN(), rules: gate.getRulesList().map((r) => read(r, depth + 1)) };
  };
  return read(envelope.getRule(), 0);
}
