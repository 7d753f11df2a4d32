/**
 * The unified social credit code (统一社会信用代码, USCC) of GB 32100-2015.
 *
 * Inside the system a USCC is always in canonical form: 18 characters, uppercase ASCII,
 * a known registration authority and institution type, a numeric administrative division
 * code and a valid check character. {@link normalizeUscc} turns user input into that form
 * at the edges (CLI, UI, HTTP); the chaincode only ever checks ({@link isValidUscc},
 * {@link assertUscc}).
 */
import { credexError } from './errors';

/** The 31 code characters in value order: digits and capitals without I, O, S, V, Z. */
const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const VALUE_OF: ReadonlyMap<string, number> = new Map(Array.from({ length: CHARSET.length }, (_, i) => [CHARSET.charAt(i), i]));
const FIRST17 = /^[0-9A-HJ-NP-RTUW-Y]{17}$/;
/** Weight of position i (0-based) is 3^i mod 31. */
const WEIGHTS: readonly number[] = Array.from({ length: 17 }, (_, i) => {
  let w = 1;
  for (let k = 0; k < i; k++) w = (w * 3) % 31;
  return w;
});

/**
 * Position 1 (registration authority, 登记管理部门) → allowed position 2 (institution type,
 * 机构类别), per GB 32100-2015 table 1 and the authorities added to it since
 * (2 外交, 3 司法行政, 4 文化, 6 旅游, 7 宗教, 8 工会, A 军委编办, N 农业).
 */
const INSTITUTION_TYPES: ReadonlyMap<string, string> = new Map([
  ['1', '1239'], // 机构编制: 机关, 事业单位, 群众团体, 其他
  ['2', '19'], // 外交
  ['3', '123459'], // 司法行政: 律师事务所, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他
  ['4', '19'], // 文化
  ['5', '1239'], // 民政: 社会团体, 民办非企业单位, 基金会, 其他
  ['6', '129'], // 旅游
  ['7', '129'], // 宗教
  ['8', '19'], // 工会
  ['9', '123'], // 工商: 企业, 个体工商户, 农民专业合作社
  ['A', '19'], // 中央军委改革和编制办公室
  ['N', '1239'], // 农业: 组级, 村级, 乡镇级集体经济组织, 其他
  ['Y', '1'], // 其他
]);

const DIVISION_CODE = /^[0-9]{6}$/;

/** Why a string is not a canonical USCC, or undefined when it is one. */
function usccProblem(s: string): string | undefined {
  if (s.length !== 18) return `must be 18 characters, got ${s.length}`;
  for (let i = 0; i < 18; i++) {
    if (!VALUE_OF.has(s.charAt(i))) {
      return `character ${i + 1} '${s.charAt(i)}' is not one of 0-9 A-H J-N P-R T U W-Y`;
    }
  }
  const types = INSTITUTION_TYPES.get(s.charAt(0));
  if (types === undefined) return `character 1 '${s.charAt(0)}' is not a registration authority code`;
  if (!types.includes(s.charAt(1))) {
    return `character 2 '${s.charAt(1)}' is not an institution type of registration authority '${s.charAt(0)}'`;
  }
  if (!DIVISION_CODE.test(s.slice(2, 8))) return 'characters 3-8 (administrative division code) must be digits';
  const expected = checkCharOf(s.slice(0, 17));
  if (s.charAt(17) !== expected) return `check character is '${s.charAt(17)}', expected '${expected}'`;
  return undefined;
}

/** Check character of 17 characters already known to be in the charset. */
function checkCharOf(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (VALUE_OF.get(first17.charAt(i)) ?? 0) * (WEIGHTS[i] ?? 0);
  return CHARSET.charAt((31 - (sum % 31)) % 31);
}

/**
 * The GB 32100-2015 check character (position 18) for the first 17 characters.
 *
 * Only the length and charset are checked here, so any 17 code characters get a check
 * character; {@link isValidUscc} also checks the authority, type and division code.
 *
 * @throws CredexError `USCC_INVALID` unless `first17` is 17 characters of the code charset
 */
export function usccCheckChar(first17: string): string {
  if (!FIRST17.test(first17)) {
    throw credexError('USCC_INVALID', 'need 17 characters of 0-9 A-H J-N P-R T U W-Y to compute a check character', {
      input: first17,
      reason: 'not 17 characters of the code charset',
    });
  }
  return checkCharOf(first17);
}

/** Whether `s` is a USCC in canonical form (exactly 18 uppercase ASCII characters, valid). */
export function isValidUscc(s: string): boolean {
  return typeof s === 'string' && usccProblem(s) === undefined;
}

/**
 * Returns `s` when it is a canonical USCC.
 *
 * @throws CredexError `USCC_INVALID` with `details.reason` otherwise
 */
export function assertUscc(s: string): string {
  if (typeof s !== 'string') throw credexError('USCC_INVALID', 'USCC must be a string', { reason: 'not a string' });
  const reason = usccProblem(s);
  if (reason !== undefined) throw credexError('USCC_INVALID', `'${s}' is not a valid USCC: ${reason}`, { uscc: s, reason });
  return s;
}

/**
 * Turns user input into a canonical USCC: NFKC (full-width → ASCII), trim, uppercase, then
 * the strict check. For the edges (CLI, UI, HTTP), never the chaincode.
 *
 * @throws CredexError `USCC_INVALID` with `details.reason` when the result is not valid
 */
export function normalizeUscc(input: string): string {
  if (typeof input !== 'string') throw credexError('USCC_INVALID', 'USCC must be a string', { reason: 'not a string' });
  const s = input.normalize('NFKC').trim().toUpperCase();
  const reason = usccProblem(s);
  if (reason !== undefined) {
    throw credexError('USCC_INVALID', `'${input}' is not a valid USCC: ${reason}`, { input, normalized: s, reason });
  }
  return s;
}
