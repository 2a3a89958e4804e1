// The floor of a poll: a bare Node process that fetches the overview and JSON.parses it, nothing
// else. Fetched the way the source client fetches (node:http, Buffer chunks, one decode), so the
// ratio poll / floor measures what stockwatch adds, not a difference in HTTP clients.
//
// Usage: node dist/bench/floor.js URL   (prints one JSON line: bytes, items)
import http from 'node:http';

export function fetchBody(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`HTTP ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
      });
      res.on('end', () => resolve(Buffer.concat(chunks, length)));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

async function main(): Promise<void> {
  const url = process.argv[2];
  if (url === undefined) throw new Error('usage: floor URL');
  const body = await fetchBody(url);
  const parsed = JSON.parse(body.toString('utf8')) as { items?: unknown[] };
  process.stdout.write(JSON.stringify({ bytes: body.length, items: parsed.items?.length ?? 0 }) + '\n');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`floor: ${(err as Error).message}\n`);
    process.exitCode = 1;
  });
}
