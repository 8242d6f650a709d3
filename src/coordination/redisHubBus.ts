import { randomBytes } from 'node:crypto';
import type { HubBus, HubMessage, LiveHub } from '../support/liveHub.js';
import type { RedisConnection } from './redisConnection.js';

/** How often an instance repeats how many inbox streams it holds, and when a silent one stops counting. */
const announceEveryMs = 10_000;
const forgetAfterMs = 30_000;

/**
 * Joins this instance's LiveHub to every other instance's through Redis pub/sub, so an agent's
 * message, the typing signal, a bot note or an inbox event reaches a socket or stream whichever
 * instance holds it.
 *
 * Pub/sub, not streams: live delivery keeps nothing by design (a widget that was away reads what it
 * missed from the transcript, `?after=<seq>`), so there is nothing to replay, trim or acknowledge.
 * What pub/sub costs: a frame published while Redis is away is not delivered live; the line itself
 * is in the database, and the widget shows it on its next read of the transcript.
 *
 * Inbox streams are counted per instance (an agent with one open anywhere is online): each instance
 * repeats its count every 10 s, and a count not repeated for 30 s (a killed instance) is dropped.
 */
export class RedisHubBus implements HubBus {
  readonly instanceId = randomBytes(8).toString('hex');
  private readonly streamsElsewhere = new Map<string, { open: number; at: number }>();
  private ownStreams = 0;
  private announcer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly connection: RedisConnection,
    private readonly hub: LiveHub,
    private readonly channel: string,
    private readonly onError: (error: Error) => void,
  ) {}

  /** Subscribes, then connects the hub: from then on what it publishes reaches the other instances. */
  static async join(connection: RedisConnection, hub: LiveHub, { channel = 'chatbot:hub', onError = () => undefined }: { channel?: string; onError?: (error: Error) => void } = {}): Promise<RedisHubBus> {
    const bus = new RedisHubBus(connection, hub, channel, onError);
    await connection.subscriber.subscribe(channel, (text) => bus.received(text));
    hub.connect(bus);
    bus.announcer = setInterval(() => {
      bus.publish({ kind: 'agentStreams', open: bus.ownStreams });
      bus.forgetSilent();
    }, announceEveryMs);
    bus.announcer.unref();
    return bus;
  }

  publish(message: HubMessage): void {
    if (message.kind === 'agentStreams') this.ownStreams = message.open;
    if (!this.connection.commands.isReady) return;
    // Fire and forget, as delivery on one instance is: the caller's turn is already saved.
    this.connection.commands.publish(this.channel, JSON.stringify({ from: this.instanceId, message })).catch((error: Error) => this.onError(error));
  }

  private received(text: string): void {
    let envelope: { from: string; message: HubMessage };
    try {
      envelope = JSON.parse(text) as { from: string; message: HubMessage };
    } catch {
      return;
    }
    // Redis sends a publisher its own messages too; this instance delivered them already.
    if (envelope.from === this.instanceId) return;
    const { message } = envelope;
    if (message.kind === 'agentStreams') {
      this.streamsElsewhere.set(envelope.from, { open: message.open, at: Date.now() });
      this.tellHubStreamsElsewhere();
      return;
    }
    this.hub.deliverFromElsewhere(message);
  }

  private forgetSilent(): void {
    const now = Date.now();
    let forgot = false;
    for (const [instance, { at }] of this.streamsElsewhere) {
      if (now - at > forgetAfterMs) forgot = this.streamsElsewhere.delete(instance) || forgot;
    }
    if (forgot) this.tellHubStreamsElsewhere();
  }

  private tellHubStreamsElsewhere(): void {
    let open = 0;
    for (const streams of this.streamsElsewhere.values()) open += streams.open;
    this.hub.deliverFromElsewhere({ kind: 'agentStreamsElsewhere', open });
  }

  async leave(): Promise<void> {
    clearInterval(this.announcer);
    // The others stop counting this instance's streams at once rather than after 30 s.
    if (this.ownStreams > 0) this.publish({ kind: 'agentStreams', open: 0 });
    await this.connection.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }
}
