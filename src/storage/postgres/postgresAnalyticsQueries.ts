import type { AnalyticsRows, AnalyticsSlice, AnalyticsSource, SlicedAnalyticsSource } from '../../analytics/supportAnalytics.js';
import { ratingFromRow, ticketFactFromRow, turnFromRow, type RatingRow, type TicketFactRow, type TurnRow } from '../sqliteRows.js';
import type { PostgresSession } from './postgresSession.js';
import { firstTurnChunk, nextTurnChunk, type TurnChunkCursor } from '../turnChunks.js';

const turnColumns = 'id, conversation_id, at, text, from_payload, intent, confidence, state_after, step, said, outcomes';
const ticketFactColumns = 'conversation_id, reason, created_at, assigned_agent_id, assigned_at, first_agent_reply_at, resolution';

/**
 * What the support dashboard's analytics read from PostgreSQL: every row of a date range at once,
 * or the same rows a slice at a time, each slice one short query awaited over the network.
 * Read-only; conversations are counted by when they began. Conversations are paged by
 * (created_at, id) and turns by (at, id), where SQLite uses its rowids: the same rows either way.
 */
export class PostgresAnalyticsQueries implements AnalyticsSource, SlicedAnalyticsSource {
  constructor(private readonly session: PostgresSession) {}

  private async rows<Row extends object>(sql: string, values: unknown[]): Promise<Row[]> {
    return (await this.session.query<Row & Record<string, unknown>>(sql, values)).rows;
  }

  private async agentNames(): Promise<{ id: string; name: string }[]> {
    return this.rows<{ id: string; name: string }>('SELECT id, name FROM agents ORDER BY created_at, id', []);
  }

  async analyticsRows(fromIso: string, toIso: string): Promise<AnalyticsRows> {
    const range = [fromIso, toIso];
    const inRange = 'c.created_at >= $1 AND c.created_at < $2';
    const [conversations, turns, tickets, agents, agentLines, ratings] = await Promise.all([
      this.rows<{ id: string; created_at: string }>('SELECT id, created_at FROM conversations c WHERE ' + inRange + ' ORDER BY created_at, id', range),
      this.rows<TurnRow>(`SELECT t.conversation_id, t.at, t.text, t.from_payload, t.intent, t.confidence, t.state_after, t.step, t.said, t.outcomes
                            FROM turns t JOIN conversations c ON c.id = t.conversation_id WHERE ${inRange} ORDER BY t.at, t.id`, range),
      this.rows<TicketFactRow>(`SELECT h.conversation_id, h.reason, h.created_at, h.assigned_agent_id, h.assigned_at, h.first_agent_reply_at, h.resolution
                                  FROM handoff_tickets h JOIN conversations c ON c.id = h.conversation_id WHERE ${inRange} ORDER BY h.id`, range),
      this.agentNames(),
      this.rows<{ conversation_id: string; agent_id: string }>(`SELECT t.conversation_id, t.agent_id FROM transcript t JOIN conversations c ON c.id = t.conversation_id
                                                                 WHERE t.agent_id IS NOT NULL AND ${inRange} ORDER BY t.conversation_id, t.seq`, range),
      this.rows<RatingRow>(`SELECT r.conversation_id, r.at, r.helpful FROM ratings r JOIN conversations c ON c.id = r.conversation_id WHERE ${inRange} ORDER BY r.at`, range),
    ]);
    return {
      conversations: conversations.map((row) => ({ id: row.id, createdAt: row.created_at })),
      turns: turns.map(turnFromRow),
      tickets: tickets.map(ticketFactFromRow),
      agents,
      agentLines: agentLines.map((row) => ({ conversationId: row.conversation_id, agentId: row.agent_id })),
      ratings: ratings.map(ratingFromRow),
    };
  }

  /**
   * The rows of `analyticsRows`, a slice at a time: a page of conversations comes first with their
   * tickets, ratings and agent-line counts, then their turns in chunks (in order within a
   * conversation); the page's conversations are finished with its last chunk.
   */
  async *analyticsSlices(fromIso: string, toIso: string, { conversationsPerPage = 100, turnsPerChunk = 250 } = {}): AsyncGenerator<AnalyticsSlice> {
    yield { agents: await this.agentNames(), finished: [] };
    let after = { createdAt: '', id: '' };
    for (;;) {
      const page = await this.rows<{ id: string; created_at: string }>(
        `SELECT id, created_at FROM conversations
          WHERE created_at >= $1 AND created_at < $2 AND (created_at, id) > ($3, $4)
          ORDER BY created_at, id LIMIT $5`,
        [fromIso, toIso, after.createdAt, after.id, conversationsPerPage],
      );
      if (!page.length) return;
      const last = page.at(-1)!;
      after = { createdAt: last.created_at, id: last.id };
      const ids = page.map((row) => row.id);
      // One query after another: a slice holds one pooled connection at a time, the turns need the others.
      const tickets = await this.rows<TicketFactRow>(`SELECT ${ticketFactColumns} FROM handoff_tickets WHERE conversation_id = ANY($1) ORDER BY id`, [ids]);
      const ratings = await this.rows<RatingRow>('SELECT conversation_id, at, helpful FROM ratings WHERE conversation_id = ANY($1) ORDER BY at', [ids]);
      const agentLineCounts = await this.rows<{ agent_id: string; lines: number }>(
        'SELECT agent_id, COUNT(*) AS lines FROM transcript WHERE conversation_id = ANY($1) AND agent_id IS NOT NULL GROUP BY agent_id ORDER BY agent_id',
        [ids],
      );
      yield {
        conversations: page.map((row) => ({ id: row.id, createdAt: row.created_at })),
        tickets: tickets.map(ticketFactFromRow),
        ratings: ratings.map(ratingFromRow),
        agentLineCounts: agentLineCounts.map((row) => ({ agentId: row.agent_id, lines: row.lines })),
        finished: [],
      };
      yield* this.turnsOfPage(ids, turnsPerChunk);
    }
  }

  /**
   * A page's turns: its conversations in id order, a chunk at a time; a conversation longer than a
   * chunk is read on from where the chunk ended. The last chunk finishes the page's conversations.
   */
  private async *turnsOfPage(ids: string[], turnsPerChunk: number): AsyncGenerator<AnalyticsSlice> {
    for (let cursor: TurnChunkCursor | undefined = firstTurnChunk; cursor; ) {
      const continuing: TurnChunkCursor['continuing'] = cursor.continuing;
      const rows: (TurnRow & { id: number })[] = continuing
        ? await this.rows<TurnRow & { id: number }>(
            `SELECT ${turnColumns} FROM turns WHERE conversation_id = $1 AND (at, id) > ($2, $3) ORDER BY at, id LIMIT $4`,
            [continuing.conversationId, continuing.at, continuing.order, turnsPerChunk],
          )
        : await this.rows<TurnRow & { id: number }>(
            `SELECT ${turnColumns} FROM turns WHERE conversation_id = ANY($1) AND conversation_id > $2 ORDER BY conversation_id, at, id LIMIT $3`,
            [ids, cursor.afterConversation, turnsPerChunk],
          );
      cursor = nextTurnChunk(cursor, rows, turnsPerChunk, (row) => row.id);
      yield { turns: rows.map(turnFromRow), finished: cursor ? [] : ids };
    }
  }
}
