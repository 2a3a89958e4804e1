// Every kind of channel, registered once. Delivery, routing, notify-test and the demo's console find
// a channel's kind here and nowhere else; adding a kind is one module and one line below.
import type { Channel } from '../model';
import type { ChannelKind } from './channel';
import { emailKind } from './email';
import { slackKind } from './slack';
import { webhookKind } from './webhook';

type KindOf<K extends Channel['kind']> = ChannelKind<Extract<Channel, { kind: K }>, any>;

const REGISTRY: { [K in Channel['kind']]: KindOf<K> } = {
  slack: slackKind,
  email: emailKind,
  webhook: webhookKind,
};

/** Every kind, in registration order. */
export const CHANNEL_KINDS: readonly ChannelKind<any, any>[] = Object.values(REGISTRY);

/** The kind of a channel. Typed loosely on purpose: the registry guarantees that it fits the channel. */
export function channelKindOf(channel: Pick<Channel, 'kind'>): ChannelKind<any, any> {
  const kind = REGISTRY[channel.kind];
  if (kind === undefined) throw new Error(`no channel kind "${String(channel.kind)}" is registered`);
  return kind;
}
