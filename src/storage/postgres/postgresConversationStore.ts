import pg from 'pg';
import type { Outcome } from '../../../flows/events.js';
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
} from '../../dialogue/conversationStore.js';
import type { AnalyticsRows, AnalyticsSlice } from '../../analytics/supportAnalytics.js';
import { conversationResolved, handoffRequested, messageCreated } from '../../support/webhookEvents.js';
import type { AccessRecord, ConversationIdentity } from '../identityStore.js';
import type { StoredTextRedaction } from '../reRedaction.js';
import type { PendingDelivery, ServerStore } from '../serverStore.js';
// The PostgreSQL schema keeps SQLite's column names and value types, so its rows read back the same way.
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
} from '../sqliteRows.js';
import { PostgresAnalyticsQueries } from './postgresAnalyticsQueries.js';
import { PostgresDeletion } from './postgresDeletion.js';
import { applyPostgresMigrations } from './postgresMigrations.js';
import { reRedactPostgres } from './postgresReRedaction.js';
import { PostgresSession } from './postgresSession.js';
import { PostgresWebhookOutbox } from './postgresWebhookOutbox.js';

/** More lines than one turn ever says (an answer, a question, a warning, a note): the page `acceptedMessage` reads. */
const maxRepliesOfATurn = 20;

const int8 = 20;
/**
 * Ids and counts are bigint, which pg hands back as strings by default (they may pass 2^53). The
 * store's types are numbers, as SQLite's are, and no id or count here comes near 2^53: read them
 * as numbers, for this pool only.
 */
const bigintsAsNumbers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === int8 ? Number : pg.types.getTypeParser(oid, format))) as pg.CustomTypesConfig['getTypeParser'],
};

const conversationStateColumns = 'flow_version, snapshot, script, last_quick_replies, open_question, ended_progress, locale';

/**
 * The server's store in PostgreSQL (DATABASE_URL=postgres://…), shared by several server instances.
 * Behaves as SqliteConversationStore does for every caller; where SQLite's single writer made
 * something safe, a row lock does here: a conversation's turns (`withTurnLock`), the seq numbers
 * of its lines, the claim of a ticket and the lease of a webhook delivery. The schema
 * (postgresMigrations.ts), analytics queries, deletion, outbox and which connection a query runs on
 * (postgresSession.ts) are their own modules, which this class puts together.
 */
export class PostgresConversationStore implements ServerStore {
  readonly kind = 'postgres';
  readonly session: PostgresSession;
  private readonly analytics: PostgresAnalyticsQueries;
  private readonly outbox: PostgresWebhookOutbox;
  private readonly deletion: PostgresDeletion;

  /** Tests and tools save turns of conversations never created through the API; the server turns this off. */
  createsConversationsImplicitly = true;

  /** Use openPostgresStore, which migrates the database first. */
  constructor(readonly pool: pg.Pool) {
    this.session = new PostgresSession(pool);
    this.analytics = new PostgresAnalyticsQueries(this.session);
    this.outbox = new PostgresWebhookOutbox(this.session);
    this.deletion = new PostgresDeletion(this.session);
  }

  get queueTicketsForWebhook(): boolean {
    return this.outbox.enabled;
  }

  set queueTicketsForWebhook(queue: boolean) {
    this.outbox.enabled = queue;
  }

  private async rows<Row extends object>(sql: string, values: unknown[] = []): Promise<Row[]> {
    return (await this.session.query<Row & Record<string, unknown>>(sql, values)).rows;
  }

  private async row<Row extends object>(sql: string, values: unknown[] = []): Promise<Row | undefined> {
    return (await this.rows<Row>(sql, values))[0];
  }

  /**
   * Runs one attempt at a turn as the only turn of this conversation on any server: the
   * conversation's row stays locked (SELECT … FOR UPDATE) until the turn's transaction ends, and
   * every query the store makes inside `turn` runs in that transaction. The lock dies with the
   * connection, so a server killed mid-turn never leaves one behind. Committed when `turn`
   * resolves, rolled back when it throws. A conversation with no row yet has nothing to lock: its
   * turn runs unlocked, and saveTurn's version check (or ConversationGoneError) still holds.
   */
  withTurnLock<T>(conversationId: string, turn: () => Promise<T>): Promise<T> {
    return this.session.transaction(turn, (client) => `SELECT 1 FROM conversations WHERE id = ${client.escapeLiteral(conversationId)} FOR UPDATE`);
  }

  async createConversation(identity: ConversationIdentity): Promise<void> {
    await this.session.query('INSERT INTO conversations (id, token_hash, created_at, updated_at) VALUES ($1, $2, $3, $3)', [identity.id, identity.tokenHash, identity.createdAt]);
  }

  async accessRecord(conversationId: string): Promise<AccessRecord | undefined> {
    const row = await this.row<{ token_hash: string; updated_at: string }>('SELECT token_hash, updated_at FROM conversations WHERE id = $1', [conversationId]);
    return row && { tokenHash: row.token_hash, lastActiveAt: row.updated_at };
  }

  async load(conversationId: string): Promise<ConversationState | undefined> {
    const row = await this.row<ConversationRow>(`SELECT ${conversationStateColumns} FROM conversations WHERE id = $1`, [conversationId]);
    return row && stateFromRow(row);
  }

  /** The token, the state and the latest ticket in one read. */
  async turnContext(conversationId: string): Promise<TurnContext | undefined> {
    const row = await this.row<TurnContextRow>(
      `SELECT c.token_hash, c.updated_at, c.version, ${conversationStateColumns.split(', ').map((column) => `c.${column}`).join(', ')},
              ${ticketColumns.map((column) => `h.${column} AS ticket_${column}`).join(', ')}
         FROM conversations c
         LEFT JOIN handoff_tickets h ON h.id = (SELECT MAX(l.id) FROM handoff_tickets l WHERE l.conversation_id = c.id)
        WHERE c.id = $1`,
      [conversationId],
    );
    if (!row) return undefined;
    const ticket = row.ticket_id === null ? undefined : ticketFromRow(Object.fromEntries(ticketColumns.map((column) => [column, row[`ticket_${column}`]])) as unknown as TicketRow);
    const context: TurnContext = { access: { tokenHash: row.token_hash, lastActiveAt: row.updated_at }, state: stateFromRow(row), ticket, version: row.version };
    if (row.snapshot !== null) context.snapshotText = row.snapshot;
    return context;
  }

  /**
   * One transaction (a savepoint of the turn's, under withTurnLock). The state's UPDATE comes first
   * and locks the conversation's row, so no line of another writer can take the same seq.
   */
  saveTurn(conversationId: string, { state, entries, ticket, record, resolveTicket, ticketLine, snapshotText, expectedVersion }: StoredTurn): Promise<SavedTurn> {
    return this.session.transaction(async (): Promise<SavedTurn> => {
      const now = entries.at(-1)?.at ?? new Date().toISOString();
      const values = [
        state.flowVersion,
        snapshotText ?? JSON.stringify(state.snapshot),
        state.script,
        state.lastQuickReplies ? JSON.stringify(state.lastQuickReplies) : null,
        state.openQuestion ?? null,
        state.endedProgress ? JSON.stringify(state.endedProgress) : null,
        state.locale ?? null,
        now,
        conversationId,
      ];
      const setState = 'UPDATE conversations SET flow_version = $1, snapshot = $2, script = $3, last_quick_replies = $4, open_question = $5, ended_progress = $6, locale = $7, updated_at = $8, version = version + 1 WHERE id = $9';
      const updated =
        expectedVersion === undefined ? await this.session.query(setState, values) : await this.session.query(`${setState} AND version = $10`, [...values, expectedVersion]);
      if (updated.rowCount === 0) {
        const exists = await this.row('SELECT 1 AS found FROM conversations WHERE id = $1', [conversationId]);
        // Another turn was saved since this one read the row: nothing of this turn is written.
        if (exists && expectedVersion !== undefined) throw new TurnConflictError(conversationId);
        // The server creates conversations through the API only: there a missing row was deleted.
        if (!exists && !this.createsConversationsImplicitly) throw new ConversationGoneError(conversationId);
        if (!exists) await this.session.query('INSERT INTO conversations (id, token_hash, created_at, updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT (id) DO NOTHING', [conversationId, '', now]);
        await this.session.query(setState, values);
      }
      const seqs = await this.insertEntries(conversationId, entries);
      if (record) await this.insertRecord(conversationId, record, seqs[0] ?? null);
      if (ticketLine !== undefined && seqs.length) {
        const open = await this.ticketRow(ticketLine);
        const line = await this.row<TranscriptRow>(`SELECT ${transcriptColumns} FROM transcript WHERE conversation_id = $1 AND seq = $2`, [conversationId, seqs[0]]);
        if (open && line) await this.outbox.queue(messageCreated(ticketFromRow(open), entryFromRow(line)), now);
      }
      if (resolveTicket) await this.resolveInTransaction(resolveTicket.id, resolveTicket.resolution, resolveTicket.at);
      if (!ticket) return { seqs };
      // One open ticket per conversation: a second request while one waits is the same request.
      const latest = await this.latestTicketRow(conversationId);
      if (latest && latest.handoff_status !== 'resolved') return { seqs };
      const created = ticketFromRow(
        (await this.row<TicketRow>('INSERT INTO handoff_tickets (conversation_id, reason, step, state, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING *', [
          ticket.conversationId,
          ticket.reason,
          ticket.step,
          ticket.state,
          ticket.createdAt,
        ]))!,
      );
      // Same transaction as the ticket: a ticket is never created without its delivery queued.
      await this.outbox.queue(handoffRequested(created, await this.transcript(conversationId)), ticket.createdAt);
      return { seqs, ticket: created };
    });
  }

  /** Appends lines after the conversation's last; the caller holds the conversation's row lock. */
  private async insertEntries(conversationId: string, entries: readonly TranscriptEntry[]): Promise<number[]> {
    if (!entries.length) return [];
    const { next } = (await this.row<{ next: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM transcript WHERE conversation_id = $1', [conversationId]))!;
    const seqs = entries.map((_, index) => next + index);
    const columns = 15;
    const placeholders = entries.map((_, row) => `(${Array.from({ length: columns }, (_, column) => `$${row * columns + column + 1}`).join(', ')})`);
    const values = entries.flatMap((entry, index) => [
      conversationId,
      seqs[index],
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
    ]);
    await this.session.query(
      `INSERT INTO transcript (conversation_id, seq, role, text, at, intent, confidence, quick_replies, agent_id, agent_name, client_message_id, redacted, response_id, tone, picture) VALUES ${placeholders.join(', ')}`,
      values,
    );
    return seqs;
  }

  private async insertRecord(conversationId: string, record: TurnRecord, userSeq: number | null): Promise<void> {
    await this.session.query(
      'INSERT INTO turns (conversation_id, at, text, from_payload, intent, confidence, event, state_before, state_after, step, said, outcomes, user_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)',
      [
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
      ],
    );
  }

  /** Ends a ticket that has not ended yet, and queues its event; inside the caller's transaction. */
  private async resolveInTransaction(id: number, resolution: HandoffResolution, at: string): Promise<void> {
    const row = await this.row<TicketRow>(
      "UPDATE handoff_tickets SET handoff_status = 'resolved', resolution = $1, resolved_at = $2, status = 'closed', closed_at = COALESCE(closed_at, $2) WHERE id = $3 AND handoff_status <> 'resolved' RETURNING *",
      [resolution, at, id],
    );
    if (row) await this.outbox.queue(conversationResolved(ticketFromRow(row)), at);
  }

  private ticketRow(id: number): Promise<TicketRow | undefined> {
    return this.row<TicketRow>('SELECT * FROM handoff_tickets WHERE id = $1', [id]);
  }

  private latestTicketRow(conversationId: string): Promise<TicketRow | undefined> {
    return this.row<TicketRow>('SELECT * FROM handoff_tickets WHERE conversation_id = $1 ORDER BY id DESC LIMIT 1', [conversationId]);
  }

  async closeTicket(id: number, at: string): Promise<HandoffTicket | undefined> {
    await this.session.transaction(() => this.resolveInTransaction(id, 'resolved', at));
    return this.ticket(id);
  }

  async ticket(id: number): Promise<HandoffTicket | undefined> {
    const row = await this.ticketRow(id);
    return row && ticketFromRow(row);
  }

  async currentTicket(conversationId: string): Promise<HandoffTicket | undefined> {
    const row = await this.latestTicketRow(conversationId);
    return row && ticketFromRow(row);
  }

  async queuePosition(ticketId: number): Promise<number> {
    return (await this.row<{ ahead: number }>("SELECT COUNT(*) AS ahead FROM handoff_tickets WHERE handoff_status = 'waiting' AND id < $1", [ticketId]))!.ahead;
  }

  /** Latest ticket per conversation with this status; waiting ones oldest first, others newest first. */
  async ticketsWithStatus(status: HandoffStatus): Promise<HandoffTicket[]> {
    const rows = await this.rows<TicketRow>(
      `SELECT h.* FROM handoff_tickets h
        WHERE h.handoff_status = $1 AND h.id = (SELECT MAX(id) FROM handoff_tickets l WHERE l.conversation_id = h.conversation_id)
        ORDER BY h.id ${status === 'waiting' ? 'ASC' : 'DESC'}`,
      [status],
    );
    return rows.map(ticketFromRow);
  }

  /** The one place a claim is decided: of any number of concurrent claims, on any server, one changes the row. */
  async claimTicket(ticketId: number, agentId: string, at: string): Promise<boolean> {
    const { rowCount } = await this.session.query(
      "UPDATE handoff_tickets SET handoff_status = 'assigned', assigned_agent_id = $1, assigned_at = $2 WHERE id = $3 AND handoff_status = 'waiting'",
      [agentId, at, ticketId],
    );
    return rowCount === 1;
  }

  /**
   * The ticket is read again once its conversation's row is locked: a turn that ended the handover
   * on another server meanwhile is seen, and the line's seq cannot collide with that turn's lines.
   */
  async addAgentLine(ticketId: number, agent: Pick<Agent, 'id' | 'name'>, text: string, at: string): Promise<TranscriptEntry | AgentLineRefusal> {
    return this.session.transaction(async (): Promise<TranscriptEntry | AgentLineRefusal> => {
      const before = await this.ticketRow(ticketId);
      if (before?.handoff_status !== 'assigned') return 'not_assigned';
      await this.session.query('SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE', [before.conversation_id]);
      const row = await this.ticketRow(ticketId);
      if (row?.handoff_status !== 'assigned') return 'not_assigned';
      if (row.assigned_agent_id !== agent.id) return 'not_assigned_to_you';
      const [seq] = await this.insertEntries(row.conversation_id, [{ role: 'agent', text, at, agentId: agent.id, agentName: agent.name }]);
      await this.session.query('UPDATE handoff_tickets SET first_agent_reply_at = COALESCE(first_agent_reply_at, $1) WHERE id = $2', [at, ticketId]);
      const entry = entryFromRow((await this.row<TranscriptRow>(`SELECT ${transcriptColumns} FROM transcript WHERE conversation_id = $1 AND seq = $2`, [row.conversation_id, seq]))!);
      await this.outbox.queue(messageCreated(ticketFromRow(row), entry), at);
      return entry;
    });
  }

  async createAgent(agent: AgentRecord): Promise<void> {
    await this.session.query('INSERT INTO agents (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)', [agent.id, agent.name, agent.tokenHash, agent.createdAt]);
  }

  async agents(): Promise<Agent[]> {
    const rows = await this.rows<AgentRow>('SELECT * FROM agents ORDER BY created_at, id');
    return rows.map((row) => {
      const { tokenHash: _hash, ...agent } = agentFromRow(row);
      return agent;
    });
  }

  async agentRecord(id: string): Promise<AgentRecord | undefined> {
    const row = await this.row<AgentRow>('SELECT * FROM agents WHERE id = $1', [id]);
    return row && agentFromRow(row);
  }

  async disableAgent(id: string, at: string): Promise<boolean> {
    const { rowCount } = await this.session.query('UPDATE agents SET disabled_at = COALESCE(disabled_at, $1) WHERE id = $2', [at, id]);
    return rowCount === 1;
  }

  async touchAgent(id: string, at: string): Promise<void> {
    await this.session.query('UPDATE agents SET last_seen_at = $1 WHERE id = $2', [at, id]);
  }

  async agentsSeenSince(sinceIso: string): Promise<number> {
    return (await this.row<{ count: number }>('SELECT COUNT(*) AS count FROM agents WHERE disabled_at IS NULL AND last_seen_at >= $1', [sinceIso]))!.count;
  }

  /**
   * Rates one answer: `answerSeq` names the bot line, or (0) the latest answer; only a bot line
   * that follows something the user said answers anything. Rating it again replaces the earlier
   * rating. One statement: finding the answer and rating it cannot be split by another write.
   */
  async rate(conversationId: string, helpful: boolean, at: string, answerSeq = 0): Promise<RatingResult> {
    const rated = await this.row<{ answer_seq: number }>(
      `INSERT INTO ratings (conversation_id, at, helpful, answer_seq)
       SELECT b.conversation_id, $2::text, $3::integer, b.seq FROM transcript b
        WHERE b.conversation_id = $1 AND b.role = 'bot' AND ($4::integer = 0 OR b.seq = $4::integer)
          AND EXISTS (SELECT 1 FROM transcript u WHERE u.conversation_id = b.conversation_id AND u.role = 'user' AND u.seq < b.seq)
        ORDER BY b.seq DESC LIMIT 1
       ON CONFLICT (conversation_id, answer_seq) DO UPDATE SET at = excluded.at, helpful = excluded.helpful
       RETURNING answer_seq`,
      [conversationId, at, helpful ? 1 : 0, answerSeq],
    );
    return rated ? { rated: true, answerSeq: rated.answer_seq } : { rated: false };
  }

  deleteConversation(conversationId: string): Promise<boolean> {
    return this.deletion.deleteConversation(conversationId);
  }

  deleteInactiveBefore(beforeIso: string, limit: number): Promise<number> {
    return this.deletion.deleteInactiveBefore(beforeIso, limit);
  }

  async transcript(conversationId: string, afterSeq = 0): Promise<TranscriptEntry[]> {
    const rows = await this.rows<TranscriptRow>(`SELECT ${transcriptColumns} FROM transcript WHERE conversation_id = $1 AND seq > $2 ORDER BY seq`, [conversationId, afterSeq]);
    return rows.map(entryFromRow);
  }

  async acceptedMessage(conversationId: string, clientMessageId: string): Promise<AcceptedMessage | undefined> {
    const row = await this.row<TranscriptRow>(`SELECT ${transcriptColumns} FROM transcript WHERE conversation_id = $1 AND client_message_id = $2 AND role = 'user'`, [
      conversationId,
      clientMessageId,
    ]);
    if (!row) return undefined;
    const line = { ...entryFromRow(row), seq: row.seq };
    // A turn's lines are written together, right after its user line: a page of what follows is enough.
    const following = await this.rows<TranscriptRow>(`SELECT ${transcriptColumns} FROM transcript WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, [
      conversationId,
      row.seq,
      maxRepliesOfATurn,
    ]);
    const replies = turnReplies(line, following.map(entryFromRow));
    const record = await this.row<Pick<TurnRow, 'step' | 'outcomes'> & { event: string; state_after: string }>(
      'SELECT event, state_after, step, outcomes FROM turns WHERE conversation_id = $1 AND at = $2 AND user_seq = $3',
      [conversationId, row.at, row.seq],
    );
    if (!record) return { line, replies };
    return { line, replies, record: { event: record.event, stateAfter: record.state_after, step: record.step, outcomes: JSON.parse(record.outcomes) as Outcome[] } };
  }

  async tickets(): Promise<HandoffTicket[]> {
    return (await this.rows<TicketRow>('SELECT * FROM handoff_tickets ORDER BY id')).map(ticketFromRow);
  }

  /** The dashboard's ticket list, newest first, a page at a time (`before`: the last id of the previous page). */
  async ticketsPage({ status, before, limit }: TicketPageQuery): Promise<HandoffTicket[]> {
    const rows = await this.rows<TicketRow>("SELECT * FROM handoff_tickets WHERE ($1 = 'all' OR status = $1) AND id < $2 ORDER BY id DESC LIMIT $3", [
      status,
      before ?? Number.MAX_SAFE_INTEGER,
      limit,
    ]);
    return rows.map(ticketFromRow);
  }

  async ticketCount(status: TicketPageQuery['status']): Promise<number> {
    return (await this.row<{ count: number }>("SELECT COUNT(*) AS count FROM handoff_tickets WHERE $1 = 'all' OR status = $1", [status]))!.count;
  }

  analyticsRows(fromIso: string, toIso: string): Promise<AnalyticsRows> {
    return this.analytics.analyticsRows(fromIso, toIso);
  }

  analyticsSlices(fromIso: string, toIso: string, sizes?: { conversationsPerPage?: number; turnsPerChunk?: number }): AsyncGenerator<AnalyticsSlice> {
    return this.analytics.analyticsSlices(fromIso, toIso, sizes);
  }

  dueDeliveries(nowIso: string, limit?: number): Promise<PendingDelivery[]> {
    return this.outbox.dueDeliveries(nowIso, limit);
  }

  markDelivered(id: number, atIso: string): Promise<void> {
    return this.outbox.markDelivered(id, atIso);
  }

  markFailed(id: number, nextAttemptIso: string, error: string): Promise<void> {
    return this.outbox.markFailed(id, nextAttemptIso, error);
  }

  undeliveredCount(): Promise<number> {
    return this.outbox.undeliveredCount();
  }

  /** Never throws: a lost connection, a read-only or full database is simply not healthy. */
  async healthy(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    // A probe that has not answered in 3 s is an answer: a load balancer's check must not hang.
    const tooSlow = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 3_000)));
    const probe = this.session.query('UPDATE health_probe SET at = $1 WHERE id = 1', [new Date().toISOString()]).then(({ rowCount }) => rowCount === 1, () => false);
    try {
      return await Promise.race([probe, tooSlow]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Lets the database go once the queries and turns under way have finished. */
  close(): Promise<void> {
    return this.pool.end();
  }
}

/**
 * Connects to `databaseUrl` (postgres://…), brings its schema up to date, redacts again what an
 * older redactor stored, and returns the store. Servers starting at once on one database take
 * turns at the migration (an advisory lock).
 */
export async function openPostgresStore(databaseUrl: string, options: { redaction?: StoredTextRedaction; poolSize?: number } = {}): Promise<PostgresConversationStore> {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.poolSize ?? 10,
    types: bigintsAsNumbers,
    // A request waits at most this long for a connection (PostgreSQL away, or every one in use):
    // then it is refused with 503 ("send it again"), not left hanging.
    connectionTimeoutMillis: 5_000,
    // TCP keepalive finds a connection whose far end vanished without closing it.
    keepAlive: true,
    // A turn holds its conversation's row lock for milliseconds. An instance that hangs mid-turn
    // (not killed: that ends its connection and the lock at once) loses its transaction after 30 s,
    // so the conversation is not blocked for longer.
    options: '-c idle_in_transaction_session_timeout=30000',
  });
  // An idle connection that the server drops (a restart, a network cut) is reported here; without a
  // listener that would end the process. The pool replaces it, and the next query sees any outage.
  pool.on('error', () => undefined);
  const store = new PostgresConversationStore(pool);
  try {
    await applyPostgresMigrations(store.session);
    if (options.redaction) await reRedactPostgres(store.session, options.redaction);
  } catch (error) {
    await pool.end();
    throw error;
  }
  return store;
}
