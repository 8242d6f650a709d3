import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';

/** The connection a turn (or a transaction) holds, and the queue its nested transactions wait in. */
interface Scope {
  client: PoolClient;
  /** The parts of one transaction (nested `transaction` calls) run one at a time, in the order they were asked for. */
  nested: Promise<unknown>;
  /** Once it has ended, work it started that runs on afterwards uses the pool; `failed`: a part of it threw. */
  transaction: { ended: boolean; failed?: boolean };
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

  /**
   * Every statement of the store runs as a named prepared statement: PostgreSQL parses and plans it
   * once per connection instead of on every turn (a turn runs about ten). The store's SQL is a fixed
   * set of texts (the multi-row INSERT has one per number of lines), so the names stay few. SQL
   * without parameters (the migrations: several statements in one text) is sent as it is.
   */
  query<Row extends QueryResultRow>(sql: string, values: unknown[] = []): Promise<QueryResult<Row>> {
    const scope = this.current();
    const statement = values.length ? { name: statementName(sql), text: sql, values } : { text: sql };
    return scope ? scope.client.query<Row>(statement) : this.pool.query<Row>(statement);
  }

  /**
   * Runs `work` in a transaction: its own, or, inside one already (a save inside a turn's lock),
   * as part of that one. A part that fails poisons the whole: the outer transaction then rolls back
   * instead of committing, even if its caller swallowed the error, so a write is never half kept.
   * No savepoint is taken for a part: nothing in the server goes on after a failed write in the same
   * turn, and two savepoint round trips are about a tenth of a turn's time.
   * `firstStatement` is SQL (no parameters: the caller escapes with the client's escapeLiteral) run
   * first on the transaction's connection, sent with BEGIN in one round trip: the turn lock's row lock.
   */
  async transaction<T>(work: () => Promise<T>, firstStatement?: (client: PoolClient) => string): Promise<T> {
    const scope = this.current();
    if (scope) {
      const run = scope.nested.then(async () => {
        try {
          if (firstStatement) await scope.client.query(firstStatement(scope.client));
          return await work();
        } catch (error) {
          scope.transaction.failed = true;
          throw error;
        }
      });
      scope.nested = run.catch(() => undefined);
      return run;
    }
    return this.ownTransaction(work, firstStatement);
  }

  private async ownTransaction<T>(work: () => Promise<T>, firstStatement?: (client: PoolClient) => string): Promise<T> {
    const client = await this.pool.connect();
    const scope: Scope = { client, nested: Promise.resolve(), transaction: { ended: false } };
    let broken: Error | undefined;
    try {
      // One simple-protocol text: BEGIN and the first statement cost one round trip, not two.
      await client.query(firstStatement ? `BEGIN; ${firstStatement(client)}` : 'BEGIN');
      let result: T;
      try {
        result = await this.scopes.run(scope, work);
        // Let parts that work left running settle before the transaction ends under them.
        await scope.nested;
        if (scope.transaction.failed) throw new PartOfTransactionFailedError();
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

/** A write inside the transaction failed and its error was caught: nothing of the transaction is kept. */
export class PartOfTransactionFailedError extends Error {
  override name = 'PartOfTransactionFailedError';
  constructor() {
    super('a write inside this transaction failed, so none of it was saved');
  }
}

const statementNames = new Map<string, string>();

/** A prepared statement's name: the same for the same SQL on every connection. */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `s${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    statementNames.set(sql, name);
  }
  return name;
}
