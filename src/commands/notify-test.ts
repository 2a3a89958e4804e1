// `stockwatch notify-test CHANNEL`: sends a labelled test notice to one channel, through the same
// renderer and sender as real notices, and waits for the receiver's answer. It sends directly
// instead of through the delivery queue: the point is to see at once whether the receiver takes a
// message (a queue would retry a refused one for a day and answer nothing now), and it needs no
// Redis, so it works before the daemon's deployment is complete. Nothing here loads BullMQ or ioredis.
import { loadConfig } from '../config';
import { oneLine, UserError } from '../errors';
import type { Channel } from '../model';
import { channelKindOf, isDeliveryError, type Notice, type SenderConfig } from '../notify';
import { scrubSecrets } from '../redact';
import { formatRuleError, loadRules } from '../rules';
import { didYouMean } from '../rules/suggest';
import { parseCommandArgs, printUsage } from './args';
import { rulesDirOf } from './check';

const USAGE = `Usage: stockwatch notify-test CHANNEL [--rules DIR]

Sends a clearly labelled test notice to CHANNEL, one of the channels of the rule files, the way
real notices go: Slack channels to their webhook, email channels through SMTP_URL from EMAIL_FROM
to every address of the channel, webhook channels as a signed JSON POST with no alerts. Waits for the receiver's answer and exits 0 when it took the
message, or 1 with one line saying why not. Needs neither the S2 settings nor Redis.

Options:
  --rules DIR   folder of rule files (default: $RULES_DIR, or ./rules)
  -h, --help    show this help`;

export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs('notify-test', argv, { rules: { type: 'string' } }, 1);
  if (args.help) return printUsage(USAGE);
  const config = loadConfig(process.env, { needSource: false });
  const dir = args.values.rules === undefined ? config.rulesDir : rulesDirOf('notify-test', args.values.rules);

  const loaded = loadRules(dir, process.env);
  if (!loaded.ok) {
    process.stderr.write(loaded.errors.map((e) => formatRuleError(e) + '\n').join(''));
    throw new UserError(`notify-test: the rule files in ${dir} do not pass check; fix them first`);
  }
  const channels = loaded.ruleSet.channels;
  const names = Object.keys(channels).sort();
  const listed = names.length === 0 ? `the rule files in ${dir} define no channel` : `channels: ${names.join(', ')}`;
  const name = args.positionals[0];
  if (name === undefined) throw new UserError(`notify-test: name the channel to test, e.g. \`stockwatch notify-test ${names[0] ?? 'ops'}\` (${listed})`);
  const channel = Object.prototype.hasOwnProperty.call(channels, name) ? channels[name] : undefined;
  if (channel === undefined) throw new UserError(`notify-test: unknown channel "${name}"${didYouMean(name, names)} (${listed})`);

  const nowMs = Date.now();
  const notice: Notice = { type: 'test', id: `t-${name}-${nowMs}`, createdAtMs: nowMs, channel: name };
  const senderConfig: SenderConfig = { smtpUrl: config.smtpUrl, emailFrom: config.emailFrom };
  const kind = channelKindOf(channel);
  const missing = kind.missingSetting?.(senderConfig) ?? null;
  if (missing !== null) throw new UserError(`notify-test: channel ${name} is ${article(channel.kind)} ${channel.kind} channel, but ${missing} is not set`);
  try {
    await send(channel, notice, senderConfig);
    process.stdout.write(`test notice delivered to channel ${name} (${kind.describe(channel, senderConfig)})\n`);
    return 0;
  } catch (err) {
    if (err instanceof UserError) throw err;
    // Senders' messages are one line without secrets; anything else is scrubbed the same way.
    const reason = isDeliveryError(err) ? err.message : scrubSecrets(oneLine(err), [...kind.secrets(channel), config.smtpUrl ?? '']);
    throw new UserError(`notify-test: channel ${name} (${channel.kind}): ${reason}`);
  }
}

/** Renders and sends the notice through the channel's kind, as delivery does. */
async function send(channel: Channel, notice: Notice, config: SenderConfig): Promise<void> {
  const kind = channelKindOf(channel);
  const sender = kind.openSender(config);
  try {
    await sender.send(channel, kind.render(notice));
  } finally {
    await sender.close();
  }
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}
