import type { Content } from '../content/loadContent.js';
import { MemoryConversationStore } from '../dialogue/conversationStore.js';
import { DialogueEngine, turnForClients, type ClientTurn } from '../dialogue/dialogueEngine.js';
import type { Reply } from '../dialogue/replyRenderer.js';

/** One bot turn as the runner sees it, in-process or over REST: the REST response's shape. */
export type BotTurn = ClientTurn;

export interface BotSession {
  /** The greeting the conversation opened with. */
  greeting: Reply[];
  send(text: string, displayText?: string): Promise<BotTurn>;
}

export interface BotClient {
  /** Where the bot runs, for reports: "in-process" or the URL. */
  readonly target: string;
  open(): Promise<BotSession>;
}

let nextId = 0;

/** The bot in this process, on a memory store: fast, and needs no server. */
export class InProcessBotClient implements BotClient {
  readonly target = 'in-process';
  private readonly engine: DialogueEngine;

  constructor(content: Content) {
    this.engine = new DialogueEngine({ content, store: new MemoryConversationStore(), logger: { warn: () => undefined } });
  }

  async open(): Promise<BotSession> {
    const id = `qa-${process.pid}-${++nextId}`;
    const greeting = await this.engine.startConversation(id);
    return {
      greeting,
      send: async (text, displayText) => turnForClients(await this.engine.handleMessage(id, text, displayText)),
    };
  }
}

/** A running server (staging, a local `npm start`) through its REST API. */
export class RestBotClient implements BotClient {
  constructor(readonly target: string) {}

  async open(): Promise<BotSession> {
    const created = await this.request('POST', '/api/conversations', {});
    const { id, token, replies } = created as { id: string; token: string; replies?: Reply[] };
    return {
      greeting: replies ?? [],
      send: async (text, displayText) =>
        (await this.request('POST', `/api/conversations/${encodeURIComponent(id)}/messages`, displayText ? { text, displayText } : { text }, token)) as BotTurn,
    };
  }

  /**
   * A 429 means the message was not taken: wait as long as the server asks and send it again, so a
   * suite run against a rate-limited server is slower, not red.
   */
  private async request(method: string, path: string, body: unknown, token?: string): Promise<unknown> {
    const url = new URL(path, this.target.endsWith('/') ? this.target : `${this.target}/`);
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      try {
        response = await fetch(url, {
          method,
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(15_000),
        });
      } catch (error) {
        throw new Error(`${method} ${url.href} failed: ${(error as Error).message}`);
      }
      const payload = (await response.json().catch(() => ({}))) as { error?: { code: string; message: string } };
      if (response.status === 429 && attempt < maxRateLimitedAttempts) {
        const seconds = Math.min(60, Math.max(1, Number(response.headers.get('retry-after')) || 1));
        await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
        continue;
      }
      if (!response.ok) throw new Error(`${method} ${url.pathname} answered ${response.status}: ${payload.error?.message ?? 'no error body'}`);
      return payload;
    }
  }
}

const maxRateLimitedAttempts = 10;
