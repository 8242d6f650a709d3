import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseServiceHours, withinServiceHours } from '../../src/support/serviceHours.js';
import { repoRoot } from '../support/brokenContent.js';

function startWith(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: '0', DATABASE_URL: 'memory:', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('SERVICE_HOURS and SERVICE_TIMEZONE', () => {
  it('reads hours in the time zone, past midnight too', () => {
    const day = parseServiceHours('09:00-21:00', 'Asia/Shanghai');
    expect(withinServiceHours(day, new Date('2026-01-05T00:59:00Z'))).toBe(false); // 08:59 in Shanghai
    expect(withinServiceHours(day, new Date('2026-01-05T01:00:00Z'))).toBe(true);
    expect(withinServiceHours(day, new Date('2026-01-05T13:00:00Z'))).toBe(false); // 21:00
    const night = parseServiceHours('22:00-06:00', 'UTC');
    expect(withinServiceHours(night, new Date('2026-01-05T23:00:00Z'))).toBe(true);
    expect(withinServiceHours(night, new Date('2026-01-05T05:59:00Z'))).toBe(true);
    expect(withinServiceHours(night, new Date('2026-01-05T12:00:00Z'))).toBe(false);
    expect(withinServiceHours(parseServiceHours('00:00-24:00'), new Date('2026-01-05T15:59:00Z'))).toBe(true);
  });

  it('answers each moment by its own minute, asked in any order (the last minute per zone is kept)', () => {
    const day = parseServiceHours('09:00-21:00', 'Asia/Shanghai');
    expect(withinServiceHours(day, new Date('2026-01-05T00:59:59.999Z'))).toBe(false);
    expect(withinServiceHours(day, new Date('2026-01-05T01:00:00.000Z'))).toBe(true);
    expect(withinServiceHours(day, new Date('2026-01-05T00:59:30.000Z'))).toBe(false);
    expect(withinServiceHours(day, new Date('2026-01-05T01:00:59.000Z'))).toBe(true);
    // Same UTC minute, another zone with a quarter-hour offset (UTC+05:45): its own answer.
    const kathmandu = parseServiceHours('06:45-07:00', 'Asia/Kathmandu');
    expect(withinServiceHours(kathmandu, new Date('2026-01-05T01:00:30.000Z'))).toBe(true);
    expect(withinServiceHours(kathmandu, new Date('2026-01-05T01:15:00.000Z'))).toBe(false);
  });

  it.each([
    [{ SERVICE_HOURS: '9-21' }, 'SERVICE_HOURS'],
    [{ SERVICE_HOURS: '09:00-09:00' }, 'SERVICE_HOURS'],
    [{ SERVICE_TIMEZONE: 'Mars/Olympus' }, 'SERVICE_TIMEZONE'],
    [{ HANDOFF_WEBHOOK_SECRET: 'short' }, 'HANDOFF_WEBHOOK_SECRET'],
  ])('a bad setting %j stops start-up with cannot start', async (env, name) => {
    const { code, stderr } = await startWith(env);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`cannot start: .*${name}`));
  }, 60_000);
});
