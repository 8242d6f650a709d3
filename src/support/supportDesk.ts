import { createHash } from 'node:crypto';
import type { Agent, ConversationStore, HandoffTicket, SupportStore, TranscriptEntry } from '../dialogue/conversationStore.js';
import { checkMessageText, type DialogueEngine, type TurnResult } from '../dialogue/dialogueEngine.js';
import type { Reply } from '../dialogue/replyRenderer.js';
import type { ReplyScript } from '../nlu/index.js';
import { agentIdOf, newAgentToken, secretMatches } from './agentTokens.js';
import type { LiveHub, WidgetFrame } from './liveHub.js';
import { withinServiceHours, type ServiceHours } from './serviceHours.js';

/** An agent counts as online for this long after their last call (an open inbox stream keeps them online). */
export const onlineWindowMs = 2 * 60_000;

export type SupportDeskErrorCode =
  | 'conversation_not_found'
  | 'agent_not_found'
  | 'already_claimed'
  | 'not_assigned'
  | 'not_assigned_to_you'
  | 'already_resolved';

/** A request the desk refuses; the agent API answers it with a 404 or 409. */
export class SupportDeskError extends Error {
  override name = 'SupportDeskError';
  constructor(
    readonly code: SupportDeskErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export const isSupportDeskError = (error: unknown): error is SupportDeskError => error instanceof SupportDeskError;

/** A line as agents and users read it (already redacted; intents stay inside). */
export function publicLine(entry: TranscriptEntry) {
  return {
    role: entry.role,
    text: entry.text,
    at: entry.at,
    seq: entry.seq ?? 0,
    ...(entry.agentName !== undefined ? { agentName: entry.agentName } : {}),
    ...(entry.quickReplies ? { quickReplies: entry.quickReplies } : {}),
    ...(entry.tone ? { tone: entry.tone } : {}),
    ...(entry.picture ? { picture: entry.picture } : {}),
  };
}

export interface SupportDeskOptions {
  store: ConversationStore & SupportStore;
  engine: DialogueEngine;
  hub: LiveHub;
  hours: ServiceHours;
  now?: () => Date;
  /** A webhook event was queued (deliver it now rather than at the next poll). */
  onQueued?: () => void;
  log?: (message: string, details: Record<string, unknown>) => void;
}

/**
 * The support team's side of a handover: agents and their tokens, who is online, claiming, agent
 * lines, typing, resolving and handing back; and the live events each of those sends to the user's
 * widget and the agents' inboxes.
 */
export class SupportDesk {
  private readonly store: SupportDeskOptions['store'];
  private readonly engine: DialogueEngine;
  readonly hub: LiveHub;
  readonly hours: ServiceHours;
  private readonly now: () => Date;
  private readonly onQueued: () => void;
  private readonly log: NonNullable<SupportDeskOptions['log']>;
  /** sha256 of tokens already checked against their scrypt hash → agent id, so each call costs no scrypt. */
  private readonly verified = new Map<string, string>();

  constructor(options: SupportDeskOptions) {
    this.store = options.store;
    this.engine = options.engine;
    this.hub = options.hub;
    // Each worker tells the widgets it holds (the hub runs this for a move on any worker).
    this.hub.onQueueMoved(() => this.pushPositionsHere());
    this.hours = options.hours;
    this.now = options.now ?? (() => new Date());
    this.onQueued = options.onQueued ?? (() => undefined);
    this.log = options.log ?? (() => undefined);
  }

  // --- agents -------------------------------------------------------------------------------

  async createAgent(name: string): Promise<{ id: string; name: string; token: string }> {
    const { id, token, tokenHash } = await newAgentToken();
    await this.store.createAgent({ id, name, tokenHash, createdAt: this.now().toISOString(), disabledAt: null, lastSeenAt: null });
    return { id, name, token };
  }

  async disableAgent(id: string): Promise<void> {
    if (!(await this.store.disableAgent(id, this.now().toISOString()))) throw new SupportDeskError('agent_not_found', `no agent ${id}`);
  }

  /** The agent a bearer token belongs to, if it is a live agent's; the call also marks them online. */
  async authenticate(token: string): Promise<Agent | undefined> {
    const named = agentIdOf(token);
    if (!named) return undefined;
    const record = await this.store.agentRecord(named.id);
    if (!record || record.disabledAt) return undefined;
    const key = createHash('sha256').update(token).digest('hex');
    if (this.verified.get(key) !== record.id) {
      if (!(await secretMatches(named.secret, record.tokenHash))) return undefined;
      if (this.verified.size > 1000) this.verified.clear();
      this.verified.set(key, record.id);
    }
    const at = this.now().toISOString();
    await this.store.touchAgent(record.id, at);
    const { tokenHash: _hash, ...agent } = record;
    return { ...agent, lastSeenAt: at };
  }

  async touch(agent: Agent): Promise<void> {
    await this.store.touchAgent(agent.id, this.now().toISOString());
  }

  /** Someone can answer now: inside the service hours, and an agent has an inbox open or called lately. */
  async available(): Promise<boolean> {
    const now = this.now();
    if (!withinServiceHours(this.hours, now)) return false;
    if (this.hub.agentStreams > 0) return true;
    return (await this.store.agentsSeenSince(new Date(now.getTime() - onlineWindowMs).toISOString())) > 0;
  }

  // --- what agents and users see ------------------------------------------------------------

  private async agentOf(ticket: HandoffTicket): Promise<{ id: string; name: string } | undefined> {
    if (!ticket.assignedAgentId) return undefined;
    const record = await this.store.agentRecord(ticket.assignedAgentId);
    return record && { id: record.id, name: record.name };
  }

  async summary(ticket: HandoffTicket) {
    const agent = await this.agentOf(ticket);
    return {
      id: ticket.conversationId,
      status: ticket.handoffStatus,
      waitingSince: ticket.createdAt,
      reason: ticket.reason,
      step: ticket.step,
      ...(agent ? { agent } : {}),
    };
  }

  async list(status: HandoffTicket['handoffStatus']) {
    return Promise.all((await this.store.ticketsWithStatus(status)).map((ticket) => this.summary(ticket)));
  }

  async detail(conversationId: string) {
    const ticket = await this.ticketOf(conversationId);
    const [summary, transcript, state] = await Promise.all([this.summary(ticket), this.store.transcript(conversationId), this.store.load(conversationId)]);
    const lastUser = transcript.filter((entry) => entry.role === 'user').at(-1);
    const suggestion = lastUser ? this.engine.suggestReply(lastUser.text, state?.script, state?.locale) : undefined;
    return { ...summary, transcript: transcript.map(publicLine), ...(suggestion ? { suggestion } : {}) };
  }

  /** The `handoff` field of the user's conversation: null when it was never handed over. */
  async handoffView(conversationId: string) {
    const ticket = await this.store.currentTicket(conversationId);
    if (!ticket) return null;
    return this.statusFrame(ticket).then(({ type: _type, ...view }) => view);
  }

  private async statusFrame(ticket: HandoffTicket): Promise<Extract<WidgetFrame, { type: 'handoff.status' }>> {
    const frame: Extract<WidgetFrame, { type: 'handoff.status' }> = {
      type: 'handoff.status',
      status: ticket.handoffStatus,
      serviceHours: this.hours.label,
      available: await this.available(),
    };
    if (ticket.handoffStatus === 'waiting') frame.position = await this.store.queuePosition(ticket.id);
    const agent = ticket.handoffStatus === 'assigned' ? await this.agentOf(ticket) : undefined;
    if (agent) frame.agentName = agent.name;
    return frame;
  }

  private async ticketOf(conversationId: string): Promise<HandoffTicket> {
    const ticket = await this.store.currentTicket(conversationId);
    if (!ticket) throw new SupportDeskError('conversation_not_found', `no handed-over conversation ${conversationId}`);
    return ticket;
  }

  // --- what agents do -----------------------------------------------------------------------

  async claim(conversationId: string, agent: Agent) {
    const ticket = await this.ticketOf(conversationId);
    if (ticket.handoffStatus === 'assigned' && ticket.assignedAgentId === agent.id) return this.detail(conversationId);
    if (ticket.handoffStatus === 'resolved') throw new SupportDeskError('already_resolved', 'this conversation is no longer waiting');
    const won = ticket.handoffStatus === 'waiting' && (await this.store.claimTicket(ticket.id, agent.id, this.now().toISOString()));
    if (!won) throw new SupportDeskError('already_claimed', 'another agent holds this conversation');
    const claimed = (await this.store.currentTicket(conversationId))!;
    this.hub.toAgents({ type: 'conversation.claimed', data: { conversationId, agent: { id: agent.id, name: agent.name } } });
    await this.pushStatus(claimed);
    this.hub.queueMoved();
    return this.detail(conversationId);
  }

  async postMessage(conversationId: string, agent: Agent, text: unknown) {
    const checked = checkMessageText(text);
    const ticket = await this.ticketOf(conversationId);
    const line = await this.store.addAgentLine(ticket.id, agent, this.engine.parser.redact(checked), this.now().toISOString());
    if (line === 'not_assigned') throw new SupportDeskError('not_assigned', 'claim this conversation before writing in it');
    if (line === 'not_assigned_to_you') throw new SupportDeskError('not_assigned_to_you', 'another agent holds this conversation');
    const message = { role: 'agent' as const, agentName: agent.name, text: line.text, at: line.at, seq: line.seq ?? 0 };
    this.hub.toConversation(conversationId, { type: 'agent.message', text: message.text, agentName: message.agentName, at: message.at, seq: message.seq });
    this.hub.toAgents({ type: 'message.created', data: { conversationId, message } });
    this.onQueued();
    return message;
  }

  async typing(conversationId: string, agent: Agent): Promise<void> {
    const ticket = await this.ticketOf(conversationId);
    this.mustHold(ticket, agent);
    this.hub.toConversation(conversationId, { type: 'agent.typing' });
  }

  /**
   * Resolve or hand back: the agent holding it (or an agent taking a waiting one straight off the
   * queue; `agent` undefined is the dashboard's admin closing a ticket).
   */
  async release(conversationId: string, how: 'resolved' | 'handedBack', agent: Agent | undefined) {
    const ticket = await this.ticketOf(conversationId);
    if (ticket.handoffStatus === 'resolved') throw new SupportDeskError('already_resolved', 'this conversation is already resolved');
    if (agent && ticket.handoffStatus === 'assigned') this.mustHold(ticket, agent);
    const result = await this.engine.release(conversationId, how, ticket.id);
    if (!result.released || !result.ticket) throw new SupportDeskError('already_resolved', 'this conversation is already resolved');
    this.pushReplies(conversationId, result.replies, result.state, result.script ?? 'hans');
    await this.ended(result.ticket);
    return this.summary(result.ticket);
  }

  private mustHold(ticket: HandoffTicket, agent: Agent): void {
    if (ticket.handoffStatus !== 'assigned') throw new SupportDeskError('not_assigned', 'claim this conversation first');
    if (ticket.assignedAgentId !== agent.id) throw new SupportDeskError('not_assigned_to_you', 'another agent holds this conversation');
  }

  // --- what users do, as the live views see it -----------------------------------------------

  /** After each user turn: a new ticket, a line for the agent, or the user leaving the queue. */
  async afterTurn(conversationId: string, result: TurnResult): Promise<void> {
    const ticket = result.ticket;
    if (!ticket) return;
    if (result.handoff) {
      this.hub.toAgents({ type: 'conversation.waiting', data: { conversationId, ...(await this.summary(ticket)) } });
      await this.pushStatus(ticket);
    }
    if (!result.handoff) {
      const [line] = await this.store.transcript(conversationId, result.userMessage.seq - 1);
      if (line) this.hub.toAgents({ type: 'message.created', data: { conversationId, message: publicLine(line) } });
    }
    if (result.handoffEnded) await this.ended(ticket);
    this.onQueued();
  }

  /** The widget says the user is typing: the agents' inboxes show it while the conversation is handed over. */
  async userTyping(conversationId: string): Promise<void> {
    const ticket = await this.store.currentTicket(conversationId);
    if (ticket && ticket.handoffStatus !== 'resolved') this.hub.toAgents({ type: 'typing', data: { conversationId } });
  }

  private async ended(ticket: HandoffTicket): Promise<void> {
    this.hub.toAgents({ type: 'conversation.resolved', data: { conversationId: ticket.conversationId, resolution: ticket.resolution } });
    await this.pushStatus(ticket);
    this.hub.queueMoved();
    this.onQueued();
  }

  private async pushStatus(ticket: HandoffTicket): Promise<void> {
    this.hub.toConversation(ticket.conversationId, await this.statusFrame(ticket));
  }

  /** Bot replies of a turn the user did not take (a resolve), as the websocket's `message` frames. */
  private pushReplies(conversationId: string, replies: Reply[], state: string, script: ReplyScript): void {
    for (const reply of replies) {
      this.hub.toConversation(conversationId, { type: 'message', text: reply.text, id: reply.id, ...(reply.tone ? { tone: reply.tone } : {}), ...(reply.picture ? { picture: reply.picture } : {}), quick_replies: reply.quickReplies ?? [], progress: null, state, script, askRating: false });
    }
  }

  /** Someone left the queue: every waiting widget that is open learns its new place. */
  private pushPositionsHere(): void {
    const watched = new Set(this.hub.watchedConversations());
    if (!watched.size) return;
    void (async () => {
      for (const ticket of await this.store.ticketsWithStatus('waiting')) {
        if (watched.has(ticket.conversationId)) await this.pushStatus(ticket);
      }
    })().catch((error: unknown) => this.log('queue positions not pushed', { error: (error as Error).message }));
  }
}
