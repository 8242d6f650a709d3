import type Database from 'better-sqlite3';
import { metaTableMigration } from './reRedaction.js';

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

export const schemaVersion = migrations.length;

/** The migrations in order, so a test can build a database as an older version left it. */
export const schemaMigrations: readonly string[] = migrations;

/** Brings a database file up to this program's schema, one migration per transaction; refuses a newer one. */
export function applyMigrations(db: Database.Database): void {
  const applied = db.pragma('user_version', { simple: true }) as number;
  if (applied > migrations.length) {
    throw new Error(`database schema version ${applied} is newer than this program knows (${migrations.length})`);
  }
  for (let version = applied; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version]!);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
