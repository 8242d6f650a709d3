import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { ActivityTypes, MemoryStorage, TurnContext, type Activity, type ResourceResponse } from 'botbuilder';
import { WebAdapter } from 'botbuilder-adapter-web';
import { Botkit, type BotkitMessage, type BotWorker } from 'botkit';
// Botkit derives the key of a conversation's dialog state here; it is not re-exported from 'botkit'.
import { BotkitConversationState } from 'botkit/lib/conversationState.js';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { z } from 'zod';
import type { Logger } from 'pino';
import { clientMessageIdPattern, type DialogueEngine, type TurnResult } from '../dialogue/dialogueEngine.js';
import { spendOrThrow, type Limiter } from '../limits/rateLimiter.js';
import { refusalOf, runChannelTurn, type TurnRefusal } from '../turns/channelTurn.js';
import { checkAccess, type AccessPolicy, type IdentityStore } from '../storage/identityStore.js';
import type { LiveHub } from '../support/liveHub.js';
import { SocketAllowance } from './socketAllowance.js';
import { defaultSocketTimeouts, socketCloseCodes, watchSocket, type SocketTimeouts, type SocketWatch } from './socketLifetime.js';

type TurnLogic = (context: TurnContext) => Promise<void>;

const helloFrame = z.object({ type: z.literal('hello'), conversation: z.string().min(1).max(100), token: z.string().min(1).max(200) }).strict();
const messageFrame = z
  .object({ type: z.literal('message'), text: z.string(), displayText: z.string().optional(), clientMessageId: z.string().regex(clientMessageIdPattern).optional() })
  .strict();
/** The user is typing: forwarded to the agents' inboxes while the conversation is handed over. */
const typingFrame = z.object({ type: z.literal('typing') }).strict();

/** Largest websocket frame accepted; a message is at most 1000 characters, so 16 KB is ample. */
const maxFrameBytes = 16 * 1024;

interface AuthenticatedSocket extends WebSocket {
  conversationId?: string;
  /** Stops the live frames (agent messages, handoff status) of the conversation. */
  unsubscribe?: (() => void) | undefined;
  watch?: SocketWatch;
}

/** Abuse limits the websocket shares with the REST API (one allowance per address, per conversation). */
export interface SocketLimits {
  addressLimiter: Limiter;
  conversationLimiter: Limiter;
  /** How long a conversation token lives without use (checked at hello, as REST checks it). */
  access?: AccessPolicy;
  /** Open sockets one address may hold; 0 = no cap. */
  socketsPerAddress: number;
  /** The client address of an upgrade request (honours TRUST_PROXY as express does). */
  addressOf: (request: IncomingMessage) => string;
}

/** Where the socket looks up a message sent again (the engine's earlierTurn). */
export interface ResentMessages {
  earlierTurn(conversationId: string, clientMessageId: string): Promise<TurnResult | undefined>;
}

/** What reaches a widget outside its own turns: agent lines, agent typing, handoff status, bot notes. */
export interface LiveDelivery {
  hub: LiveHub;
  onUserTyping: (conversationId: string) => Promise<void>;
  /** Whether the conversation waits for or talks to an agent: its socket is then kept open while quiet. */
  withAgent: (conversationId: string) => Promise<boolean>;
}

/**
 * Botkit's web adapter, with the identity it lacks. The stock adapter takes the user id from each
 * frame and routes replies by it, so any client could read or continue another's conversation;
 * here a socket proves it owns a conversation once (a `hello` frame with the conversation's token)
 * and every later frame and reply is bound to that conversation. It also keeps its heartbeat timer
 * so the process can shut down, counts only open sockets against an address's allowance, and closes
 * sockets that never say hello or stay unused (see socketLifetime.ts).
 */
export class AuthenticatedWebAdapter extends WebAdapter {
  private readonly sockets = new Map<string, Set<AuthenticatedSocket>>();
  private socketServer: WebSocketServer | undefined;
  private logic: TurnLogic | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly allowance: SocketAllowance;
  /** Called once the last socket of a conversation has closed and its frames are all handled. */
  onConversationClosed: ((conversationId: string) => Promise<void>) | undefined;

  constructor(
    private readonly server: Server,
    private readonly identities: IdentityStore,
    private readonly resent: ResentMessages,
    private readonly allowedOrigins: readonly string[],
    private readonly limits: SocketLimits,
    private readonly timeouts: SocketTimeouts = defaultSocketTimeouts,
    private readonly live?: LiveDelivery,
    private readonly path = '/ws',
  ) {
    super({ noServer: true });
    this.allowance = new SocketAllowance(limits.socketsPerAddress);
  }

  /** Botkit calls this once it is ready; `logic` runs Botkit's middleware and handlers for a turn. */
  override createSocketServer(_server: unknown, _options: unknown, logic: TurnLogic): void {
    const wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes });
    this.socketServer = wss;
    this.logic = logic;
    this.wss = wss;
    this.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => void this.handleUpgrade(request, socket, head));
    this.heartbeat = setInterval(() => {
      for (const ws of wss.clients as Set<AuthenticatedSocket>) ws.watch?.ping();
    }, this.timeouts.pingIntervalMs);
    this.heartbeat.unref();
  }

  /** One upgrade request: checked (path, origin, limits) and then accepted as a websocket, or refused. */
  async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const wss = this.socketServer;
    if (!wss || socket.destroyed) return void socket.destroy();
    if (new URL(request.url ?? '/', 'http://localhost').pathname !== this.path) return void socket.destroy();
    // Browsers always send Origin; a page from an origin not allowed to embed the widget gets no socket.
    const origin = request.headers.origin;
    if (origin && !this.allowedOrigins.includes('*') && !this.allowedOrigins.includes(origin) && origin !== `http://${request.headers.host}` && origin !== `https://${request.headers.host}`) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    const address = this.limits.addressOf(request);
    // Awaited with the socket untouched: with no 'data' listener yet, what the client sends waits in it.
    const decision = await this.limits.addressLimiter.take(address);
    if (socket.destroyed) return;
    const refusal = !decision.allowed ? decision.retryAfterSeconds : !this.allowance.tryHold(address, socket) ? 30 : undefined;
    if (refusal !== undefined) {
      socket.end(`HTTP/1.1 429 Too Many Requests\r\nRetry-After: ${refusal}\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws as AuthenticatedSocket, address, this.logic!));
  }

  private accept(ws: AuthenticatedSocket, address: string, logic: TurnLogic): void {
    const watch = watchSocket(ws, this.timeouts, async () => (ws.conversationId && this.live ? this.live.withAgent(ws.conversationId) : false));
    ws.watch = watch;
    ws.on('error', () => ws.terminate());
    // Frames are handled in the order they arrive: a message sent right behind its hello must not
    // be read before the hello has bound the socket.
    let previous = Promise.resolve();
    ws.on('close', () => {
      watch.stop();
      ws.unsubscribe?.();
      const conversationId = ws.conversationId;
      if (!conversationId) return;
      const peers = this.sockets.get(conversationId);
      peers?.delete(ws);
      if (peers?.size === 0) this.sockets.delete(conversationId);
      // After this socket's last turn has saved Botkit's state, or that save would bring it back.
      void previous
        .then(async () => {
          if (!this.sockets.has(conversationId)) await this.onConversationClosed?.(conversationId);
        })
        .catch(() => undefined); // memory storage does not fail; nothing a closed socket could be told
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      watch.used();
      previous = previous
        .then(() => this.receive(ws, address, data, isBinary, logic))
        .catch(() => send(ws, { type: 'error', code: 'internal_error', message: 'this message could not be processed' }));
    });
  }

  private async receive(ws: AuthenticatedSocket, address: string, data: RawData, isBinary: boolean, logic: TurnLogic): Promise<void> {
    try {
      await spendOrThrow(this.limits.addressLimiter, address, 'address');
    } catch (error) {
      return sendRateLimited(ws, error);
    }
    if (isBinary) return send(ws, { type: 'error', code: 'binary_frame', message: 'send JSON text frames' });
    let frame: unknown;
    try {
      frame = JSON.parse(data.toString());
    } catch {
      return send(ws, { type: 'error', code: 'invalid_json', message: 'a frame must be one JSON object' });
    }
    if (!ws.conversationId) {
      const hello = helloFrame.safeParse(frame);
      if (!hello.success) return refuse(ws, 'unauthorized', 'start with {"type":"hello","conversation":…,"token":…}');
      const access = await checkAccess(this.identities, hello.data.conversation, hello.data.token, this.limits.access);
      if (access !== 'ok') return refuse(ws, 'unauthorized', 'unknown conversation or wrong token');
      ws.conversationId = hello.data.conversation;
      ws.watch?.helloSaid();
      let peers = this.sockets.get(ws.conversationId);
      if (!peers) this.sockets.set(ws.conversationId, (peers = new Set()));
      peers.add(ws);
      ws.unsubscribe = this.live?.hub.subscribeConversation(ws.conversationId, (live) => send(ws, live.type === 'turn.frame' ? live.frame : live));
      return send(ws, { type: 'ready' });
    }
    if (typingFrame.safeParse(frame).success) {
      await this.live?.onUserTyping(ws.conversationId);
      return;
    }
    const message = messageFrame.safeParse(frame);
    if (!message.success) {
      const badId = message.error.issues.some((issue) => issue.path[0] === 'clientMessageId');
      const why = badId ? 'clientMessageId is 1 to 64 letters, digits, _ or -' : 'expected {"type":"message","text":"…"}';
      return send(ws, { type: 'error', code: 'invalid_frame', message: why });
    }
    const { text, displayText, clientMessageId } = message.data;
    // A resend of a message already taken costs no allowance and takes no turn: it is acknowledged
    // (message.accepted, duplicate) and its replies are not sent again. They went to every socket of
    // the conversation when they were said, a message frame has no seq a client could tell a repeat
    // by, and a socket that missed them reads them from the transcript (?after=<seq>) on `ready`.
    const earlier = clientMessageId === undefined ? undefined : await this.resent.earlierTurn(ws.conversationId, clientMessageId);
    if (earlier) return this.broadcast(ws.conversationId, acceptedFrame(earlier, clientMessageId));
    try {
      await spendOrThrow(this.limits.conversationLimiter, ws.conversationId, 'conversation');
    } catch (error) {
      return sendRateLimited(ws, error);
    }
    const activity = messageActivity(ws.conversationId, text, { displayText, clientAddress: address, clientMessageId });
    await this.runMiddleware(new TurnContext(this, activity), logic);
  }

  /**
   * A frame for every socket of the conversation (a user may have two tabs open): through the live
   * hub, which every socket subscribes to at hello, so tabs held by other workers or instances get
   * it too; without live delivery (tests of the channel alone), to this process's sockets.
   */
  broadcast(conversationId: string, frame: object): void {
    if (this.live) this.live.hub.toConversation(conversationId, { type: 'turn.frame', frame });
    else for (const ws of this.sockets.get(conversationId) ?? []) send(ws, frame);
  }

  /** Closes every socket of a conversation that no longer exists; the widget goes on over REST, which starts afresh. */
  dropConversation(conversationId: string, why: string): void {
    for (const ws of this.sockets.get(conversationId) ?? []) refuse(ws, 'unauthorized', why);
  }

  /** Replies go to every socket of the conversation (a user may have two tabs open), never by a client-given id. */
  override async sendActivities(_context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    for (const activity of activities) {
      const conversationId = activity.conversation?.id;
      if (!conversationId) continue;
      this.broadcast(conversationId, { type: activity.type, text: activity.text, ...(activity.channelData as object | undefined) });
    }
    return [];
  }

  /**
   * Closes every socket with 1001 and stops the heartbeat. A client that does not answer the close
   * (a phone asleep) is cut off after `graceMs`, so one socket cannot hold up a shutdown.
   */
  async close(graceMs = 1000): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    const wss = this.socketServer;
    if (!wss) return;
    for (const ws of wss.clients) ws.close(1001, 'server shutting down');
    const cutOff = setTimeout(() => {
      for (const ws of wss.clients) ws.terminate();
    }, graceMs);
    await new Promise<void>((resolve) => wss.close(() => resolve()));
    clearTimeout(cutOff);
  }
}

/** What a message frame carries besides its text, handed to the turn in the activity's channelData. */
interface MessageExtras {
  displayText?: string | undefined;
  /** The server's own note of where the frame came from (the ticket limits use it). */
  clientAddress?: string | undefined;
  clientMessageId?: string | undefined;
}

/** The activity Botkit gets for a message of this conversation; its dialog state is keyed by it too. */
function messageActivity(conversationId: string, text: string, extras: MessageExtras = {}): Partial<Activity> {
  const channelData = Object.fromEntries(Object.entries(extras).filter(([, value]) => value !== undefined));
  return {
    type: ActivityTypes.Message,
    timestamp: new Date(),
    channelId: 'websocket',
    conversation: { id: conversationId, isGroup: false, conversationType: 'personal', name: '' },
    from: { id: conversationId, name: '' },
    recipient: { id: 'bot', name: '' },
    text,
    channelData,
  };
}

/**
 * The user's message as it was stored (redacted; a clicked button's label), sent to every socket of
 * the conversation before the turn's replies: the sender swaps its bubble for it, matched by
 * clientMessageId, and other tabs show the same bubble. A resend's says `duplicate: true`: no turn
 * was taken, and nothing else follows it.
 */
function acceptedFrame(result: TurnResult, clientMessageId: string | undefined) {
  const { seq, text, redacted } = result.userMessage;
  return {
    type: 'message.accepted',
    seq,
    text,
    redacted,
    ...(clientMessageId === undefined ? {} : { clientMessageId }),
    ...(result.duplicate ? { duplicate: true } : {}),
  };
}

function send(ws: AuthenticatedSocket, frame: object): void {
  if (ws.readyState !== ws.OPEN) return;
  ws.send(JSON.stringify(frame));
  ws.watch?.used();
}

/** A refused message as the error frame's fields (`code`, `message`, and `retryAfter` past a limit). */
function refusalFrame(refusal: TurnRefusal): { code: string; message: string; retryAfter?: number } {
  switch (refusal.reason) {
    case 'access':
      return { code: 'unauthorized', message: 'unknown conversation or wrong token' };
    case 'rate_limited':
      return { code: refusal.code, message: refusal.message, retryAfter: refusal.retryAfterSeconds };
    default:
      return { code: refusal.code, message: refusal.message };
  }
}

function sendRateLimited(ws: WebSocket, error: unknown): void {
  send(ws, { type: 'error', ...refusalFrame(refusalOf(error)) });
}

function refuse(ws: WebSocket, code: string, message: string): void {
  send(ws, { type: 'error', code, message });
  ws.close(socketCloseCodes.unauthorized, code);
}

/** Botkit's default storage, except that a deleted entry is gone: MemoryStorage sets it to undefined and keeps the key. */
class ForgettingMemoryStorage extends MemoryStorage {
  override async delete(keys: string[]): Promise<void> {
    for (const key of keys) delete this.memory[key];
  }
}

export interface BotkitWebChannel {
  controller: Botkit;
  adapter: AuthenticatedWebAdapter;
  close(): Promise<void>;
}

/**
 * The widget's channel: Botkit receives each websocket message, the dialogue engine takes the turn,
 * and the replies go back through `bot.reply` with a typing indicator first.
 */
export interface BotkitWebChannelOptions extends SocketLimits {
  server: Server;
  /** Hello deadline, idle timeout and ping interval; defaults 10 s, 10 min, 30 s. */
  timeouts?: SocketTimeouts;
  engine: DialogueEngine;
  identities: IdentityStore;
  allowedOrigins: readonly string[];
  log: Logger;
  live?: LiveDelivery & {
    /** Whether the bot will answer this conversation's next message (not when an agent holds it). */
    botAnswers: (conversationId: string) => Promise<boolean>;
  };
}

export function createBotkitWebChannel({ server, engine, identities, allowedOrigins, log, live, timeouts, ...limits }: BotkitWebChannelOptions): BotkitWebChannel {
  const adapter = new AuthenticatedWebAdapter(server, identities, engine, allowedOrigins, limits, timeouts, live);
  // Botkit keeps each conversation's dialog state in its memory storage for good. The conversation
  // itself lives in our store, so Botkit's copy goes once the conversation has no socket left.
  const controller = new Botkit({ adapter, storage: new ForgettingMemoryStorage(), disable_webserver: true, disable_console: true });
  const botkitState = new BotkitConversationState(controller.storage);
  adapter.onConversationClosed = async (conversationId) => {
    const key = botkitState.getStorageKey(new TurnContext(adapter, messageActivity(conversationId, '')));
    if (key) await controller.storage.delete([key]);
  };
  controller.on('message', async (bot: BotWorker, message: BotkitMessage) => {
    const conversationId = message.channel ?? message.user;
    // One id per frame, like a REST request's: error replies carry it so support can find the log line.
    const requestId = randomUUID();
    const turnLog = log.child({ requestId });
    // The bot's typing dots only when the bot is the one answering (an agent types for themselves).
    if (!live || (await live.botAnswers(conversationId))) await bot.reply(message, { type: 'typing' });
    const { displayText, clientAddress, clientMessageId } = (message.incoming_message.channelData as MessageExtras | undefined) ?? {};
    const outcome = await runChannelTurn(engine, turnLog, {
      conversationId,
      channel: 'websocket',
      text: message.text ?? '',
      displayText,
      options: {
        ...(clientAddress === undefined ? {} : { origin: { address: clientAddress } }),
        ...(clientMessageId === undefined ? {} : { clientMessageId }),
      },
    });
    if (!outcome.taken) {
      const { refusal } = outcome;
      // Deleted (by its owner in another tab, or an admin) while the socket was open: nothing was saved.
      if (refusal.reason === 'conversation_gone') return adapter.dropConversation(conversationId, 'the conversation was deleted');
      // Only a turn that was not saved is reported as an error: the widget then gives the text back to resend.
      await bot.reply(message, { type: 'error', channelData: { ...refusalFrame(refusal), requestId } });
      return;
    }
    const { result } = outcome;
    adapter.broadcast(conversationId, acceptedFrame(result, clientMessageId));
    if (result.duplicate) {
      // The same message came twice at once (another tab, or REST): the other took the turn and
      // sent its replies. This one's typing frame is ended by the accepted frame above.
      limits.conversationLimiter.giveBack(conversationId);
      return;
    }
    for (const [index, reply] of result.replies.entries()) {
      const last = index === result.replies.length - 1;
      await bot.reply(message, {
        text: reply.text,
        channelData: {
          // The response id (`unbind.step2`), as REST returns it: a client or QA tool can tell which answer this is.
          id: reply.id,
          // `warning` on the secret warning: the widget marks it without reading the text.
          ...(reply.tone ? { tone: reply.tone } : {}),
          // The step picture to draw inside the message (`step3`), when the reply has one.
          ...(reply.picture ? { picture: reply.picture } : {}),
          quick_replies: reply.quickReplies ?? [],
          progress: result.progress ?? null,
          state: result.state,
          // The script and wording of the text, so the widget can show its own labels the same way.
          script: result.script,
          intent: result.intent,
          askRating: last && result.askRating,
          // What the widget sends back with a rating, so it lands on this answer.
          answerSeq: last ? (result.answerSeq ?? null) : null,
          // Which of the turn's frames that answer was, to show the rating under it.
          answerIndex: last ? (result.answerIndex ?? null) : null,
        },
      });
    }
  });
  return {
    controller,
    adapter,
    async close() {
      await adapter.close();
    },
  };
}
