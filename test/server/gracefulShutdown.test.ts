import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadContent } from '../../src/content/loadContent.js';
import type { QuickReplyOut, Reply } from '../../src/dialogue/replyRenderer.js';
import { SecretRedactor } from '../../src/nlu/secretRedactor.js';
import { freePort, noRateLimits, startServerProcess, stopServerProcesses, type ServerProcess } from '../support/serverProcess.js';

/** A clean shutdown with nothing stuck takes well under this (main.ts forces an exit at 10 s). */
const exitBoundMs = 5_000;

type QuickReply = QuickReplyOut;
interface TurnBody {
  replies: Reply[];
  state: string;
}
interface Conversation {
  id: string;
  token: string;
  /** The buttons of the latest acknowledged answer. */
  replies: Reply[];
  /** Display texts of the messages the server answered with a 200, in order. */
  acknowledged: string[];
}
interface Message {
  text: string;
  displayText: string;
}

const redactor = new SecretRedactor(loadContent().lexicon);
const dirs: string[] = [];
const sockets: WebSocket[] = [];

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await stopServerProcesses();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface StartedServer {
  server: ServerProcess;
  databaseFile: string;
}

async function startServer(): Promise<StartedServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bot-shutdown-'));
  dirs.push(dir);
  const databaseFile = path.join(dir, 'chatbot.db');
  const server = await startServerProcess({ port: await freePort(), databaseFile, env: noRateLimits });
  return { server, databaseFile };
}

/** The first button of the latest answer that has buttons, sent the way the widget sends a click. */
function tapFirstButton(conversation: Conversation): Message {
  const button = [...conversation.replies].reverse().find((reply) => reply.quickReplies?.length)?.quickReplies?.[0];
  if (!button) throw new Error(`no quick reply to tap in ${JSON.stringify(conversation.replies)}`);
  return { text: button.payload, displayText: button.title };
}

async function createConversation(baseUrl: string): Promise<Conversation> {
  const response = await fetch(`${baseUrl}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(response.status).toBe(201);
  const body = (await response.json()) as { id: string; token: string; replies: Reply[] };
  return { id: body.id, token: body.token, replies: body.replies, acknowledged: [] };
}

function acknowledge(conversation: Conversation, message: Message, body: TurnBody): void {
  conversation.acknowledged.push(message.displayText);
  conversation.replies = body.replies;
}

/** One REST turn; resolves with the status and body, or with the network error that replaced them. */
async function sendTurn(baseUrl: string, conversation: Conversation, message: Message): Promise<{ status: number; body: TurnBody } | { error: string }> {
  try {
    const response = await fetch(`${baseUrl}/api/conversations/${conversation.id}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${conversation.token}` },
      body: JSON.stringify(message),
    });
    return { status: response.status, body: (await response.json()) as TurnBody };
  } catch (error) {
    return { error: String((error as { cause?: { code?: string } }).cause?.code ?? error) };
  }
}

interface SlowTurn {
  /** Sends the rest of the body and waits for the answer. */
  finish(): Promise<{ status: number; body: TurnBody }>;
  answered(): boolean;
}

/**
 * A turn the server is provably in the middle of: the request asks for `100 Continue`, which the
 * server only sends once it has read the headers and handed the request to the app; then half
 * the body goes out and the app waits for the rest.
 */
function startSlowTurn(baseUrl: string, agent: http.Agent, conversation: Conversation, message: Message): Promise<SlowTurn> {
  const body = Buffer.from(JSON.stringify(message));
  const half = Math.floor(body.length / 2);
  return new Promise((resolveStarted, rejectStarted) => {
    const request = http.request(`${baseUrl}/api/conversations/${conversation.id}/messages`, {
      method: 'POST',
      agent,
      headers: {
        'content-type': 'application/json',
        'content-length': body.length,
        authorization: `Bearer ${conversation.token}`,
        expect: '100-continue',
      },
    });
    let answered = false;
    const result = new Promise<{ status: number; body: TurnBody }>((resolve, reject) => {
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          answered = true;
          resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as TurnBody });
        });
      });
      request.on('error', reject);
    });
    result.catch(rejectStarted);
    request.on('continue', () => {
      request.write(body.subarray(0, half));
      resolveStarted({
        finish() {
          request.end(body.subarray(half));
          return result;
        },
        answered: () => answered,
      });
    });
    request.flushHeaders();
  });
}

interface Socket {
  ws: WebSocket;
  closed: Promise<number>;
}

/** A widget: a websocket that said hello with the conversation's token and got `ready`. */
async function openSocket(wsUrl: string, conversation: Conversation): Promise<Socket> {
  const ws = new WebSocket(wsUrl);
  sockets.push(ws);
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello', conversation: conversation.id, token: conversation.token })));
    ws.on('message', (data) => {
      if ((JSON.parse(data.toString()) as { type: string }).type === 'ready') resolve();
    });
  });
  return { ws, closed };
}

/**
 * Whether the port still listens: the kernel completes a handshake for a listening socket before
 * the app accepts. A reset during the handshake is the listener closing under the attempt.
 */
function tryConnect(port: number): Promise<'accepted' | 'refused'> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET' ? resolve('refused') : reject(error)));
  });
}

/**
 * Connects until the port refuses. Closing a listening socket emits no event a client can see,
 * so the refused connection is the event; each attempt is one round trip, no timer involved.
 */
async function untilRefused(port: number, withinMs: number): Promise<number> {
  const deadline = performance.now() + withinMs;
  let accepted = 0;
  while ((await tryConnect(port)) === 'accepted') {
    accepted++;
    if (performance.now() > deadline) throw new Error(`port ${port} still accepted connections ${withinMs} ms into the shutdown (${accepted} accepted)`);
  }
  return accepted;
}

interface DatabaseAfterExit {
  walBytes: number | undefined;
  integrity: string[];
  userLines(conversationId: string): string[];
  close(): void;
}

/** Looks at the file the server left: the -wal first (opening the database may change it), then the content. */
function inspectDatabase(databaseFile: string): DatabaseAfterExit {
  const wal = `${databaseFile}-wal`;
  const walBytes = existsSync(wal) ? statSync(wal).size : undefined;
  const db = new Database(databaseFile);
  const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((row) => row.integrity_check);
  const lines = db.prepare<[string], { text: string }>("SELECT text FROM transcript WHERE conversation_id = ? AND role = 'user' ORDER BY seq");
  return {
    walBytes,
    integrity,
    userLines: (conversationId) => lines.all(conversationId).map((row) => row.text),
    close: () => db.close(),
  };
}

describe('graceful shutdown on SIGTERM', () => {
  // One server per test (each is stopped for good); started side by side because start-up is the slow part.
  let servers: StartedServer[] = [];
  beforeAll(async () => {
    servers = await Promise.all([startServer(), startServer()]);
  }, 120_000);

  it('stops accepting, answers the turns in flight, closes websockets with 1001 and the database, and exits 0', { timeout: 60_000 }, async () => {
    const { server, databaseFile } = servers[0]!;
    const conversations = await Promise.all(Array.from({ length: 12 }, () => createConversation(server.baseUrl)));
    for (const conversation of conversations) {
      const message = tapFirstButton(conversation);
      const answer = await sendTurn(server.baseUrl, conversation, message);
      expect(answer).toMatchObject({ status: 200 });
      if ('body' in answer) acknowledge(conversation, message, answer.body);
    }
    const widgets = await Promise.all(conversations.slice(0, 3).map((conversation) => openSocket(server.wsUrl, conversation)));

    // Four turns the server has begun (headers read, body half there) and eight fired at once.
    const agent = new http.Agent({ keepAlive: true });
    const slowConversations = conversations.slice(0, 4);
    const slowMessages = slowConversations.map(tapFirstButton);
    const slowTurns = await Promise.all(slowConversations.map((conversation, index) => startSlowTurn(server.baseUrl, agent, conversation, slowMessages[index]!)));
    const burstConversations = conversations.slice(4);
    const burstMessages = burstConversations.map(tapFirstButton);
    const burst = burstConversations.map((conversation, index) => sendTurn(server.baseUrl, conversation, burstMessages[index]!));
    // The signal lands while the server works through the burst.
    await Promise.race(burst);
    const signalled = performance.now();
    server.child.kill('SIGTERM');

    // Every widget is told the server is going away.
    expect(await Promise.all(widgets.map((widget) => widget.closed))).toEqual([1001, 1001, 1001]);
    // The port stops taking connections while the begun turns are still waiting for their bodies.
    await untilRefused(server.port, exitBoundMs);
    expect(slowTurns.map((turn) => turn.answered())).toEqual([false, false, false, false]);

    const slowAnswers = await Promise.all(slowTurns.map((turn) => turn.finish()));
    expect(slowAnswers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    slowAnswers.forEach((answer, index) => acknowledge(slowConversations[index]!, slowMessages[index]!, answer.body));

    // A burst turn either got its answer or never reached the app; none may end in an HTTP error.
    const burstAnswers = await Promise.all(burst);
    const lostInBurst: string[] = [];
    burstAnswers.forEach((answer, index) => {
      if ('error' in answer) lostInBurst.push(answer.error);
      else {
        expect(answer.status).toBe(200);
        acknowledge(burstConversations[index]!, burstMessages[index]!, answer.body);
      }
    });

    const exit = await server.exited;
    const exitMs = performance.now() - signalled;
    agent.destroy();
    console.info(
      `graceful shutdown: exit ${Math.round(exitMs)} ms after SIGTERM; burst of ${burst.length}: ${burst.length - lostInBurst.length} answered, ` +
        `lost without an answer: ${lostInBurst.join(', ') || 'none'}`,
    );
    expect(exit).toEqual({ code: 0, signal: null });
    expect(exitMs, `exited ${Math.round(exitMs)} ms after SIGTERM`).toBeLessThan(exitBoundMs);

    // Closed cleanly: the last connection's close checkpoints the WAL into the file and removes it.
    const db = inspectDatabase(databaseFile);
    try {
      expect(db.walBytes ?? 0).toBe(0);
      expect(db.integrity).toEqual(['ok']);
      // Every acknowledged message is stored, and nothing that went unanswered is.
      for (const conversation of conversations) {
        expect(db.userLines(conversation.id), conversation.id).toEqual(conversation.acknowledged.map((text) => redactor.redact(text).text));
      }
    } finally {
      db.close();
    }
  });

  it('a websocket peer that never answers the close handshake holds neither the port open nor the exit', { timeout: 60_000 }, async () => {
    const { server, databaseFile } = servers[1]!;
    const [first, second] = await Promise.all([createConversation(server.baseUrl), createConversation(server.baseUrl)]);
    const widget = await openSocket(server.wsUrl, first!);
    // A phone that went to sleep: the TCP connection is up, nothing is read, no close frame comes back.
    const asleep = await openSocket(server.wsUrl, second!);
    asleep.ws.pause();

    const signalled = performance.now();
    server.child.kill('SIGTERM');
    expect(await widget.closed).toBe(1001);
    // Shutdown has begun (the awake widget was told): a new connection must be refused now.
    expect.soft(await tryConnect(server.port), 'a new connection after the shutdown began').toBe('refused');

    const exit = await server.exited;
    const exitMs = performance.now() - signalled;
    expect.soft({ ...exit, withinBound: exitMs < exitBoundMs }, `exited ${Math.round(exitMs)} ms after SIGTERM`).toEqual({ code: 0, signal: null, withinBound: true });
    asleep.ws.resume();
    expect(await asleep.closed).toBe(1001);

    const db = inspectDatabase(databaseFile);
    try {
      expect(db.integrity).toEqual(['ok']);
      expect.soft(db.walBytes ?? 0, 'WAL left behind: the database was not closed').toBe(0);
    } finally {
      db.close();
    }
  });
});
