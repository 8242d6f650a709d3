import { createActor, type AnyActorRef, type AnyStateMachine, type AnyStateNode, type Snapshot } from 'xstate';
import { conversationMachine, type ConversationEmitted } from '../../flows/conversationMachine.js';
import type { AgentEvent, HandoffEnd, HandoffReason, Outcome, OutcomeEvent, SayEvent, SayParams } from '../../flows/events.js';
import { unbindStepCount } from '../../flows/unbindWalletMachine.js';
import { troubleshootingTips } from '../../flows/verificationMachine.js';
import type { Content } from '../content/loadContent.js';
import { MessageParser, detectScript, openingScript, replyScriptFor, type ParserOptions, type RedactionStep, type ReplyScript, type Script } from '../nlu/index.js';
import { TurnConflictError, type AcceptedMessage, type ConversationState, type ConversationStore, type HandoffTicket, type StoredTurn, type TranscriptEntry, type TurnContext, type TurnRecord } from './conversationStore.js';
import { eventFromParse } from './eventFromParse.js';
import { HotActors } from './hotActors.js';
import { flowVersion } from './flowVersion.js';
import { checkStoredContext, type StoredFlow } from './storedContexts.js';
import { ReplyRenderer, carryButtonsToTheQuestion, type Reply } from './replyRenderer.js';
import { activeProgress, progressAfterTurn, type Progress } from './unbindingProgress.js';

/** How often a message is run again when other processes keep saving turns of its conversation first. */
const maxTurnAttempts = 20;

/** Longest message accepted, in characters; longer text is refused rather than cut. */
export const maxMessageLength = 1000;

/**
 * A client's own id for a message (`clientMessageId`), which makes sending it again safe: 1 to 64
 * letters, digits, `_` or `-` (a UUID fits). Channels refuse anything else as a malformed request.
 */
export const clientMessageIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

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
  /** The script and wording the replies are in, for a client to show its own labels the same way. */
  script: ReplyScript;
  /**
   * The guided unbinding while it runs at a numbered step (`status: 'active'`), and on the one turn
   * it ends, where it ended and how (`done`, `cancelled`, `handed_off`, `stopped`).
   */
  progress?: Progress;
  /** Set on the turn the conversation was handed to a human. */
  handoff?: { reason: HandoffReason; step: number };
  /** The flow event this message became (`user.affirm`, `nlu.fallback` …), for QA coverage. */
  event: string;
  /** What happened, as the flows said it (an answer given, a verification failed by method …). */
  outcomes: Outcome[];
  /** The bot gave an answer or finished the unbinding: offer the one-tap "helpful?" rating. */
  askRating: boolean;
  /** An agent holds the conversation: the message went to the agent, not to the flows (no bot reply but a secret warning). */
  deliveredToAgent?: true;
  /** The conversation's handover as it stands after the turn (created, waiting, assigned or just ended). */
  ticket?: HandoffTicket;
  /** The user's line as stored (redacted; the label of a clicked button), for the sender to show instead of what it typed. */
  userMessage: StoredUserMessage;
  /** The message's clientMessageId had been taken already: this is that turn answered again, and nothing new was done. */
  duplicate?: true;
  /**
   * The transcript seq of the reply a rating offered after the turn rates: the FAQ answer itself
   * when the flow then reminds of the current step, else the turn's last reply.
   */
  answerSeq?: number;
  /** Where that reply is in `replies`, so a client shows the rating under it before it knows seqs. */
  answerIndex?: number;
  /** Set on the turn a handover ended (here: the user stopped waiting). */
  handoffEnded?: HandoffEnd;
}

export interface StoredUserMessage {
  seq: number;
  text: string;
  /** Redaction changed the message before it was stored (a code, a card number … was hidden). */
  redacted: boolean;
}

/** How a message reached the engine, besides its text. */
export interface MessageOptions {
  origin?: TurnOrigin;
  /** The client's id for the message (see clientMessageIdPattern): one already taken is answered from its turn, not taken again. */
  clientMessageId?: string;
  /**
   * The channel's checks, run in the conversation's queue on the row the turn reads anyway, so a
   * turn costs one read: `admit` throws to refuse the sender (no such conversation, wrong or expired
   * token), `spend` to refuse a message over its allowance (a resend is answered before it, free).
   */
  gate?: TurnGate;
}

export interface TurnGate {
  admit(access: TurnContext['access'] | undefined): void;
  /** Throws (or rejects) to refuse; may ask limits shared with other processes. */
  spend(): void | Promise<void>;
}

/** Where a turn came from, for the limits that depend on it. */
export interface TurnOrigin {
  /** The client's address as the limits see it (REST: req.ip; websocket: the upgrade's address). */
  address?: string;
}

/** A turn the desk takes for the conversation (an agent resolved or handed back): what to push to the user. */
export interface SystemTurnResult {
  /** False when there was no open handover to release (already ended): nothing was said or saved. */
  released: boolean;
  replies: Reply[];
  state: string;
  /** The script and wording of the replies (absent when nothing was released). */
  script?: ReplyScript;
  ticket?: HandoffTicket;
}

/** What the conversation needs to know about the support team: whether someone can answer now, and when they work. */
export interface HandoffSettings {
  agentAvailable(): boolean | Promise<boolean>;
  /**
   * Whether a new ticket may be opened for a turn from this origin, and the note that one was: the
   * server limits tickets per client address and overall. Without it every handover opens one.
   */
  tickets?: { mayOpen(origin: TurnOrigin): boolean | Promise<boolean>; opened(origin: TurnOrigin): void | Promise<void> };
  /** SERVICE_HOURS as users read it ("09:00-21:00"). */
  serviceHours: string;
}

/** A turn as clients receive it (REST, the QA runner): absent optionals become explicit nulls. */
export function turnForClients(result: TurnResult) {
  return {
    replies: result.replies,
    intent: result.intent,
    state: result.state,
    script: result.script,
    progress: result.progress ?? null,
    handoff: result.handoff ?? null,
    event: result.event,
    outcomes: result.outcomes,
    askRating: result.askRating,
    // Sent back with the rating, so it lands on this answer even if more were said since.
    answerSeq: result.answerSeq ?? null,
    answerIndex: result.answerIndex ?? null,
    deliveredToAgent: result.deliveredToAgent ?? false,
    userMessage: result.userMessage,
    duplicate: result.duplicate ?? false,
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
  /** Called after every completed turn (metrics, webhook, live updates), with its duration in seconds. */
  onTurn?: (result: TurnResult, seconds: number, conversationId: string) => void;
  /** Availability and service hours; without it someone is always there (tests, the terminal chat). */
  handoff?: HandoffSettings;
  /** How many conversations' live actors are kept between turns (hotActors.ts); 0 restores every turn. Default 1000. */
  hotActors?: number;
}

const defaultHandoff: HandoffSettings = { agentAvailable: () => true, serviceHours: '09:00-21:00' };

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
  private readonly handoff: HandoffSettings;
  /** Whether an agent can answer, read once per turn before the (synchronous) event is sent. */
  private agentAvailableNow = true;
  /** Whether this turn may open a ticket, read with agentAvailableNow. */
  private ticketAllowedNow = true;
  private readonly machine: typeof conversationMachine;
  private readonly hotActors: HotActors<ConversationActor>;

  constructor(options: DialogueOptions) {
    this.parser = new MessageParser(options.content, options.parser);
    this.renderer = new ReplyRenderer(options.content.responses, options.content.wording);
    this.store = options.store;
    this.logger = options.logger ?? { warn: (message, details) => console.warn(message, details ?? '') };
    this.now = options.now ?? (() => new Date());
    this.onTurn = options.onTurn;
    this.handoff = options.handoff ?? defaultHandoff;
    this.hotActors = new HotActors(options.hotActors ?? 1000);
    this.machine = conversationMachine.provide({ guards: { agentAvailable: () => this.agentAvailableNow, ticketAllowed: () => this.ticketAllowedNow } });
  }

  /** The greeting a new conversation opens with. */
  welcome(script: ReplyScript = 'hans'): Reply[] {
    return [this.renderer.render({ key: 'greet' }, script)];
  }

  /**
   * Opens a conversation: its first state and the greeting, so a transcript starts where the user's
   * screen does. A locale that reads traditional (zh-TW, zh-HK, zh-Hant…) is greeted in it, before
   * the user has typed anything; the locale is kept for the regional wording of every reply.
   * @param locale canonical BCP 47 (see canonicalLocale), as the client's navigator.language says.
   */
  async startConversation(conversationId: string, { locale }: { locale?: string | undefined } = {}): Promise<Reply[]> {
    const script = openingScript(locale);
    const replies = this.welcome(replyScriptFor(script, locale));
    const actor = createActor(this.machine).start();
    const snapshot = actor.getPersistedSnapshot();
    actor.stop();
    const at = this.now().toISOString();
    await this.store.saveTurn(conversationId, {
      state: locale === undefined ? { flowVersion, snapshot, script } : { flowVersion, snapshot, script, locale },
      entries: replies.map((reply) => botEntry(reply, at)),
    });
    return replies;
  }

  /**
   * @param displayText what the user saw themselves send, when it differs from `text` (the title of
   *   a clicked quick reply whose payload is `/affirm`); it is what the transcript shows.
   */
  handleMessage(conversationId: string, text: unknown, displayText?: string, { origin = {}, clientMessageId, gate }: MessageOptions = {}): Promise<TurnResult> {
    // Validate before queueing so bad input costs nothing and never touches the conversation.
    let message: string;
    try {
      message = checkMessageText(text);
      if (displayText) checkMessageText(displayText, 'displayText');
    } catch (error) {
      return Promise.reject(error);
    }
    // Looked up in the queue: of two sends of one message at once, the second finds the first's line.
    return this.enqueue(conversationId, async () => {
      let spent = false;
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.underTurnLock(conversationId, async () => {
            const context = await this.turnContext(conversationId);
            gate?.admit(context?.access);
            // Looked up again after a conflict: the turn that won may have been this very message, sent twice.
            const earlier = clientMessageId === undefined ? undefined : await this.earlierTurn(conversationId, clientMessageId);
            if (earlier) return earlier;
            if (!spent) await gate?.spend();
            spent = true;
            return await this.runTurn(conversationId, message, displayText, origin, clientMessageId, context);
          });
        } catch (error) {
          // Another process saved a turn of this conversation after this one read it: run the message
          // again from where that turn ended. Each conflict means some other turn was saved, so this
          // ends; the bound only stops a store that refuses every save from spinning.
          if (!(error instanceof TurnConflictError) || attempt >= maxTurnAttempts) throw error;
          this.hotActors.drop(conversationId);
        }
      }
    });
  }

  /** The row a turn starts from, in one read where the store can (see ConversationStore.turnContext). */
  private async turnContext(conversationId: string): Promise<Partial<TurnContext> | undefined> {
    if (this.store.turnContext) return this.store.turnContext(conversationId);
    return { state: await this.store.load(conversationId), ticket: await this.store.currentTicket(conversationId) };
  }

  /**
   * The turn a message with this clientMessageId took, answered again from the transcript and the
   * turn's record (`duplicate: true`), or undefined when no message carried it. Nothing is saved or
   * reported: the turn happened once.
   */
  async earlierTurn(conversationId: string, clientMessageId: string): Promise<TurnResult | undefined> {
    const accepted = await this.store.acceptedMessage(conversationId, clientMessageId);
    return accepted && this.answeredAgain(conversationId, accepted);
  }

  private async answeredAgain(conversationId: string, { line, replies: lines, record }: AcceptedMessage): Promise<TurnResult> {
    const replies = lines.map(replyOfLine);
    const userMessage = { seq: line.seq, text: line.text, redacted: line.redacted ?? false };
    const intent = line.intent ?? { name: 'unknown', confidence: 0 };
    // The script and progress as the conversation stands: a resend comes right after its message, so
    // that is what the first answer reported unless the user has written since.
    const { script, progress } = await this.describe(conversationId);
    // No record: the message went to the agent holding the conversation, and no bot turn was taken.
    if (!record) return { replies, intent, state: 'handedOff', script, event: 'agent.deliver', outcomes: [], askRating: false, deliveredToAgent: true, userMessage, duplicate: true };
    const askRating = worthRating(record.outcomes, record.stateAfter);
    const result: TurnResult = { replies, intent, state: record.stateAfter, script, event: record.event, outcomes: record.outcomes, askRating, userMessage, duplicate: true };
    if (progress) result.progress = progress;
    if (askRating && lines.length) {
      // The same reply the first answer named: the FAQ answer before a step reminder, else the last.
      const answerIndex = indexOfAnswer(replies, record.outcomes);
      result.answerIndex = answerIndex;
      const rated = (lines[answerIndex] ?? lines.at(-1)!).seq;
      if (rated !== undefined) result.answerSeq = rated;
    }
    const handedOff = record.outcomes.find((outcome) => outcome.kind === 'handedOff');
    if (handedOff) {
      // The ticket that turn opened is written with the turn's time.
      const ticket = await this.store.currentTicket(conversationId);
      if (ticket?.createdAt === line.at) result.handoff = { reason: handedOff.reason, step: ticket.step };
    }
    return result;
  }

  /**
   * A turn the support desk takes: the agent resolved the conversation or handed it back. Queued
   * with the user's turns; restores the snapshot, sends `agent.released`, ends the ticket and saves
   * the bot's note in one transaction, and returns the replies to push to the user.
   */
  release(conversationId: string, how: AgentEvent['how'], ticketId: number): Promise<SystemTurnResult> {
    return this.enqueue(conversationId, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.underTurnLock(conversationId, () => this.runRelease(conversationId, how, ticketId));
        } catch (error) {
          // A user's turn on another process was saved first: release from where it left the conversation.
          if (!(error instanceof TurnConflictError) || attempt >= maxTurnAttempts) throw error;
        }
      }
    });
  }

  /**
   * One attempt at a turn, under the conversation's lock where the store has one (PostgreSQL: a row
   * lock held for the turn's transaction, so instances sharing the database take a conversation's
   * turns one at a time). The queue above orders turns within this process; the version check in
   * saveTurn stays the backstop for a store without a lock.
   */
  private underTurnLock<T>(conversationId: string, attempt: () => Promise<T>): Promise<T> {
    return this.store.withTurnLock ? this.store.withTurnLock(conversationId, attempt) : attempt();
  }

  private enqueue<T>(conversationId: string, run: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(conversationId) ?? Promise.resolve();
    const turn = previous.catch(() => undefined).then(run);
    this.queues.set(conversationId, turn);
    void turn.finally(() => {
      if (this.queues.get(conversationId) === turn) this.queues.delete(conversationId);
    }).catch(() => undefined);
    return turn;
  }

  /**
   * Runs `task` in the conversation's queue: after the turns already under way, before the next.
   * Deleting a conversation goes through here, so no turn saves into a conversation being deleted.
   */
  exclusively<T>(conversationId: string, task: () => Promise<T>): Promise<T> {
    return this.enqueue(conversationId, () => {
      // What the task does (a deletion) is not the kept actor's doing: the next turn restores from the store.
      this.hotActors.drop(conversationId);
      return task();
    });
  }

  /** Where a conversation stands, without taking a turn (for a widget restoring its view). */
  async describe(conversationId: string): Promise<Pick<TurnResult, 'state' | 'progress' | 'script'>> {
    const stored = await this.store.load(conversationId);
    const { actor } = this.restore(conversationId, stored, () => undefined);
    const snapshot = actor.getSnapshot();
    // Before stop: a stopped actor's children are gone, and with them the inner verification step.
    const state = describeState(snapshot);
    // As the last turn reported it: the unbinding it ended, or the one that runs.
    const progress = stored?.endedProgress ?? activeProgress(snapshot);
    actor.stop();
    const script = replyScriptFor(stored?.script ?? 'simplified', stored?.locale);
    return progress ? { state, script, progress } : { state, script };
  }

  /**
   * Agent assist: the answer the bot would give from the article to this (redacted) message, in the
   * user's script, or undefined when the article does not answer it (not_covered, or no FAQ at all).
   */
  suggestReply(text: string, script?: Script, locale?: string): { responseId: string; text: string } | undefined {
    const parse = this.parser.parse(text);
    const event = eventFromParse(parse);
    if (event.type !== 'user.ask') return undefined;
    const topics = event.topics.filter((topic) => topic !== 'not_covered');
    if (!topics.length) return undefined;
    const inScript = replyScriptFor(parse.script ?? script ?? 'simplified', locale);
    const texts = topics.map((topic) => this.renderer.render({ key: `faq.${topic}` }, inScript).text);
    return { responseId: `faq.${topics[0]}`, text: texts.join('\n\n') };
  }

  /** Resolves when every turn under way has finished (saved or failed): for a clean shutdown. */
  async drain(): Promise<void> {
    while (this.queues.size > 0) await Promise.allSettled([...this.queues.values()]);
  }

  transcript(conversationId: string): Promise<TranscriptEntry[]> {
    return this.store.transcript(conversationId);
  }

  private async runTurn(
    conversationId: string,
    text: string,
    displayText: string | undefined,
    origin: TurnOrigin,
    clientMessageId: string | undefined,
    context: Partial<TurnContext> | undefined,
  ): Promise<TurnResult> {
    const started = performance.now();
    const stored = context?.state;
    const current = context?.ticket;
    const open = current && current.handoffStatus !== 'resolved' ? current : undefined;
    if (open?.handoffStatus === 'assigned' && stored) return this.deliverToAgent(conversationId, stored, open, text, displayText, clientMessageId, started, context?.version);
    // Both asked first, then set together right before the synchronous turn with nothing awaited in
    // between: the flows read them, and another conversation's turn must not change them under this one.
    const [agentAvailable, ticketAllowed] = await Promise.all([this.handoff.agentAvailable(), this.handoff.tickets?.mayOpen(origin) ?? true]);
    this.agentAvailableNow = agentAvailable;
    this.ticketAllowedNow = ticketAllowed;
    // "还有余额" typed is the "还有余额" button: its meaning here is the button's, not a guess.
    const typedButton = stored?.lastQuickReplies?.find((button) => this.parser.sameWords(button.title, text));
    if (typedButton && displayText === undefined) {
      displayText = text;
      text = typedButton.payload;
    }
    // The question the bot asked last steers the reading: "有" to the balance question is a yes.
    const openQuestion = stored?.openQuestion;
    const expects = openQuestion ? this.renderer.expectation(openQuestion) : undefined;
    const atStep = secretStepAfter(openQuestion);
    const parse = this.parser.parse(text, { expectedIntents: expectedIntentsIn(stored), expects, lastAnswered: lastAnsweredIn(stored), atStep });
    // A typed button title is answered in the script it was typed in (the payload has none).
    const script = parse.script ?? (displayText ? detectScript(displayText) : undefined) ?? stored?.script ?? 'simplified';
    const locale = stored?.locale;
    const replyScript = replyScriptFor(script, locale);

    const said: SayEvent[] = [];
    const outcomes: Outcome[] = [];
    let handoff: TurnResult['handoff'];
    // Listened to for this turn only: a kept actor serves the conversation's next turns too.
    const listening: { unsubscribe(): void }[] = [];
    const listen = (actor: ConversationActor) => {
      listening.push(
        actor.on('bot.say', (event) => said.push(event)),
        actor.on('bot.outcome', (event: OutcomeEvent) => outcomes.push(event.outcome)),
        actor.on('bot.handoff', (event: Extract<ConversationEmitted, { type: 'bot.handoff' }>) => {
          handoff = { reason: event.reason, step: event.step };
        }),
      );
    };
    const hot = this.hotActors.take(conversationId, context?.snapshotText);
    if (hot) listen(hot);
    const { actor, restarted } = hot ? { actor: hot, restarted: false } : this.restore(conversationId, stored, listen);
    if (restarted) said.push({ type: 'bot.say', key: 'conversationUpdated' });
    const stateBefore = describeState(actor.getSnapshot());
    const progressBefore = activeProgress(actor.getSnapshot());
    const event = eventFromParse(parse, openQuestion, stepOf(stored));
    actor.send(event);
    this.failIfErrored(actor, conversationId);
    if (said.length === (restarted ? 1 : 0)) {
      // Every flow state answers every event (a test walks them all); this guards content drift.
      this.logger.warn('no reply from flows', { conversationId, event: event.type, state: describeState(actor.getSnapshot()) });
      said.push({ type: 'bot.say', key: 'notHandled' });
      actor.send({ type: 'flow.resume' } as never);
      this.failIfErrored(actor, conversationId);
    }
    for (const subscription of listening) subscription.unsubscribe();
    const snapshot = actor.getSnapshot();
    const persisted = actor.getPersistedSnapshot();
    const snapshotText = JSON.stringify(persisted);
    const state = describeState(snapshot);
    const { step } = snapshot.context;
    const progress = progressAfterTurn(progressBefore, activeProgress(snapshot), outcomes);
    // Kept for the next turn only once this one is committed; stopped if anything below fails.
    let committed = false;
    try {
      const replies: Reply[] = [];
      if (parse.secrets.length) replies.push(this.renderer.render({ key: 'secretWarning' }, replyScript));
      // Only what the bot says about a handover names the queue position: no query on other turns. A
      // ticket opened this turn is not saved yet, so it counts every waiting ticket as ahead of it.
      const position = said.some((say) => say.key.startsWith('handoff.')) ? await this.store.queuePosition(open?.id ?? Number.MAX_SAFE_INTEGER) : 0;
      for (const say of said) replies.push(this.renderer.render(this.withHandoffParams(say, position), replyScript));
      const offers = (id: string) => { const expects = this.renderer.expectation(id); return typeof expects === 'object' && expects.yesNo === 'offer'; };
      replies.splice(0, replies.length, ...carryButtonsToTheQuestion(replies, offers));

      const at = this.now().toISOString();
      const intent = { name: parse.intent.name, confidence: Number(parse.intent.confidence.toFixed(4)) };
      // A payload's label is shown instead of "/affirm" (the client's, or the button's that carries
      // it), redacted like anything the user typed.
      const label = displayText?.trim() ? displayText : stored?.lastQuickReplies?.find((button) => button.payload === text)?.title;
      const shown = parse.fromPayload && label ? label.slice(0, maxMessageLength) : undefined;
      const userLine = shown === undefined ? parse.redactedText : this.parser.redact(shown, { atStep });
      // A payload without a label is the bot's own text (/affirm), never redacted.
      const redacted = shown === undefined ? parse.secrets.length > 0 : userLine !== shown;
      const entries: TranscriptEntry[] = [userEntry(userLine, at, intent, redacted, clientMessageId), ...replies.map((reply) => botEntry(reply, at))];
      const lastButtons = replies.at(-1)?.quickReplies;
      const newState: ConversationState = lastButtons ? { flowVersion, snapshot: persisted, script, lastQuickReplies: lastButtons } : { flowVersion, snapshot: persisted, script };
      if (locale !== undefined) newState.locale = locale;
      // The turn's last reply is what the user answers next; a question declares what it expects.
      const asked = said.at(-1)?.key;
      if (asked && this.renderer.expectation(asked)) newState.openQuestion = asked;
      if (progress && progress.status !== 'active') newState.endedProgress = progress;
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
        outcomes,
      };
      const left = outcomes.some((outcome) => outcome.kind === 'handoffEnded' && outcome.how === 'userLeft');
      const turn: StoredTurn = { state: newState, entries, record };
      if (context?.version !== undefined) turn.expectedVersion = context.version;
      if (handoff) turn.ticket = { conversationId, reason: handoff.reason, step: handoff.step, state, createdAt: at };
      if (open) turn.ticketLine = open.id;
      if (open && left) turn.resolveTicket = { id: open.id, resolution: 'user_left', at };
      const saved = await this.store.saveTurn(conversationId, { ...turn, snapshotText });
      committed = true;
      if (actor.getSnapshot().status === 'active') this.hotActors.keep(conversationId, actor, snapshotText);
      else actor.stop();

      const answered = worthRating(outcomes, state);
      const userMessage = { seq: saved.seqs[0]!, text: userLine, redacted };
      const result: TurnResult = { replies, intent, state, script: replyScript, event: event.type, outcomes, askRating: answered, userMessage };
      if (progress) result.progress = progress;
      if (handoff) result.handoff = handoff;
      if (saved.ticket) void Promise.resolve(this.handoff.tickets?.opened(origin)).catch((error: unknown) => this.logger.warn('ticket allowance not spent', { conversationId, error: String(error) }));
      if (answered && replies.length && saved.seqs.length) {
        const answerIndex = indexOfAnswer(replies, outcomes);
        result.answerIndex = answerIndex;
        // seqs are the user's line, then the replies'
        result.answerSeq = saved.seqs.length === replies.length + 1 ? saved.seqs[answerIndex + 1]! : saved.seqs.at(-1)!;
      }
      const ticket = saved.ticket ?? (open ? await this.store.currentTicket(conversationId) : undefined);
      if (ticket) result.ticket = ticket;
      if (open && left) result.handoffEnded = 'userLeft';
      this.onTurn?.(result, (performance.now() - started) / 1000, conversationId);
      return result;
    } finally {
      if (!committed) actor.stop();
    }
  }

  /** `{position}` and `{hours}` in what the bot says about the handover. */
  private withHandoffParams(say: SayEvent | SayParams, position: number): SayParams {
    if (!say.key.startsWith('handoff.')) return say;
    // "你前面还有 0 位" reads wrong: the first in line is told it is next.
    // Simplified here: the whole reply, this included, is converted to the user's script afterwards.
    const queue = this.renderer.render(position === 0 ? { key: 'handoff.queue.next' } : { key: 'handoff.queue.behind', params: { position } }, 'hans').text;
    return { ...say, params: { position, queue, hours: this.handoff.serviceHours, ...say.params } };
  }

  /**
   * An agent holds the conversation: the message is the agent's to answer. It is stored redacted
   * (the secret warning still goes to the user), the flows never see it, and nothing else is said.
   */
  private async deliverToAgent(
    conversationId: string,
    stored: ConversationState,
    ticket: HandoffTicket,
    text: string,
    displayText: string | undefined,
    clientMessageId: string | undefined,
    started: number,
    version: number | undefined,
  ): Promise<TurnResult> {
    const parse = this.parser.parse(text);
    const script = parse.script ?? stored.script;
    const replyScript = replyScriptFor(script, stored.locale);
    const replies = parse.secrets.length ? [this.renderer.render({ key: 'secretWarning' }, replyScript)] : [];
    const at = this.now().toISOString();
    const shown = parse.fromPayload && displayText?.trim() ? displayText.slice(0, maxMessageLength) : undefined;
    const userLine = shown === undefined ? parse.redactedText : this.parser.redact(shown);
    const redacted = shown === undefined ? parse.secrets.length > 0 : userLine !== shown;
    const intent = { name: parse.intent.name, confidence: Number(parse.intent.confidence.toFixed(4)) };
    // A later turn than the one that ended an unbinding: that ending is no longer the news.
    const { endedProgress: _ended, ...kept } = stored;
    const saved = await this.store.saveTurn(conversationId, {
      state: { ...kept, script },
      entries: [userEntry(userLine, at, intent, redacted, clientMessageId), ...replies.map((reply) => botEntry(reply, at))],
      ticketLine: ticket.id,
      ...(version === undefined ? {} : { expectedVersion: version }),
    });
    const state = typeof (stored.snapshot as { value?: unknown } | null)?.value === 'string' ? String((stored.snapshot as { value: string }).value) : 'handedOff';
    const userMessage = { seq: saved.seqs[0]!, text: userLine, redacted };
    const result: TurnResult = { replies, intent, state, script: replyScript, event: 'agent.deliver', outcomes: [], askRating: false, deliveredToAgent: true, ticket, userMessage };
    this.onTurn?.(result, (performance.now() - started) / 1000, conversationId);
    return result;
  }

  private async runRelease(conversationId: string, how: AgentEvent['how'], ticketId: number): Promise<SystemTurnResult> {
    this.hotActors.drop(conversationId);
    const context = await this.turnContext(conversationId);
    const current = context?.ticket;
    if (!current || current.id !== ticketId || current.handoffStatus === 'resolved') return { released: false, replies: [], state: 'handedOff' };
    const stored = context.state;
    const said: SayEvent[] = [];
    const { actor } = this.restore(conversationId, stored, (actor) => {
      actor.on('bot.say', (event) => said.push(event));
    });
    actor.send({ type: 'agent.released', how });
    this.failIfErrored(actor, conversationId);
    const persisted = actor.getPersistedSnapshot();
    const state = describeState(actor.getSnapshot());
    actor.stop();
    const script = stored?.script ?? 'simplified';
    const locale = stored?.locale;
    const replyScript = replyScriptFor(script, locale);
    const replies = said.map((say) => this.renderer.render(this.withHandoffParams(say, 0), replyScript));
    const at = this.now().toISOString();
    const lastButtons = replies.at(-1)?.quickReplies;
    const newState: ConversationState = lastButtons ? { flowVersion, snapshot: persisted, script, lastQuickReplies: lastButtons } : { flowVersion, snapshot: persisted, script };
    if (locale !== undefined) newState.locale = locale;
    await this.store.saveTurn(conversationId, {
      state: newState,
      entries: replies.map((reply) => botEntry(reply, at)),
      resolveTicket: { id: ticketId, resolution: how === 'resolved' ? 'resolved' : 'handed_back', at },
      ...(context.version === undefined ? {} : { expectedVersion: context.version }),
    });
    const ticket = await this.store.currentTicket(conversationId);
    return ticket ? { released: true, replies, state, script: replyScript, ticket } : { released: true, replies, state, script: replyScript };
  }

  /** A flow that throws leaves its actor in error: the turn fails and nothing is saved. */
  private failIfErrored(actor: ConversationActor, conversationId: string): void {
    const snapshot = actor.getSnapshot();
    if (snapshot.status !== 'error') return;
    actor.stop();
    throw new DialogueTurnError(conversationId, snapshot.error);
  }

  /**
   * Restores the stored snapshot. One written by other flows is tried as it is; if it no longer
   * fits, the conversation starts over with a note to the user instead of failing the turn.
   */
  private restore(conversationId: string, stored: ConversationState | undefined, listen: (actor: ConversationActor) => void) {
    const start = (actor: ConversationActor) => {
      listen(actor);
      // Without an error observer xstate rethrows a flow's error later, outside this turn.
      actor.subscribe({ error: () => undefined });
      return actor.start();
    };
    if (stored) {
      try {
        // Checked as stored, before xstate reads it: xstate fills in, drops or resolves by id what does not fit.
        checkSnapshotFits(conversationMachine, stored.snapshot);
        const actor = start(createActor(this.machine, { snapshot: stored.snapshot as Snapshot<unknown> }));
        const snapshot = actor.getSnapshot();
        try {
          if (snapshot.status !== 'active') throw new Error(`restored conversation is ${snapshot.status}`);
          // Touch every child (describing the state walks them), so a child that fails to start fails here, not mid-turn.
          describeState(snapshot);
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
        return { actor: start(createActor(this.machine)), restarted: true };
      }
    }
    return { actor: start(createActor(this.machine)), restarted: false };
  }
}

/** An answer, a finished unbinding or a verification passed outside the steps is worth rating. */
function worthRating(outcomes: readonly Outcome[], stateAfter: string): boolean {
  return outcomes.some(
    (outcome) => outcome.kind === 'answered' || outcome.kind === 'unbindCompleted' || (outcome.kind === 'verificationPassed' && !stateAfter.startsWith('unbinding')),
  );
}

function userEntry(text: string, at: string, intent: TranscriptEntry['intent'] & object, redacted: boolean, clientMessageId: string | undefined): TranscriptEntry {
  const entry: TranscriptEntry = { role: 'user', text, at, intent, redacted };
  if (clientMessageId !== undefined) entry.clientMessageId = clientMessageId;
  return entry;
}

/** A reply as the transcript keeps it: with the response it renders, so it can be answered again as it was. */
function botEntry(reply: Reply, at: string): TranscriptEntry {
  const entry: TranscriptEntry = { role: 'bot', text: reply.text, at, responseId: reply.id };
  if (reply.quickReplies) entry.quickReplies = reply.quickReplies;
  if (reply.tone) entry.tone = reply.tone;
  if (reply.picture) entry.picture = reply.picture;
  return entry;
}

/** A stored bot line as a reply again; lines stored before response ids were kept have none. */
function replyOfLine(line: TranscriptEntry): Reply {
  const reply: Reply = { id: line.responseId ?? '', text: line.text };
  if (line.quickReplies) reply.quickReplies = line.quickReplies;
  if (line.tone) reply.tone = line.tone;
  if (line.picture) reply.picture = line.picture;
  return reply;
}

/**
 * After these questions the user types a secret into WeChat, and sometimes into the chat instead:
 * the SMS code, or the answer to the security question (which the flows have in place of a payment
 * password, and which is as secret). A number typed then is that secret, whatever surrounds it.
 */
const smsCodeQuestions = new Set(['verify.guide.sms', ...troubleshootingTips.sms]);
const secretAnswerQuestions = new Set([
  'verify.guide.securityQuestion',
  ...troubleshootingTips.securityQuestion.filter((tip) => !troubleshootingTips.biometric.includes(tip)),
]);

function secretStepAfter(openQuestion: string | undefined): RedactionStep | undefined {
  if (openQuestion === undefined) return undefined;
  if (smsCodeQuestions.has(openQuestion)) return 'smsCode';
  return secretAnswerQuestions.has(openQuestion) ? 'paymentPassword' : undefined;
}

/** Inside a flow, the controls of that flow are what users mostly say. */
const flowControlIntents = ['affirm', 'deny', 'go_back', 'repeat', 'cancel', 'step_help', 'restart', 'verification_help'];

/**
 * Which reply of a turn is the answer to rate: an FAQ asked mid-flow is followed by a reminder of
 * the current step, and "was this helpful?" is about the answer, not the reminder.
 */
function indexOfAnswer(replies: Reply[], outcomes: Outcome[]): number {
  const topics = outcomes.flatMap((outcome) => (outcome.kind === 'answered' ? [`faq.${outcome.topic}`] : []));
  const index = replies.findIndex((reply) => topics.includes(reply.id));
  return index >= 0 && !outcomes.some((outcome) => outcome.kind === 'unbindCompleted') ? index : replies.length - 1;
}

/** The FAQ the stored conversation answered last (the conversation's `lastTopic`). */
function lastAnsweredIn(stored: ConversationState | undefined): string | undefined {
  const topic = (stored?.snapshot as { context?: { lastTopic?: unknown } } | undefined)?.context?.lastTopic;
  return typeof topic === 'string' ? topic : undefined;
}

/** The unbinding step the stored conversation is on (0 outside the steps). */
function stepOf(stored: ConversationState | undefined): number {
  const snapshot = stored?.snapshot as { value?: unknown; context?: { step?: unknown } } | undefined;
  const step = snapshot?.context?.step;
  return snapshot?.value === 'unbinding' && typeof step === 'number' ? step : 0;
}

function expectedIntentsIn(stored: ConversationState | undefined): string[] {
  const value = (stored?.snapshot as { value?: unknown } | undefined)?.value;
  return value === 'unbinding' || value === 'verifying' ? flowControlIntents : [];
}

type ConversationActor = ReturnType<typeof createActor<typeof conversationMachine>>;

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined => (Object.hasOwn(record, key) ? record[key] : undefined);
const pathOf = (node: AnyStateNode) => node.path.join('.') || '(root)';
const describeNode = (node: AnyStateNode) => (node.path.length ? `state "${pathOf(node)}" of flow "${node.machine.id}"` : `flow "${node.machine.id}"`);

/**
 * What xstate does not check when it restores a snapshot, and a turn would trip over. A stored
 * snapshot must be one its flows could have written between two turns: every flow active, every
 * state in its value a state of that flow and a place it can rest in, exactly the child flows its
 * states invoke (a missing one forwards the user's event to nobody, and xstate sends a target-less
 * `sendTo` back to the sender, looping forever; a stray one is where the user's events go), each
 * child fitting its own machine the same way, and each context one that flow could have made where
 * it is. All of it is derived from the machines, so a new state or flow is checked without a change here.
 */
function checkSnapshotFits(machine: AnyStateMachine, persisted: unknown): StoredFlow {
  const flow = `flow "${machine.id}"`;
  if (!isRecord(persisted)) throw new Error(`${flow} is stored as ${JSON.stringify(persisted) ?? 'nothing'}`);
  if (persisted['status'] !== 'active') throw new Error(`${flow} is ${JSON.stringify(persisted['status'])}, not active`);
  if (persisted['output'] !== undefined || persisted['error'] !== undefined) throw new Error(`${flow} is active but has an output or error`);
  const states = activeStates(machine.root, persisted['value']);
  checkHistory(machine, persisted['historyValue']);

  const invoked = new Map(states.flatMap((node) => node.invoke.map((invoke) => [invoke.id, { invoke, node }] as const)));
  const storedChildren = persisted['children'];
  if (!isRecord(storedChildren)) throw new Error(`the children of ${flow} are stored as ${JSON.stringify(storedChildren) ?? 'nothing'}`);
  for (const id of Object.keys(storedChildren)) if (!invoked.has(id)) throw new Error(`flow "${id}" runs in no active state of ${flow}`);
  const children: Record<string, StoredFlow> = {};
  for (const [id, { invoke, node }] of invoked) {
    // xstate names even inline logic by a string ("xstate.invoke.…"), which is what it stores.
    const src = invoke.src as string;
    const child = own(storedChildren, id);
    const where = `flow "${id}" of state "${pathOf(node)}"`;
    if (!isRecord(child)) throw new Error(`${where} is missing`);
    if (child['src'] !== src) throw new Error(`${where} runs ${JSON.stringify(child['src'])}`);
    if (child['systemId'] !== invoke.systemId || (child['syncSnapshot'] ?? false) !== Boolean(invoke.onSnapshot)) throw new Error(`${where} is not invoked as the state invokes it`);
    const logic: unknown = own((machine.implementations.actors ?? {}) as Record<string, unknown>, src);
    // Only a machine's snapshot can be checked; the flows invoke nothing else.
    if (!isRecord(logic) || !('root' in logic)) throw new Error(`${where} is not a flow whose snapshot can be checked`);
    children[id] = checkSnapshotFits(logic as unknown as AnyStateMachine, child['snapshot']);
  }
  const stored: StoredFlow = { machine, states, context: persisted['context'], children };
  checkStoredContext(stored);
  return stored;
}

/**
 * The state nodes a stored state value makes active, root first, or an error when it names a state
 * the flow does not have, leaves a compound state without its inner state, gives a parallel state
 * other regions than its own, or rests where a flow never rests between turns.
 */
function activeStates(node: AnyStateNode, value: unknown): AnyStateNode[] {
  const inside = describeNode(node);
  if (node.type === 'parallel') {
    const regions = Object.keys(node.states);
    if (!isRecord(value) || Object.keys(value).length !== regions.length || !regions.every((key) => Object.hasOwn(value, key))) {
      throw new Error(`${inside} holds ${JSON.stringify(value)}, not its regions ${regions.join(', ')}`);
    }
    return [node, ...regions.flatMap((key) => activeStates(node.states[key]!, value[key]))];
  }
  const keys = typeof value === 'string' ? [value] : isRecord(value) ? Object.keys(value) : [];
  if (keys.length !== 1) throw new Error(`${inside} holds ${JSON.stringify(value) ?? 'nothing'}, not one state`);
  const child = own(node.states, keys[0]!);
  if (!child) throw new Error(`state "${keys[0]}" is not in ${inside}`);
  const nested = child.type === 'compound' || child.type === 'parallel';
  if (nested !== (typeof value !== 'string')) throw new Error(`${inside} holds ${JSON.stringify(value)}: "${keys[0]}" is ${child.type}`);
  if (nested) return [node, ...activeStates(child, (value as Record<string, unknown>)[keys[0]!])];
  if (child.type === 'history') throw new Error(`${inside} rests in its history state "${child.key}"`);
  // A flow in a final top-level state is done, and an unguarded eventless transition is always taken.
  if (child.type === 'final' && node === node.machine.root) throw new Error(`flow "${node.machine.id}" is active in its final state "${child.key}"`);
  if (child.always?.some((transition) => !transition.guard)) throw new Error(`state "${pathOf(child)}" of flow "${node.machine.id}" is passed through, never rested in`);
  return [node, child];
}

/** History is stored by the ids of history states and of the states they remember. */
function checkHistory(machine: AnyStateMachine, historyValue: unknown): void {
  if (historyValue === undefined) return;
  if (!isRecord(historyValue)) throw new Error(`the history of flow "${machine.id}" is stored as ${JSON.stringify(historyValue)}`);
  const nodeById = (id: unknown): AnyStateNode | undefined => {
    try {
      return typeof id === 'string' ? machine.getStateNodeById(id) : undefined;
    } catch {
      return undefined;
    }
  };
  for (const [id, remembered] of Object.entries(historyValue)) {
    if (nodeById(id)?.type !== 'history') throw new Error(`flow "${machine.id}" has no history state "${id}"`);
    if (!Array.isArray(remembered) || !remembered.every((item) => isRecord(item) && nodeById(item['id']))) {
      throw new Error(`history "${id}" of flow "${machine.id}" remembers states the flow does not have`);
    }
  }
}
