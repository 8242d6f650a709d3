import { readFileSync } from 'node:fs';
import type { RedactionStep } from './secretRedactor.js';

/** One line of a secret-spellings table (test/security/secret_spellings*.jsonl). */
export interface SecretSpelling {
  text: string;
  atStep: RedactionStep | null;
  /** Substrings that must be gone from the stored text. */
  secrets: string[];
  kind: string;
  /** Substrings that must survive as typed. */
  mustKeep: string[];
  note?: string;
}

export function readSecretSpellings(file: string): SecretSpelling[] {
  return readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .filter((line) => line.trim())
    .map((line, index) => {
      const value = JSON.parse(line) as SecretSpelling;
      if (typeof value.text !== 'string' || !Array.isArray(value.secrets) || !Array.isArray(value.mustKeep)) {
        throw new Error(`${file}:${index + 1}: each line needs "text", "secrets" and "mustKeep"`);
      }
      return value;
    });
}

export interface RedactionScore {
  lines: number;
  /** Secret substrings gone from the redacted text, of all secret substrings. */
  secretsFound: number;
  secretsTotal: number;
  /** Lines holding a secret that kept none of their secrets. */
  linesClean: number;
  linesWithSecrets: number;
  /** mustKeep substrings destroyed, of all mustKeep substrings. */
  keptLost: number;
  keptTotal: number;
  /** Lines without a secret in which anything was redacted. */
  falseAlarms: number;
  linesWithoutSecrets: number;
  missed: { text: string; left: string[] }[];
  overRedacted: { text: string; lost: string[] }[];
}

/** Scores a redaction (what the store would keep for each line) against the table. */
export function scoreRedaction(spellings: SecretSpelling[], redact: (spelling: SecretSpelling) => { text: string; found: boolean }): RedactionScore {
  const score: RedactionScore = {
    lines: spellings.length,
    secretsFound: 0,
    secretsTotal: 0,
    linesClean: 0,
    linesWithSecrets: 0,
    keptLost: 0,
    keptTotal: 0,
    falseAlarms: 0,
    linesWithoutSecrets: 0,
    missed: [],
    overRedacted: [],
  };
  for (const spelling of spellings) {
    const { text, found } = redact(spelling);
    const left = spelling.secrets.filter((secret) => text.includes(secret));
    const lost = spelling.mustKeep.filter((kept) => !text.includes(kept));
    score.secretsTotal += spelling.secrets.length;
    score.secretsFound += spelling.secrets.length - left.length;
    score.keptTotal += spelling.mustKeep.length;
    score.keptLost += lost.length;
    if (spelling.secrets.length) {
      score.linesWithSecrets++;
      if (!left.length) score.linesClean++;
    } else {
      score.linesWithoutSecrets++;
      if (found) score.falseAlarms++;
    }
    if (left.length) score.missed.push({ text: spelling.text, left });
    if (lost.length) score.overRedacted.push({ text: spelling.text, lost });
  }
  return score;
}
