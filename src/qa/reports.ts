import { allStates, allTransitions } from '../dialogue/flowMap.js';
import type { ConversationResult } from './conversationRunner.js';

export interface CoverageReport {
  intents: { covered: string[]; missing: string[] };
  states: { covered: string[]; missing: string[] };
  transitions: { covered: string[]; missing: string[] };
}

/** Which intents, flow states and transitions the suite exercised, and which it never reached. */
export function coverage(results: readonly ConversationResult[], allIntents: readonly string[]): CoverageReport {
  const split = (all: readonly string[], seen: Set<string>) => ({ covered: all.filter((item) => seen.has(item)), missing: all.filter((item) => !seen.has(item)) });
  return {
    intents: split(allIntents, new Set(results.flatMap((result) => result.intents))),
    states: split(allStates, new Set(results.flatMap((result) => result.states))),
    transitions: split(allTransitions, new Set(results.flatMap((result) => result.transitions))),
  };
}

const percent = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(1)}%` : '—');
const indent = (text: string, prefix: string) => text.split('\n').map((line) => prefix + line).join('\n');

export function formatCoverage(report: CoverageReport): string {
  const section = (title: string, { covered, missing }: { covered: string[]; missing: string[] }, listMissing = true) => {
    const total = covered.length + missing.length;
    const head = `${title.padEnd(12)} ${String(covered.length).padStart(4)}/${total}  ${percent(covered.length, total)}`;
    return missing.length && listMissing ? `${head}\n  never reached:\n${missing.map((item) => `    ${item}`).join('\n')}` : head;
  };
  return ['coverage', section('intents', report.intents), section('flow states', report.states), section('transitions', report.transitions)].join('\n');
}

/** The human-readable report: a line per conversation, then each failure with what was expected and what the bot said. */
export function formatResults(results: readonly ConversationResult[], target: string): string {
  const lines: string[] = [`scripted conversations against ${target}`, ''];
  for (const result of results) lines.push(`${result.passed ? '✓' : '✗'} ${result.conversation.name}  (${result.durationMs.toFixed(0)} ms)`);
  for (const result of results.filter((r) => !r.passed)) {
    lines.push('', `✗ ${result.conversation.name}`);
    if (result.error) lines.push(`  error: ${result.error}`);
    const failure = result.failure;
    if (failure) {
      const { step } = failure;
      lines.push(`  step ${failure.stepIndex + 1} at ${step.source}: ${step.kind === 'click' ? `click "${step.text}"` : step.kind === 'greeting' ? 'the greeting' : `user: ${step.text}`}`);
      for (const mismatch of failure.mismatches) {
        lines.push(`  ${mismatch.check}:`, indent(mismatch.expected, '    - expected: '), indent(mismatch.actual, '    + actual:   '));
      }
    }
    lines.push('  conversation so far:');
    for (const line of result.transcript.slice(-8)) lines.push(indent(line.text, `    ${line.role === 'user' ? 'user' : 'bot '} │ `));
  }
  const failed = results.filter((result) => !result.passed).length;
  lines.push('', `${results.length - failed} passed, ${failed} failed`);
  return lines.join('\n');
}

const xml = (text: string) =>
  text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

/** JUnit XML as CI systems read it: a testsuite per script file, a testcase per conversation. */
export function junitXml(results: readonly ConversationResult[]): string {
  const byFile = new Map<string, ConversationResult[]>();
  for (const result of results) byFile.set(result.conversation.file, [...(byFile.get(result.conversation.file) ?? []), result]);
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const suites = [...byFile].map(([file, suiteResults]) => {
    const failures = suiteResults.filter((result) => result.failure).length;
    const errors = suiteResults.filter((result) => result.error).length;
    const time = suiteResults.reduce((sum, result) => sum + result.durationMs, 0);
    const cases = suiteResults.map((result) => {
      const open = `    <testcase classname="${xml(file)}" name="${xml(result.conversation.name)}" time="${seconds(result.durationMs)}"`;
      if (result.passed) return `${open}/>`;
      if (result.error) return `${open}>\n      <error message="${xml(result.error)}"/>\n    </testcase>`;
      const failure = result.failure!;
      const message = failure.mismatches.map((mismatch) => `${mismatch.check}: expected ${mismatch.expected}`).join('; ');
      const detail = [
        `step ${failure.stepIndex + 1} at ${failure.step.source}: ${failure.step.kind === 'greeting' ? '(the greeting)' : failure.step.text}`,
        ...failure.mismatches.map((mismatch) => `${mismatch.check}\n- expected: ${mismatch.expected}\n+ actual:   ${mismatch.actual}`),
      ].join('\n');
      return `${open}>\n      <failure message="${xml(message)}" type="${xml(failure.mismatches[0]?.check ?? 'expectation')}">${xml(detail)}</failure>\n    </testcase>`;
    });
    return `  <testsuite name="${xml(file)}" tests="${suiteResults.length}" failures="${failures}" errors="${errors}" time="${seconds(time)}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  const failures = results.filter((result) => result.failure).length;
  const errors = results.filter((result) => result.error).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="conversations" tests="${results.length}" failures="${failures}" errors="${errors}">\n${suites.join('\n')}\n</testsuites>\n`;
}

/** The same results for machines. */
export function jsonReport(results: readonly ConversationResult[], target: string, coverageReport?: CoverageReport) {
  return {
    target,
    passed: results.filter((result) => result.passed).length,
    failed: results.filter((result) => !result.passed).length,
    conversations: results.map((result) => ({
      name: result.conversation.name,
      file: result.conversation.file,
      passed: result.passed,
      durationMs: Math.round(result.durationMs),
      ...(result.error ? { error: result.error } : {}),
      ...(result.failure
        ? { failure: { step: result.failure.stepIndex + 1, source: result.failure.step.source, text: result.failure.step.text, mismatches: result.failure.mismatches, botSaid: result.failure.botSaid } }
        : {}),
    })),
    ...(coverageReport ? { coverage: coverageReport } : {}),
  };
}
