import net, { type AddressInfo, type Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { isUserError } from '../../src/errors';
import { EmailSender, parseSmtpUrl } from '../../src/notify/email/send';
import { DeliveryError } from '../../src/notify/errors';
import { renderEmail } from '../../src/notify/email/render';
import { many, T0 } from './helpers';

const PASSWORD = 's3cr3t-Pa55:word/#';
const PASSWORD_URL = encodeURIComponent(PASSWORD);

interface Delivered {
  from: string;
  to: string[];
  raw: string;
  user: string | undefined;
  secure: boolean;
}

interface Capture {
  port: number;
  delivered: Delivered[];
  close: () => Promise<void>;
}

/** A real SMTP server in this process that keeps what it is given. */
async function smtpServer(options: Partial<SMTPServerOptions> = {}): Promise<Capture> {
  const delivered: Delivered[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        delivered.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: session.user as string | undefined,
          secure: session.secure,
        });
        callback();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { port, delivered, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function rejectRcpt(match: (address: string) => boolean, code: number, text: string): Partial<SMTPServerOptions> {
  return {
    onRcptTo(address, _session, callback) {
      if (!match(address.address)) return callback();
      const err = new Error(text) as Error & { responseCode: number };
      err.responseCode = code;
      callback(err);
    },
  };
}

const authRequired: Partial<SMTPServerOptions> = {
  authOptional: false,
  allowInsecureAuth: true,
  onAuth(auth, _session, callback) {
    if (auth.username === 'stock' && auth.password === PASSWORD) return callback(null, { user: 'stock' });
    callback(new Error('Invalid username or password'));
  },
};

const message = renderEmail({ type: 'digest', id: 'd', createdAtMs: T0, sinceMs: null, timezone: 'UTC', firing: many(3), newSince: [], resolvedSince: [] });

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(DeliveryError);
    const e = err as DeliveryError;
    expect(e.message).not.toContain(PASSWORD);
    expect(e.message).not.toContain(PASSWORD_URL);
    expect(e.message).not.toMatch(/\n/);
    return e;
  }
  throw new Error('expected the email to fail');
}

describe('EmailSender', () => {
  let server: Capture | undefined;
  let sender: EmailSender | undefined;
  afterEach(async () => {
    sender?.close();
    sender = undefined;
    await server?.close();
    server = undefined;
  });

  function connect(url: string, from = 'stockwatch@example.com'): EmailSender {
    sender = new EmailSender({ smtpUrl: url, from });
    return sender;
  }

  it('delivers one message with text and HTML parts and the attachment to every recipient', async () => {
    server = await smtpServer();
    const mail = connect(`smtp://127.0.0.1:${server.port}?ignoreTLS=true`);
    await mail.send(['buyers@example.com', 'ops@example.com'], message);
    expect(server.delivered).toHaveLength(1);
    const [d] = server.delivered;
    expect(d.from).toBe('stockwatch@example.com');
    expect(d.to).toEqual(['buyers@example.com', 'ops@example.com']);
    expect(d.raw).toMatch(/^Subject: \[stockwatch\] digest: 3 firing\r$/m);
    expect(d.raw).toMatch(/^To: buyers@example\.com, ops@example\.com\r$/m);
    expect(d.raw).toMatch(/Content-Type: multipart\/alternative/);
    expect(d.raw).toMatch(/Content-Type: text\/plain; charset=utf-8/);
    expect(d.raw).toMatch(/Content-Type: text\/html; charset=utf-8/);
    expect(d.raw).toMatch(/Content-Disposition: attachment; filename=stockwatch-digest-2026-05-01\.csv/);
    expect(d.raw).toMatch(/Content-Type: text\/csv; charset=utf-8/);
  });

  it('reuses pooled connections for several messages', async () => {
    server = await smtpServer();
    const mail = connect(`smtp://127.0.0.1:${server.port}?ignoreTLS=true`);
    await Promise.all([mail.send(['a@example.com'], message), mail.send(['b@example.com'], message), mail.send(['c@example.com'], message)]);
    expect(server.delivered.map((d) => d.to[0]).sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
  });

  it('takes nodemailer options from the URL: ignoreTLS=true keeps a STARTTLS server from upgrading', async () => {
    server = await smtpServer({ disabledCommands: [] }); // offers STARTTLS with its own self-signed certificate
    await connect(`smtp://127.0.0.1:${server.port}?ignoreTLS=true`).send(['a@example.com'], message);
    expect(server.delivered[0].secure).toBe(false);
    sender!.close();
    // without it the client upgrades, and refuses smtp-server's built-in test certificate
    const e = await failure(connect(`smtp://127.0.0.1:${server.port}`).send(['a@example.com'], message));
    expect(e.permanent).toBe(false); // a certificate gets fixed; the notice waits for that
    expect(e.message).toMatch(/^TLS with SMTP server 127\.0\.0\.1:\d+ failed: .*certificate/);
    expect(server.delivered).toHaveLength(1);
  });

  it('turns 550 on RCPT into a permanent error with the server reply', async () => {
    server = await smtpServer(rejectRcpt(() => true, 550, '5.1.1 no such user'));
    const e = await failure(connect(`smtp://127.0.0.1:${server.port}?ignoreTLS=true`).send(['nobody@example.com'], message));
    expect(e.permanent).toBe(true);
    expect(e.message).toBe('SMTP server refused the message: 550 5.1.1 no such user (recipients: nobody@example.com)');
    expect(server.delivered).toHaveLength(0);
  });

  it('turns 451 on RCPT into a transient error', async () => {
    server = await smtpServer(rejectRcpt(() => true, 451, '4.7.1 try again later'));
    const e = await failure(connect(`smtp://127.0.0.1:${server.port}?ignoreTLS=true`).send(['a@example.com'], message));
    expect(e.permanent).toBe(false);
    expect(e.message).toBe('SMTP server deferred the message: 451 4.7.1 try again later (recipients: a@example.com)');
  });

  it('does not retry a message some recipients already have', async () => {
    server = await smtpServer(rejectRcpt((a) => a === 'nobody@example.com', 550, '5.1.1 no such user'));
    const e = await failure(connect(`smtp://127.0.0.1:${server.port}?ignoreTLS=true`).send(['ops@example.com', 'nobody@example.com'], message));
    expect(e.permanent).toBe(true);
    expect(e.message).toBe('SMTP server refused 1 of 2 recipients (nobody@example.com): 550 5.1.1 no such user; the others got the message');
    expect(server.delivered.map((d) => d.to)).toEqual([['ops@example.com']]);
  });

  it('turns a refused connection into a transient error naming host and port', async () => {
    server = await smtpServer();
    const port = server.port;
    await server.close();
    server = undefined;
    const e = await failure(connect(`smtp://stock:${PASSWORD_URL}@127.0.0.1:${port}?ignoreTLS=true`).send(['a@example.com'], message));
    expect(e.permanent).toBe(false);
    expect(e.message).toMatch(new RegExp(`^SMTP server 127\\.0\\.0\\.1:${port} connection failed: .*ECONNREFUSED`));
  });

  it('gives up on a server that never greets, as a transient error (timeouts can be set in the URL)', async () => {
    const sockets: Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket)); // accepts and says nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const e = await failure(connect(`smtp://127.0.0.1:${port}?ignoreTLS=true&greetingTimeout=200`).send(['a@example.com'], message));
      expect(e.permanent).toBe(false);
      expect(e.message).toMatch(new RegExp(`^SMTP server 127\\.0\\.0\\.1:${port} timed out: `));
    } finally {
      sender?.close();
      sender = undefined;
      await new Promise<void>((resolve) => {
        silent.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    }
  });

  it('logs in with the URL credentials, percent-decoded', async () => {
    server = await smtpServer(authRequired);
    const mail = connect(`smtp://stock:${PASSWORD_URL}@127.0.0.1:${server.port}?ignoreTLS=true`);
    await mail.verify();
    await mail.send(['a@example.com'], message);
    expect(server.delivered[0].user).toBe('stock');
  });

  it('turns a wrong password into a permanent error without the password', async () => {
    server = await smtpServer(authRequired);
    const wrong = `${PASSWORD}-old`;
    const mail = connect(`smtp://stock:${encodeURIComponent(wrong)}@127.0.0.1:${server.port}?ignoreTLS=true`);
    const e = await failure(mail.send(['a@example.com'], message));
    expect(e.permanent).toBe(true);
    expect(e.message).toMatch(/^SMTP authentication failed at 127\.0\.0\.1:\d+: 535 /);
    expect(e.message).not.toContain(wrong);
    expect(e.message).not.toContain(encodeURIComponent(wrong));
    const v = await failure(mail.verify());
    expect(v.permanent).toBe(true);
    expect(server.delivered).toHaveLength(0);
  });

  it('treats a temporary authentication failure (454) as transient', async () => {
    server = await smtpServer({
      ...authRequired,
      onAuth(_auth, _session, callback) {
        const err = new Error('4.7.0 Temporary authentication failure') as Error & { responseCode: number };
        err.responseCode = 454;
        callback(err);
      },
    });
    const e = await failure(connect(`smtp://stock:${PASSWORD_URL}@127.0.0.1:${server.port}?ignoreTLS=true`).send(['a@example.com'], message));
    expect(e.permanent).toBe(false);
    expect(e.message).toMatch(/^SMTP authentication failed at 127\.0\.0\.1:\d+: 454 4\.7\.0 Temporary authentication failure$/);
  });

  it('turns a server that requires a login the URL does not give into a permanent error', async () => {
    server = await smtpServer(authRequired);
    const e = await failure(connect(`smtp://127.0.0.1:${server.port}?ignoreTLS=true`).send(['a@example.com'], message));
    expect(e.permanent).toBe(true);
    expect(e.message).toMatch(/^SMTP server refused the sender stockwatch@example\.com: 530 /);
  });

  it('refuses to send to nobody', async () => {
    server = await smtpServer();
    const e = await failure(connect(`smtp://127.0.0.1:${server.port}?ignoreTLS=true`).send([], message));
    expect(e.permanent).toBe(true);
  });

  it('refuses an unusable SMTP URL with a UserError that hides the password', () => {
    let thrown: unknown;
    try {
      connect(`http://stock:${PASSWORD_URL}@127.0.0.1:25`);
    } catch (err) {
      thrown = err;
    }
    expect(isUserError(thrown)).toBe(true);
    expect((thrown as Error).message).toBe('SMTP_URL has scheme "http"; expected smtp://user:password@host:port or smtps://user:password@host:port');
  });
});

describe('parseSmtpUrl', () => {
  it('accepts smtp:// and smtps:// URLs, with or without credentials and options', () => {
    expect(parseSmtpUrl('smtp://127.0.0.1:2525?ignoreTLS=true')).toBeNull();
    expect(parseSmtpUrl('smtps://user:p%40ss@mail.example.com:465')).toBeNull();
    expect(parseSmtpUrl('smtp://mail.example.com')).toBeNull();
  });

  it('says what is wrong without echoing the password', () => {
    const problems = [
      parseSmtpUrl(''),
      parseSmtpUrl('mail.example.com:25'),
      parseSmtpUrl(`smtp://user:${PASSWORD}@mail.example.com:587`),
      parseSmtpUrl(`https://user:${PASSWORD_URL}@mail.example.com`),
      parseSmtpUrl(`smtp://:${PASSWORD_URL}@mail.example.com`),
      parseSmtpUrl('smtp://user@mail.example.com'),
      parseSmtpUrl(`smtp://user:${PASSWORD_URL}%zz@mail.example.com`),
      parseSmtpUrl('smtp://mail.example.com:99999'),
    ];
    expect(problems).toEqual([
      'is empty; expected smtp://user:password@host:port or smtps://user:password@host:port',
      'has scheme "mail.example.com"; expected smtp://user:password@host:port or smtps://user:password@host:port',
      'is not a valid URL (expected smtp://user:password@host:port or smtps://user:password@host:port; percent-encode special characters in the user name and password)',
      'has scheme "https"; expected smtp://user:password@host:port or smtps://user:password@host:port',
      'has a password but no user name',
      'has user name "user" but no password',
      'has a malformed percent-escape in its user name or password',
      'is not a valid URL (expected smtp://user:password@host:port or smtps://user:password@host:port; percent-encode special characters in the user name and password)',
    ]);
  });
});
