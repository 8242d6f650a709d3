/**
 * How the SQLite store's rows read back as the store's types: row shapes and their mappers, shared
 * by the conversation, ticket and analytics queries.
 */
import type { Outcome } from '../../flows/events.js';
import type { AgentRecord, ConversationState, HandoffResolution, HandoffStatus, HandoffTicket, TranscriptEntry } from '../dialogue/conversationStore.js';
import type { AnalyticsRows } from '../analytics/supportAnalytics.js';
import { storedProgress } from '../dialogue/unbindingProgress.js';
import { isReplyPicture } from '../content/schemas.js';

/** What a transcript line is read back from. */
export const transcriptColumns = 'seq, role, text, at, intent, confidence, quick_replies, agent_id, agent_name, client_message_id, redacted, response_id, tone, picture';

export interface ConversationRow {
  flow_version: string | null;
  snapshot: string | null;
  script: string | null;
  last_quick_replies: string | null;
  open_question: string | null;
  ended_progress: string | null;
  locale: string | null;
}

export const ticketColumns = ['id', 'conversation_id', 'reason', 'step', 'state', 'created_at', 'status', 'closed_at', 'handoff_status', 'assigned_agent_id', 'assigned_at', 'first_agent_reply_at', 'resolved_at', 'resolution'] as const;

export type TurnContextRow = ConversationRow & { token_hash: string; updated_at: string; version: number } & Record<`ticket_${(typeof ticketColumns)[number]}`, string | number | null>;

export interface TurnRow {
  conversation_id: string;
  at: string;
  text: string;
  from_payload: number;
  intent: string;
  confidence: number;
  state_after: string;
  step: number;
  said: string;
  outcomes: string;
}

export interface TicketRow {
  id: number;
  conversation_id: string;
  reason: string;
  step: number;
  state: string;
  created_at: string;
  status: string;
  closed_at: string | null;
  handoff_status: HandoffStatus;
  assigned_agent_id: string | null;
  assigned_at: string | null;
  first_agent_reply_at: string | null;
  resolved_at: string | null;
  resolution: HandoffResolution | null;
}

export function ticketFromRow(row: TicketRow): HandoffTicket {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    reason: row.reason,
    step: row.step,
    state: row.state,
    createdAt: row.created_at,
    status: row.status === 'closed' ? 'closed' : 'open',
    closedAt: row.closed_at,
    handoffStatus: row.handoff_status,
    assignedAgentId: row.assigned_agent_id,
    assignedAt: row.assigned_at,
    firstAgentReplyAt: row.first_agent_reply_at,
    resolvedAt: row.resolved_at,
    resolution: row.resolution,
  };
}

export interface TranscriptRow {
  seq: number;
  role: 'user' | 'bot' | 'agent';
  text: string;
  at: string;
  intent: string | null;
  confidence: number | null;
  quick_replies: string | null;
  agent_id: string | null;
  agent_name: string | null;
  client_message_id: string | null;
  redacted: number | null;
  response_id: string | null;
  tone: string | null;
  picture: string | null;
}

export interface AgentRow {
  id: string;
  name: string;
  token_hash: string;
  created_at: string;
  disabled_at: string | null;
  last_seen_at: string | null;
}

export const agentFromRow = (row: AgentRow): AgentRecord => ({
  id: row.id,
  name: row.name,
  tokenHash: row.token_hash,
  createdAt: row.created_at,
  disabledAt: row.disabled_at,
  lastSeenAt: row.last_seen_at,
});

export function entryFromRow(row: TranscriptRow): TranscriptEntry {
  const entry: TranscriptEntry = { role: row.role, text: row.text, at: row.at, seq: row.seq };
  if (row.intent !== null && row.confidence !== null) entry.intent = { name: row.intent, confidence: row.confidence };
  if (row.quick_replies) entry.quickReplies = JSON.parse(row.quick_replies) as TranscriptEntry['quickReplies'] & object;
  if (row.agent_id !== null) entry.agentId = row.agent_id;
  if (row.agent_name !== null) entry.agentName = row.agent_name;
  if (row.client_message_id !== null) entry.clientMessageId = row.client_message_id;
  if (row.redacted !== null) entry.redacted = row.redacted === 1;
  if (row.response_id !== null) entry.responseId = row.response_id;
  if (row.tone === 'warning') entry.tone = row.tone;
  if (isReplyPicture(row.picture)) entry.picture = row.picture;
  return entry;
}

export type TicketFactRow = Pick<TicketRow, 'conversation_id' | 'reason' | 'created_at' | 'assigned_agent_id' | 'assigned_at' | 'first_agent_reply_at' | 'resolution'>;

/** A ticket as analytics counts it. */
export function ticketFactFromRow(row: TicketFactRow): AnalyticsRows['tickets'][number] {
  return {
    conversationId: row.conversation_id,
    reason: row.reason,
    createdAt: row.created_at,
    assignedAgentId: row.assigned_agent_id,
    assignedAt: row.assigned_at,
    firstAgentReplyAt: row.first_agent_reply_at,
    resolution: row.resolution,
  };
}

export interface RatingRow {
  conversation_id: string;
  at: string;
  helpful: number;
}

export function ratingFromRow(row: RatingRow): AnalyticsRows['ratings'][number] {
  return { conversationId: row.conversation_id, at: row.at, helpful: row.helpful === 1 };
}

export function turnFromRow(row: TurnRow): AnalyticsRows['turns'][number] {
  return {
    conversationId: row.conversation_id,
    at: row.at,
    text: row.text,
    fromPayload: row.from_payload === 1,
    intent: row.intent,
    confidence: row.confidence,
    stateAfter: row.state_after,
    step: row.step,
    said: JSON.parse(row.said) as string[],
    // null: stored before outcomes were (schema version 4 and earlier).
    outcomes: JSON.parse(row.outcomes) as Outcome[] | null,
  };
}

/** A conversation's state as its row keeps it; undefined before its first turn is saved. */
export function stateFromRow(row: ConversationRow): ConversationState | undefined {
  if (!row.snapshot || !row.flow_version) return undefined;
  // A damaged row is handed on as an unusable snapshot: the engine starts that conversation over
  // with a note to the user instead of failing every turn of it from now on.
  const state: ConversationState = { flowVersion: row.flow_version, snapshot: parseOrNull(row.snapshot), script: row.script === 'traditional' ? 'traditional' : 'simplified' };
  const buttons = row.last_quick_replies ? parseOrNull(row.last_quick_replies) : null;
  if (Array.isArray(buttons)) {
    state.lastQuickReplies = buttons.filter(
      (button): button is { title: string; payload: string } => typeof button?.title === 'string' && typeof button?.payload === 'string',
    );
  }
  if (row.open_question) state.openQuestion = row.open_question;
  const ended = row.ended_progress ? storedProgress(parseOrNull(row.ended_progress)) : undefined;
  if (ended) state.endedProgress = ended;
  if (row.locale) state.locale = row.locale;
  return state;
}

function parseOrNull(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return null;
  }
}
