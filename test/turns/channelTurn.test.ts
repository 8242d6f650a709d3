import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ConversationGoneError } from '../../src/dialogue/conversationStore.js';
import { DialogueInputError, type DialogueEngine, type TurnResult } from '../../src/dialogue/dialogueEngine.js';
import { RateLimitedError } from '../../src/limits/rateLimiter.js';
import { createLogger } from '../../src/server/logging.js';
import { AccessRefusedError } from '../../src/storage/identityStore.js';
import { runChannelTurn } from '../../src/turns/channelTurn.js';

/** An engine whose handleMessage does what the test says: returns a result or throws. */
function engineThat(handle: () => Promise<TurnResult>): DialogueEngine {
  return { handleMessage: handle } as unknown as DialogueEngine;
}

function capturingLog() {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger(sink, 'info'), lines };
}

const sqliteFull = Object.assign(new Error('database or disk is full'), { name: 'SqliteError', code: 'SQLITE_FULL' });

describe('a channel turn: what a refused or failed message means, for REST and the websocket alike', () => {
  it.each([
    ['a wrong token', new AccessRefusedError('wrong_token'), { reason: 'access', access: 'wrong_token' }],
    ['a spent allowance', new RateLimitedError(7, 'conversation'), { reason: 'rate_limited', code: 'rate_limited', retryAfterSeconds: 7 }],
    ['text the engine refuses', new DialogueInputError('text_too_long', 'too long'), { reason: 'invalid_input', code: 'text_too_long' }],
    ['a deleted conversation', new ConversationGoneError('c1'), { reason: 'conversation_gone', code: 'conversation_not_found' }],
    ['a full disk', sqliteFull, { reason: 'storage_unavailable', code: 'storage_unavailable' }],
    ['a bug', new TypeError('x is undefined'), { reason: 'failed', code: 'turn_failed' }],
  ])('%s is a refusal the channel can put into its own words, and takes no turn', async (_what, error, refusal) => {
    const { log, lines } = capturingLog();
    const outcome = await runChannelTurn(engineThat(() => Promise.reject(error)), log, { conversationId: 'c1', channel: 'rest', text: '你好' });
    expect(outcome).toMatchObject({ taken: false, refusal });
    expect(lines.filter((line) => line.msg === 'turn')).toEqual([]);
  });

  it('logs the error of a failed or unsaved turn, and not the refusals a client caused', async () => {
    for (const [error, expected] of [[sqliteFull, ['storage failure']], [new TypeError('bug'), ['turn failed']], [new RateLimitedError(3, 'conversation'), []]] as const) {
      const { log, lines } = capturingLog();
      await runChannelTurn(engineThat(() => Promise.reject(error)), log, { conversationId: 'c1', channel: 'websocket', text: '你好' });
      expect(lines.filter((line) => line.level === 50).map((line) => line.msg)).toEqual(expected);
    }
  });

  it('writes one turn line without the text, or a resent line for a message that had already taken its turn', async () => {
    const result = { intent: { name: 'unbind_wallet', confidence: 0.9 }, event: 'UNBIND', state: 'unbinding.step1', replies: [{ id: 'unbind.intro' }], userMessage: { seq: 3 } } as unknown as TurnResult;
    const { log, lines } = capturingLog();
    expect(await runChannelTurn(engineThat(async () => result), log, { conversationId: 'c1', channel: 'rest', text: '我要解绑 6222021234567890123' })).toEqual({ taken: true, result });
    await runChannelTurn(engineThat(async () => ({ ...result, duplicate: true })), log, { conversationId: 'c1', channel: 'websocket', text: '我要解绑' });
    expect(lines.map((line) => [line.msg, line.channel])).toEqual([['turn', 'rest'], ['message resent', 'websocket']]);
    expect(lines[0]).toMatchObject({ conversationId: 'c1', intent: 'unbind_wallet', state: 'unbinding.step1', replies: 1 });
    expect(JSON.stringify(lines)).not.toContain('6222');
  });
});
