/**
 * A number as people type it into a chat: digits in groups with one kind of separator between them
 * ("4829 13", "482-913", "5.3.1.9.0.7", "73/92/04", "138 - 1234 - 5678"), read from a detection view
 * (already half-width, lower case, numerals as digits).
 */
export interface DigitRun {
  /** Where the run starts and ends in the view. */
  from: number;
  to: number;
  /** Its digits without separators; an ID number's check character stays as "x". */
  digits: string;
  /** The length of each group of digits. */
  groups: number[];
  /** The separator between groups (" " for spaces), when there are groups. */
  separator: string | undefined;
  separators: number;
  /** The view index of each digit, to cut a run (the "86" before a mobile number stays). */
  digitAt: number[];
}

/** Up to three spaces, or one of . - / _ · with spaces around it. */
const separatorAt = /^(?: {1,3}|\s{0,2}[.\-/_·]\s{0,2})(?=[0-9])/;

export function findDigitRuns(text: string): DigitRun[] {
  const runs: DigitRun[] = [];
  let index = 0;
  while (index < text.length) {
    if (!isDigit(text[index]) || isDigit(text[index - 1])) {
      index++;
      continue;
    }
    const run: DigitRun = { from: index, to: index, digits: '', groups: [], separator: undefined, separators: 0, digitAt: [] };
    let at = index;
    for (;;) {
      const groupStart = at;
      while (isDigit(text[at])) {
        run.digits += text[at];
        run.digitAt.push(at);
        at++;
      }
      run.groups.push(at - groupStart);
      run.to = at;
      const separator = separatorAt.exec(text.slice(at, at + 6))?.[0];
      if (!separator) break;
      const kind = separator.trim() || ' ';
      if (run.separator !== undefined && kind !== run.separator) break;
      run.separator = kind;
      run.separators++;
      at += separator.length;
    }
    // An ID number ends in its check character: "310115 19780615 002X".
    if (run.digits.length === 17 && text[run.to] === 'x' && !/[a-z]/.test(text[run.to + 1] ?? '')) {
      run.digits += 'x';
      run.digitAt.push(run.to);
      run.to++;
    }
    runs.push(run);
    index = run.to;
  }
  return runs;
}

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= '0' && char <= '9';
}

const validMonth = (value: number) => value >= 1 && value <= 12;
const validDay = (value: number) => value >= 1 && value <= 31;

/**
 * Numbers whose shape says what they are: a date ("2024-05-12", "2024.05.12", "5/12"), an amount
 * with decimals or thousands ("100.50", "1,288.00"), a version ("8.0.45", "17.4.1"), a clock time
 * ("10:30"). A code spelled with the same separators has no such shape: "73/92/04" is no date,
 * "5.3.1.9.0.7" no version.
 */
export function isKeptShape(text: string, run: DigitRun): boolean {
  const { groups, separator } = run;
  const before = text.slice(Math.max(0, run.from - 2), run.from);
  // Part of a clock time or a ratio ("10:30:00").
  if (/[0-9]:$/.test(before) || /^:[0-9]/.test(text.slice(run.to))) return true;
  // The part after a thousands comma ("1,288.00"); a comma before a long number is only a comma.
  if (/[0-9],$/.test(before) && groups[0] === 3 && (separator === undefined || (separator === '.' && groups.length === 2))) return true;
  if (separator === undefined || separator === ' ') return false;
  const values = groupValues(run);
  if (separator !== '_' && separator !== '·' && isDate(groups, values)) return true;
  if (separator === '.') {
    // One decimal point with cents after it is an amount; "482.913" has three digits after it.
    if (groups.length === 2 && groups[1]! <= 2) return true;
    // Versions count up unevenly ("8.0.45"); a dotted code has equal groups ("48.29.13").
    if (groups.length >= 3 && groups.length <= 4 && groups[0]! <= 2 && new Set(groups).size > 1) return true;
  }
  return false;
}

function groupValues(run: DigitRun): number[] {
  const values: number[] = [];
  let offset = 0;
  for (const length of run.groups) {
    values.push(Number(run.digits.slice(offset, offset + length)));
    offset += length;
  }
  return values;
}

function isDate(groups: number[], values: number[]): boolean {
  const [a, b, c] = values as [number, number, number];
  if (groups.length === 3) {
    const yearFirst = groups[0] === 4 && a >= 1900 && a <= 2099 && groups[1]! <= 2 && groups[2]! <= 2 && validMonth(b) && validDay(c);
    const yearLast = groups[0]! <= 2 && groups[1]! <= 2 && (groups[2] === 4 || groups[2] === 2) && ((validMonth(a) && validDay(b)) || (validDay(a) && validMonth(b)));
    return yearFirst || yearLast;
  }
  if (groups.length === 2) {
    const monthDay = groups[0]! <= 2 && groups[1]! <= 2 && validMonth(a) && validDay(b);
    const yearMonth = groups[0] === 4 && a >= 1900 && a <= 2099 && groups[1]! <= 2 && validMonth(b);
    return monthDay || yearMonth;
  }
  return false;
}
