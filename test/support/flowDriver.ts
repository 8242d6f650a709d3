import { createActor, type Snapshot } from 'xstate';
import { conversationMachine, type ConversationEvent } from '../../flows/conversationMachine.js';
import type { HandoffReason } from '../../flows/events.js';
import { describeState } from '../../src/dialogue/dialogueEngine.js';

export interface FlowTurn {
  /** Response ids said this turn, in order. */
  said: string[];
  state: string;
  step: number;
  handoff: { reason: HandoffReason; step: number } | undefined;
  snapshot: unknown;
}

/**
 * Runs one turn the way production does: restore from JSON, send one event, persist to JSON.
 * Every test through it therefore also round-trips the snapshot.
 */
export function turn(snapshotJson: unknown, event: ConversationEvent): FlowTurn {
  const actor = createActor(
    conversationMachine,
    snapshotJson === undefined ? {} : { snapshot: JSON.parse(JSON.stringify(snapshotJson)) as Snapshot<unknown> },
  );
  const said: string[] = [];
  let handoff: FlowTurn['handoff'];
  actor.on('bot.say', (e) => said.push(e.key));
  actor.on('bot.handoff', (e) => (handoff = { reason: e.reason, step: e.step }));
  actor.start();
  actor.send(event);
  const snapshot = actor.getSnapshot();
  const result: FlowTurn = {
    said,
    state: describeState(snapshot),
    step: snapshot.context.step,
    handoff,
    snapshot: JSON.parse(JSON.stringify(actor.getPersistedSnapshot())),
  };
  actor.stop();
  return result;
}

/** A conversation driven by events, one persisted turn per event. */
export class FlowConversation {
  private snapshot: unknown;
  last: FlowTurn | undefined;

  send(event: ConversationEvent | ConversationEvent['type']): FlowTurn {
    this.last = turn(this.snapshot, typeof event === 'string' ? ({ type: event } as ConversationEvent) : event);
    this.snapshot = this.last.snapshot;
    return this.last;
  }

  /** Sends each event and returns what was said in all of them. */
  sendAll(...events: (ConversationEvent | ConversationEvent['type'])[]): string[] {
    return events.flatMap((event) => this.send(event).said);
  }

  get state(): string {
    return this.last?.state ?? 'idle';
  }
}

export const stepStates = ['openWeChat', 'openMe', 'openPay', 'openWallet', 'findWallet', 'tapUnbind'] as const;

/** A conversation standing at the given step (1–6) of the unbinding. */
export function atStep(step: number): FlowConversation {
  const conversation = new FlowConversation();
  conversation.sendAll('user.unbind', 'user.deny');
  for (let done = 1; done < step; done++) conversation.send('user.affirm');
  return conversation;
}

/** A conversation at step 7, where the verification sub-flow asks for the method. */
export function atVerification(): FlowConversation {
  const conversation = atStep(6);
  conversation.send('user.affirm');
  return conversation;
}
