import { createActor, type AnyActorRef, type AnyMachineSnapshot, type AnyStateNode, type Snapshot } from 'xstate';
import { conversationMachine, type ConversationEmitted } from '../../flows/conversationMachine.js';
import type { HandoffReason, SayEvent } from '../../flows/events.js';
import type { Content } from '../content/loadContent.js';
import { MessageParser, type ParserOptions } from '../nlu/index.js';
import type { ConversationState, ConversationStore, TranscriptEntry, TurnRecord } from './conversationStore.js';
import { eventFromParse } from './eventFromParse.js';
import { flowVersion } from './flowVersion.js';
import { checkStoredContext } from './storedContexts.js';
import { ReplyRenderer, type Reply } from './replyRenderer.js';

/** Longest message accepted, in characters; longer text is refused rather than cut. */
export const maxMessageLength = 1000;

export type DialogueErrorCode = 'empty_text' | 'text_not_string' | 'text_too_long' | 'control_characters' | 'invalid_unicode';

/** C0 and C1 control characters other than tab and line breaks: nothing a person types or pastes means them. */
const controlCharacters = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The checks every channel applies to a message before it reaches the parser: a string, not
 * blank, at most `maxMessageLength` characters (emoji count as one), well-formed Unicode (no lone
 * surrogate halves, which cannot be stored or shown), no control characters.
 */
export function checkMessageText(text: unknown, field = 'text'): string {
  if (typeof text !== 'string') throw new DialogueInputError('text_not_string', `"${field}" must be a string`);
  if (!text.trim()) throw new DialogueInputError('empty_text', `"${field}" must not be empty`);
  if (loneSurrogate.test(text)) throw new DialogueInputError('invalid_unicode', `"${field}" contains an unpaired surrogate (invalid Unicode)`);
  // Count code points only when the UTF-16 length could be over the limit.
  if (text.length > maxMessageLength && [...text].length > maxMessageLength) {
    throw new DialogueInputError('text_too_long', `"${field}" is longer than ${maxMessageLength} characters`);
  }
  if (controlCharacters.test(text)) throw new DialogueInputError('control_characters', `"${field}" contains control characters`);
  return text;
}

/** A message the bot refuses before it reaches a flow; the conversation is left untouched. */
export class DialogueInputError extends Error {
  override name = 'DialogueInputError';
  constructor(
    readonly code: DialogueErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** A turn the flows could not complete; the conversation is left as it was before the turn. */
export class DialogueTurnError extends Error {
  override name = 'DialogueTurnError';
  constructor(
    readonly conversationId: string,
    cause: unknown,
  ) {
    super(`turn failed in conversation ${conversationId}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export function isDialogueInputError(error: unknown): error is DialogueInputError {
  return error instanceof DialogueInputError;
}

export interface TurnResult {
  replies: Reply[];
  intent: { name: string; confidence: number };
  /** Where the conversation now is, e.g. "unbinding.openPay" or "unbinding.confirmUnbind.verifying.guidingMethod". */
  state: string;
  /** The numbered unbinding step the user is on, when inside it. */
  progress?: { step: number; total: number };
  /** Set on the turn the conversation was handed to a human. */
  handoff?: { reason: HandoffReason; step: number };
  /** The flow event this message became (`user.affirm`, `nlu.fallback` …), for QA coverage. */
  event: string;
  /** The bot gave an answer or finished the unbinding: offer the one-tap "helpful?" rating. */
  askRating: boolean;
}

/** A turn as clients receive it (REST, the QA runner): absent optionals become explicit nulls. */
export function turnForClients(result: TurnResult) {
  return {
    replies: result.replies,
    intent: result.intent,
    state: result.state,
    progress: result.progress ?? null,
    handoff: result.handoff ?? null,
    event: result.event,
    askRating: result.askRating,
  };
}

export type ClientTurn = ReturnType<typeof turnForClients>;

export interface Logger {
  warn(message: string, details?: Record<string, unknown>): void;
}

export interface DialogueOptions {
  content: Content;
  store: ConversationStore;
  parser?: Partial<ParserOptions>;
  logger?: Logger;
  now?: () => Date;
  /** Called after every completed turn (metrics, webhook), with its duration in seconds. */
  onTurn?: (result: TurnResult, seconds: number) => void;
}

/** "unbinding.confirmUnbind.verifying.guidingMethod": the root state followed by each active child's. */
export function describeState(snapshot: { value: unknown; children: Record<string, AnyActorRef | undefined> }): string {
  const path = (value: unknown): string =>
    typeof value === 'string' ? value : Object.entries(value as Record<string, unknown>).map(([key, inner]) => `${key}.${path(inner)}`).join(',');
  const child = Object.values(snapshot.children).find((ref) => ref !== undefined);
  const own = path(snapshot.value);
  return child ? `${own}.${describeState(child.getSnapshot() as Parameters<typeof describeState>[0])}` : own;
}

/**
 * The dialogue core: one call is one turn. Restore the conversation's snapshot, send one event,
 * persist the new snapshot and the redacted transcript, return the replies.
 * Turns of one conversation run one after another; different conversations run side by side.
 */
export class DialogueEngine {
  readonly parser: MessageParser;
  private readonly renderer: ReplyRenderer;
  private readonly store: ConversationStore;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly onTurn: DialogueOptions['onTurn'];

  constructor(options: DialogueOptions) {
    this.parser = new MessageParser(options.content, options.parser);
    this.renderer = new ReplyRenderer(options.content.responses);
    this.store = options.store;
    this.logger = options.logger ?? { warn: (message, details) => console.warn(message, details ?? '') };
    this.now = options.now ?? (() => new Date());
    this.onTurn = options.onTurn;
  }

  /** The greeting a new conversation opens with. */
  welcome(): Reply[] {
    return [this.renderer.render({ key: 'greet' }, 'simplified')];
  }

  /** Opens a conversation: its first state and the greeting, so a transcript starts where the user's screen does. */
  async startConversation(conversationId: string): Promise<Reply[]> {
    const replies = this.welcome();
    const actor = createActor(conversationMachine).start();
    const snapshot = actor.getPersistedSnapshot();
    actor.stop();
    const at = this.now().toISOString();
    await this.store.saveTurn(conversationId, {
      state: { flowVersion, snapshot, script: 'simplified' },
      entries: replies.map((reply): TranscriptEntry => ({ role: 'bot', text: reply.text, at, ...(reply.quickReplies ? { quickReplies: reply.quickReplies } : {}) })),
    });
    return replies;
  }

  /**
   * @param displayText what the user saw themselves send, when it differs from `text` (the title of
   *   a clicked quick reply whose payload is `/affirm`); it is what the transcript shows.
   */
  handleMessage(conversationId: string, text: unknown, displayText?: string): Promise<TurnResult> {
    // Validate before queueing so bad input costs nothing and never touches the conversation.
    let message: string;
    try {
      message = checkMessageText(text);
      if (displayText) checkMessageText(displayText, 'displayText');
    } catch (error) {
      return Promise.reject(error);
    }
    const previous = this.queues.get(conversationId) ?? Promise.resolve();
    const turn = previous.catch(() => undefined).then(() => this.runTurn(conversationId, message, displayText));
    this.queues.set(conversationId, turn);
    void turn.finally(() => {
      if (this.queues.get(conversationId) === turn) this.queues.delete(conversationId);
    }).catch(() => undefined);
    return turn;
  }

  /** Where a conversation stands, without taking a turn (for a widget restoring its view). */
  async describe(conversationId: string): Promise<Pick<TurnResult, 'state' | 'progress'>> {
    const stored = await this.store.load(conversationId);
    const { actor } = this.restore(conversationId, stored, () => undefined);
    const snapshot = actor.getSnapshot();
    // Before stop: a stopped actor's children are gone, and with them the inner verification step.
    const state = describeState(snapshot);
    actor.stop();
    const { step, totalSteps } = snapshot.context;
    return step > 0 && snapshot.value === 'unbinding' ? { state, progress: { step, total: totalSteps } } : { state };
  }

  /** Resolves when every turn under way has finished (saved or failed): for a clean shutdown. */
  async drain(): Promise<void> {
    while (this.queues.size > 0) await Promise.allSettled([...this.queues.values()]);
  }

  transcript(conversationId: string): Promise<TranscriptEntry[]> {
    return this.store.transcript(conversationId);
  }

  private async runTurn(conversationId: string, text: string, displayText: string | undefined): Promise<TurnResult> {
    const started = performance.now();
    const stored = await this.store.load(conversationId);
    // "还有余额" typed is the "还有余额" button: its meaning here is the button's, not a guess.
    const typedButton = stored?.lastQuickReplies?.find((button) => this.parser.sameWords(button.title, text));
    if (typedButton && displayText === undefined) {
      displayText = text;
      text = typedButton.payload;
    }
    const parse = this.parser.parse(text, { expectedIntents: expectedIntentsIn(stored) });
    const script = parse.script ?? stored?.script ?? 'simplified';

    const said: SayEvent[] = [];
    let handoff: TurnResult['handoff'];
    const { actor, restarted } = this.restore(conversationId, stored, (actor) => {
      actor.on('bot.say', (event) => said.push(event));
      actor.on('bot.handoff', (event: Extract<ConversationEmitted, { type: 'bot.handoff' }>) => {
        handoff = { reason: event.reason, step: event.step };
      });
    });
    if (restarted) said.push({ type: 'bot.say', key: 'conversationUpdated' });
    const stateBefore = describeState(actor.getSnapshot());
    const event = eventFromParse(parse);
    actor.send(event);
    this.failIfErrored(actor, conversationId);
    if (said.length === (restarted ? 1 : 0)) {
      // Every flow state answers every event (a test walks them all); this guards content drift.
      this.logger.warn('no reply from flows', { conversationId, event: event.type, state: describeState(actor.getSnapshot()) });
      said.push({ type: 'bot.say', key: 'notHandled' });
      actor.send({ type: 'flow.resume' } as never);
      this.failIfErrored(actor, conversationId);
    }
    const snapshot = actor.getSnapshot();
    const persisted = actor.getPersistedSnapshot();
    const state = describeState(snapshot);
    const { step, totalSteps } = snapshot.context;
    actor.stop();

    const replies: Reply[] = [];
    if (parse.secrets.length) replies.push(this.renderer.render({ key: 'secretWarning' }, script));
    for (const say of said) replies.push(this.renderer.render(say, script));

    const at = this.now().toISOString();
    const intent = { name: parse.intent.name, confidence: Number(parse.intent.confidence.toFixed(4)) };
    // A payload's label is shown instead of "/affirm", redacted like anything the user typed.
    const userLine = parse.fromPayload && displayText?.trim() ? this.parser.redact(displayText.slice(0, maxMessageLength)) : parse.redactedText;
    const entries: TranscriptEntry[] = [
      { role: 'user', text: userLine, at, intent },
      ...replies.map((reply): TranscriptEntry => (reply.quickReplies ? { role: 'bot', text: reply.text, at, quickReplies: reply.quickReplies } : { role: 'bot', text: reply.text, at })),
    ];
    const lastButtons = replies.at(-1)?.quickReplies;
    const newState: ConversationState = lastButtons ? { flowVersion, snapshot: persisted, script, lastQuickReplies: lastButtons } : { flowVersion, snapshot: persisted, script };
    const record: TurnRecord = {
      at,
      text: userLine,
      fromPayload: parse.fromPayload,
      intent: intent.name,
      confidence: intent.confidence,
      event: event.type,
      stateBefore,
      stateAfter: state,
      step: snapshot.value === 'unbinding' ? step : 0,
      said: said.map((say) => say.key),
    };
    await this.store.saveTurn(conversationId, {
      state: newState,
      entries,
      record,
      ...(handoff ? { ticket: { conversationId, reason: handoff.reason, step: handoff.step, state, createdAt: at } } : {}),
    });

    const answered = said.some(({ key }) => key.startsWith('faq.') || key === 'unbind.completed' || key === 'verify.standalonePassed');
    const result: TurnResult = { replies, intent, state, event: event.type, askRating: answered };
    if (step > 0 && snapshot.value === 'unbinding') result.progress = { step, total: totalSteps };
    if (handoff) result.handoff = handoff;
    this.onTurn?.(result, (performance.now() - started) / 1000);
    return result;
  }

  /**
   * Restores the stored snapshot. One written by other flows is tried as it is; if it no longer
   * fits, the conversation starts over with a note to the user instead of failing the turn.
   */
  /** A flow that throws leaves its actor in error: the turn fails and nothing is saved. */
  private failIfErrored(actor: ConversationActor, conversationId: string): void {
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== 'error') return;
    actor.stop();
    throw new DialogueTurnError(conversationId, snapshot.error);
  }

  private restore(conversationId: string, stored: ConversationState | undefined, listen: (actor: ConversationActor) => void) {
    const start = (actor: ConversationActor) => {
      listen(actor);
      // Without an error observer xstate rethrows a flow's error later, outside this turn.
      actor.subscribe({ error: () => undefined });
      return actor.start();
    };
    if (stored) {
      try {
        const value = (stored.snapshot as { value?: unknown } | null)?.value;
        if (!isKnownState(value)) throw new Error(`state ${JSON.stringify(value)} is not in the current flows`);
        const actor = start(createActor(conversationMachine, { snapshot: stored.snapshot as Snapshot<unknown> }));
        const snapshot = actor.getSnapshot();
        try {
          if (snapshot.status !== 'active') throw new Error(`restored conversation is ${snapshot.status}`);
          // Touch every child (describing the state walks them), then check each flow and its
          // context, so a snapshot that no longer fits fails here, not mid-turn.
          describeState(snapshot);
          checkSnapshotFits(snapshot);
        } catch (error) {
          actor.stop();
          throw error;
        }
        return { actor, restarted: false };
      } catch (error) {
        this.logger.warn('stored conversation could not be restored; starting over', {
          conversationId,
          storedVersion: stored.flowVersion,
          flowVersion,
          error: (error as Error).message,
        });
        return { actor: start(createActor(conversationMachine)), restarted: true };
      }
    }
    return { actor: start(createActor(conversationMachine)), restarted: false };
  }
}

/** Inside a flow, the controls of that flow are what users mostly say. */
const flowControlIntents = ['affirm', 'deny', 'go_back', 'repeat', 'cancel', 'step_help', 'restart', 'verification_help'];

function expectedIntentsIn(stored: ConversationState | undefined): string[] {
  const value = (stored?.snapshot as { value?: unknown } | undefined)?.value;
  return value === 'unbinding' || value === 'verifying' ? flowControlIntents : [];
}

type ConversationActor = ReturnType<typeof createActor<typeof conversationMachine>>;

/**
 * What xstate does not check when it restores a snapshot, and a turn would trip over: each machine's
 * context is one that flow could have made, and every flow the active states invoke is there and is that flow.
 * Without its flow a state forwards the user's event to nobody, and xstate sends a target-less
 * `sendTo` back to the sender: the turn would loop forever.
 */
function checkSnapshotFits(snapshot: AnyMachineSnapshot): void {
  checkStoredContext(snapshot.machine.id, snapshot.context);
  const visit = (node: AnyStateNode, value: unknown): void => {
    for (const { id, src } of node.invoke) {
      const child = snapshot.children[id];
      if (!child) throw new Error(`flow "${id}" of state "${node.path.join('.')}" is missing`);
      if (child.src !== src) throw new Error(`flow "${id}" of state "${node.path.join('.')}" runs ${JSON.stringify(child.src)}`);
      const childSnapshot: unknown = child.getSnapshot();
      if (childSnapshot !== null && typeof childSnapshot === 'object' && 'machine' in childSnapshot) checkSnapshotFits(childSnapshot as AnyMachineSnapshot);
    }
    const inner: [string, unknown][] = typeof value === 'string' ? [[value, undefined]] : Object.entries((value ?? {}) as object);
    for (const [key, innerValue] of inner) {
      const next = node.states[key];
      if (!next) throw new Error(`state "${key}" is not in flow "${node.machine.id}"`);
      visit(next, innerValue);
    }
  };
  visit(snapshot.machine.root, snapshot.value);
}

function isKnownState(value: unknown): boolean {
  return typeof value === 'string' && value in conversationMachine.root.states;
}
