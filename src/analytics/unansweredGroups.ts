import type { TextNormalizer } from '../nlu/index.js';

/** One message the bot did not understand, as the grouping reads it. */
export interface UnansweredMessage {
  text: string;
  at: string;
  intent: string;
}

export interface UnansweredGroup {
  text: string;
  count: number;
  examples: string[];
  lastAt: string;
  guess: string;
}

/** Two wordings whose character pairs overlap at least this much (Jaccard) are one question. */
const similarEnough = 0.5;
/** Groups a message is compared with at most: the rest of the work per message does not grow with the groups. */
const maxCandidates = 200;
/** Groups the dashboard lists. */
export const groupsShown = 100;

interface Group {
  index: number;
  key: string;
  bigrams: Set<string>;
  texts: Map<string, number>;
  count: number;
  lastAt: string;
  guesses: Map<string, number>;
}

/**
 * Groups what the bot did not understand by similar wording, one message at a time: each message is
 * compared with a bounded number of candidate groups found through an index of character pairs, never
 * with every group so far. Messages are added oldest first; a message joins the earliest group it is
 * similar to, as a scan of every group would choose.
 */
export class UnansweredGrouper {
  private readonly groups: Group[] = [];
  private readonly byKey = new Map<string, Group>();
  /** Character pair → the groups whose first wording has it, in the order they were made. */
  private readonly postings = new Map<string, Group[]>();

  constructor(private readonly normalizer: TextNormalizer) {}

  get size(): number {
    return this.groups.length;
  }

  add(message: UnansweredMessage): void {
    const key = this.normalizer.normalize(message.text).replace(/[\s\p{P}\p{S}]/gu, '');
    if (!key) return;
    const bigrams = characterBigrams(key);
    const group = this.similarGroup(key, bigrams);
    if (group) {
      group.count++;
      group.texts.set(message.text, (group.texts.get(message.text) ?? 0) + 1);
      group.guesses.set(message.intent, (group.guesses.get(message.intent) ?? 0) + 1);
      if (message.at > group.lastAt) group.lastAt = message.at;
      return;
    }
    const created: Group = { index: this.groups.length, key, bigrams, texts: new Map([[message.text, 1]]), count: 1, lastAt: message.at, guesses: new Map([[message.intent, 1]]) };
    this.groups.push(created);
    this.byKey.set(key, created);
    for (const bigram of bigrams) {
      const list = this.postings.get(bigram);
      if (list) list.push(created);
      else this.postings.set(bigram, [created]);
    }
  }

  /** The groups, for `TopGroups` to pick from (in the order they were made). */
  all(): readonly Group[] {
    return this.groups;
  }

  private similarGroup(key: string, bigrams: Set<string>): Group | undefined {
    let best = this.byKey.get(key);
    // Jaccard ≥ ½ means a group shares at least half of this message's pairs, so it has at least one
    // of any (size − ⌈size/2⌉ + 1) of them: only the groups listed under the rarest ones can match.
    const pairs = [...bigrams].sort((a, b) => (this.postings.get(a)?.length ?? 0) - (this.postings.get(b)?.length ?? 0));
    const probe = pairs.slice(0, pairs.length - Math.ceil(pairs.length / 2) + 1);
    const seen = new Set<Group>();
    for (const pair of probe) {
      for (const candidate of this.postings.get(pair) ?? []) {
        if (seen.size >= maxCandidates) return best;
        if (seen.has(candidate)) continue;
        seen.add(candidate);
        if (best && candidate.index >= best.index) continue;
        if (jaccard(candidate.bigrams, bigrams) >= similarEnough) best = candidate;
      }
    }
    return best;
  }
}

/**
 * The most frequent groups (then the most recent), picked one group at a time so a caller can pause
 * between groups; keeps only `groupsShown` of them, sorted.
 */
export class TopGroups {
  private readonly kept: Group[] = [];

  consider(group: Group): void {
    if (this.kept.length === groupsShown && !ranksBefore(group, this.kept.at(-1)!)) return;
    let low = 0;
    let high = this.kept.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (ranksBefore(group, this.kept[middle]!)) high = middle;
      else low = middle + 1;
    }
    this.kept.splice(low, 0, group);
    if (this.kept.length > groupsShown) this.kept.pop();
  }

  result(): UnansweredGroup[] {
    const mostCommon = (counts: Map<string, number>) => [...counts].sort((a, b) => b[1] - a[1])[0]![0];
    return this.kept.map((group) => ({
      text: mostCommon(group.texts),
      count: group.count,
      examples: [...group.texts.keys()].slice(0, 5),
      lastAt: group.lastAt,
      guess: mostCommon(group.guesses),
    }));
  }
}

/** More messages first; equal counts, the most recently asked first; still equal, the earlier group. */
function ranksBefore(a: Group, b: Group): boolean {
  if (a.count !== b.count) return a.count > b.count;
  if (a.lastAt !== b.lastAt) return a.lastAt > b.lastAt;
  return a.index < b.index;
}

/** Groups the messages (oldest first) in one go: for small inputs and tests. */
export function groupUnanswered(messages: Iterable<UnansweredMessage>, normalizer: TextNormalizer): UnansweredGroup[] {
  const grouper = new UnansweredGrouper(normalizer);
  for (const message of messages) grouper.add(message);
  const top = new TopGroups();
  for (const group of grouper.all()) top.consider(group);
  return top.result();
}

/**
 * The newest `capacity` messages of a stream that arrives in any order (a min-heap on the time), so
 * grouping looks at a bounded number of messages however many the range holds.
 */
export class NewestMessages {
  private readonly heap: (UnansweredMessage & { order: number })[] = [];
  private arrived = 0;

  constructor(readonly capacity: number) {}

  /** Messages offered so far, kept or not. */
  get total(): number {
    return this.arrived;
  }

  get size(): number {
    return this.heap.length;
  }

  offer(message: UnansweredMessage): void {
    const entry = { ...message, order: this.arrived++ };
    if (this.heap.length < this.capacity) {
      this.heap.push(entry);
      this.siftUp(this.heap.length - 1);
    } else if (this.capacity > 0 && older(this.heap[0]!, entry)) {
      this.heap[0] = entry;
      this.siftDown(0);
    }
  }

  /** Takes the oldest kept message out (undefined when none are left): oldest first is the grouping's order. */
  takeOldest(): UnansweredMessage | undefined {
    const top = this.heap[0];
    if (!top) return undefined;
    const last = this.heap.pop()!;
    if (this.heap.length) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return { text: top.text, at: top.at, intent: top.intent };
  }

  private siftUp(index: number): void {
    const heap = this.heap;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!older(heap[index]!, heap[parent]!)) return;
      [heap[index], heap[parent]] = [heap[parent]!, heap[index]!];
      index = parent;
    }
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * index + 1;
      const right = left + 1;
      let smallest = index;
      if (left < heap.length && older(heap[left]!, heap[smallest]!)) smallest = left;
      if (right < heap.length && older(heap[right]!, heap[smallest]!)) smallest = right;
      if (smallest === index) return;
      [heap[index], heap[smallest]] = [heap[smallest]!, heap[index]!];
      index = smallest;
    }
  }
}

/** Earlier in time; at the same time, the one that arrived first (the store reads a conversation in order). */
function older(a: UnansweredMessage & { order: number }, b: UnansweredMessage & { order: number }): boolean {
  return a.at !== b.at ? a.at < b.at : a.order < b.order;
}

function characterBigrams(text: string): Set<string> {
  const chars = [...text];
  const bigrams = new Set<string>();
  for (let index = 0; index < chars.length - 1; index++) bigrams.add(chars[index]! + chars[index + 1]!);
  if (chars.length === 1) bigrams.add(chars[0]!);
  return bigrams;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  let shared = 0;
  for (const item of a) if (b.has(item)) shared++;
  const union = a.size + b.size - shared;
  return union ? shared / union : 0;
}
