import { faqTopics, type FaqTopic, type UserEvent } from '../../flows/events.js';
import type { ParseResult } from '../nlu/index.js';

const isFaqTopic = (intent: string): intent is FaqTopic => (faqTopics as readonly string[]).includes(intent);

/** A bare method name ("短信", "指纹") is rarely classified as anything useful; with these it is a choice. */
const methodChoiceIntents = new Set(['out_of_scope', 'step_help']);

const controlEvents: Record<string, UserEvent['type']> = {
  affirm: 'user.affirm',
  deny: 'user.deny',
  go_back: 'user.back',
  repeat: 'user.repeat',
  cancel: 'user.cancel',
  restart: 'user.restart',
  step_help: 'user.stepHelp',
  unbind_wallet: 'user.unbind',
  verification_help: 'user.verificationHelp',
  contact_human: 'user.human',
  greet: 'user.greet',
  thanks: 'user.thanks',
  goodbye: 'user.goodbye',
};

/** Turns what the NLU understood into the one event the dialogue machines receive this turn. */
export function eventFromParse(parse: ParseResult): UserEvent {
  if (parse.onlySecret) return { type: 'user.shareSecret' };
  if (parse.ambiguousBetween) return { type: 'nlu.ambiguous', candidates: parse.ambiguousBetween };
  const intent = parse.intent.name;
  if (intent === 'verification_help') {
    // A button chooses (a method, or "another method"); typed text naming a method chooses it,
    // unless it reports a problem with it ("收不到短信验证码").
    if (parse.fromPayload) return parse.method ? { type: 'user.chooseMethod', method: parse.method } : { type: 'user.switchMethod' };
    if (parse.method && !parse.reportsProblem) return { type: 'user.chooseMethod', method: parse.method };
    return parse.method ? { type: 'user.verificationHelp', method: parse.method } : { type: 'user.verificationHelp' };
  }
  if (parse.method && methodChoiceIntents.has(intent)) return { type: 'user.chooseMethod', method: parse.method };
  if (isFaqTopic(intent)) return { type: 'user.ask', topic: intent };
  const type = controlEvents[intent];
  return type ? ({ type } as UserEvent) : { type: 'nlu.fallback' };
}
