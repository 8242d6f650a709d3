/**
 * The live actors of recently used conversations, so a turn need not restore one from its stored
 * snapshot (checking it, creating and starting an actor, then stopping it) every time.
 *
 * An actor is kept with the snapshot text it persisted in the turn that was committed last, and is
 * handed out again only for a stored snapshot that is exactly that text: anything else that wrote
 * the conversation since (another process, a restore, an agent's release, a deletion, a turn whose
 * commit failed) makes it stale, and it is stopped instead. Least recently used actors go first
 * once `capacity` are kept; 0 keeps none.
 */
export class HotActors<Actor extends { stop(): void }> {
  private readonly entries = new Map<string, { actor: Actor; snapshotText: string }>();

  constructor(readonly capacity: number) {}

  /** The conversation's actor, taken out (a turn holds it alone), if it is the one `storedText` was written by. */
  take(conversationId: string, storedText: string | undefined): Actor | undefined {
    const entry = this.entries.get(conversationId);
    if (!entry) return undefined;
    this.entries.delete(conversationId);
    if (storedText !== undefined && entry.snapshotText === storedText) return entry.actor;
    entry.actor.stop();
    return undefined;
  }

  /** Keeps the actor after its turn was committed with `snapshotText`. */
  keep(conversationId: string, actor: Actor, snapshotText: string): void {
    this.drop(conversationId);
    if (this.capacity <= 0) {
      actor.stop();
      return;
    }
    this.entries.set(conversationId, { actor, snapshotText });
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(oldest);
      entry.actor.stop();
    }
  }

  drop(conversationId: string): void {
    const entry = this.entries.get(conversationId);
    if (!entry) return;
    this.entries.delete(conversationId);
    entry.actor.stop();
  }

  get size(): number {
    return this.entries.size;
  }
}
