import { faqTopics, type FaqTopic, type UserEvent } from '../../flows/events.js';
import type { ParseResult } from '../nlu/index.js';

/** What a user further along than the bot may be read as: done, a jump, or a verification question (step 7). */
const aheadIntents = new Set(['affirm', 'jump_ahead', 'verification_help', 'step_help', 'unbind_wallet']);

/** Offers whose yes hands the conversation over: taken only from a message read as an answer. */
const handoverOffers = new Set(['human.confirm', 'fallback.offerHuman', 'faq.not_covered']);

const isFaqTopic = (intent: string): intent is FaqTopic => (faqTopics as readonly string[]).includes(intent);

/** A bare method name ("短信", "指纹") is rarely classified as anything useful; with these it is a choice. */
const methodChoiceIntents = new Set(['out_of_scope', 'step_help']);

/** Intents that become an event of their own name; yes, no, a stop, a human, a jump and verification help carry more and are built above. */
const controlEvents: Record<string, UserEvent['type']> = {
  go_back: 'user.back',
  repeat: 'user.repeat',
  restart: 'user.restart',
  step_help: 'user.stepHelp',
  unbind_wallet: 'user.unbind',
  greet: 'user.greet',
  thanks: 'user.thanks',
  goodbye: 'user.goodbye',
};

/**
 * Turns what the NLU understood into the one event the dialogue machines receive this turn.
 * @param openQuestion the response id of the question the bot last asked, which a yes or a no answers.
 */
export function eventFromParse(parse: ParseResult, openQuestion?: string, currentStep = 0): UserEvent {
  if (parse.onlySecret) return { type: 'user.shareSecret' };
  // "解绑按钮已经点了" at step 1 is more than "done": the user is further along than the bot.
  if (currentStep > 0 && parse.position !== undefined && parse.position > currentStep + 1 && aheadIntents.has(parse.intent.name)) {
    return { type: 'user.jumpAhead', step: parse.position };
  }
  // "解绑按钮点了" at step 6 names where step 6 leads: the step is done. Not when it reports a problem
  // ("解绑按钮点不了"), and not a stop, a human or a question, which are read as they are.
  const namesNextPlace = currentStep > 0 && parse.position === currentStep + 1 && !parse.reportsProblem && !parse.asks && parse.answer !== 'no';
  if (namesNextPlace && (aheadIntents.has(parse.intent.name) || parse.ambiguousBetween?.some((name) => aheadIntents.has(name)))) {
    return { type: 'user.affirm', question: openQuestion };
  }
  // "我收到的是 [验证码] 对吗": the secret is the point; the bot warns and stays where it was.
  if (parse.secrets.length && parse.intent.confidence < 0.6) return { type: 'user.shareSecret' };
  const topics = parse.questions.filter(isFaqTopic);
  if (topics.length) return parse.alsoRequested.length ? { type: 'user.ask', topics, also: parse.alsoRequested } : { type: 'user.ask', topics };
  if (parse.ambiguousBetween) return { type: 'nlu.ambiguous', candidates: parse.ambiguousBetween };
  const intent = parse.intent.name;
  if (intent === 'affirm' || intent === 'deny') {
    // Only a message read as an answer answers the offer of a human: "打开了" after "需要我帮你转接
    //人工客服吗？" mid-step is about the step, not a yes to the handover.
    const answersIt = parse.answer === (intent === 'affirm' ? 'yes' : 'no') || !(openQuestion && handoverOffers.has(openQuestion));
    return { type: intent === 'affirm' ? 'user.affirm' : 'user.deny', question: answersIt ? openQuestion : undefined };
  }
  if (intent === 'jump_ahead') return parse.position === undefined ? { type: 'user.jumpAhead' } : { type: 'user.jumpAhead', step: parse.position };
  // Stopping, starting over and a human need a clear request; otherwise the flows ask or stay.
  if (intent === 'cancel') return parse.clearRequest ? { type: 'user.cancel' } : { type: 'user.cancel', unsure: true };
  if (intent === 'contact_human') return parse.clearRequest ? { type: 'user.human' } : { type: 'user.human', unsure: true };
  if (intent === 'restart' && !parse.clearRequest) return { type: 'nlu.fallback' };
  if (intent === 'verification_help') {
    // A button chooses (a method, or "another method"); typed text naming a method chooses it,
    // unless it reports a problem with it ("收不到短信验证码").
    if (parse.fromPayload) return parse.method ? { type: 'user.chooseMethod', method: parse.method } : { type: 'user.switchMethod' };
    if (parse.method && !parse.reportsProblem) return { type: 'user.chooseMethod', method: parse.method };
    return parse.method ? { type: 'user.verificationHelp', method: parse.method } : { type: 'user.verificationHelp' };
  }
  if (parse.method && methodChoiceIntents.has(intent)) return { type: 'user.chooseMethod', method: parse.method };
  if (isFaqTopic(intent)) return { type: 'user.ask', topics: [intent] };
  const type = controlEvents[intent];
  return type ? ({ type } as UserEvent) : { type: 'nlu.fallback' };
}
