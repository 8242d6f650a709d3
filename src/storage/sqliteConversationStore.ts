import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Outcome } from '../../flows/events.js';
import {
  ConversationGoneError,
  TurnConflictError,
  turnReplies,
  type AcceptedMessage,
  type Agent,
  type AgentLineRefusal,
  type AgentRecord,
  type ConversationState,
  type HandoffResolution,
  type HandoffStatus,
  type HandoffTicket,
  type RatingResult,
  type SavedTurn,
  type StoredTurn,
  type TicketPageQuery,
  type TranscriptEntry,
  type TurnContext,
  type TurnRecord,
} from '../dialogue/conversationStore.js';
import { conversationResolved, handoffRequested, messageCreated } from '../support/webhookEvents.js';
import type { AnalyticsRows, AnalyticsSlice } from '../analytics/supportAnalytics.js';
import type { AccessRecord, ConversationIdentity } from './identityStore.js';
import { GroupCommit } from './groupCommit.js';
import { SqliteDeletion } from './sqliteDeletion.js';
import { reRedactStoredText, type StoredTextRedaction } from './reRedaction.js';
import { applyMigrations } from './sqliteMigrations.js';
import { SqliteAnalyticsQueries } from './sqliteAnalyticsQueries.js';
import { SqliteWebhookOutbox } from './sqliteWebhookOutbox.js';
import type { PendingDelivery, ServerStore } from './serverStore.js';
import {
  agentFromRow,
  entryFromRow,
  stateFromRow,
  ticketColumns,
  ticketFromRow,
  transcriptColumns,
  type AgentRow,
  type ConversationRow,
  type TicketRow,
  type TranscriptRow,
  type TurnContextRow,
  type TurnRow,
} from './sqliteRows.js';

/** More lines than one turn ever says (an answer, a question, a warning, a note): the page `acceptedMessage` reads. */
const maxRepliesOfATurn = 20;

/**
 * Conversations, transcripts and handoff tickets in one embedded SQLite file (WAL mode).
 * better-sqlite3 is synchronous; the turns of concurrent conversations commit in one transaction (groupCommit.ts).
 * This class holds conversations, transcripts, tickets and agents; the schema (sqliteMigrations.ts),
 * the row mappers (sqliteRows.ts), the analytics queries (sqliteAnalyticsQueries.ts) and the webhook
 * outbox (sqliteWebhookOutbox.ts) are their own modules, which it puts together.
 */
export class SqliteConversationStore implements ServerStore {
  readonly kind = 'sqlite';
  readonly db: Database.Database;
  private readonly statements;
  private readonly deletion: SqliteDeletion;
  private readonly groupCommit: GroupCommit;
  private readonly analytics: SqliteAnalyticsQueries;
  private readonly outbox: SqliteWebhookOutbox;

  /**
   * @param options.redaction when given, rows an older redactor wrote are redacted again on open.
   */
  constructor(file: string, options: { redaction?: StoredTextRedaction; sharedWithOtherProcesses?: boolean } = {}) {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    // One process owns the file. Exclusive locking also keeps the WAL index in this process's heap
    // instead of a memory-mapped -shm file: a -shm that is truncated or cannot grow (disk full) would
    // otherwise kill the whole server with SIGBUS on its next access, where now a write fails (503).
    // Workers of one server (WORKERS > 1) share the file and so the -shm; turns are version-checked.
    if (file !== ':memory:' && !options.sharedWithOtherProcesses) this.db.pragma('locking_mode = EXCLUSIVE');
    this.db.pragma('journal_mode = WAL');
    // WAL with synchronous=NORMAL survives a process crash; only a power cut can lose the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // What is deleted (a conversation on request, by retention) is overwritten, not left in free pages.
    this.db.pragma('secure_delete = ON');
    applyMigrations(this.db);
    this.deletion = new SqliteDeletion(this.db);
    this.analytics = new SqliteAnalyticsQueries(this.db);
    this.outbox = new SqliteWebhookOutbox(this.db);
    this.groupCommit = new GroupCommit(this.db);
    if (options.redaction) reRedactStoredText(this.db, options.redaction);
    this.statements = {
      insertConversation: this.db.prepare('INSERT INTO conversations (id, token_hash, created_at, updated_at) VALUES (?, ?, ?, ?)'),
      identity: this.db.prepare<[string], { token_hash: string; updated_at: string }>('SELECT token_hash, updated_at FROM conversations WHERE id = ?'),
      load: this.db.prepare<[string], ConversationRow>('SELECT flow_version, snapshot, script, last_quick_replies, open_question, ended_progress, locale FROM conversations WHERE id = ?'),
      // What a turn needs before it runs, in one read: the token to check, the state, and the latest
      // ticket (through handoff_tickets_by_conversation), instead of three statements each its own transaction.
      turnContext: this.db.prepare<[string], TurnContextRow>(
        `SELECT c.token_hash, c.updated_at, c.version, c.flow_version, c.snapshot, c.script, c.last_quick_replies, c.open_question, c.ended_progress, c.locale,
                ${ticketColumns.map((column) => `h.${column} AS ticket_${column}`).join(', ')}
           FROM conversations c
           LEFT JOIN handoff_tickets h ON h.id = (SELECT MAX(l.id) FROM handoff_tickets l WHERE l.conversation_id = c.id)
          WHERE c.id = ?`,
      ),
      updateState: this.db.prepare('UPDATE conversations SET flow_version = ?, snapshot = ?, script = ?, last_quick_replies = ?, open_question = ?, ended_progress = ?, locale = ?, updated_at = ?, version = version + 1 WHERE id = ?'),
      updateStateAtVersion: this.db.prepare('UPDATE conversations SET flow_version = ?, snapshot = ?, script = ?, last_quick_replies = ?, open_question = ?, ended_progress = ?, locale = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?'),
      exists: this.db.prepare<[string], { found: 1 }>('SELECT 1 AS found FROM conversations WHERE id = ?'),
      nextSeq: this.db.prepare<[string], { next: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM transcript WHERE conversation_id = ?'),
      insertEntry: this.db.prepare(
        'INSERT INTO transcript (conversation_id, seq, role, text, at, intent, confidence, quick_replies, agent_id, agent_name, client_message_id, redacted, response_id, tone, picture) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      transcript: this.db.prepare<[string, number], TranscriptRow>(
        `SELECT ${transcriptColumns} FROM transcript WHERE conversation_id = ? AND seq > ? ORDER BY seq`,
      ),
      entry: this.db.prepare<[string, number], TranscriptRow>(
        `SELECT ${transcriptColumns} FROM transcript WHERE conversation_id = ? AND seq = ?`,
      ),
      lineOfClientMessage: this.db.prepare<[string, string], TranscriptRow>(
        `SELECT ${transcriptColumns} FROM transcript WHERE conversation_id = ? AND client_message_id = ? AND role = 'user'`,
      ),
      // A turn's lines are written together, right after its user line: a page of what follows is enough.
      linesAfter: this.db.prepare<[string, number, number], TranscriptRow>(
        `SELECT ${transcriptColumns} FROM transcript WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      // Through turns_by_conversation: the user line's time narrows it to that turn's record.
      recordOfLine: this.db.prepare<[string, string, number], Pick<TurnRow, 'step' | 'outcomes'> & { event: string; state_after: string }>(
        'SELECT event, state_after, step, outcomes FROM turns WHERE conversation_id = ? AND at = ? AND user_seq = ?',
      ),
      currentTicket: this.db.prepare<[string], TicketRow>('SELECT * FROM handoff_tickets WHERE conversation_id = ? ORDER BY id DESC LIMIT 1'),
      queuePosition: this.db.prepare<[number], { ahead: number }>("SELECT COUNT(*) AS ahead FROM handoff_tickets WHERE handoff_status = 'waiting' AND id < ?"),
      ticketsWithStatus: this.db.prepare<[string], TicketRow>(
        `SELECT h.* FROM handoff_tickets h
          WHERE h.handoff_status = ? AND h.id = (SELECT MAX(id) FROM handoff_tickets l WHERE l.conversation_id = h.conversation_id)
          ORDER BY h.id`,
      ),
      // The one place a claim is decided: of any number of concurrent claims, one changes the row.
      claimTicket: this.db.prepare("UPDATE handoff_tickets SET handoff_status = 'assigned', assigned_agent_id = ?, assigned_at = ? WHERE id = ? AND handoff_status = 'waiting'"),
      firstAgentReply: this.db.prepare('UPDATE handoff_tickets SET first_agent_reply_at = COALESCE(first_agent_reply_at, ?) WHERE id = ?'),
      resolveTicket: this.db.prepare(
        "UPDATE handoff_tickets SET handoff_status = 'resolved', resolution = ?, resolved_at = ?, status = 'closed', closed_at = COALESCE(closed_at, ?) WHERE id = ? AND handoff_status != 'resolved'",
      ),
      insertAgent: this.db.prepare('INSERT INTO agents (id, name, token_hash, created_at) VALUES (?, ?, ?, ?)'),
      agents: this.db.prepare<[], AgentRow>('SELECT * FROM agents ORDER BY created_at, id'),
      agent: this.db.prepare<[string], AgentRow>('SELECT * FROM agents WHERE id = ?'),
      disableAgent: this.db.prepare('UPDATE agents SET disabled_at = COALESCE(disabled_at, ?) WHERE id = ?'),
      touchAgent: this.db.prepare('UPDATE agents SET last_seen_at = ? WHERE id = ?'),
      agentsSeenSince: this.db.prepare<[string], { count: number }>('SELECT COUNT(*) AS count FROM agents WHERE disabled_at IS NULL AND last_seen_at >= ?'),
      insertTicket: this.db.prepare('INSERT INTO handoff_tickets (conversation_id, reason, step, state, created_at) VALUES (?, ?, ?, ?, ?)'),
      tickets: this.db.prepare<[], TicketRow>('SELECT * FROM handoff_tickets ORDER BY id'),
      ticket: this.db.prepare<[number], TicketRow>('SELECT * FROM handoff_tickets WHERE id = ?'),

      insertTurn: this.db.prepare(
        'INSERT INTO turns (conversation_id, at, text, from_payload, intent, confidence, event, state_before, state_after, step, said, outcomes, user_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      upsertRating: this.db.prepare(
        'INSERT INTO ratings (conversation_id, at, helpful, answer_seq) VALUES (?, ?, ?, ?) ON CONFLICT (conversation_id, answer_seq) DO UPDATE SET at = excluded.at, helpful = excluded.helpful',
      ),
      // Only a bot line that follows something the user said answers anything: the greeting does not.
      ratedAnswer: this.db.prepare<[string, number, number], { seq: number }>(
        `SELECT b.seq FROM transcript b
          WHERE b.conversation_id = ? AND b.role = 'bot' AND (? = 0 OR b.seq = ?)
            AND EXISTS (SELECT 1 FROM transcript u WHERE u.conversation_id = b.conversation_id AND u.role = 'user' AND u.seq < b.seq)
          ORDER BY b.seq DESC LIMIT 1`,
      ),
      // The dashboard's ticket list, newest first, a page at a time (`before`: the last id of the previous page).
      ticketPage: this.db.prepare<[{ status: string; before: number; limit: number }], TicketRow>(
        "SELECT * FROM handoff_tickets WHERE (@status = 'all' OR status = @status) AND id < @before ORDER BY id DESC LIMIT @limit",
      ),
      ticketCount: this.db.prepare<[{ status: string }], { count: number }>("SELECT COUNT(*) AS count FROM handoff_tickets WHERE @status = 'all' OR status = @status"),
      healthProbe: this.db.prepare('UPDATE health_probe SET at = ? WHERE id = 1'),
    };
  }


  async createConversation(identity: ConversationIdentity): Promise<void> {
    this.statements.insertConversation.run(identity.id, identity.tokenHash, identity.createdAt, identity.createdAt);
  }

  async accessRecord(conversationId: string): Promise<AccessRecord | undefined> {
    const row = this.statements.identity.get(conversationId);
    return row && { tokenHash: row.token_hash, lastActiveAt: row.updated_at };
  }

  async load(conversationId: string): Promise<ConversationState | undefined> {
    const row = this.statements.load.get(conversationId);
    return row && stateFromRow(row);
  }

  async turnContext(conversationId: string): Promise<TurnContext | undefined> {
    const row = this.statements.turnContext.get(conversationId);
    if (!row) return undefined;
    const state = stateFromRow(row);
    const ticket = row.ticket_id === null ? undefined : ticketFromRow(Object.fromEntries(ticketColumns.map((column) => [column, row[`ticket_${column}`]])) as unknown as TicketRow);
    const context: TurnContext = { access: { tokenHash: row.token_hash, lastActiveAt: row.updated_at }, state, ticket, version: row.version };
    if (row.snapshot !== null) context.snapshotText = row.snapshot;
    return context;
  }

  createsConversationsImplicitly = true;

  /** Whether handoff events also go into the webhook outbox (HANDOFF_WEBHOOK_URL is set). */
  get queueTicketsForWebhook(): boolean {
    return this.outbox.enabled;
  }

  set queueTicketsForWebhook(queue: boolean) {
    this.outbox.enabled = queue;
  }

  /**
   * Concurrent conversations' turns commit together (groupCommit.ts); the promise settles once this
   * turn's transaction has committed, so a turn is never acknowledged before it is stored.
   */
  saveTurn(conversationId: string, { state, entries, ticket, record, resolveTicket, ticketLine, snapshotText, expectedVersion }: StoredTurn): Promise<SavedTurn> {
    return this.groupCommit.submit((): SavedTurn => {
      const now = entries.at(-1)?.at ?? new Date().toISOString();
      const values = [state.flowVersion, snapshotText ?? JSON.stringify(state.snapshot), state.script, state.lastQuickReplies ? JSON.stringify(state.lastQuickReplies) : null, state.openQuestion ?? null, state.endedProgress ? JSON.stringify(state.endedProgress) : null, state.locale ?? null, now, conversationId] as const;
      const updated = expectedVersion === undefined ? this.statements.updateState.run(...values) : this.statements.updateStateAtVersion.run(...values, expectedVersion);
      // Another process saved a turn since this one read the row: nothing of this turn is written.
      if (updated.changes === 0 && expectedVersion !== undefined && this.statements.exists.get(conversationId)) throw new TurnConflictError(conversationId);
      // Conversations are created through the API; tests and tools may start one implicitly. The
      // server does not: there a missing row means the conversation was deleted.
      if (updated.changes === 0 && !this.createsConversationsImplicitly) throw new ConversationGoneError(conversationId);
      if (updated.changes === 0) {
        this.statements.insertConversation.run(conversationId, '', now, now);
        this.statements.updateState.run(...values);
      }
      const seqs = this.insertEntries(conversationId, entries);
      if (record) this.insertRecord(conversationId, record, seqs[0] ?? null);
      if (ticketLine !== undefined && seqs.length) {
        const open = this.statements.ticket.get(ticketLine);
        const line = this.statements.entry.get(conversationId, seqs[0]!);
        if (open && line) this.outbox.queue(messageCreated(ticketFromRow(open), entryFromRow(line)), now);
      }
      if (resolveTicket) this.resolveInTransaction(resolveTicket.id, resolveTicket.resolution, resolveTicket.at);
      if (!ticket) return { seqs };
      // One open ticket per conversation: a second request while one waits is the same request.
      const latest = this.statements.currentTicket.get(conversationId);
      if (latest && latest.handoff_status !== 'resolved') return { seqs };
      const { lastInsertRowid } = this.statements.insertTicket.run(ticket.conversationId, ticket.reason, ticket.step, ticket.state, ticket.createdAt);
      const created = ticketFromRow(this.statements.ticket.get(Number(lastInsertRowid))!);
      // Same transaction as the ticket: a ticket is never created without its delivery queued.
      this.outbox.queue(handoffRequested(created, this.statements.transcript.all(conversationId, 0).map(entryFromRow)), ticket.createdAt);
      return { seqs, ticket: created };
    });
  }

  /** A turn's lines take the next seqs in order: one lookup of the last seq for all of them (inside the transaction, so no other writer takes one). */
  private insertEntries(conversationId: string, entries: readonly TranscriptEntry[]): number[] {
    if (entries.length === 0) return [];
    const next = this.statements.nextSeq.get(conversationId)!.next;
    return entries.map((entry, index) => this.insertEntryAt(conversationId, next + index, entry));
  }

  private insertEntryAt(conversationId: string, seq: number, entry: TranscriptEntry): number {
    this.statements.insertEntry.run(
      conversationId,
      seq,
      entry.role,
      entry.text,
      entry.at,
      entry.intent?.name ?? null,
      entry.intent?.confidence ?? null,
      entry.quickReplies ? JSON.stringify(entry.quickReplies) : null,
      entry.agentId ?? null,
      entry.agentName ?? null,
      entry.clientMessageId ?? null,
      entry.redacted === undefined ? null : entry.redacted ? 1 : 0,
      entry.responseId ?? null,
      entry.tone ?? null,
      entry.picture ?? null,
    );
    return seq;
  }


  private resolveInTransaction(id: number, resolution: HandoffResolution, at: string): HandoffTicket | undefined {
    const changed = this.statements.resolveTicket.run(resolution, at, at, id).changes === 1;
    const row = this.statements.ticket.get(id);
    if (changed && row) this.outbox.queue(conversationResolved(ticketFromRow(row)), at);
    return changed && row ? ticketFromRow(row) : undefined;
  }

  private insertRecord(conversationId: string, record: TurnRecord, userSeq: number | null): void {
    this.statements.insertTurn.run(
      conversationId,
      record.at,
      record.text,
      record.fromPayload ? 1 : 0,
      record.intent,
      record.confidence,
      record.event,
      record.stateBefore,
      record.stateAfter,
      record.step,
      JSON.stringify(record.said),
      JSON.stringify(record.outcomes),
      userSeq,
    );
  }

  /** Closes a ticket from the dashboard: it is resolved (the conversation's release is the caller's). */
  async closeTicket(id: number, at: string): Promise<HandoffTicket | undefined> {
    this.db.transaction(() => this.resolveInTransaction(id, 'resolved', at))();
    const row = this.statements.ticket.get(id);
    return row && ticketFromRow(row);
  }

  async currentTicket(conversationId: string): Promise<HandoffTicket | undefined> {
    const row = this.statements.currentTicket.get(conversationId);
    return row && ticketFromRow(row);
  }

  async queuePosition(ticketId: number): Promise<number> {
    return this.statements.queuePosition.get(ticketId)!.ahead;
  }

  async ticketsWithStatus(status: HandoffStatus): Promise<HandoffTicket[]> {
    const tickets = this.statements.ticketsWithStatus.all(status).map(ticketFromRow);
    return status === 'waiting' ? tickets : tickets.reverse();
  }

  async claimTicket(ticketId: number, agentId: string, at: string): Promise<boolean> {
    return this.statements.claimTicket.run(agentId, at, ticketId).changes === 1;
  }

  async addAgentLine(ticketId: number, agent: Pick<Agent, 'id' | 'name'>, text: string, at: string): Promise<TranscriptEntry | AgentLineRefusal> {
    return this.db.transaction((): TranscriptEntry | AgentLineRefusal => {
      const row = this.statements.ticket.get(ticketId);
      if (row?.handoff_status !== 'assigned') return 'not_assigned';
      if (row.assigned_agent_id !== agent.id) return 'not_assigned_to_you';
      const seq = this.insertEntries(row.conversation_id, [{ role: 'agent', text, at, agentId: agent.id, agentName: agent.name }])[0]!;
      this.statements.firstAgentReply.run(at, ticketId);
      const entry = entryFromRow(this.statements.entry.get(row.conversation_id, seq)!);
      this.outbox.queue(messageCreated(ticketFromRow(row), entry), at);
      return entry;
    })();
  }

  async createAgent(agent: AgentRecord): Promise<void> {
    this.statements.insertAgent.run(agent.id, agent.name, agent.tokenHash, agent.createdAt);
  }

  async agents(): Promise<Agent[]> {
    return this.statements.agents.all().map((row) => {
      const { tokenHash: _hash, ...agent } = agentFromRow(row);
      return agent;
    });
  }

  async agentRecord(id: string): Promise<AgentRecord | undefined> {
    const row = this.statements.agent.get(id);
    return row && agentFromRow(row);
  }

  async disableAgent(id: string, at: string): Promise<boolean> {
    return this.statements.disableAgent.run(at, id).changes === 1;
  }

  async touchAgent(id: string, at: string): Promise<void> {
    this.statements.touchAgent.run(at, id);
  }

  async agentsSeenSince(sinceIso: string): Promise<number> {
    return this.statements.agentsSeenSince.get(sinceIso)!.count;
  }

  /**
   * Rates one answer: `answerSeq` names the bot line, or (0) the latest answer. Rating it again
   * replaces the earlier rating, so one conversation can never cast more than one vote per answer.
   */
  async rate(conversationId: string, helpful: boolean, at: string, answerSeq = 0): Promise<RatingResult> {
    const answer = this.statements.ratedAnswer.get(conversationId, answerSeq, answerSeq);
    if (!answer) return { rated: false };
    this.statements.upsertRating.run(conversationId, at, helpful ? 1 : 0, answer.seq);
    return { rated: true, answerSeq: answer.seq };
  }

  async deleteConversation(conversationId: string): Promise<boolean> {
    return this.deletion.deleteConversation(conversationId);
  }

  async deleteInactiveBefore(beforeIso: string, limit: number): Promise<number> {
    return this.deletion.deleteInactiveBefore(beforeIso, limit);
  }

  async transcript(conversationId: string, afterSeq = 0): Promise<TranscriptEntry[]> {
    return this.statements.transcript.all(conversationId, afterSeq).map(entryFromRow);
  }

  async acceptedMessage(conversationId: string, clientMessageId: string): Promise<AcceptedMessage | undefined> {
    const row = this.statements.lineOfClientMessage.get(conversationId, clientMessageId);
    if (!row) return undefined;
    const line = { ...entryFromRow(row), seq: row.seq };
    const replies = turnReplies(line, this.statements.linesAfter.all(conversationId, row.seq, maxRepliesOfATurn).map(entryFromRow));
    const record = this.statements.recordOfLine.get(conversationId, row.at, row.seq);
    if (!record) return { line, replies };
    return { line, replies, record: { event: record.event, stateAfter: record.state_after, step: record.step, outcomes: JSON.parse(record.outcomes) as Outcome[] } };
  }

  async tickets(): Promise<HandoffTicket[]> {
    return this.statements.tickets.all().map(ticketFromRow);
  }

  async ticketsPage({ status, before, limit }: TicketPageQuery): Promise<HandoffTicket[]> {
    return this.statements.ticketPage.all({ status, before: before ?? Number.MAX_SAFE_INTEGER, limit }).map(ticketFromRow);
  }

  async ticketCount(status: TicketPageQuery['status']): Promise<number> {
    return this.statements.ticketCount.get({ status })!.count;
  }


  async ticket(id: number): Promise<HandoffTicket | undefined> {
    const row = this.statements.ticket.get(id);
    return row && ticketFromRow(row);
  }


  analyticsRows(fromIso: string, toIso: string): Promise<AnalyticsRows> {
    return this.analytics.analyticsRows(fromIso, toIso);
  }

  analyticsSlices(fromIso: string, toIso: string, sizes?: { conversationsPerPage?: number; turnsPerChunk?: number }): Generator<AnalyticsSlice> {
    return this.analytics.analyticsSlices(fromIso, toIso, sizes);
  }

  async dueDeliveries(nowIso: string, limit?: number): Promise<PendingDelivery[]> {
    return this.outbox.dueDeliveries(nowIso, limit);
  }

  async markDelivered(id: number, atIso: string): Promise<void> {
    this.outbox.markDelivered(id, atIso);
  }

  async markFailed(id: number, nextAttemptIso: string, error: string): Promise<void> {
    this.outbox.markFailed(id, nextAttemptIso, error);
  }

  async undeliveredCount(): Promise<number> {
    return this.outbox.undeliveredCount();
  }

  async healthy(): Promise<boolean> {
    try {
      return this.statements.healthProbe.run(new Date().toISOString()).changes === 1;
    } catch {
      return false;
    }
  }

  /** Closed before the promise is returned: tests and tools may open the file again at once. */
  async close(): Promise<void> {
    if (!this.db.open) return;
    // Turns still waiting for their batch are committed, not dropped.
    this.groupCommit.flush();
    this.db.close();
  }
}

