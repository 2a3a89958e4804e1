// What a notice would look like on its channel, as plain terminal text: the demo's console
// channel and dry runs print it instead of sending. It shows exactly the rendered message.
import type { Channel } from '../../model';
import type { Notice } from '../notice';
import { renderEmail } from './email';
import { renderSlack } from './slack';

export interface ConsoleChannel {
  name: string;
  kind: Channel['kind'];
}

const RULE = '-'.repeat(72);

interface TextBlock {
  type?: string;
  text?: { text?: string };
  elements?: Array<{ text?: string }>;
}

function blockText(block: TextBlock): string {
  if (block.text?.text !== undefined) return block.text.text;
  return (block.elements ?? []).map((e) => e.text ?? '').join(' ');
}

export function renderConsole(n: Notice, channel: ConsoleChannel): string {
  const out: string[] = [RULE, `${channel.kind} → ${channel.name} · ${n.type} notice ${n.id}`, RULE];
  if (channel.kind === 'slack') {
    const payload = renderSlack(n);
    out.push('text:', payload.text, '', `blocks (${payload.blocks.length}):`);
    for (const block of payload.blocks as TextBlock[]) out.push(`[${block.type ?? '?'}]`, blockText(block));
  } else {
    const email = renderEmail(n);
    out.push(`Subject: ${email.subject}`, '', email.text.replace(/\n+$/, ''));
    for (const a of email.attachments ?? []) {
      out.push(`[attachment ${a.filename}, ${a.contentType}, ${Buffer.byteLength(a.content, 'utf8')} bytes]`);
    }
  }
  out.push(RULE, '');
  return out.join('\n');
}
