// One-line descriptions of whatever was thrown: the CLI and every log line rely on them.
test('oneLine describes any thrown value, even one whose toString is broken', () => {
  const { oneLine } = require('../src/errors') as typeof import('../src/errors');
  expect(oneLine({ toString: '' })).toBe('[object Object]');
  expect(oneLine(new Error('a\n  b'))).toBe('a b');
  expect(oneLine(Object.create(null))).toBe('[object Object]');
  expect(oneLine(42)).toBe('42');
});
