import { describe, expect, it } from 'vitest';
import { canonicalBytes, canonicalize, MAX_JSON_DEPTH } from '../src/jcs';
import { CredexError } from '../src/errors';

function fromIeeeHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

function expectJcsInvalid(value: unknown, path?: string): void {
  try {
    canonicalize(value);
  } catch (e) {
    expect(e).toBeInstanceOf(CredexError);
    expect((e as CredexError).code).toBe('JCS_INVALID');
    if (path !== undefined) expect((e as CredexError).details?.path).toBe(path);
    return;
  }
  throw new Error('expected JCS_INVALID');
}

describe('canonicalize: numbers (RFC 8785 appendix B)', () => {
  const table: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
    ['4340000000000001', '9007199254740994'],
    ['4340000000000002', '9007199254740996'],
  ];
  it.each(table)('%s → %s', (hex, expected) => {
    expect(canonicalize(fromIeeeHex(hex))).toBe(expected);
  });

  it('rejects NaN and ±Infinity', () => {
    expectJcsInvalid(fromIeeeHex('7fffffffffffffff'));
    expectJcsInvalid(fromIeeeHex('7ff0000000000000'));
    expectJcsInvalid(-Infinity);
    expectJcsInvalid({ a: [1, Number.NaN] }, '$.a[1]');
  });
});

describe('canonicalize: strings and literals', () => {
  it('matches the RFC 8785 §3.2.2 example', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals": [null, true, false]}',
    ) as unknown;
    expect(canonicalize(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('escapes controls in lowercase hex and nothing else', () => {
    expect(canonicalize('\u0000\u0008\u0009\u000a\u000c\u000d\u001f\u007f"\\/é')).toBe('"\\u0000\\b\\t\\n\\f\\r\\u001f\u007f\\"\\\\/é"');
    expect(canonicalize('统一社会信用代码')).toBe('"统一社会信用代码"');
    expect(canonicalize('\ud83d\ude00')).toBe('"\ud83d\ude00"');
  });

  it('writes UTF-8 bytes', () => {
    expect(Buffer.from(canonicalBytes({ '€': '信用' })).toString('hex')).toBe('7b22e282ac223a22e4bfa1e794a8227d');
  });

  it('rejects lone surrogates', () => {
    expectJcsInvalid('\ud83d');
    expectJcsInvalid('a\ude00b');
    expectJcsInvalid({ '\ud800': 1 });
  });
});

describe('canonicalize: object key order', () => {
  it('sorts by UTF-16 code units (RFC 8785 §3.2.3), not by code point', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
      '\u0441\u043c': 'Cyrillic',
    };
    expect(canonicalize(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u0441\u043c":"Cyrillic","\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('matches the json-canonicalization reference data (weird, structures, french)', () => {
    const weird = {
      '\u20ac': 'Euro Sign',
      '1': 'One',
      '\u0080': 'Control\u007f',
      '\ud83d\ude02': 'Smiley',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '</script>': 'Browser Challenge',
    };
    expect(canonicalize(weird)).toBe(
      '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude02":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    const structures = JSON.parse('{"1": {"f": {"f": "hi","F": 5} ,"\\n": 56.0},"10": { },"": "empty","a": { },"111": [ { } ],"A": { }}') as unknown;
    expect(canonicalize(structures)).toBe('{"":"empty","1":{"\\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}');
    const french = { peach: 1, 'péché': 2, 'pêche': 3, sin: 4 };
    expect(canonicalize(french)).toBe('{"peach":1,"péché":2,"pêche":3,"sin":4}');
  });

  it('sorts CJK keys and a supplementary-plane CJK key by code units', () => {
    // U+20BB7 𠮷 is \ud842\udfb7: as code units it sorts before U+FF21 Ａ, as a code point after.
    const input = { 行政处罚: 2, 行政许可: 1, 纳税信用等级: 3, '\u{20BB7}野家': 4, 红黑名单: 5, '\uff21': 6 };
    expect(canonicalize(input)).toBe('{"红黑名单":5,"纳税信用等级":3,"行政处罚":2,"行政许可":1,"\u{20BB7}野家":4,"\uff21":6}');
  });

  it('ignores insertion order at every depth', () => {
    const a = { x: { b: 1, a: [{ d: 1, c: 2 }] }, w: null };
    const b = { w: null, x: { a: [{ c: 2, d: 1 }], b: 1 } };
    expect(canonicalize(a)).toBe(canonicalize(b));
    expect(canonicalize(a)).toBe('{"w":null,"x":{"a":[{"c":2,"d":1}],"b":1}}');
  });
});

describe('canonicalize: values without JSON form', () => {
  it('rejects undefined, functions, symbols and bigint wherever they are', () => {
    expectJcsInvalid(undefined, '$');
    expectJcsInvalid({ a: undefined }, '$.a');
    expectJcsInvalid([1, undefined], '$[1]');
    // eslint-disable-next-line no-sparse-arrays
    expectJcsInvalid([1, , 3], '$[1]');
    expectJcsInvalid({ f: () => 1 }, '$.f');
    expectJcsInvalid(Symbol('s'));
    expectJcsInvalid({ n: 10n }, '$.n');
  });

  it('rejects non-plain objects rather than guessing their JSON', () => {
    expectJcsInvalid(new Date(0));
    expectJcsInvalid(new Map());
    expectJcsInvalid(new Uint8Array(2));
    expectJcsInvalid({ nested: new Set([1]) }, '$.nested');
    expect(canonicalize(Object.assign(Object.create(null) as object, { b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
  });

  it('rejects nesting deeper than MAX_JSON_DEPTH with JCS_INVALID, not a stack overflow', () => {
    let ok: unknown = 1;
    for (let i = 0; i < MAX_JSON_DEPTH; i++) ok = [ok];
    expect(canonicalize(ok)).toBe(`${'['.repeat(MAX_JSON_DEPTH)}1${']'.repeat(MAX_JSON_DEPTH)}`);
    const hostile = JSON.parse(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`) as unknown;
    expectJcsInvalid(hostile);
    expectJcsInvalid([ok]);
  });

  it('rejects cycles but accepts shared references', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expectJcsInvalid(cyclic, '$.self');
    const arr: unknown[] = [];
    arr.push(arr);
    expectJcsInvalid(arr, '$[0]');
    const shared = { v: 1 };
    expect(canonicalize({ a: shared, b: [shared, shared] })).toBe('{"a":{"v":1},"b":[{"v":1},{"v":1}]}');
  });
});
