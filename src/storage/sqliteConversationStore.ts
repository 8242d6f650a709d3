import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { ConversationState, ConversationStore, HandoffTicket, TranscriptEntry } from '../dialogue/conversationStore.js';
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
];

export const schemaVersion = migrations.length;

interface ConversationRow {
  flow_version: string | null;
  snapshot: string | null;
  script: string | null;
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
export class SqliteConversationStore implements ConversationStore, IdentityStore {
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
      load: this.db.prepare<[string], ConversationRow>('SELECT flow_version, snapshot, script FROM conversations WHERE id = ?'),
      updateState: this.db.prepare('UPDATE conversations SET flow_version = ?, snapshot = ?, script = ?, updated_at = ? WHERE id = ?'),
      nextSeq: this.db.prepare<[string], { next: number }>('SELECT COALESCE(MAX(seq), 0) + 1 AS next FROM transcript WHERE conversation_id = ?'),
      insertEntry: this.db.prepare(
        'INSERT INTO transcript (conversation_id, seq, role, text, at, intent, confidence, quick_replies) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      transcript: this.db.prepare<[string], TranscriptRow>(
        'SELECT role, text, at, intent, confidence, quick_replies FROM transcript WHERE conversation_id = ? ORDER BY seq',
      ),
      insertTicket: this.db.prepare('INSERT INTO handoff_tickets (conversation_id, reason, step, state, created_at) VALUES (?, ?, ?, ?, ?)'),
      tickets: this.db.prepare<[], { conversation_id: string; reason: string; step: number; state: string; created_at: string }>(
        'SELECT conversation_id, reason, step, state, created_at FROM handoff_tickets ORDER BY id',
      ),
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
    return { flowVersion: row.flow_version, snapshot: JSON.parse(row.snapshot) as unknown, script: row.script === 'traditional' ? 'traditional' : 'simplified' };
  }

  async saveTurn(conversationId: string, state: ConversationState, entries: readonly TranscriptEntry[], ticket?: HandoffTicket): Promise<void> {
    this.db.transaction(() => {
      const now = entries.at(-1)?.at ?? new Date().toISOString();
      const updated = this.statements.updateState.run(state.flowVersion, JSON.stringify(state.snapshot), state.script, now, conversationId);
      // Conversations are created through the API; the terminal chat and tests may start one implicitly.
      if (updated.changes === 0) {
        this.statements.insertConversation.run(conversationId, '', now, now);
        this.statements.updateState.run(state.flowVersion, JSON.stringify(state.snapshot), state.script, now, conversationId);
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
      if (ticket) this.statements.insertTicket.run(ticket.conversationId, ticket.reason, ticket.step, ticket.state, ticket.createdAt);
    })();
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
    return this.statements.tickets.all().map((row) => ({
      conversationId: row.conversation_id,
      reason: row.reason,
      step: row.step,
      state: row.state,
      createdAt: row.created_at,
    }));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
