import { describe, expect, it } from 'vitest';
import { conversationMachine, type ConversationEvent } from '../../flows/conversationMachine.js';
import { faqTopics } from '../../flows/events.js';
import { unbindWalletMachine } from '../../flows/unbindWalletMachine.js';
import { verificationMachine } from '../../flows/verificationMachine.js';
import { loadContent } from '../../src/content/loadContent.js';
import { atStep, FlowConversation, turn } from '../support/flowDriver.js';

describe('conversationMachine: routing, fallback and handoff', () => {
  it.each(faqTopics)('answers the FAQ %s from idle, offers the steps where they follow, and stays idle', (topic) => {
    const conversation = new FlowConversation();
    const offer = topic === 'bind_wallet' || topic === 'not_covered' ? [] : ['offer.walkthrough'];
    expect(conversation.send({ type: 'user.ask', topics: [topic] }).said).toEqual([`faq.${topic}`, ...offer]);
    expect(conversation.state).toBe('idle');
    // "不会吧" has no answer to repeat; the last real answer is repeated.
    if (topic !== 'not_covered') expect(conversation.send('user.repeat').said).toEqual([`faq.${topic}`]);
  });

  it('answers several questions in order, and starts the steps when the message also asks to unbind', () => {
    const both = new FlowConversation();
    expect(both.send({ type: 'user.ask', topics: ['pay_after_unbind', 'balance_before_unbind'] }).said).toEqual([
      'faq.pay_after_unbind',
      'faq.balance_before_unbind',
      'offer.walkthrough',
    ]);
    const andUnbind = new FlowConversation();
    expect(andUnbind.send({ type: 'user.ask', topics: ['records_after_unbind'], also: ['unbind_wallet'] }).said).toEqual([
      'faq.records_after_unbind',
      'unbind.intro',
      'unbind.askBalance',
    ]);
    expect(andUnbind.state).toBe('unbinding.checkingBalance');
  });

  it('a yes takes what the last question offered, a no closes it politely, and neither asks the same again', () => {
    const offered = new FlowConversation();
    offered.send({ type: 'user.ask', topics: ['rebind'] });
    expect(offered.send({ type: 'user.affirm', question: 'offer.walkthrough' }).said).toEqual(['unbind.intro', 'unbind.askBalance']);
    const declined = new FlowConversation();
    declined.send({ type: 'user.ask', topics: ['rebind'] });
    expect(declined.send({ type: 'user.deny', question: 'offer.walkthrough' }).said).toEqual(['offer.declined']);
    const notCovered = new FlowConversation();
    notCovered.send({ type: 'user.ask', topics: ['not_covered'] });
    expect(notCovered.send({ type: 'user.affirm', question: 'faq.not_covered' }).handoff).toEqual({ reason: 'user_request', step: 0 });
    const more = new FlowConversation();
    expect(more.send('user.shareSecret').said).toEqual(['anythingElse']);
    expect(more.send({ type: 'user.affirm', question: 'anythingElse' }).said).toEqual(['anythingElse.go']);
    expect(more.send('user.shareSecret').said).toEqual(['anythingElse']);
    expect(more.send({ type: 'user.deny', question: 'anythingElse' }).said).toEqual(['goodbye']);
  });

  it('a stop or a human not clearly asked for is confirmed first; the steps go on when the user says no', () => {
    const conversation = atStep(3);
    expect(conversation.send({ type: 'user.cancel', unsure: true }).said).toEqual(['unbind.confirmCancel']);
    expect(conversation.send({ type: 'user.deny', question: 'unbind.confirmCancel' }).said).toEqual(['unbind.resume', 'unbind.step3']);
    expect(conversation.send({ type: 'user.cancel', unsure: true }).said).toEqual(['unbind.confirmCancel']);
    expect(conversation.send({ type: 'user.affirm', question: 'unbind.confirmCancel' }).said).toEqual(['unbind.cancelled']);
    const human = atStep(2);
    expect(human.send({ type: 'user.human', unsure: true }).said).toEqual(['human.confirm']);
    expect(human.send({ type: 'user.affirm', question: 'human.confirm' }).handoff).toEqual({ reason: 'user_request', step: 2 });
  });

  it('a user ahead of the bot goes to the step they are at; without a place the bot asks which page', () => {
    const conversation = atStep(1);
    expect(conversation.send({ type: 'user.jumpAhead', step: 5 }).said).toEqual(['unbind.skipAhead', 'unbind.step5']);
    expect(conversation.last?.step).toBe(5);
    expect(conversation.send({ type: 'user.jumpAhead' }).said).toEqual(['unbind.askPosition']);
    expect(conversation.send({ type: 'user.jumpAhead', step: 5 }).said).toEqual(['unbind.step5']);
    const fromIdle = new FlowConversation();
    expect(fromIdle.send({ type: 'user.jumpAhead', step: 7 }).said).toEqual(['unbind.skipAhead', 'unbind.balanceReminder', 'unbind.step7', 'verify.askMethod']);
  });

  it('greets, thanks and says goodbye', () => {
    const conversation = new FlowConversation();
    expect(conversation.sendAll('user.greet', 'user.thanks', 'user.goodbye')).toEqual(['greet', 'thanks', 'goodbye']);
  });

  it('a first fallback explains what the bot can do; a second in a row offers a human; a third hands over', () => {
    const conversation = new FlowConversation();
    expect(conversation.send('nlu.fallback').said).toEqual(['fallback']);
    expect(conversation.send('nlu.fallback').said).toEqual(['fallback.offerHuman']);
    const third = conversation.send('nlu.fallback');
    expect(third.handoff).toEqual({ reason: 'repeated_fallback', step: 0 });
  });

  it('"好的" to the offer of a human hands over; "不用" does not', () => {
    const accept = new FlowConversation();
    accept.sendAll('nlu.fallback', 'nlu.fallback');
    expect(accept.send('user.affirm').handoff?.reason).toBe('repeated_fallback');
    const decline = atStep(2);
    decline.sendAll('nlu.fallback', 'nlu.fallback');
    expect(decline.send('user.deny').said).toEqual(['unbind.resume', 'unbind.step2']);
    expect(decline.state).toBe('unbinding.openMe');
  });

  it('before step 1 a fallback repeats the open question, without a step number', () => {
    const conversation = new FlowConversation();
    conversation.send('user.unbind');
    expect(conversation.send('nlu.fallback').said).toEqual(['fallback.inFlow.beforeSteps', 'unbind.askBalance']);
    conversation.sendAll('user.deny');
    const advice = new FlowConversation();
    advice.sendAll('user.unbind', 'user.affirm');
    expect(advice.send('nlu.fallback').said).toEqual(['fallback.inFlow.beforeSteps', 'unbind.balanceAdvice']);
  });

  it('a digression resets the run of misunderstandings, so the next one does not hand off', () => {
    const conversation = atStep(2);
    conversation.sendAll('nlu.fallback', 'nlu.fallback', { type: 'user.ask', topics: ['rebind'] });
    expect(conversation.send('user.affirm').said).toEqual(['unbind.step3']);
    expect(conversation.send('nlu.fallback').handoff).toBeUndefined();
  });

  it('"不用了" (cancel) to the offer of a human declines it and stops nothing', () => {
    const conversation = atStep(2);
    conversation.sendAll('nlu.fallback', 'nlu.fallback');
    expect(conversation.send('user.cancel').said).toEqual(['unbind.resume', 'unbind.step2']);
    expect(conversation.state).toBe('unbinding.openMe');
  });

  it('an understood message in between resets the fallback count', () => {
    const conversation = new FlowConversation();
    conversation.sendAll('nlu.fallback', { type: 'user.ask', topics: ['rebind'] });
    expect(conversation.send('nlu.fallback').said).toEqual(['fallback']);
  });

  it('inside the unbinding, a fallback reminds the user of the step, then offers a human', () => {
    const conversation = atStep(3);
    expect(conversation.send('nlu.fallback').said).toEqual(['fallback.inFlow']);
    expect(conversation.send('nlu.fallback').said).toEqual(['fallback.offerHuman']);
    expect(conversation.state).toBe('unbinding.openPay');
  });

  it('asks which one was meant when two intents are too close', () => {
    const result = turn(undefined, { type: 'nlu.ambiguous', candidates: ['rebind', 'bind_wallet'] });
    expect(result.said).toEqual(['clarify']);
  });

  it('flow controls outside a flow say there is nothing in progress', () => {
    const conversation = new FlowConversation();
    expect(conversation.sendAll('user.affirm', 'user.back', 'user.stepHelp')).toEqual(['noFlowActive', 'noFlowActive', 'noFlowActive']);
    // Nothing to stop: a polite close, not the offer again.
    expect(conversation.send('user.cancel').said).toEqual(['offer.declined']);
  });

  it('after a handoff it still answers FAQs but no longer runs flows', () => {
    const conversation = new FlowConversation();
    expect(conversation.send('user.human').handoff).toEqual({ reason: 'user_request', step: 0 });
    expect(conversation.send({ type: 'user.ask', topics: ['pay_after_unbind'] }).said).toEqual(['faq.pay_after_unbind']);
    expect(conversation.send('user.unbind').said).toEqual(['handoff.waiting']);
    expect(conversation.send('nlu.fallback').said).toEqual(['handoff.waiting']);
    expect(conversation.state).toBe('handedOff');
  });

  it('a bare secret inside a flow re-asks the current step; outside it asks what else', () => {
    expect(atStep(2).send('user.shareSecret').said).toEqual(['unbind.resume', 'unbind.step2']);
    expect(new FlowConversation().send('user.shareSecret').said).toEqual(['anythingElse']);
  });
});

/** Every event a user can cause, with representative parameters. */
const everyEvent: ConversationEvent[] = [
  ...(['user.affirm', 'user.deny', 'user.back', 'user.repeat', 'user.cancel', 'user.restart', 'user.stepHelp', 'user.unbind',
    'user.verificationHelp', 'user.switchMethod', 'user.human', 'user.greet', 'user.thanks', 'user.goodbye', 'user.shareSecret', 'nlu.fallback'] as const).map(
    (type) => ({ type }) as ConversationEvent,
  ),
  { type: 'user.chooseMethod', method: 'sms' },
  { type: 'user.chooseMethod', method: 'biometric' },
  { type: 'user.chooseMethod', method: 'securityQuestion' },
  { type: 'user.ask', topics: ['balance_before_unbind'] },
  { type: 'user.verificationHelp', method: 'sms' },
  { type: 'nlu.ambiguous', candidates: ['rebind', 'bind_wallet'] },
  { type: 'user.ask', topics: ['not_covered'] },
  { type: 'user.ask', topics: ['rebind', 'pay_after_unbind'], also: ['unbind_wallet'] },
  { type: 'user.cancel', unsure: true },
  { type: 'user.human', unsure: true },
  { type: 'user.jumpAhead' },
  { type: 'user.jumpAhead', step: 4 },
  { type: 'user.jumpAhead', step: 7 },
  // Not the user's, but it reaches every state the same way (the desk sends it whatever the state).
  { type: 'agent.released', how: 'resolved' },
  { type: 'agent.released', how: 'handedBack' },
];

describe('every state answers every event', () => {
  // Breadth-first over the states users can reach, one persisted turn per edge.
  const explored = new Map<string, unknown>();
  const failures: string[] = [];
  const withoutButtons = new Set<string>();
  const responses = loadContent().responses;
  const offerLoops: string[] = [];
  const queue: { snapshot: unknown; state: string; asked: string | undefined }[] = [{ snapshot: undefined, state: 'idle', asked: undefined }];
  explored.set('idle', undefined);
  while (queue.length) {
    const { snapshot, state, asked } = queue.shift()!;
    for (const plain of everyEvent) {
      // A yes or a no carries the question it answers, as the engine sends it.
      const event = (plain.type === 'user.affirm' || plain.type === 'user.deny') && asked ? { ...plain, question: asked } : plain;
      const result = turn(snapshot, event);
      const expects = asked ? responses.get(asked)?.expects : undefined;
      if (typeof expects === 'object' && expects.yesNo === 'offer' && event !== plain && result.said.at(-1) === asked) {
        offerLoops.push(`${state} asked ${asked}; ${event.type} asked it again`);
      }
      if (result.said.length === 0) failures.push(`${state} + ${event.type}: no reply`);
      for (const key of result.said) if (!responses.has(key)) failures.push(`${state} + ${event.type}: unknown response ${key}`);
      // Inside a flow the user must always have buttons to go on with (a reloaded widget shows the last ones).
      const last = result.said.at(-1);
      // (`clarify` gets its buttons from the two candidate intents at render time.)
      if (/^(unbinding|verifying)/.test(result.state) && last && last !== 'clarify' && !responses.get(last)?.quickReplies?.length) {
        withoutButtons.add(`${result.state} after ${event.type}: ${last}`);
      }
      const lastSaid = result.said.at(-1);
      const question = lastSaid && responses.get(lastSaid)?.expects ? lastSaid : undefined;
      const key = `${result.state}#${stateKey(result.snapshot)}#${question ?? ''}`;
      if (!explored.has(key)) {
        explored.set(key, result.snapshot);
        queue.push({ snapshot: result.snapshot, state: result.state, asked: question });
      }
    }
  }

  it('gives at least one reply, with a response that exists, for every event in every reachable state', () => {
    expect(failures).toEqual([]);
  });

  it('every offer the bot makes has an answer path: a yes or a no never gets the same offer again', () => {
    expect(offerLoops).toEqual([]);
  });

  it('inside a flow, always ends its turn with quick replies to go on with', () => {
    expect([...withoutButtons]).toEqual([]);
  });

  it('reaches every state of every machine', () => {
    expect(explored.size).toBeGreaterThan(25);
    const reached = new Set([...explored.keys()].flatMap((key) => expandStatePath(key.split('#')[0]!)));
    const allStates = [
      ...stateIds(conversationMachine.root, 'conversation'),
      ...stateIds(unbindWalletMachine.root, 'unbindWallet'),
      ...stateIds(verificationMachine.root, 'verification'),
    ];
    const unreached = allStates.filter((id) => !reached.has(id) && !transient.has(id));
    expect(unreached).toEqual([]);
  });
});

/**
 * Final states, `start` and `requestingHuman` (which only decides between a ticket and "too busy")
 * are left on the same turn they are entered, so no snapshot rests in them.
 */
const transient = new Set([
  'conversation.requestingHuman',
  'verification.start', 'verification.passed', 'verification.skipped', 'verification.wentBack', 'verification.stopped',
  'verification.restartRequested', 'verification.handedOff', 'unbindWallet.starting', 'unbindWallet.completed', 'unbindWallet.cancelled', 'unbindWallet.handedOff',
]);

/**
 * The parts of context that change what the bot answers: a fallback run under way, and the
 * children's contexts (which method, which troubleshooting tip). Counts are capped so the search ends.
 */
function stateKey(snapshot: unknown): string {
  type Node = { context?: Record<string, unknown>; children?: Record<string, { snapshot?: unknown }> };
  const root = snapshot as Node;
  const parts: unknown[] = [Number(root.context?.fallbackStreak ?? 0) > 0];
  const walk = (node: Node) => {
    for (const child of Object.values(node.children ?? {})) {
      const inner = child.snapshot as Node | undefined;
      if (!inner) continue;
      parts.push(inner.context);
      walk(inner);
    }
  };
  walk(root);
  return JSON.stringify(parts);
}

function stateIds(node: { states: Record<string, unknown> }, prefix: string): string[] {
  return Object.entries(node.states).flatMap(([name, child]) => [
    `${prefix}.${name}`,
    ...stateIds(child as { states: Record<string, unknown> }, `${prefix}.${name}`),
  ]);
}

/** "unbinding.confirmUnbind.verifying.guidingMethod" → the state ids of each machine it passes through. */
function expandStatePath(path: string): string[] {
  const parts = path.split('.');
  const ids = [`conversation.${parts[0]}`];
  const rest = parts.slice(1);
  if (parts[0] === 'unbinding') {
    ids.push(`unbindWallet.${rest[0]}`);
    if (rest[0] === 'confirmUnbind') {
      ids.push(`unbindWallet.confirmUnbind.${rest[1]}`);
      if (rest[2]) ids.push(`verification.${rest[2]}`);
    }
  } else if (parts[0] === 'verifying' && rest[0]) {
    ids.push(`verification.${rest[0]}`);
  }
  return ids;
}
