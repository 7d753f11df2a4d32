import { describe, expect, it } from 'vitest';
import { assertUscc, isValidUscc, normalizeUscc, usccCheckChar } from '../src/uscc';
import { CredexError } from '../src/errors';

const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const VALID = '91350100M000100Y43';

/** An independent GB 32100-2015 check character: Σ value·(3^(i-1) mod 31), 31 − Σ mod 31, 31 → 0. */
function referenceCheckChar(first17: string): string {
  let sum = 0n;
  for (let i = 0; i < 17; i++) sum += BigInt(CHARSET.indexOf(first17[i]!)) * (3n ** BigInt(i) % 31n);
  const check = 31n - (sum % 31n);
  return CHARSET[check === 31n ? 0 : Number(check)]!;
}

function withCheck(first17: string): string {
  return first17 + referenceCheckChar(first17);
}

function expectUsccInvalid(f: () => unknown): CredexError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(CredexError);
    const err = e as CredexError;
    expect(err.code).toBe('USCC_INVALID');
    expect(err.message.startsWith('USCC_INVALID: ')).toBe(true);
    expect(typeof err.details?.reason).toBe('string');
    return err;
  }
  throw new Error('expected USCC_INVALID');
}

// Realistic first 17 characters: authority+type, administrative division, organization code.
const REALISTIC_PREFIXES = [
  '91110108MA01ABCD1', // 北京海淀 企业
  '91310115MA1K4XYW2', // 上海浦东 企业
  '92440300MA5FQ6K01', // 深圳 个体工商户
  '93330782MA2EC8N3X', // 义乌 农民专业合作社
  '12100000400000624', // 机构编制 事业单位
  '51110000500021676', // 民政 社会团体
  '31110000E000123A4', // 司法行政 律师事务所
  'N2330103MF0000123', // 农业 村级集体经济组织
  'Y1440100MC0000001', // 其他
];

describe('USCC check character', () => {
  it('matches the GB 32100-2015 example', () => {
    expect(usccCheckChar('91350100M000100Y4')).toBe('3');
    expect(isValidUscc(VALID)).toBe(true);
    expect(isValidUscc('91350100M000100Y4Z')).toBe(false);
  });

  it('agrees with an independent computation on realistic codes', () => {
    for (const prefix of REALISTIC_PREFIXES) {
      const code = withCheck(prefix);
      expect(usccCheckChar(prefix)).toBe(code[17]);
      expect(isValidUscc(code)).toBe(true);
      expect(assertUscc(code)).toBe(code);
      expect(normalizeUscc(code.toLowerCase())).toBe(code);
    }
  });

  it('agrees with an independent computation on pseudo-random inputs, including check value 0', () => {
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648);
    const seen = new Set<string>();
    for (let n = 0; n < 2000; n++) {
      let s = '';
      for (let i = 0; i < 17; i++) s += CHARSET.charAt(next() % 31);
      const c = usccCheckChar(s);
      expect(c).toBe(referenceCheckChar(s));
      seen.add(c);
    }
    // Every one of the 31 check characters, '0' (the 31 → 0 case) included, occurred.
    expect(seen.size).toBe(31);
  });

  it('refuses to compute from anything but 17 code characters', () => {
    expectUsccInvalid(() => usccCheckChar('91350100M000100Y'));
    expectUsccInvalid(() => usccCheckChar('91350100M000100Y43'));
    expectUsccInvalid(() => usccCheckChar('91350100M000100I4'));
    expectUsccInvalid(() => usccCheckChar('91350100m000100Y4'));
  });
});

describe('isValidUscc and assertUscc (strict)', () => {
  it('rejects every single-character change at every position', () => {
    for (let pos = 0; pos < 18; pos++) {
      for (const c of CHARSET) {
        if (c === VALID[pos]) continue;
        const changed = VALID.slice(0, pos) + c + VALID.slice(pos + 1);
        expect(isValidUscc(changed), changed).toBe(false);
      }
      for (const bad of ['I', 'O', 'S', 'V', 'Z', 'm', ' ', '-', '９']) {
        const changed = VALID.slice(0, pos) + bad + VALID.slice(pos + 1);
        expect(isValidUscc(changed), changed).toBe(false);
        const err = expectUsccInvalid(() => assertUscc(changed));
        expect(err.details?.reason).toContain(`character ${pos + 1}`);
      }
    }
  });

  it('rejects wrong lengths', () => {
    expect(expectUsccInvalid(() => assertUscc(VALID.slice(0, 17))).details?.reason).toContain('18 characters, got 17');
    expect(expectUsccInvalid(() => assertUscc(`${VALID}0`)).details?.reason).toContain('18 characters, got 19');
    expect(isValidUscc('')).toBe(false);
  });

  it('is strict about case and whitespace', () => {
    expect(isValidUscc(VALID.toLowerCase())).toBe(false);
    expect(isValidUscc(`${VALID} `)).toBe(false);
    expect(isValidUscc(` ${VALID}`)).toBe(false);
    expect(isValidUscc('９１３５０１００Ｍ０００１００Ｙ４３')).toBe(false);
  });

  it('checks the registration authority, the institution type and the division code', () => {
    // Check characters are right, so only the structure is wrong.
    const unknownAuthority = withCheck('B1350100M000100Y4');
    const wrongTypeFor9 = withCheck('94350100M000100Y4');
    const wrongTypeForY = withCheck('Y2350100M000100Y4');
    const letterInDivision = withCheck('9135A100M000100Y4');
    expect(expectUsccInvalid(() => assertUscc(unknownAuthority)).details?.reason).toContain('registration authority');
    expect(expectUsccInvalid(() => assertUscc(wrongTypeFor9)).details?.reason).toContain('institution type');
    expect(expectUsccInvalid(() => assertUscc(wrongTypeForY)).details?.reason).toContain('institution type');
    expect(expectUsccInvalid(() => assertUscc(letterInDivision)).details?.reason).toContain('administrative division');
  });

  it('names the expected check character', () => {
    expect(expectUsccInvalid(() => assertUscc('91350100M000100Y44')).details?.reason).toBe("check character is '4', expected '3'");
    expect(expectUsccInvalid(() => assertUscc('91350100M000100Y4Z')).details?.reason).toContain("character 18 'Z'");
  });
});

describe('normalizeUscc', () => {
  it('uppercases, trims and folds full-width characters', () => {
    expect(normalizeUscc('91350100m000100y43')).toBe(VALID);
    expect(normalizeUscc(`  ${VALID}  `)).toBe(VALID);
    expect(normalizeUscc(`${VALID}\t\n`)).toBe(VALID);
    expect(normalizeUscc('９１３５０１００Ｍ０００１００Ｙ４３')).toBe(VALID);
    expect(normalizeUscc('\u3000９１３５０１００ｍ０００１００ｙ４３\u3000')).toBe(VALID);
  });

  it('still rejects invalid codes, giving the input and the reason', () => {
    const err = expectUsccInvalid(() => normalizeUscc(' 91350100m000100y4z '));
    expect(err.details).toMatchObject({ input: ' 91350100m000100y4z ', normalized: '91350100M000100Y4Z' });
    expectUsccInvalid(() => normalizeUscc('91350100M000100Y4'));
    expectUsccInvalid(() => normalizeUscc('91350100M000100Y430'));
    expectUsccInvalid(() => normalizeUscc('91350100M000 100Y43'));
    expectUsccInvalid(() => normalizeUscc(''));
  });
});
