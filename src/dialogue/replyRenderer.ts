import type { SayParams } from '../../flows/events.js';
import type { AnswerExpectation, ReplyPicture, ReplyTone, Response } from '../content/schemas.js';
import { ScriptConverter, type RegionalWording, type ReplyScript } from '../nlu/index.js';

export interface QuickReplyOut {
  title: string;
  payload: string;
}

export interface Reply {
  /** The response id this reply renders (`unbind.step2`), so QA and clients can tell which answer was given. */
  id: string;
  text: string;
  quickReplies?: QuickReplyOut[];
  /** Set when the response declares one (`tone: warning` on the secret warning): clients mark it without reading the text. */
  tone?: ReplyTone;
  /** The step picture to show inside the reply (`step3`), when the response names one. */
  picture?: ReplyPicture;
}

export class MissingResponseError extends Error {
  override name = 'MissingResponseError';
  constructor(readonly key: string) {
    super(`no response "${key}" in intents/responses/`);
  }
}

/** Turns the response ids the flows name into text, in the script and regional wording the user reads. */
export class ReplyRenderer {
  private readonly converter: ScriptConverter;

  constructor(
    private readonly responses: ReadonlyMap<string, Response>,
    wording: RegionalWording = {},
  ) {
    this.converter = new ScriptConverter(wording);
  }

  has(key: string): boolean {
    return this.responses.has(key);
  }

  /** What the response asks the user for, when it is a question. */
  expectation(key: string): AnswerExpectation | undefined {
    return this.responses.get(key)?.expects;
  }

  render(say: SayParams, script: ReplyScript): Reply {
    const response = this.responses.get(say.key);
    if (!response) throw new MissingResponseError(say.key);
    const convert = (text: string) => this.converter.convert(text, script);
    const text = response.text.replace(/\{(\w+)\}/g, (whole, name: string) => String(say.params?.[name] ?? whole));
    const quickReplies = [
      ...(say.choices ?? []).map((intent) => ({ title: this.render({ key: `label.${intent}` }, 'hans').text, payload: `/${intent}` })),
      ...(response.quickReplies ?? []),
    ].map(({ title, payload }) => ({ title: convert(title), payload }));
    const reply: Reply = { id: say.key, text: convert(text) };
    if (quickReplies.length) reply.quickReplies = quickReplies;
    if (response.tone) reply.tone = response.tone;
    if (response.picture) reply.picture = response.picture;
    return reply;
  }
}

/**
 * A question that follows an answer in the same turn ("需要我一步步带你解绑吗？" after an FAQ) is
 * what the user answers, and the widget shows the last reply's buttons only: the answer's other
 * buttons (related questions) move to the question, after its own, so none is lost.
 */
export function carryButtonsToTheQuestion(replies: Reply[], isQuestion: (id: string) => boolean): Reply[] {
  const last = replies.at(-1);
  const before = replies.at(-2);
  if (!last || !before?.quickReplies?.length || !isQuestion(last.id)) return replies;
  const own = last.quickReplies ?? [];
  const payloads = new Set(own.map((button) => button.payload));
  // A related question that starts the unbinding is the question's own yes: not offered twice.
  const carried = before.quickReplies.filter((button) => !payloads.has(button.payload) && button.payload !== '/unbind_wallet');
  if (!carried.length) return replies;
  const { quickReplies: _moved, ...answer } = before;
  return [...replies.slice(0, -2), answer, { ...last, quickReplies: [...own, ...carried] }];
}
