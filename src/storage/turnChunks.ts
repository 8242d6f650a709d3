/**
 * Where the walk over a page's turns stands (analytics slices, SQLite and PostgreSQL alike): the turns
 * of the page's conversations after `afterConversation`, in id order, or, inside one conversation
 * longer than a chunk, the turns after (`at`, `order`), `order` being the row's own tie-breaker.
 */
export interface TurnChunkCursor {
  afterConversation: string;
  continuing?: { conversationId: string; at: string; order: number };
}

export const firstTurnChunk: TurnChunkCursor = { afterConversation: '' };

/**
 * Where the chunk after `rows` (read at `cursor`) starts, or undefined when the page's turns are all
 * read. A full chunk may have stopped inside a conversation, which is then read on from its last row.
 */
export function nextTurnChunk<Row extends { conversation_id: string; at: string }>(cursor: TurnChunkCursor, rows: readonly Row[], turnsPerChunk: number, orderOf: (row: Row) => number): TurnChunkCursor | undefined {
  if (rows.length === turnsPerChunk) {
    const end = rows.at(-1)!;
    return { afterConversation: cursor.afterConversation, continuing: { conversationId: end.conversation_id, at: end.at, order: orderOf(end) } };
  }
  // That conversation is read to its end; on with the ones after it.
  if (cursor.continuing) return { afterConversation: cursor.continuing.conversationId };
  return undefined;
}
