import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openStore } from '../src/storage/openStore.js';
import type { Conversation } from './conversationScript.js';

type Row = Record<string, unknown>;

/** One real conversation as the server stored it: its conversations row, transcript rows and turns rows. */
export interface ConversationTemplate {
  conversation: Row;
  transcript: Row[];
  turns: Row[];
  snapshotBytes: number;
}

/** Reads a conversation the real server wrote (the file may be open in the server: WAL lets us read). */
export function readConversationTemplate(databaseFile: string, conversationId: string): ConversationTemplate {
  const db = new Database(databaseFile, { readonly: true, fileMustExist: true });
  try {
    const conversation = db.prepare<[string], Row>('SELECT * FROM conversations WHERE id = ?').get(conversationId);
    if (!conversation) throw new Error(`conversation ${conversationId} is not in ${databaseFile}`);
    const transcript = db.prepare<[string], Row>('SELECT * FROM transcript WHERE conversation_id = ? ORDER BY seq').all(conversationId);
    const turns = db.prepare<[string], Row>('SELECT * FROM turns WHERE conversation_id = ? ORDER BY at').all(conversationId);
    return { conversation, transcript, turns, snapshotBytes: Buffer.byteLength(String(conversation.snapshot ?? '')) };
  } finally {
    db.close();
  }
}

export interface SeedResult {
  conversations: number;
  transcriptRows: number;
  turnRows: number;
  seconds: number;
  fileMb: number;
  /** Some of the seeded conversations with their tokens, to continue them through the API. */
  sample: Conversation[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export function fileSizeMb(databaseFile: string): number {
  const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
  return (size(databaseFile) + size(`${databaseFile}-wal`)) / 1024 / 1024;
}

/**
 * A fresh database (schema from the real store's migrations) holding `count` copies of the template
 * conversation, each with its own id, token and timestamps spread over the last 30 days, inserted
 * directly in large transactions.
 */
export function seedStoredConversations(databaseFile: string, template: ConversationTemplate, count: number, sampleSize: number): SeedResult {
  openStore(`sqlite:${databaseFile}`).close();
  const started = performance.now();
  const db = new Database(databaseFile);
  db.pragma('journal_mode = WAL');
  // Seeding only: nothing to protect if the machine stops now.
  db.pragma('synchronous = OFF');

  const columns = (row: Row) => Object.keys(row);
  const insertFor = (table: string, row: Row) => {
    const names = columns(row);
    return db.prepare(`INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((name) => `@${name}`).join(', ')})`);
  };
  const insertConversation = insertFor('conversations', template.conversation);
  const insertTranscript = template.transcript[0] ? insertFor('transcript', template.transcript[0]) : undefined;
  const insertTurn = template.turns[0] ? insertFor('turns', template.turns[0]) : undefined;

  // Each copy keeps the template's timing (seconds between its lines), shifted to its own start.
  const origin = Date.parse(String(template.conversation.created_at));
  const shifted = (iso: unknown, start: number) => new Date(start + (Date.parse(String(iso)) - origin)).toISOString();
  // Spread over 29 days: all within TOKEN_IDLE_DAYS' default of 30, so every sampled token still works
  // (spread over 30, the oldest one expired while the benchmark ran and its turn was counted as failed).
  const span = 29 * 24 * 3600 * 1000;
  const firstStart = Date.now() - span;

  const sampleEvery = Math.max(1, Math.floor(count / sampleSize));
  const sample: Conversation[] = [];
  const batch = db.transaction((from: number, to: number) => {
    for (let index = from; index < to; index++) {
      const id = randomBytes(16).toString('base64url');
      const token = randomBytes(32).toString('base64url');
      const start = firstStart + Math.floor((index / count) * span);
      insertConversation.run({
        ...template.conversation,
        id,
        token_hash: sha256(token),
        created_at: new Date(start).toISOString(),
        updated_at: shifted(template.conversation.updated_at, start),
      });
      for (const row of template.transcript) insertTranscript!.run({ ...row, conversation_id: id, at: shifted(row.at, start) });
      for (const row of template.turns) insertTurn!.run({ ...row, conversation_id: id, at: shifted(row.at, start) });
      if (index % sampleEvery === 0 && sample.length < sampleSize) sample.push({ id, token });
    }
  });
  const perTransaction = 10_000;
  for (let from = 0; from < count; from += perTransaction) batch(from, Math.min(count, from + perTransaction));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return {
    conversations: count,
    transcriptRows: count * template.transcript.length,
    turnRows: count * template.turns.length,
    seconds: (performance.now() - started) / 1000,
    fileMb: fileSizeMb(databaseFile),
    sample,
  };
}
