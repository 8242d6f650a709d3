import autocannon from 'autocannon';
import type { Conversation, ScriptStep } from './conversationScript.js';
import { summarize, type LatencySummary } from './latencyStats.js';

export interface ScriptedLoadOptions {
  baseUrl: string;
  connections: number;
  /** Length of the measured window, which starts once every connection has had an answer. */
  measureSeconds: number;
  /** Give up waiting for every connection to be served after this long, and measure anyway. */
  maxRampSeconds: number;
  script: readonly ScriptStep[];
  /** Conversations to walk; at least one per connection (a connection holds one for a whole round). */
  conversations: readonly Conversation[];
  /** Check each answer's `state` against the script (the bot); off for the bare route. */
  checkStates: boolean;
  /** Also push every latency sample of the window here (to pool several runs). */
  collect?: number[];
  /** The conversations' pool, when several runs at once (one per instance) share it; else made from `conversations`. */
  pool?: ConversationPool;
}

export interface ScriptedLoadResult {
  connections: number;
  /**
   * Seconds from the start until every connection had its first answer (null: not within
   * maxRampSeconds). A saturated Node server accepts one new connection per event-loop turn, so
   * with many connections this takes a while; only after it are all conversations running.
   */
  rampSeconds: number | null;
  /** Connections that had been served when the window started (all of them unless the ramp timed out). */
  servedAtWindowStart: number;
  windowSeconds: number;
  /** 2xx answers per second in the window. */
  perSecond: number;
  ok: number;
  /** In the window. */
  non2xx: number;
  /** Connection errors in the whole run (ramp included), timeouts included. */
  errors: number;
  timeouts: number;
  /** 2xx answers (whole run) whose state was not the one the script expects there. */
  offScript: number;
  /** Rounds that found no free conversation and shared one (only after lost answers). */
  sharedConversations: number;
  /** Of 2xx answers in the window, from autocannon's per-request timings (sub-millisecond, not its 1 ms histogram). */
  latency: LatencySummary;
}

/**
 * Conversations handed to connections one script round at a time: a connection takes one at the
 * first message and gives it back after the last, which leaves it idle and ready for another round.
 */
export class ConversationPool {
  private readonly free: Conversation[];
  private next = 0;
  shared = 0;

  constructor(private readonly all: readonly Conversation[]) {
    this.free = [...all];
  }

  take(): Conversation {
    const conversation = this.free.pop();
    if (conversation) return conversation;
    // Only when answers were lost (a timeout ends a round early and keeps its conversation).
    this.shared++;
    return this.all[this.next++ % this.all.length]!;
  }

  giveBack(conversation: Conversation): void {
    this.free.push(conversation);
  }
}

/**
 * Many conversations at once, each walking the whole script: every autocannon connection cycles
 * through `script` (one request per message), and `setupRequest` puts the connection's current
 * conversation id, its bearer token and the message body on each request. Measures a steady
 * window of `measureSeconds` once every connection is being served.
 */
export function runScriptedLoad({ baseUrl, connections, measureSeconds, maxRampSeconds, script, conversations, checkStates, collect, pool = new ConversationPool(conversations) }: ScriptedLoadOptions): Promise<ScriptedLoadResult> {
  if (conversations.length < connections) throw new Error(`${connections} connections need at least as many conversations, got ${conversations.length}`);
  let offScript = 0;
  const last = script.length - 1;

  const requests: autocannon.Request[] = script.map((step, index) => ({
    method: 'POST',
    setupRequest: (request, context) => {
      // The context is reset when a connection starts the script again, so a round takes a conversation here.
      if (index === 0) context.conversation = pool.take();
      const conversation = context.conversation as Conversation;
      return {
        ...request,
        path: `/api/conversations/${conversation.id}/messages`,
        headers: { ...request.headers, 'content-type': 'application/json', authorization: `Bearer ${conversation.token}` },
        body: step.body,
      };
    },
    onResponse: (status, body, context) => {
      if (checkStates && status >= 200 && status < 300) {
        let state: unknown;
        try {
          state = (JSON.parse(body) as { state?: unknown }).state;
        } catch {
          state = undefined;
        }
        if (state !== step.state) offScript++;
      }
      if (index === last) pool.giveBack(context.conversation as Conversation);
    },
  }));

  const started = performance.now();
  const served = new Set<unknown>();
  let phase: 'ramp' | 'window' | 'done' = 'ramp';
  let rampEnd: number | undefined;
  let windowStart = 0;
  let windowEnd = 0;
  let servedAtWindowStart = 0;
  let ok = 0;
  let non2xx = 0;
  const samples: number[] = [];

  return new Promise<ScriptedLoadResult>((resolve, reject) => {
    // autocannon's own duration is only the upper bound; the window below stops it earlier.
    const instance = autocannon(
      // A connection still waiting to be accepted must not time out and queue up again: 30 s.
      { url: baseUrl, connections, duration: maxRampSeconds + measureSeconds + 5, timeout: 30, requests },
      (error, result) => {
        clearInterval(clock);
        if (error) return reject(error);
        if (phase !== 'done') windowEnd = performance.now();
        const windowSeconds = (windowEnd - windowStart) / 1000;
        resolve({
          connections,
          rampSeconds: rampEnd === undefined ? null : (rampEnd - started) / 1000,
          servedAtWindowStart,
          windowSeconds,
          perSecond: ok / windowSeconds,
          ok,
          non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          offScript,
          sharedConversations: pool.shared,
          latency: summarize(samples),
        });
      },
    );
    instance.on('response', (client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (!served.has(client)) {
        served.add(client);
        if (served.size === connections) rampEnd = performance.now();
      }
      if (phase !== 'window') return;
      if (statusCode >= 200 && statusCode < 300) {
        ok++;
        samples.push(responseTime);
        collect?.push(responseTime);
      } else non2xx++;
    });
    const clock = setInterval(() => {
      const now = performance.now();
      if (phase === 'ramp' && (rampEnd !== undefined || now - started >= maxRampSeconds * 1000)) {
        phase = 'window';
        windowStart = now;
        servedAtWindowStart = served.size;
      } else if (phase === 'window' && now - windowStart >= measureSeconds * 1000) {
        phase = 'done';
        windowEnd = now;
        instance.stop();
      }
    }, 20);
  });
}

/**
 * The same load spread over several instances of the server, as a balancer that hands each new
 * connection to the next instance would: the connections are dealt out evenly, and they share one
 * pool of conversations, so a conversation walks its rounds on whichever instance's connection takes
 * it next (no stickiness). One autocannon per instance, all at once; their windows are added up.
 */
export async function runScriptedLoadSpread(options: Omit<ScriptedLoadOptions, 'baseUrl'> & { baseUrls: readonly string[] }): Promise<ScriptedLoadResult> {
  const { baseUrls, connections } = options;
  const pool = new ConversationPool(options.conversations);
  const samples: number[] = [];
  const runs = await Promise.all(
    baseUrls.map((baseUrl, index) => {
      const share = Math.floor(connections / baseUrls.length) + (index < connections % baseUrls.length ? 1 : 0);
      return runScriptedLoad({ ...options, baseUrl, connections: share, pool, collect: samples });
    }),
  );
  options.collect?.push(...samples);
  const sum = (pick: (run: ScriptedLoadResult) => number) => runs.reduce((total, run) => total + pick(run), 0);
  return {
    connections,
    rampSeconds: runs.some((run) => run.rampSeconds === null) ? null : Math.max(...runs.map((run) => run.rampSeconds!)),
    servedAtWindowStart: sum((run) => run.servedAtWindowStart),
    windowSeconds: Math.max(...runs.map((run) => run.windowSeconds)),
    perSecond: sum((run) => run.perSecond),
    ok: sum((run) => run.ok),
    non2xx: sum((run) => run.non2xx),
    errors: sum((run) => run.errors),
    timeouts: sum((run) => run.timeouts),
    offScript: sum((run) => run.offScript),
    sharedConversations: pool.shared,
    latency: summarize(samples),
  };
}
