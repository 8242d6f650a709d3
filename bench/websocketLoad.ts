import WebSocket from 'ws';
import { createConversations, type Conversation, type WalkedStep } from './conversationScript.js';
import { summarize, type LatencySummary } from './latencyStats.js';

export interface WebsocketLoadOptions {
  baseUrl: string;
  wsUrl: string;
  clients: number;
  durationSeconds: number;
  /** The script as walked over REST: how many message frames each step answers with. */
  script: readonly WalkedStep[];
}

export interface WebsocketLoadResult {
  clients: number;
  seconds: number;
  turns: number;
  turnsPerSecond: number;
  framesPerSecond: number;
  /** From sending a message frame to receiving the turn's last reply frame. */
  turnLatency: LatencySummary;
  /** From sending a message frame to the typing frame. */
  typingLatency: LatencySummary;
  /** Error frames, turns that timed out, sockets that failed. */
  errors: number;
  /** Turns whose last frame did not carry the state the script expects. */
  offScript: number;
}

const turnTimeoutMs = 10_000;
const connectTimeoutMs = 10_000;

interface Frame {
  type?: string;
  state?: string;
  askRating?: boolean;
}

/**
 * One widget-like client: proves it owns its conversation with a `hello` frame, then sends the
 * script's messages one at a time. A turn is over when its last reply frame has arrived: the
 * server answers a message with a `typing` frame and one `message` frame per reply, and the number
 * of replies of every step is known from walking the script over REST (the same engine decides it).
 */
class WidgetClient {
  private readonly socket: WebSocket;
  private pending: { expected: number; received: number; sentAt: number; state: string; done: (outcome: 'ok' | 'error' | 'offScript') => void } | undefined;
  frames = 0;
  errors = 0;

  constructor(
    url: string,
    private readonly conversation: Conversation,
    private readonly onTyping: (ms: number) => void,
  ) {
    this.socket = new WebSocket(url);
    this.socket.on('error', () => this.finishTurn('error'));
    this.socket.on('close', () => this.finishTurn('error'));
  }

  /** Open, say hello, wait for `ready`. */
  connect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('websocket: no "ready" within 10 s')), connectTimeoutMs);
      this.socket.once('open', () => this.socket.send(JSON.stringify({ type: 'hello', conversation: this.conversation.id, token: this.conversation.token })));
      this.socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      this.socket.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as Frame;
        if (frame.type === 'ready') {
          clearTimeout(timer);
          resolve();
        } else this.receive(frame);
      });
    });
  }

  private receive(frame: Frame): void {
    this.frames++;
    const turn = this.pending;
    if (!turn) return;
    if (frame.type === 'typing') this.onTyping(performance.now() - turn.sentAt);
    else if (frame.type === 'error') this.finishTurn('error');
    else if (frame.type === 'message') {
      turn.received++;
      if (turn.received === turn.expected) this.finishTurn(frame.state === turn.state ? 'ok' : 'offScript');
    }
  }

  private finishTurn(outcome: 'ok' | 'error' | 'offScript'): void {
    const turn = this.pending;
    if (!turn) return;
    this.pending = undefined;
    turn.done(outcome);
  }

  /** Sends one message and resolves when its replies are all in (or on error / timeout). */
  turn(step: WalkedStep): Promise<{ outcome: 'ok' | 'error' | 'offScript'; ms: number }> {
    return new Promise((resolve) => {
      const sentAt = performance.now();
      const timer = setTimeout(() => this.finishTurn('error'), turnTimeoutMs);
      this.pending = {
        expected: step.replies,
        received: 0,
        sentAt,
        state: step.state,
        done: (outcome) => {
          clearTimeout(timer);
          resolve({ outcome, ms: performance.now() - sentAt });
        },
      };
      const frame = step.displayText === undefined ? { type: 'message', text: step.text } : { type: 'message', text: step.text, displayText: step.displayText };
      this.socket.send(JSON.stringify(frame));
    });
  }

  /** Closes the socket; terminates it if the close handshake takes more than 2 s. */
  close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.socket.terminate();
        resolve();
      }, 2_000);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.close(1000, 'benchmark over');
    });
  }
}

/** `clients` widgets at once, each walking the script in a loop for `durationSeconds`. */
export async function runWebsocketLoad({ baseUrl, wsUrl, clients, durationSeconds, script }: WebsocketLoadOptions): Promise<WebsocketLoadResult> {
  const conversations = await createConversations(baseUrl, clients);
  const typing: number[] = [];
  const widgets = conversations.map((conversation) => new WidgetClient(wsUrl, conversation, (ms) => typing.push(ms)));
  try {
    await Promise.all(widgets.map((widget) => widget.connect()));
    const latencies: number[] = [];
    let errors = 0;
    let offScript = 0;
    const started = performance.now();
    const deadline = started + durationSeconds * 1000;
    await Promise.all(
      widgets.map(async (widget) => {
        // Bounded by time, and by count as a second guard.
        for (let turn = 0; turn < 1_000_000 && performance.now() < deadline; turn++) {
          const { outcome, ms } = await widget.turn(script[turn % script.length]!);
          if (outcome === 'error') {
            errors++;
            return; // the conversation is no longer where the script thinks: this client stops
          }
          if (outcome === 'offScript') offScript++;
          latencies.push(ms);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const frames = widgets.reduce((total, widget) => total + widget.frames, 0);
    return {
      clients,
      seconds,
      turns: latencies.length,
      turnsPerSecond: latencies.length / seconds,
      framesPerSecond: frames / seconds,
      turnLatency: summarize(latencies),
      typingLatency: summarize(typing),
      errors,
      offScript,
    };
  } finally {
    await Promise.all(widgets.map((widget) => widget.close()));
  }
}
