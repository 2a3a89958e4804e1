// loadConfig's judgements that need no process: which database a REDIS_URL names (as ioredis reads
// it), and that only the commands that poll check the S2 request settings.
import { loadConfig, redisDatabase } from '../src/config';

describe('redisDatabase reads a REDIS_URL as ioredis does: the path, else ?db=', () => {
  test.each([
    ['redis://h:6379', 0],
    ['redis://h:6379/', 0],
    ['redis://h:6379/2', 2],
    ['redis://h:6379?db=3', 3],
    ['redis://h:6379/2?db=3', 2],
    ['redis://h:6379/0?db=abc', 0],
    ['redis://h:6379/abc?db=0', null],
    ['redis://h:6379/-1', null],
    ['redis://h:6379?db=x', null],
  ])('%s -> %s', (url, db) => {
    expect(redisDatabase(url)).toBe(db);
  });
});

describe('the S2 request settings are checked at start only by the commands that poll', () => {
  const env = { S2_API_URL: 'https://s2.example.com/api?x=1', S2_API_TOKEN: 'two words', S2_ORGANIZATION_ID: 'Café' };

  test('notify-test (needSource false) is not refused for them', () => {
    expect(() => loadConfig(env, { needSource: false })).not.toThrow();
  });

  test('run and poll (needSource true) are, naming the first problem', () => {
    expect(() => loadConfig(env, { needSource: true })).toThrow('configuration: S2_API_URL must not contain a query or fragment (/inventory/overview is appended to it)');
  });
});
