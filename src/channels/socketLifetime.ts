import type { WebSocket } from 'ws';
import { wholeNumberSetting } from '../settings/wholeNumberSetting.js';

/** How long a websocket may stay open without proving who it is, without use, or without answering. */
export interface SocketTimeouts {
  /** A new socket must say hello within this, or it is closed with `socketCloseCodes.helloTimeout`. */
  helloMs: number;
  /**
   * A socket with no frame either way for this long is closed with `socketCloseCodes.idle`, unless
   * its conversation is waiting for or talking to an agent; 0 = never. Answered pings do not count:
   * they prove the peer is alive, not that anyone uses the socket.
   */
  idleMs: number;
  /** A protocol ping goes out this often; a socket that has not answered the previous one is cut off. */
  pingIntervalMs: number;
}

export const defaultSocketTimeouts: SocketTimeouts = { helloMs: 10_000, idleMs: 10 * 60_000, pingIntervalMs: 30_000 };

/** Close codes the widget tells apart: an idle close is not a drop to reconnect from at once. */
export const socketCloseCodes = { unauthorized: 4401, helloTimeout: 4408, idle: 4000 } as const;

/** WS_HELLO_TIMEOUT_SECONDS, WS_IDLE_TIMEOUT_SECONDS (0 = never) and WS_PING_INTERVAL_SECONDS. */
export function socketTimeoutsFromEnv(env: NodeJS.ProcessEnv = process.env): SocketTimeouts {
  const seconds = (name: string, fallbackMs: number, least: number): number => wholeNumberSetting(env, name, fallbackMs / 1000, { least, unit: 'seconds' }) * 1000;
  return {
    helloMs: seconds('WS_HELLO_TIMEOUT_SECONDS', defaultSocketTimeouts.helloMs, 1),
    idleMs: seconds('WS_IDLE_TIMEOUT_SECONDS', defaultSocketTimeouts.idleMs, 0),
    pingIntervalMs: seconds('WS_PING_INTERVAL_SECONDS', defaultSocketTimeouts.pingIntervalMs, 1),
  };
}

export interface SocketWatch {
  /** The socket proved its conversation: the hello deadline is off and the idle clock starts. */
  helloSaid(): void;
  /** A frame went either way. */
  used(): void;
  /** The heartbeat's tick: cut the socket off if it did not answer the last ping, else ping again. */
  ping(): void;
  /** The socket closed: no timer of it may fire any more. */
  stop(): void;
}

/**
 * Watches one socket: closes it if it never says hello, or once it has been idle past the timeout
 * and `staysOpenWhileIdle` says nothing is expected on it, and tells the heartbeat whether it answers.
 */
export function watchSocket(ws: WebSocket, timeouts: SocketTimeouts, staysOpenWhileIdle: () => Promise<boolean>): SocketWatch {
  let answered = true;
  let lastUsedMs = Date.now();
  let idleTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  ws.on('pong', () => (answered = true));
  const helloTimer = setTimeout(() => ws.close(socketCloseCodes.helloTimeout, 'no hello'), timeouts.helloMs);
  helloTimer.unref();

  // One timer per socket, re-armed for what is left rather than reset on every frame.
  const armIdle = (delayMs: number) => {
    if (stopped || timeouts.idleMs <= 0) return;
    idleTimer = setTimeout(() => void checkIdle(), delayMs);
    idleTimer.unref();
  };
  const checkIdle = async () => {
    const leftMs = timeouts.idleMs - (Date.now() - lastUsedMs);
    if (leftMs > 0) return armIdle(leftMs);
    let keep: boolean;
    try {
      keep = await staysOpenWhileIdle();
    } catch {
      keep = true; // the store did not answer: better an idle socket than a user cut off from an agent
    }
    if (stopped) return;
    // A frame during the question restarts the clock.
    if (keep || Date.now() - lastUsedMs < timeouts.idleMs) return armIdle(timeouts.idleMs);
    ws.close(socketCloseCodes.idle, 'idle');
  };

  return {
    helloSaid() {
      clearTimeout(helloTimer);
      lastUsedMs = Date.now();
      armIdle(timeouts.idleMs);
    },
    used() {
      lastUsedMs = Date.now();
    },
    ping() {
      if (!answered) return ws.terminate();
      answered = false;
      ws.ping();
    },
    stop() {
      stopped = true;
      clearTimeout(helloTimer);
      clearTimeout(idleTimer);
    },
  };
}
