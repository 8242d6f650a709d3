import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Outcome } from '../../flows/events.js';
import type { ConversationState, ConversationStore, HandoffTicket, StoredTurn, TranscriptEntry, TurnRecord } from '../dialogue/conversationStore.js';
import type { AnalyticsRows, AnalyticsSource } from '../analytics/supportAnalytics.js';
import type { ConversationIdentity, IdentityStore } from './identityStore.js';

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
];

export const schemaVersion = migrations.length;

interface ConversationRow {
  flow_version: string | null;
  snapshot: string | null;
  script: string | null;
  last_quick_replies: string | null;
  open_question: string | null;
}

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
  };
}

interface TranscriptRow {
  role: 'user' | 'bot';
  text: string;
  at: string;
  intent: string | null;
  confidence: number | null;
  quick_replies: string | null;
}

/**
 * Conversations, transcripts and handoff tickets in one embedded SQLite file (WAL mode).
 * better-sqlite3 is synchronous; each turn is one short transaction.
 */
/** A webhook delivery waiting in the outbox. */
export interface PendingDelivery {
  id: number;
  ticketId: number;
  attempts: number;
}

export class SqliteConversationStore implements ConversationStore, IdentityStore, AnalyticsSource {
  readonly db: Database.Database;
  private readonly statements;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // WAL with synchronous=NORMAL survives a process crash; only a power cut can lose the last commits.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
    this.statements = {
      insertConversation: this.db.prepare('INSERT INTO conversations (id, token_hash, created_at, updated_at) VALUES (?, ?, ?, ?)'),
      identity: this.db.prepare<[string], { token_hash: string }>('SELECT token_hash FROM conversations WHERE id = ?'),
      load: this.db.prepare<[string], ConversationRow>('SELECT flow_version, snapshot, script, last_quick_replies, open_question FROM conversations WHERE id = ?'),
      updateState: this.db.prepare('UPDATE conversations SET flow_version = ?, snapshot = ?, script = ?, last_quick_replies = ?, open_question = ?, updated_at = ? WHERE id = ?'),
      nextSeq: this.db.prepare<[string], { next: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM transcript WHERE conversation_id = ?'),
      insertEntry: this.db.prepare(
        'INSERT INTO transcript (conversation_id, seq, role, text, at, intent, confidence, quick_replies) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      transcript: this.db.prepare<[string], TranscriptRow>(
        'SELECT role, text, at, intent, confidence, quick_replies FROM transcript WHERE conversation_id = ? ORDER BY seq',
      ),
      insertTicket: this.db.prepare('INSERT INTO handoff_tickets (conversation_id, reason, step, state, created_at) VALUES (?, ?, ?, ?, ?)'),
      tickets: this.db.prepare<[], TicketRow>('SELECT * FROM handoff_tickets ORDER BY id'),
      ticket: this.db.prepare<[number], TicketRow>('SELECT * FROM handoff_tickets WHERE id = ?'),
      closeTicket: this.db.prepare("UPDATE handoff_tickets SET status = 'closed', closed_at = ? WHERE id = ? AND status = 'open'"),
      insertTurn: this.db.prepare(
        'INSERT INTO turns (conversation_id, at, text, from_payload, intent, confidence, event, state_before, state_after, step, said, outcomes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      insertOutbox: this.db.prepare('INSERT INTO webhook_outbox (ticket_id, next_attempt_at) VALUES (?, ?)'),
      insertRating: this.db.prepare('INSERT INTO ratings (conversation_id, at, helpful) VALUES (?, ?, ?)'),
      conversationsBetween: this.db.prepare<[string, string], { id: string; created_at: string }>(
        'SELECT id, created_at FROM conversations WHERE created_at >= ? AND created_at < ? ORDER BY created_at',
      ),
      turnsOfConversationsBetween: this.db.prepare<[string, string], TurnRow>(
        `SELECT t.conversation_id, t.at, t.text, t.from_payload, t.intent, t.confidence, t.state_after, t.step, t.said, t.outcomes
           FROM turns t JOIN conversations c ON c.id = t.conversation_id
          WHERE c.created_at >= ? AND c.created_at < ? ORDER BY t.at`,
      ),
      ticketsOfConversationsBetween: this.db.prepare<[string, string], { conversation_id: string; reason: string; created_at: string }>(
        `SELECT h.conversation_id, h.reason, h.created_at FROM handoff_tickets h JOIN conversations c ON c.id = h.conversation_id
          WHERE c.created_at >= ? AND c.created_at < ?`,
      ),
      ratingsOfConversationsBetween: this.db.prepare<[string, string], { conversation_id: string; at: string; helpful: number }>(
        `SELECT r.conversation_id, r.at, r.helpful FROM ratings r JOIN conversations c ON c.id = r.conversation_id
          WHERE c.created_at >= ? AND c.created_at < ?`,
      ),
      dueDeliveries: this.db.prepare<[string, number], { id: number; ticket_id: number; attempts: number }>(
        'SELECT id, ticket_id, attempts FROM webhook_outbox WHERE delivered_at IS NULL AND next_attempt_at <= ? ORDER BY id LIMIT ?',
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

  async tokenHash(conversationId: string): Promise<string | undefined> {
    return this.statements.identity.get(conversationId)?.token_hash;
  }

  async load(conversationId: string): Promise<ConversationState | undefined> {
    const row = this.statements.load.get(conversationId);
    if (!row?.snapshot || !row.flow_version) return undefined;
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
    return state;
  }

  /** Whether a new ticket also goes into the webhook outbox (HANDOFF_WEBHOOK_URL is set). */
  queueTicketsForWebhook = false;

  async saveTurn(conversationId: string, { state, entries, ticket, record }: StoredTurn): Promise<void> {
    this.db.transaction(() => {
      const now = entries.at(-1)?.at ?? new Date().toISOString();
      const values = [state.flowVersion, JSON.stringify(state.snapshot), state.script, state.lastQuickReplies ? JSON.stringify(state.lastQuickReplies) : null, state.openQuestion ?? null, now, conversationId];
      const updated = this.statements.updateState.run(...values);
      // Conversations are created through the API; the terminal chat and tests may start one implicitly.
      if (updated.changes === 0) {
        this.statements.insertConversation.run(conversationId, '', now, now);
        this.statements.updateState.run(...values);
      }
      let seq = this.statements.nextSeq.get(conversationId)!.next;
      for (const entry of entries) {
        this.statements.insertEntry.run(
          conversationId,
          seq++,
          entry.role,
          entry.text,
          entry.at,
          entry.intent?.name ?? null,
          entry.intent?.confidence ?? null,
          entry.quickReplies ? JSON.stringify(entry.quickReplies) : null,
        );
      }
      if (record) this.insertRecord(conversationId, record);
      if (ticket) {
        const { lastInsertRowid } = this.statements.insertTicket.run(ticket.conversationId, ticket.reason, ticket.step, ticket.state, ticket.createdAt);
        // Same transaction as the ticket: a ticket is never created without its delivery queued.
        if (this.queueTicketsForWebhook) this.statements.insertOutbox.run(Number(lastInsertRowid), ticket.createdAt);
      }
    })();
  }

  private insertRecord(conversationId: string, record: TurnRecord): void {
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
    );
  }

  async closeTicket(id: number, at: string): Promise<HandoffTicket | undefined> {
    this.statements.closeTicket.run(at, id);
    const row = this.statements.ticket.get(id);
    return row && ticketFromRow(row);
  }

  async rate(conversationId: string, helpful: boolean, at: string): Promise<void> {
    this.statements.insertRating.run(conversationId, at, helpful ? 1 : 0);
  }

  async transcript(conversationId: string): Promise<TranscriptEntry[]> {
    return this.statements.transcript.all(conversationId).map((row) => {
      const entry: TranscriptEntry = { role: row.role, text: row.text, at: row.at };
      if (row.intent !== null && row.confidence !== null) entry.intent = { name: row.intent, confidence: row.confidence };
      if (row.quick_replies) entry.quickReplies = JSON.parse(row.quick_replies) as TranscriptEntry['quickReplies'] & object;
      return entry;
    });
  }

  async tickets(): Promise<HandoffTicket[]> {
    return this.statements.tickets.all().map(ticketFromRow);
  }

  async analyticsRows(fromIso: string, toIso: string): Promise<AnalyticsRows> {
    return {
      conversations: this.statements.conversationsBetween.all(fromIso, toIso).map((row) => ({ id: row.id, createdAt: row.created_at })),
      turns: this.statements.turnsOfConversationsBetween.all(fromIso, toIso).map((row) => ({
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
      })),
      tickets: this.statements.ticketsOfConversationsBetween.all(fromIso, toIso).map((row) => ({ conversationId: row.conversation_id, reason: row.reason, createdAt: row.created_at })),
      ratings: this.statements.ratingsOfConversationsBetween.all(fromIso, toIso).map((row) => ({ conversationId: row.conversation_id, at: row.at, helpful: row.helpful === 1 })),
    };
  }

  async ticket(id: number): Promise<HandoffTicket | undefined> {
    const row = this.statements.ticket.get(id);
    return row && ticketFromRow(row);
  }

  /** Deliveries whose next attempt is due, oldest first. */
  dueDeliveries(nowIso: string, limit = 20): PendingDelivery[] {
    return this.statements.dueDeliveries.all(nowIso, limit).map((row) => ({ id: row.id, ticketId: row.ticket_id, attempts: row.attempts }));
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
    if (this.db.open) this.db.close();
  }
}

function parseOrNull(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return null;
  }
}
