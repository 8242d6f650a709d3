import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { BotkitWebChannel, BotkitWebChannelOptions } from './botkitWebChannel.js';

export interface LazyWebChannel {
  /** Whether the first websocket has arrived and Botkit is loaded (tests and start-up numbers look at it). */
  readonly loaded: boolean;
  close(): Promise<void>;
}

interface PendingUpgrade {
  request: IncomingMessage;
  socket: Duplex;
  head: Buffer;
}

/**
 * The Botkit websocket channel, loaded when the first websocket asks for it. Botkit, botbuilder and
 * the web adapter take about half a second to import, a cost every start paid before a REST visitor
 * could be greeted; most starts (deploys, restarts) serve REST and health checks first. Upgrades
 * that arrive while the channel loads wait for it and are then handled in order, so the very first
 * websocket of a process works like any other.
 */
export function lazyBotkitWebChannel(options: BotkitWebChannelOptions, path = '/ws'): LazyWebChannel {
  const { server, log } = options;
  const pending: PendingUpgrade[] = [];
  let channel: BotkitWebChannel | undefined;
  let loading: Promise<BotkitWebChannel | undefined> | undefined;
  let closed = false;

  const load = async (): Promise<BotkitWebChannel | undefined> => {
    const { createBotkitWebChannel } = await import('./botkitWebChannel.js');
    if (closed) return undefined;
    // The channel's adapter listens for upgrades from here on; this listener steps aside in the
    // same tick, so no upgrade is seen twice or missed.
    channel = createBotkitWebChannel(options);
    server.off('upgrade', waitForChannel);
    for (const { request, socket, head } of pending.splice(0)) void channel.adapter.handleUpgrade(request, socket, head);
    return channel;
  };

  function waitForChannel(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    // Refused without loading anything: a wrong path never needs Botkit.
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== path || closed) return void socket.destroy();
    pending.push({ request, socket, head });
    loading ??= load().catch((error: unknown) => {
      log.error({ err: error }, 'the websocket channel could not be loaded');
      for (const upgrade of pending.splice(0)) upgrade.socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      loading = undefined;
      return undefined;
    });
  }
  server.on('upgrade', waitForChannel);

  return {
    get loaded() {
      return channel !== undefined;
    },
    async close() {
      closed = true;
      server.off('upgrade', waitForChannel);
      for (const upgrade of pending.splice(0)) upgrade.socket.destroy();
      await loading;
      await channel?.close();
    },
  };
}
