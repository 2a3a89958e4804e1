// What a notice would look like on its channel, as plain terminal text: the demo's console
// transport and dry runs print it instead of sending. It shows exactly the rendered message.
import type { Channel } from '../model';
import type { Notice } from './notice';
import { channelKindOf } from './registry';

const RULE = '-'.repeat(72);

export function renderConsole(n: Notice, channel: Pick<Channel, 'name' | 'kind'>): string {
  const kind = channelKindOf(channel);
  return [RULE, `${channel.kind} → ${channel.name} · ${n.type} notice ${n.id}`, RULE, kind.preview(kind.render(n)), RULE, ''].join('\n');
}
