import { describe, expect, it } from 'vitest';
import { isStorageFailure } from '../../src/storage/storageFailure.js';

/** An error shaped as the driver throws it: a name, a code, a message. */
const driverError = (name: string, code: string | undefined, message = 'failed') => Object.assign(new Error(message), { name, code });

describe('which errors are the database being unavailable (answered 503, "send it again")', () => {
  it.each([
    ['SQLite disk full', driverError('SqliteError', 'SQLITE_FULL')],
    ['SQLite locked too long', driverError('SqliteError', 'SQLITE_BUSY')],
    ['PostgreSQL connection lost (08006)', driverError('error', '08006')],
    ['PostgreSQL disk full (53100)', driverError('error', '53100')],
    ['PostgreSQL too many connections (53300)', driverError('error', '53300')],
    ['PostgreSQL shutting down (57P01)', driverError('error', '57P01')],
    ['PostgreSQL read-only standby (25006)', driverError('error', '25006')],
    ['PostgreSQL deadlock (40P01)', driverError('error', '40P01')],
    ['the server refusing connections', driverError('Error', 'ECONNREFUSED')],
    ['a connection ended under a query', new Error('Connection terminated unexpectedly')],
    ['the pool out of time', new Error('timeout exceeded when trying to connect')],
    ['a wrapped cause', new Error('turn failed', { cause: driverError('error', '57P01') })],
  ])('%s is', (_what, error) => {
    expect(isStorageFailure(error)).toBe(true);
  });

  it.each([
    ['a unique violation (23505): a bug, not an outage', driverError('error', '23505')],
    ['a syntax error (42601)', driverError('error', '42601')],
    ['SQLite constraint', driverError('SqliteError', 'SQLITE_CONSTRAINT_PRIMARYKEY')],
    ['a plain error', new Error('something else')],
    ['not an error at all', 'ECONNREFUSED'],
  ])('%s is not', (_what, error) => {
    expect(isStorageFailure(error)).toBe(false);
  });
});
