import { createActor, type Snapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import { conversationMachine } from '../../flows/conversationMachine.js';
import type { Outcome } from '../../flows/events.js';
import { FlowConversation } from '../support/flowDriver.js';

/** A turn with the outcomes it reported, and availability as the server would provide it. */
function outcomesOf(snapshot: unknown, event: Parameters<ReturnType<typeof createActor<typeof conversationMachine>>['send']>[0], available = true) {
  const machine = conversationMachine.provide({ guards: { agentAvailable: () => available } });
  const actor = createActor(machine, snapshot === undefined ? {} : { snapshot: JSON.parse(JSON.stringify(snapshot)) as Snapshot<unknown> });
  const said: string[] = [];
  const outcomes: Outcome[] = [];
  actor.on('bot.say', (e) => said.push(e.key));
  actor.on('bot.outcome', (e) => outcomes.push(e.outcome));
  actor.start();
  actor.send(event);
  const result = { said, outcomes, state: String(actor.getSnapshot().value), snapshot: actor.getPersistedSnapshot() };
  actor.stop();
  return result;
}

describe('a handed-over conversation', () => {
  it('tells the user an agent will answer here when one can, and says plainly when nobody can', () => {
    expect(outcomesOf(undefined, { type: 'user.human' }).said).toEqual(['handoff.created']);
    const nobody = outcomesOf(undefined, { type: 'user.human' }, false);
    expect(nobody.said).toEqual(['handoff.nobodyAvailable']);
    // The ticket is kept for the next agent: the conversation waits all the same.
    expect(nobody.state).toBe('handedOff');
  });

  it('goes back to the bot when the agent resolves or hands back, saying which', () => {
    for (const [how, note] of [['resolved', 'handoff.resolved'], ['handedBack', 'handoff.handedBack']] as const) {
      const conversation = new FlowConversation();
      conversation.send('user.human');
      expect(conversation.send({ type: 'agent.released', how }).said).toEqual([note]);
      expect(conversation.state).toBe('idle');
      // The bot answers again, and a new request for a human is a new handover.
      expect(conversation.send('user.unbind').said[0]).toBe('unbind.intro');
    }
    const waiting = outcomesOf(new FlowConversation().send('user.human').snapshot, { type: 'agent.released', how: 'resolved' });
    expect(waiting.outcomes).toEqual([{ kind: 'handoffEnded', how: 'resolved' }]);
  });

  it('lets the user stop waiting: a clear "不等了" leaves at once and reports it, a vague one is asked about', () => {
    const waiting = new FlowConversation().send('user.human').snapshot;
    const left = outcomesOf(waiting, { type: 'user.cancel' });
    expect(left).toMatchObject({ said: ['handoff.left'], outcomes: [{ kind: 'handoffEnded', how: 'userLeft' }], state: 'idle' });

    const conversation = new FlowConversation();
    conversation.send('user.human');
    expect(conversation.send({ type: 'user.cancel', unsure: true }).said).toEqual(['handoff.confirmLeave']);
    expect(conversation.send({ type: 'user.deny', question: 'handoff.confirmLeave' }).said).toEqual(['handoff.waiting']);
    expect(conversation.state).toBe('handedOff');
    conversation.send({ type: 'user.cancel', unsure: true });
    expect(conversation.send({ type: 'user.affirm', question: 'handoff.confirmLeave' }).said).toEqual(['handoff.left']);
    expect(conversation.state).toBe('idle');
  });

  it('still answers FAQs while waiting, and forgets the handover once it ends', () => {
    const conversation = new FlowConversation();
    conversation.sendAll('nlu.fallback', 'nlu.fallback', 'nlu.fallback');
    expect(conversation.state).toBe('handedOff');
    expect(conversation.send({ type: 'user.ask', topics: ['rebind'] }).said).toEqual(['faq.rebind']);
    conversation.send({ type: 'agent.released', how: 'handedBack' });
    const context = (conversation.last!.snapshot as { context: Record<string, unknown> }).context;
    expect(context).toMatchObject({ fallbackStreak: 0 });
    expect(context['handoffReason']).toBeUndefined();
    // One misunderstanding after the handback is the first of a new run, not the fourth.
    expect(conversation.send('nlu.fallback').said).toEqual(['fallback']);
  });
});
