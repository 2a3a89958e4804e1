// The editor experience, tested with the real thing: the yaml-language-server package (what VS Code's
// YAML extension, neovim's yamlls and others run) spawned over stdio and driven with LSP JSON-RPC as an
// editor drives it. The starter files' `# yaml-language-server: $schema=./stockwatch.schema.json` line
// must lead it to the committed schema, which must flag a misspelt key where it is and complete the
// rule types.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { RULE_TYPES } from '../../src/model';

jest.setTimeout(60_000);

const RULES = path.join(__dirname, '..', '..', 'rules');
const SERVER = path.join(path.dirname(require.resolve('yaml-language-server/package.json')), 'bin', 'yaml-language-server');

interface Diagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  message: string;
}

/** A minimal LSP client: Content-Length framed JSON-RPC over the server's stdin/stdout. */
class LspClient {
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (err: Error) => void }>();
  private readonly diagnostics = new Map<string, Diagnostic[]>();
  private readonly diagnosticWaiters: Array<() => void> = [];
  readonly exited: Promise<number | null>;
  stderr = '';

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (chunk: Buffer) => this.receive(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString('utf8');
    });
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    this.exited.then(() => {
      for (const { reject } of this.pending.values()) reject(new Error(`language server exited: ${this.stderr}`));
    });
  }

  request<T>(method: string, params: unknown): Promise<T> {
    const id = this.nextId++;
    this.send({ id, method, params });
    return new Promise<T>((resolve, reject) => this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject }));
  }

  notify(method: string, params: unknown): void {
    this.send({ method, params });
  }

  /** The diagnostics the server publishes for a document (waits for the first publication). */
  async diagnosticsFor(uri: string): Promise<Diagnostic[]> {
    while (!this.diagnostics.has(uri)) await new Promise<void>((resolve) => this.diagnosticWaiters.push(resolve));
    return this.diagnostics.get(uri)!;
  }

  private send(message: object): void {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...message }), 'utf8');
    this.child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
    this.child.stdin.write(body);
  }

  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const length = Number(/Content-Length: (\d+)/i.exec(this.buffer.subarray(0, headerEnd).toString('ascii'))?.[1]);
      if (this.buffer.length < headerEnd + 4 + length) return;
      const message = JSON.parse(this.buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString('utf8'));
      this.buffer = this.buffer.subarray(headerEnd + 4 + length);
      this.handle(message);
    }
  }

  private handle(message: { id?: number; method?: string; params?: any; result?: unknown; error?: { message: string } }): void {
    if (message.method === undefined && message.id !== undefined) {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(message.error.message));
      else waiter?.resolve(message.result);
    } else if (message.method === 'workspace/configuration') {
      // The editor's settings, asked for by section: yaml's own, then others we leave at their defaults.
      this.send({ id: message.id, result: message.params.items.map((item: { section?: string }) => (item.section === 'yaml' ? YAML_SETTINGS : null)) });
    } else if (message.id !== undefined) {
      this.send({ id: message.id, result: null }); // other requests from the server (capability registration)
    } else if (message.method === 'textDocument/publishDiagnostics') {
      this.diagnostics.set(message.params.uri, message.params.diagnostics);
      this.diagnosticWaiters.splice(0).forEach((wake) => wake());
    }
  }
}

// No schema store: the test must not reach the network, and only the file's own $schema line should count.
const YAML_SETTINGS = { validate: true, completion: true, hover: true, schemaStore: { enable: false } };

let child: ChildProcessWithoutNullStreams;
let client: LspClient;

beforeAll(async () => {
  child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  client = new LspClient(child);
  await client.request('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(path.dirname(RULES)).href,
    capabilities: {
      workspace: { configuration: true },
      textDocument: { publishDiagnostics: {}, completion: { completionItem: { snippetSupport: false } }, hover: {} },
    },
  });
  client.notify('initialized', {});
  client.notify('workspace/didChangeConfiguration', { settings: { yaml: YAML_SETTINGS } });
}, 60_000); // it starts in about a second; much longer on a machine busy with other test suites

/** Resolves with `promise`'s value, or `fallback` after `ms`; leaves no timer behind either way. */
async function within<T>(ms: number, promise: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

afterAll(async () => {
  // As an editor closes: shutdown, exit; killed only if it does not go by itself.
  if (child.exitCode === null && child.signalCode === null) {
    await within(2000, client.request('shutdown', null).catch(() => undefined), undefined);
    client.notify('exit', null);
    if (!(await within(2000, client.exited.then(() => true), false))) {
      child.kill('SIGKILL');
      await client.exited;
    }
  }
});

let version = 0;
function open(file: string, text: string): string {
  const uri = pathToFileURL(path.join(RULES, file)).href;
  client.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'yaml', version: ++version, text } });
  return uri;
}

test('a starter file opens without a complaint; a misspelt key is flagged on its line', async () => {
  const channels = open('00-channels.yaml', fs.readFileSync(path.join(RULES, '00-channels.yaml'), 'utf8'));
  // The editor's buffer: stock.yaml as shipped, with one key misspelt as someone would while typing.
  const lines = fs.readFileSync(path.join(RULES, 'stock.yaml'), 'utf8').split('\n');
  const at = lines.indexOf('    count_incoming: false');
  expect(at).toBeGreaterThan(0);
  lines[at] = '    count_incomming: false';
  const stock = open('stock.yaml', lines.join('\n'));

  expect(await client.diagnosticsFor(channels)).toEqual([]);
  const found = await client.diagnosticsFor(stock);
  expect(found.map((d) => [d.range.start.line, d.range.start.character, d.message])).toEqual([
    [at, 4, expect.stringContaining('count_incomming')],
  ]);
});

test('completes the rule types at `type:` and a rule type\'s own keys', async () => {
  const text = [
    '# yaml-language-server: $schema=./stockwatch.schema.json',
    'rules:',
    '  - name: reorder',
    '    type: ',
    '  - name: low',
    '    type: low_available',
    '    below: 10',
    '    ',
  ].join('\n');
  const uri = open('editing.yaml', text);
  const types = await client.request<{ items: Array<{ label: string }> }>('textDocument/completion', {
    textDocument: { uri },
    position: { line: 3, character: 10 },
  });
  expect(types.items.map((i) => i.label).sort()).toEqual([...RULE_TYPES].sort());

  const keys = await client.request<{ items: Array<{ label: string }> }>('textDocument/completion', {
    textDocument: { uri },
    position: { line: 7, character: 4 },
  });
  const labels = keys.items.map((i) => i.label);
  expect(labels).toEqual(expect.arrayContaining(['clear_at', 'count_incoming', 'scope', 'for', 'keep_firing_for', 'summary']));
});
