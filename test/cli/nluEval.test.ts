import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const run = (...args: string[]) => spawnSync('npx', ['tsx', 'src/cli/nluEval.ts', ...args], { encoding: 'utf8' });

// Each test starts the CLI in a new process (tsx, content, training): seconds on a busy CI machine.
describe('npm run nlu:eval', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nlu-eval-'));

  it('scores any JSONL file and prints accuracy, macro-F1, per-intent scores and confusions', () => {
    const file = path.join(dir, 'cases.jsonl');
    writeFileSync(file, ['{"text":"我要解绑钱包","intent":"unbind_wallet"}', '{"text":"转人工","intent":"contact_human"}', '{"text":"转人工","intent":"greet"}'].join('\n'));
    const result = run(file);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('accuracy  66.7%  (2/3)');
    expect(result.stdout).toMatch(/macro-F1\s+\d/);
    expect(result.stdout).toContain('1× greet → contact_human');
  });

  it('prints JSON for machines with --json', () => {
    const file = path.join(dir, 'one.jsonl');
    writeFileSync(file, '{"text":"你好","intent":"greet"}\n');
    const report = JSON.parse(execFileSync('npx', ['tsx', 'src/cli/nluEval.ts', file, '--json'], { encoding: 'utf8' })) as { accuracy: number; total: number };
    expect(report).toMatchObject({ accuracy: 1, total: 1 });
  });

  it('names the line of a malformed file and exits 2', () => {
    const file = path.join(dir, 'bad.jsonl');
    writeFileSync(file, '{"text":"你好","intent":"greet"}\n{not json}\n');
    const result = run(file);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('bad.jsonl:2');
  });

  it('explains its usage when given no file', () => {
    const result = run();
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('usage');
  });
});
