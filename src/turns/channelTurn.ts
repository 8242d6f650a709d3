/**
 * One user message of a channel (REST or the websocket) through the dialogue engine: the turn, its
 * log line, and what a refused or failed turn means, decided in one place so both channels behave
 * alike. Each channel only puts the outcome into its own wire format (an HTTP status, a frame).
 * Lives outside server/ and channels/ so that neither imports the other's modules.
 */
import type { Logger } from 'pino';
import { ConversationGoneError } from '../dialogue/conversationStore.js';
import { DialogueInputError, type DialogueEngine, type MessageOptions, type TurnResult } from '../dialogue/dialogueEngine.js';
import { RateLimitedError } from '../limits/rateLimiter.js';
import { AccessRefusedError, type AccessResult } from '../storage/identityStore.js';
import { isStorageFailure, storageUnavailable } from '../storage/storageFailure.js';

export type TurnChannel = 'rest' | 'websocket';

/** Why a message took no turn; nothing of it was saved. */
export type TurnRefusal =
  /** The sender may not write here (REST checks the token in the turn's own read). */
  | { reason: 'access'; access: Exclude<AccessResult, 'ok'> }
  | { reason: 'rate_limited'; code: 'rate_limited'; message: string; retryAfterSeconds: number }
  | { reason: 'invalid_input'; code: DialogueInputError['code']; message: string }
  /** Deleted (by its owner elsewhere, or an admin) while the message was on its way. */
  | { reason: 'conversation_gone'; code: 'conversation_not_found'; message: string }
  /** The database refused the write; usually passing, so the user may send it again. */
  | { reason: 'storage_unavailable'; code: typeof storageUnavailable.code; message: string }
  /** A bug or a turn the flows could not complete; logged with its error. */
  | { reason: 'failed'; code: 'turn_failed'; message: string };

export type ChannelTurnOutcome =
  /** The turn ran, or (`result.duplicate`) the same message had already taken it. */
  | { taken: true; result: TurnResult }
  | { taken: false; refusal: TurnRefusal };

export interface ChannelTurnRequest {
  conversationId: string;
  channel: TurnChannel;
  text: unknown;
  displayText?: string | undefined;
  options?: MessageOptions;
}

/** Runs the turn and writes its log line (with `log`'s request id); never throws for what a client did. */
export async function runChannelTurn(engine: DialogueEngine, log: Logger, { conversationId, channel, text, displayText, options = {} }: ChannelTurnRequest): Promise<ChannelTurnOutcome> {
  const started = performance.now();
  let result: TurnResult;
  try {
    result = await engine.handleMessage(conversationId, text, displayText, options);
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal.reason === 'storage_unavailable') log.error({ err: error, conversationId, channel }, 'storage failure');
    if (refusal.reason === 'failed') log.error({ err: error, conversationId, channel }, 'turn failed');
    return { taken: false, refusal };
  }
  if (result.duplicate) log.info({ conversationId, channel, userSeq: result.userMessage.seq }, 'message resent');
  else log.info(turnLogLine(conversationId, channel, result, performance.now() - started), 'turn');
  return { taken: true, result };
}

/** What an error thrown on a message's way through the engine (or a limit spent before it) means for the sender. */
export function refusalOf(error: unknown): TurnRefusal {
  if (error instanceof AccessRefusedError) return { reason: 'access', access: error.access };
  if (error instanceof RateLimitedError) return { reason: 'rate_limited', code: 'rate_limited', message: error.message, retryAfterSeconds: error.retryAfterSeconds };
  if (error instanceof DialogueInputError) return { reason: 'invalid_input', code: error.code, message: error.message };
  if (error instanceof ConversationGoneError) return { reason: 'conversation_gone', code: 'conversation_not_found', message: error.message };
  if (isStorageFailure(error)) return { reason: 'storage_unavailable', ...storageUnavailable };
  return { reason: 'failed', code: 'turn_failed', message: 'this message could not be processed; please try again' };
}

/** What a turn did, for the logs: enough to follow a conversation, nothing the user typed. */
export function turnLogLine(conversationId: string, channel: TurnChannel, result: TurnResult, ms: number) {
  return {
    conversationId,
    channel,
    intent: result.intent.name,
    confidence: result.intent.confidence,
    event: result.event,
    state: result.state,
    ...(result.progress ? { step: result.progress.step } : {}),
    ...(result.handoff ? { handoff: result.handoff.reason } : {}),
    replies: result.replies.length,
    ms: Number(ms.toFixed(1)),
  };
}
