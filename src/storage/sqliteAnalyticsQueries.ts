import type Database from 'better-sqlite3';
import { firstTurnChunk, nextTurnChunk, type TurnChunkCursor } from './turnChunks.js';
import type { AnalyticsRows, AnalyticsSlice, AnalyticsSource, SlicedAnalyticsSource } from '../analytics/supportAnalytics.js';
import { ratingFromRow, ticketFactFromRow, turnFromRow, type AgentRow, type RatingRow, type TicketFactRow, type TurnRow } from './sqliteRows.js';

/**
 * What the support dashboard's analytics read from the SQLite store: every row of a date range at
 * once, or the same rows a slice at a time. Read-only; conversations are counted by when they began.
 */
export class SqliteAnalyticsQueries implements AnalyticsSource, SlicedAnalyticsSource {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      agents: db.prepare<[], AgentRow>('SELECT * FROM agents ORDER BY created_at, id'),
      conversationsBetween: db.prepare<[string, string], { id: string; created_at: string }>(
        'SELECT id, created_at FROM conversations WHERE created_at >= ? AND created_at < ? ORDER BY created_at',
      ),
      turnsOfConversationsBetween: db.prepare<[string, string], TurnRow>(
        `SELECT t.conversation_id, t.at, t.text, t.from_payload, t.intent, t.confidence, t.state_after, t.step, t.said, t.outcomes
           FROM turns t JOIN conversations c ON c.id = t.conversation_id
          WHERE c.created_at >= ? AND c.created_at < ? ORDER BY t.at`,
      ),
      ticketsOfConversationsBetween: db.prepare<[string, string], TicketFactRow>(
        `SELECT h.conversation_id, h.reason, h.created_at, h.assigned_agent_id, h.assigned_at, h.first_agent_reply_at, h.resolution
           FROM handoff_tickets h JOIN conversations c ON c.id = h.conversation_id
          WHERE c.created_at >= ? AND c.created_at < ?`,
      ),
      agentLinesOfConversationsBetween: db.prepare<[string, string], { conversation_id: string; agent_id: string }>(
        `SELECT t.conversation_id, t.agent_id FROM transcript t JOIN conversations c ON c.id = t.conversation_id
          WHERE t.agent_id IS NOT NULL AND c.created_at >= ? AND c.created_at < ?`,
      ),
      ratingsOfConversationsBetween: db.prepare<[string, string], RatingRow>(
        `SELECT r.conversation_id, r.at, r.helpful FROM ratings r JOIN conversations c ON c.id = r.conversation_id
          WHERE c.created_at >= ? AND c.created_at < ?`,
      ),
      // Analytics in slices (analyticsSlices): a page of conversations in the range, then their rows.
      conversationPage: db.prepare<[string, string, string, number, number], { id: string; created_at: string; rowid: number }>(
        `SELECT id, created_at, rowid FROM conversations
          WHERE created_at >= ? AND created_at < ? AND (created_at > ? OR rowid > ?)
          ORDER BY created_at, rowid LIMIT ?`,
      ),
      turnsOfConversations: db.prepare<[string, string, number], TurnRow & { rowid: number }>(
        `SELECT rowid, conversation_id, at, text, from_payload, intent, confidence, state_after, step, said, outcomes FROM turns
          WHERE conversation_id IN (SELECT value FROM json_each(?)) AND conversation_id > ?
          ORDER BY conversation_id, at, rowid LIMIT ?`,
      ),
      turnsOfConversationAfter: db.prepare<[string, string, string, number, number], TurnRow & { rowid: number }>(
        `SELECT rowid, conversation_id, at, text, from_payload, intent, confidence, state_after, step, said, outcomes FROM turns
          WHERE conversation_id = ? AND at >= ? AND (at > ? OR rowid > ?)
          ORDER BY at, rowid LIMIT ?`,
      ),
      ticketsOfConversations: db.prepare<[string], TicketFactRow>(
        `SELECT conversation_id, reason, created_at, assigned_agent_id, assigned_at, first_agent_reply_at, resolution
           FROM handoff_tickets WHERE conversation_id IN (SELECT value FROM json_each(?))`,
      ),
      ratingsOfConversations: db.prepare<[string], RatingRow>(
        'SELECT conversation_id, at, helpful FROM ratings WHERE conversation_id IN (SELECT value FROM json_each(?))',
      ),
      agentLineCountsOfConversations: db.prepare<[string], { agent_id: string; lines: number }>(
        `SELECT agent_id, COUNT(*) AS lines FROM transcript
          WHERE conversation_id IN (SELECT value FROM json_each(?)) AND agent_id IS NOT NULL GROUP BY agent_id`,
      ),
    };
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
      for (let cursor: TurnChunkCursor | undefined = firstTurnChunk; cursor; ) {
        const continuing: TurnChunkCursor['continuing'] = cursor.continuing;
        const rows: (TurnRow & { rowid: number })[] = continuing
          ? this.statements.turnsOfConversationAfter.all(continuing.conversationId, continuing.at, continuing.at, continuing.order, turnsPerChunk)
          : this.statements.turnsOfConversations.all(ids, cursor.afterConversation, turnsPerChunk);
        cursor = nextTurnChunk(cursor, rows, turnsPerChunk, (row) => row.rowid);
        yield { turns: rows.map(turnFromRow), finished: cursor ? [] : page.map((row) => row.id) };
      }
    }
  }
}
