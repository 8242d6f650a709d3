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
  type ConversationStore,
  type HandoffResolution,
  type HandoffStatus,
  type HandoffTicket,
  type PrivacyStore,
  type RatingResult,
  type SavedTurn,
  type StoredTurn,
  type SupportStore,
  type TicketListing,
  type TicketPageQuery,
  type TranscriptEntry,
  type TurnContext,
  type TurnRecord,
} from '../dialogue/conversationStore.js';
import { conversationResolved, handoffRequested, messageCreated, type WebhookEvent } from '../support/webhookEvents.js';
import type { AnalyticsRows, AnalyticsSlice, AnalyticsSource, SlicedAnalyticsSource } from '../analytics/supportAnalytics.js';
import type { AccessRecord, ConversationIdentity, IdentityStore } from './identityStore.js';
import { GroupCommit } from './groupCommit.js';
import { SqliteDeletion } from './sqliteDeletion.js';
import { metaTableMigration, reRedactStoredText, type StoredTextRedaction } from './reRedaction.js';
import { storedProgress } from '../dialogue/unbindingProgress.js';
import { isReplyPicture } from '../content/schemas.js';

/**
 * Schema changes, in order; never edit one that has shipped, add the next. `PRAGMA user_version`
 * records how many have been applied to a database file.
 */
const migrations: string[] = [
  `CREATE TABLE conversations (
     id TEXT PRIMARY KEY,
     token_hash TEXT NOT NULL,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     flow_version TEXT,
     snapshot TEXT,
     script TEXT
   );
   CREATE TABLE transcript (
     conversation_id TEXT NOT NULL REFERENCES conversations(id),
     seq INTEGER NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('user', 'bot')),
     text TEXT NOT NULL,
     at TEXT NOT NULL,
     intent TEXT,
     confidence REAL,
     quick_replies TEXT,
     PRIMARY KEY (conversation_id, seq)
   );
   CREATE TABLE handoff_tickets (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     conversation_id TEXT NOT NULL REFERENCES conversations(id),
     reason TEXT NOT NULL,
     step INTEGER NOT NULL,
     state TEXT NOT NULL,
     created_at TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'open'
   );
   CREATE INDEX handoff_tickets_by_status ON handoff_tickets(status, created_at);`,
  // 2: analytics (one row per user turn), ratings, ticket closing, webhook outbox.
  `CREATE TABLE turns (
     conversation_id TEXT NOT NULL REFERENCES conversations(id),
     at TEXT NOT NULL,
     text TEXT NOT NULL,
     from_payload INTEGER NOT NULL,
     intent TEXT NOT NULL,
     confidence REAL NOT NULL,
     event TEXT NOT NULL,
     state_before TEXT NOT NULL,
     state_after TEXT NOT NULL,
     step INTEGER NOT NULL,
     said TEXT NOT NULL
   );
   CREATE INDEX turns_by_time ON turns(at);
   CREATE INDEX turns_by_conversation ON turns(conversation_id, at);
   CREATE INDEX conversations_by_creation ON conversations(created_at);
   CREATE TABLE ratings (
     conversation_id TEXT NOT NULL REFERENCES conversations(id),
     at TEXT NOT NULL,
     helpful INTEGER NOT NULL
   );
   CREATE INDEX ratings_by_time ON ratings(at);
   ALTER TABLE handoff_tickets ADD COLUMN closed_at TEXT;
   CREATE TABLE webhook_outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     ticket_id INTEGER NOT NULL REFERENCES handoff_tickets(id),
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at TEXT NOT NULL,
     last_error TEXT,
     delivered_at TEXT
   );
   CREATE INDEX webhook_outbox_due ON webhook_outbox(delivered_at, next_attempt_at);`,
  // 3: the buttons of the last turn, so a typed button title acts as a click.
  `ALTER TABLE conversations ADD COLUMN last_quick_replies TEXT;`,
  // 4: the question the last turn asked (a response id), which steers how the next message is read.
  `ALTER TABLE conversations ADD COLUMN open_question TEXT;`,
  // 5: what happened in each turn, as the flows said it (`Outcome`, JSON). The turns already stored
  // have none recorded: 'null' marks them, so analytics knows to read their response ids instead.
  `ALTER TABLE turns ADD COLUMN outcomes TEXT NOT NULL DEFAULT '[]';
   UPDATE turns SET outcomes = 'null';`,
  // 6: live handoff. Agents (a scrypt hash of each token); who holds each ticket and how it ended
  // (a closed ticket was resolved); agent lines in the transcript (a CHECK cannot be altered, so the
  // table is rebuilt with its rows and seqs); outbox rows carry their event's body.
  `CREATE TABLE agents (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     token_hash TEXT NOT NULL,
     created_at TEXT NOT NULL,
     disabled_at TEXT,
     last_seen_at TEXT
   );
   ALTER TABLE handoff_tickets ADD COLUMN handoff_status TEXT NOT NULL DEFAULT 'waiting' CHECK (handoff_status IN ('waiting', 'assigned', 'resolved'));
   ALTER TABLE handoff_tickets ADD COLUMN assigned_agent_id TEXT REFERENCES agents(id);
   ALTER TABLE handoff_tickets ADD COLUMN assigned_at TEXT;
   ALTER TABLE handoff_tickets ADD COLUMN first_agent_reply_at TEXT;
   ALTER TABLE handoff_tickets ADD COLUMN resolved_at TEXT;
   ALTER TABLE handoff_tickets ADD COLUMN resolution TEXT CHECK (resolution IN ('resolved', 'handed_back', 'user_left'));
   UPDATE handoff_tickets SET handoff_status = 'resolved', resolution = 'resolved', resolved_at = closed_at WHERE status = 'closed';
   CREATE INDEX handoff_tickets_by_conversation ON handoff_tickets(conversation_id, id);
   CREATE INDEX handoff_tickets_by_handoff_status ON handoff_tickets(handoff_status, id);
   CREATE TABLE transcript_v6 (
     conversation_id TEXT NOT NULL REFERENCES conversations(id),
     seq INTEGER NOT NULL,
     role TEXT NOT NULL CHECK (role IN ('user', 'bot', 'agent')),
     text TEXT NOT NULL,
     at TEXT NOT NULL,
     intent TEXT,
     confidence REAL,
     quick_replies TEXT,
     agent_id TEXT REFERENCES agents(id),
     agent_name TEXT,
     PRIMARY KEY (conversation_id, seq)
   );
   INSERT INTO transcript_v6 (conversation_id, seq, role, text, at, intent, confidence, quick_replies)
     SELECT conversation_id, seq, role, text, at, intent, confidence, quick_replies FROM transcript;
   DROP TABLE transcript;
   ALTER TABLE transcript_v6 RENAME TO transcript;
   CREATE INDEX transcript_by_agent ON transcript(agent_id) WHERE agent_id IS NOT NULL;
   ALTER TABLE webhook_outbox ADD COLUMN type TEXT NOT NULL DEFAULT 'handoff.requested';
   ALTER TABLE webhook_outbox ADD COLUMN body TEXT;`,
  // 7: a rating belongs to the answer it rates (one per answer, the latest wins); older
  // ratings have no answer and stay as they were. Retention finds idle conversations by activity.
  // /healthz proves the database takes writes by updating the one row of health_probe.
  `ALTER TABLE ratings ADD COLUMN answer_seq INTEGER;
   -- Also the index analytics reads a page of conversations' ratings through.
   CREATE UNIQUE INDEX ratings_one_per_answer ON ratings(conversation_id, answer_seq);
   CREATE INDEX conversations_by_activity ON conversations(updated_at);
   CREATE TABLE health_probe (id INTEGER PRIMARY KEY CHECK (id = 1), at TEXT NOT NULL);
   INSERT INTO health_probe (id, at) VALUES (1, '');`,
  // 8: facts about the file, such as which redaction rules its rows were written with (reRedaction.ts).
  metaTableMigration,
  // 9: the progress the turn that ended an unbinding reported (JSON), so the conversation's
  // view says how it ended until the next turn.
  `ALTER TABLE conversations ADD COLUMN ended_progress TEXT;`,
  // 10: the user's locale as the widget sent it (navigator.language, canonical BCP 47): the
  // script of the greeting and the regional wording of traditional replies.
  `ALTER TABLE conversations ADD COLUMN locale TEXT;`,
  // 11: a resent message is recognised and answered as the first time. User lines keep the client's
  // id for the message (one line per id in a conversation, which the index enforces) and whether
  // redaction changed them; bot lines keep the response they render and its tone; a turn record
  // names its user line.
  `ALTER TABLE transcript ADD COLUMN client_message_id TEXT;
   ALTER TABLE transcript ADD COLUMN redacted INTEGER;
   ALTER TABLE transcript ADD COLUMN response_id TEXT;
   ALTER TABLE transcript ADD COLUMN tone TEXT;
   CREATE UNIQUE INDEX transcript_one_line_per_client_message ON transcript(conversation_id, client_message_id) WHERE client_message_id IS NOT NULL;
   ALTER TABLE turns ADD COLUMN user_seq INTEGER;`,
  // 12: bot lines keep the step picture drawn inside them, so a reload shows the same message.
  `ALTER TABLE transcript ADD COLUMN picture TEXT;`,
  // 13: each saved turn counts up the conversation's version; a turn saves only over the version it
  // started from, so two processes can never both build on the same state (WORKERS, several instances).
  `ALTER TABLE conversations ADD COLUMN version INTEGER NOT NULL DEFAULT 0;`,
];

/** What a transcript line is read back from. */
const transcriptColumns = 'seq, role, text, at, intent, confidence, quick_replies, agent_id, agent_name, client_message_id, redacted, response_id, tone, picture';

export const schemaVersion = migrations.length;

/** More lines than one turn ever says (an answer, a question, a warning, a note): the page `acceptedMessage` reads. */
const maxRepliesOfATurn = 20;

/** The migrations in order, so a test can build a database as an older version left it. */
export const schemaMigrations: readonly string[] = migrations;

interface ConversationRow {
  flow_version: string | null;
  snapshot: string | null;
  script: string | null;
  last_quick_replies: string | null;
  open_question: string | null;
  ended_progress: string | null;
  locale: string | null;
}

const ticketColumns = ['id', 'conversation_id', 'reason', 'step', 'state', 'created_at', 'status', 'closed_at', 'handoff_status', 'assigned_agent_id', 'assigned_at', 'first_agent_reply_at', 'resolved_at', 'resolution'] as const;

type TurnContextRow = ConversationRow & { token_hash: string; updated_at: string; version: number } & Record<`ticket_${(typeof ticketColumns)[number]}`, string | number | null>;

interface TurnRow {
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

interface TicketRow {
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

function ticketFromRow(row: TicketRow): HandoffTicket {
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

interface TranscriptRow {
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

interface AgentRow {
  id: string;
  name: string;
  token_hash: string;
  created_at: string;
  disabled_at: string | null;
  last_seen_at: string | null;
}

const agentFromRow = (row: AgentRow): AgentRecord => ({
  id: row.id,
  name: row.name,
  tokenHash: row.token_hash,
  createdAt: row.created_at,
  disabledAt: row.disabled_at,
  lastSeenAt: row.last_seen_at,
});

function entryFromRow(row: TranscriptRow): TranscriptEntry {
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

/**
 * Conversations, transcripts and handoff tickets in one embedded SQLite file (WAL mode).
 * better-sqlite3 is synchronous; the turns of concurrent conversations commit in one transaction (groupCommit.ts).
 */
/** A webhook delivery waiting in the outbox. */
export interface PendingDelivery {
  id: number;
  ticketId: number;
  attempts: number;
  /** The event's JSON body as queued; null for tickets queued before schema version 6. */
  body: string | null;
}

export class SqliteConversationStore implements ConversationStore, SupportStore, IdentityStore, AnalyticsSource, SlicedAnalyticsSource, TicketListing, PrivacyStore {
  readonly db: Database.Database;
  private readonly statements;
  private readonly deletion: SqliteDeletion;
  private readonly groupCommit: GroupCommit;

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
    this.migrate();
    this.deletion = new SqliteDeletion(this.db);
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
      insertOutbox: this.db.prepare('INSERT INTO webhook_outbox (ticket_id, next_attempt_at, type, body) VALUES (?, ?, ?, ?)'),
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
      conversationsBetween: this.db.prepare<[string, string], { id: string; created_at: string }>(
        'SELECT id, created_at FROM conversations WHERE created_at >= ? AND created_at < ? ORDER BY created_at',
      ),
      turnsOfConversationsBetween: this.db.prepare<[string, string], TurnRow>(
        `SELECT t.conversation_id, t.at, t.text, t.from_payload, t.intent, t.confidence, t.state_after, t.step, t.said, t.outcomes
           FROM turns t JOIN conversations c ON c.id = t.conversation_id
          WHERE c.created_at >= ? AND c.created_at < ? ORDER BY t.at`,
      ),
      ticketsOfConversationsBetween: this.db.prepare<[string, string], TicketFactRow>(
        `SELECT h.conversation_id, h.reason, h.created_at, h.assigned_agent_id, h.assigned_at, h.first_agent_reply_at, h.resolution
           FROM handoff_tickets h JOIN conversations c ON c.id = h.conversation_id
          WHERE c.created_at >= ? AND c.created_at < ?`,
      ),
      agentLinesOfConversationsBetween: this.db.prepare<[string, string], { conversation_id: string; agent_id: string }>(
        `SELECT t.conversation_id, t.agent_id FROM transcript t JOIN conversations c ON c.id = t.conversation_id
          WHERE t.agent_id IS NOT NULL AND c.created_at >= ? AND c.created_at < ?`,
      ),
      ratingsOfConversationsBetween: this.db.prepare<[string, string], RatingRow>(
        `SELECT r.conversation_id, r.at, r.helpful FROM ratings r JOIN conversations c ON c.id = r.conversation_id
          WHERE c.created_at >= ? AND c.created_at < ?`,
      ),
      // Analytics in slices (analyticsSlices): a page of conversations in the range, then their rows.
      conversationPage: this.db.prepare<[string, string, string, number, number], { id: string; created_at: string; rowid: number }>(
        `SELECT id, created_at, rowid FROM conversations
          WHERE created_at >= ? AND created_at < ? AND (created_at > ? OR rowid > ?)
          ORDER BY created_at, rowid LIMIT ?`,
      ),
      turnsOfConversations: this.db.prepare<[string, string, number], TurnRow & { rowid: number }>(
        `SELECT rowid, conversation_id, at, text, from_payload, intent, confidence, state_after, step, said, outcomes FROM turns
          WHERE conversation_id IN (SELECT value FROM json_each(?)) AND conversation_id > ?
          ORDER BY conversation_id, at, rowid LIMIT ?`,
      ),
      turnsOfConversationAfter: this.db.prepare<[string, string, string, number, number], TurnRow & { rowid: number }>(
        `SELECT rowid, conversation_id, at, text, from_payload, intent, confidence, state_after, step, said, outcomes FROM turns
          WHERE conversation_id = ? AND at >= ? AND (at > ? OR rowid > ?)
          ORDER BY at, rowid LIMIT ?`,
      ),
      ticketsOfConversations: this.db.prepare<[string], TicketFactRow>(
        `SELECT conversation_id, reason, created_at, assigned_agent_id, assigned_at, first_agent_reply_at, resolution
           FROM handoff_tickets WHERE conversation_id IN (SELECT value FROM json_each(?))`,
      ),
      ratingsOfConversations: this.db.prepare<[string], RatingRow>(
        'SELECT conversation_id, at, helpful FROM ratings WHERE conversation_id IN (SELECT value FROM json_each(?))',
      ),
      agentLineCountsOfConversations: this.db.prepare<[string], { agent_id: string; lines: number }>(
        `SELECT agent_id, COUNT(*) AS lines FROM transcript
          WHERE conversation_id IN (SELECT value FROM json_each(?)) AND agent_id IS NOT NULL GROUP BY agent_id`,
      ),
      // The dashboard's ticket list, newest first, a page at a time (`before`: the last id of the previous page).
      ticketPage: this.db.prepare<[{ status: string; before: number; limit: number }], TicketRow>(
        "SELECT * FROM handoff_tickets WHERE (@status = 'all' OR status = @status) AND id < @before ORDER BY id DESC LIMIT @limit",
      ),
      ticketCount: this.db.prepare<[{ status: string }], { count: number }>("SELECT COUNT(*) AS count FROM handoff_tickets WHERE @status = 'all' OR status = @status"),
      dueDeliveries: this.db.prepare<[string, number], { id: number; ticket_id: number; attempts: number; body: string | null }>(
        'SELECT id, ticket_id, attempts, body FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?',
      ),
      markDelivered: this.db.prepare('UPDATE webhook_outbox SET delivered_at = ?, attempts = attempts + 1, last_error = NULL WHERE id = ?'),
      markFailed: this.db.prepare('UPDATE webhook_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?'),
      undelivered: this.db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM webhook_outbox WHERE delivered_at IS NULL'),
    };
  }

  private migrate(): void {
    const applied = this.db.pragma('user_version', { simple: true }) as number;
    if (applied > migrations.length) {
      throw new Error(`database schema version ${applied} is newer than this program knows (${migrations.length})`);
    }
    for (let version = applied; version < migrations.length; version++) {
      this.db.transaction(() => {
        this.db.exec(migrations[version]!);
        this.db.pragma(`user_version = ${version + 1}`);
      })();
    }
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

  /** Tests and tools save turns of conversations never created through the API; the server turns this off. */
  createsConversationsImplicitly = true;

  /** Whether handoff events also go into the webhook outbox (HANDOFF_WEBHOOK_URL is set). */
  queueTicketsForWebhook = false;

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
      const seqs = entries.map((entry) => this.insertEntry(conversationId, entry));
      if (record) this.insertRecord(conversationId, record, seqs[0] ?? null);
      if (ticketLine !== undefined && seqs.length) {
        const open = this.statements.ticket.get(ticketLine);
        const line = this.statements.entry.get(conversationId, seqs[0]!);
        if (open && line) this.queue(messageCreated(ticketFromRow(open), entryFromRow(line)), now);
      }
      if (resolveTicket) this.resolveInTransaction(resolveTicket.id, resolveTicket.resolution, resolveTicket.at);
      if (!ticket) return { seqs };
      // One open ticket per conversation: a second request while one waits is the same request.
      const latest = this.statements.currentTicket.get(conversationId);
      if (latest && latest.handoff_status !== 'resolved') return { seqs };
      const { lastInsertRowid } = this.statements.insertTicket.run(ticket.conversationId, ticket.reason, ticket.step, ticket.state, ticket.createdAt);
      const created = ticketFromRow(this.statements.ticket.get(Number(lastInsertRowid))!);
      // Same transaction as the ticket: a ticket is never created without its delivery queued.
      this.queue(handoffRequested(created, this.statements.transcript.all(conversationId, 0).map(entryFromRow)), ticket.createdAt);
      return { seqs, ticket: created };
    });
  }

  private insertEntry(conversationId: string, entry: TranscriptEntry): number {
    const seq = this.statements.nextSeq.get(conversationId)!.next;
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

  private queue(event: WebhookEvent, at: string): void {
    if (!this.queueTicketsForWebhook) return;
    const ticketId = event.type === 'message.created' ? event.ticketId : event.ticket.id;
    this.statements.insertOutbox.run(ticketId, at, event.type, JSON.stringify(event));
  }

  private resolveInTransaction(id: number, resolution: HandoffResolution, at: string): HandoffTicket | undefined {
    const changed = this.statements.resolveTicket.run(resolution, at, at, id).changes === 1;
    const row = this.statements.ticket.get(id);
    if (changed && row) this.queue(conversationResolved(ticketFromRow(row)), at);
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
      const seq = this.insertEntry(row.conversation_id, { role: 'agent', text, at, agentId: agent.id, agentName: agent.name });
      this.statements.firstAgentReply.run(at, ticketId);
      const entry = entryFromRow(this.statements.entry.get(row.conversation_id, seq)!);
      this.queue(messageCreated(ticketFromRow(row), entry), at);
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

  async analyticsRows(fromIso: string, toIso: string): Promise<AnalyticsRows> {
    return {
      conversations: this.statements.conversationsBetween.all(fromIso, toIso).map((row) => ({ id: row.id, createdAt: row.created_at })),
      turns: this.statements.turnsOfConversationsBetween.all(fromIso, toIso).map(turnFromRow),
      tickets: this.statements.ticketsOfConversationsBetween.all(fromIso, toIso).map(ticketFactFromRow),
      agents: this.statements.agents.all().map((row) => ({ id: row.id, name: row.name })),
      agentLines: this.statements.agentLinesOfConversationsBetween.all(fromIso, toIso).map((row) => ({ conversationId: row.conversation_id, agentId: row.agent_id })),
      ratings: this.statements.ratingsOfConversationsBetween.all(fromIso, toIso).map(ratingFromRow),
    };
  }

  /**
   * The rows of `analyticsRows`, a slice at a time: each `next()` runs one query of at most a page
   * of rows, so a caller that pauses between slices never holds the event loop for long, however
   * large the range. A page of conversations comes first with their tickets, ratings and agent-line
   * counts, then their turns in chunks (in order within a conversation); the page's conversations
   * are finished with its last chunk.
   */
  *analyticsSlices(fromIso: string, toIso: string, { conversationsPerPage = 100, turnsPerChunk = 250 } = {}): Generator<AnalyticsSlice> {
    yield { agents: this.statements.agents.all().map((row) => ({ id: row.id, name: row.name })), finished: [] };
    let after = { createdAt: '', rowid: 0 };
    for (;;) {
      const page = this.statements.conversationPage.all(after.createdAt > fromIso ? after.createdAt : fromIso, toIso, after.createdAt, after.rowid, conversationsPerPage);
      if (!page.length) return;
      // Later pages resume after the last conversation read (same time: the higher rowid).
      const last = page.at(-1)!;
      after = { createdAt: last.created_at, rowid: last.rowid };
      const ids = JSON.stringify(page.map((row) => row.id));
      yield {
        conversations: page.map((row) => ({ id: row.id, createdAt: row.created_at })),
        tickets: this.statements.ticketsOfConversations.all(ids).map(ticketFactFromRow),
        ratings: this.statements.ratingsOfConversations.all(ids).map(ratingFromRow),
        agentLineCounts: this.statements.agentLineCountsOfConversations.all(ids).map((row) => ({ agentId: row.agent_id, lines: row.lines })),
        finished: [],
      };
      // Turns: the page's conversations in id order; a conversation longer than a chunk is read on from where the chunk ended.
      let continuing: { conversationId: string; at: string; rowid: number } | undefined;
      let afterConversation = '';
      for (;;) {
        const rows = continuing
          ? this.statements.turnsOfConversationAfter.all(continuing.conversationId, continuing.at, continuing.at, continuing.rowid, turnsPerChunk)
          : this.statements.turnsOfConversations.all(ids, afterConversation, turnsPerChunk);
        const turns = rows.map(turnFromRow);
        if (rows.length === turnsPerChunk) {
          const end = rows.at(-1)!;
          continuing = { conversationId: end.conversation_id, at: end.at, rowid: end.rowid };
          yield { turns, finished: [] };
        } else if (continuing) {
          // That conversation is read to its end; on with the ones after it.
          afterConversation = continuing.conversationId;
          continuing = undefined;
          yield { turns, finished: [] };
        } else {
          yield { turns, finished: page.map((row) => row.id) };
          break;
        }
      }
    }
  }

  async ticket(id: number): Promise<HandoffTicket | undefined> {
    const row = this.statements.ticket.get(id);
    return row && ticketFromRow(row);
  }

  /** Deliveries whose next attempt is due, oldest first. */
  dueDeliveries(nowIso: string, limit = 20): PendingDelivery[] {
    return this.statements.dueDeliveries.all(nowIso, limit).map((row) => ({ id: row.id, ticketId: row.ticket_id, attempts: row.attempts, body: row.body }));
  }

  markDelivered(id: number, atIso: string): void {
    this.statements.markDelivered.run(atIso, id);
  }

  markFailed(id: number, nextAttemptIso: string, error: string): void {
    this.statements.markFailed.run(nextAttemptIso, error.slice(0, 500), id);
  }

  undeliveredCount(): number {
    return this.statements.undelivered.get()!.count;
  }

  close(): void {
    if (!this.db.open) return;
    // Turns still waiting for their batch are committed, not dropped.
    this.groupCommit.flush();
    this.db.close();
  }
}

type TicketFactRow = Pick<TicketRow, 'conversation_id' | 'reason' | 'created_at' | 'assigned_agent_id' | 'assigned_at' | 'first_agent_reply_at' | 'resolution'>;

/** A ticket as analytics counts it. */
function ticketFactFromRow(row: TicketFactRow): AnalyticsRows['tickets'][number] {
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

interface RatingRow {
  conversation_id: string;
  at: string;
  helpful: number;
}

function ratingFromRow(row: RatingRow): AnalyticsRows['ratings'][number] {
  return { conversationId: row.conversation_id, at: row.at, helpful: row.helpful === 1 };
}

function turnFromRow(row: TurnRow): AnalyticsRows['turns'][number] {
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
function stateFromRow(row: ConversationRow): ConversationState | undefined {
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
