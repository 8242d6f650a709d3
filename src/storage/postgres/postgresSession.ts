import { AsyncLocalStorage } from 'node:async_hooks';
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';

/** The connection a turn (or a transaction) holds, and the queue its nested transactions wait in. */
interface Scope {
  client: PoolClient;
  /** Savepoints of one scope are taken one at a time: two interleaved on one connection would release each other. */
  nested: Promise<unknown>;
  /** Shared by a transaction and its savepoints: once it has ended, work it started that runs on afterwards uses the pool. */
  transaction: { ended: boolean };
}

/**
 * Which connection a query runs on. Outside a transaction a query takes any pooled connection; inside
 * one (a turn under `withTurnLock`, or a write's own transaction) every query of the store, however
 * deep in the call, runs on that transaction's connection. Without that, a pool of N connections
 * would deadlock as soon as N turns each waited for a second connection to read with.
 */
export class PostgresSession {
  private readonly scopes = new AsyncLocalStorage<Scope>();

  constructor(readonly pool: Pool) {}

  private current(): Scope | undefined {
    const scope = this.scopes.getStore();
    return scope && !scope.transaction.ended ? scope : undefined;
  }

  query<Row extends QueryResultRow>(sql: string, values: unknown[] = []): Promise<QueryResult<Row>> {
    const scope = this.current();
    return scope ? scope.client.query<Row>(sql, values) : this.pool.query<Row>(sql, values);
  }

  /**
   * Runs `work` in a transaction: its own, or, inside one already, a savepoint of it, so that work
   * which fails leaves nothing written and the outer transaction still usable (as a failed
   * saveTurn inside a turn lock leaves the turn free to answer differently).
   * `before` runs first on the transaction's connection (the turn lock takes its row lock there).
   */
  async transaction<T>(work: () => Promise<T>, before?: (client: PoolClient) => Promise<unknown>): Promise<T> {
    const scope = this.current();
    if (scope) {
      const run = scope.nested.then(async () => {
        await before?.(scope.client);
        return this.inSavepoint(scope, work);
      });
      scope.nested = run.catch(() => undefined);
      return run;
    }
    return this.ownTransaction(work, before);
  }

  private async inSavepoint<T>({ client, transaction }: Scope, work: () => Promise<T>): Promise<T> {
    await client.query('SAVEPOINT store_write');
    let result: T;
    try {
      // A fresh queue for the savepoint's own nested work, which would otherwise wait for itself.
      result = await this.scopes.run({ client, nested: Promise.resolve(), transaction }, work);
    } catch (error) {
      // If even this fails the connection is gone, and the outer transaction's COMMIT says so.
      await client.query('ROLLBACK TO SAVEPOINT store_write; RELEASE SAVEPOINT store_write').catch(() => undefined);
      throw error;
    }
    await client.query('RELEASE SAVEPOINT store_write');
    return result;
  }

  private async ownTransaction<T>(work: () => Promise<T>, before?: (client: PoolClient) => Promise<unknown>): Promise<T> {
    const client = await this.pool.connect();
    const scope: Scope = { client, nested: Promise.resolve(), transaction: { ended: false } };
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      let result: T;
      try {
        await before?.(client);
        result = await this.scopes.run(scope, work);
        // Let savepoints that work left running settle before the transaction ends under them.
        await scope.nested;
      } catch (error) {
        scope.transaction.ended = true;
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      }
      scope.transaction.ended = true;
      let committed: QueryResult;
      try {
        committed = await client.query('COMMIT');
      } catch (error) {
        // Whether it arrived or not is unknown: the connection is not handed on.
        broken = error as Error;
        throw error;
      }
      // PostgreSQL answers COMMIT of a transaction that a swallowed error aborted with ROLLBACK, not an
      // error: the writes are gone, so the caller must not be told they were saved.
      if (committed.command === 'ROLLBACK') throw new Error('the transaction was rolled back: a statement in it failed');
      return result;
    } catch (error) {
      // BEGIN itself failing means the connection is gone.
      if (!scope.transaction.ended) broken = error as Error;
      throw error;
    } finally {
      scope.transaction.ended = true;
      // A broken connection is destroyed rather than handed to the next caller (its locks died with it).
      client.release(broken);
    }
  }
}
