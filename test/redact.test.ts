// The one scrubber used by the source client and every channel.
import { scrubSecrets, shortLine } from '../src/redact';

describe('scrubSecrets', () => {
  test('replaces every secret, the longest first, so a secret inside another leaves nothing behind', () => {
    const url = 'https://hooks.example/T000/B000/XXXX';
    expect(scrubSecrets(`failed for ${url} (path /T000/B000/XXXX)`, ['/T000/B000/XXXX', url])).toBe('failed for [redacted] (path [redacted])');
  });

  test('ignores empty secrets and leaves text without secrets as it is', () => {
    expect(scrubSecrets('nothing here', ['', 'absent'])).toBe('nothing here');
  });

  test('with pieceLength, a quoted cut of a secret is replaced too, under the label given', () => {
    const token = 'abcdefghijklmnopqrstuvwxyz0123456789';
    const cut = `Unexpected token in JSON at "${token.slice(3, 15)}"...`;
    expect(scrubSecrets(cut, [token])).toContain(token.slice(3, 15));
    const scrubbed = scrubSecrets(cut, [token], { label: '[token]', pieceLength: 8 });
    expect(scrubbed).not.toMatch(/[d-o]{8}/);
    expect(scrubbed).toContain('[token]');
  });
});

describe('shortLine', () => {
  test('one line, cut with an ellipsis', () => {
    expect(shortLine('a\n  b\tc')).toBe('a b c');
    expect(shortLine('x'.repeat(10), 5)).toBe('xxxx…');
  });
});
