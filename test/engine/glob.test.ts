import { compileGlobs } from '../../src/engine/glob';

describe('compileGlobs', () => {
  it('matches plain strings exactly and case-sensitively', () => {
    const m = compileGlobs(['SKU-1', 'SKU-2']);
    expect(m.test('SKU-1')).toBe(true);
    expect(m.test('SKU-2')).toBe(true);
    expect(m.test('sku-1')).toBe(false);
    expect(m.test('SKU-10')).toBe(false);
    expect(m.test('')).toBe(false);
  });

  it('* matches any run of characters, including none', () => {
    const m = compileGlobs(['TEST-*']);
    expect(m.test('TEST-')).toBe(true);
    expect(m.test('TEST-BLACK')).toBe(true);
    expect(m.test('TEST-a-b-c')).toBe(true);
    expect(m.test('test-BLACK')).toBe(false);
    expect(m.test('XTEST-BLACK')).toBe(false);
    expect(compileGlobs(['*-GRAY']).test('S600-LIGHT-GRAY')).toBe(true);
    expect(compileGlobs(['*LIGHT*']).test('S600-LIGHT-GRAY')).toBe(true);
    expect(compileGlobs(['a**b']).test('ab')).toBe(true);
  });

  it('? matches exactly one character, a non-ASCII one too', () => {
    const m = compileGlobs(['MX0?-N']);
    expect(m.test('MX03-N')).toBe(true);
    expect(m.test('MX0-N')).toBe(false);
    expect(m.test('MX033-N')).toBe(false);
    expect(compileGlobs(['听?']).test('听雨')).toBe(true);
    expect(compileGlobs(['a?b']).test('a😀b')).toBe(true);
  });

  it('* alone matches everything, the empty string too', () => {
    const m = compileGlobs(['nothing', '*']);
    expect(m.test('')).toBe(true);
    expect(m.test('anything at all')).toBe(true);
  });

  it('treats regex metacharacters literally', () => {
    for (const literal of ['a.b', 'a+b', '(x)', '[ab]', 'a|b', '^a$', 'a{2}', 'a\\b', 'a/b', '$1']) {
      const exact = compileGlobs([literal]);
      const pattern = compileGlobs([`${literal}*`]);
      expect(exact.test(literal)).toBe(true);
      expect(pattern.test(`${literal}-tail`)).toBe(true);
    }
    expect(compileGlobs(['a.b*']).test('axb')).toBe(false);
    expect(compileGlobs(['[ab]*']).test('a')).toBe(false);
    expect(compileGlobs(['a|b*']).test('b')).toBe(false);
    expect(compileGlobs(['a+*']).test('aa')).toBe(false);
  });

  it('* also spans line breaks in odd API text', () => {
    expect(compileGlobs(['a*b']).test('a\nb')).toBe(true);
  });

  it('a list matches when any entry matches', () => {
    const m = compileGlobs(['exact', 'pre-*', '*-post', 'x?z']);
    expect(['exact', 'pre-1', '1-post', 'xyz'].map((s) => m.test(s))).toEqual([true, true, true, true]);
    expect(['exact2', 'pre', 'post', 'xz'].map((s) => m.test(s))).toEqual([false, false, false, false]);
  });

  it('an empty glob matches only the empty string', () => {
    const m = compileGlobs(['']);
    expect(m.test('')).toBe(true);
    expect(m.test('a')).toBe(false);
  });
});
