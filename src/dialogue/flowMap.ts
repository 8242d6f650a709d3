import type { AnyStateMachine } from 'xstate';
import { conversationMachine } from '../../flows/conversationMachine.js';

/**
 * A static map of the flows, for coverage: every state a conversation can rest in (as the
 * `state` strings turns report) and every user-event transition each machine defines.
 */

interface StateNodeLike {
  key: string;
  type: string;
  states: Record<string, StateNodeLike>;
  config: { on?: Record<string, unknown>; invoke?: { src?: unknown } | { src?: unknown }[]; always?: unknown };
}

const isUserEvent = (event: string) => event.startsWith('user.') || event.startsWith('nlu.');

function childMachineOf(machine: AnyStateMachine, node: StateNodeLike): { id: string; machine: AnyStateMachine } | undefined {
  const invoke = Array.isArray(node.config.invoke) ? node.config.invoke[0] : node.config.invoke;
  const src = invoke?.src;
  if (typeof src !== 'string') return undefined;
  const child = (machine.implementations.actors as Record<string, unknown>)[src] as AnyStateMachine | undefined;
  return child ? { id: src, machine: child } : undefined;
}

/** Leaf states a conversation can rest in between turns (final and `always` states pass through in the same turn). */
function restingStates(machine: AnyStateMachine, node: StateNodeLike = machine.root as unknown as StateNodeLike, prefix = ''): string[] {
  return Object.values(node.states).flatMap((child) => {
    const path = prefix ? `${prefix}.${child.key}` : child.key;
    if (child.type === 'final' || child.config.always) return [];
    const invoked = childMachineOf(machine, child);
    const inner = Object.keys(child.states).length ? restingStates(machine, child, path) : [];
    if (invoked) return restingStates(invoked.machine).map((childPath) => `${path}.${childPath}`);
    return inner.length ? inner : [path];
  });
}

export const allStates: readonly string[] = restingStates(conversationMachine);

/** "machineId:statePath on eventType" for every user-event transition the machines define. */
function transitionsOf(machine: AnyStateMachine, seen = new Set<string>()): string[] {
  if (seen.has(machine.id)) return [];
  seen.add(machine.id);
  const found: string[] = [];
  const walk = (node: StateNodeLike, path: string) => {
    for (const event of Object.keys(node.config.on ?? {})) if (isUserEvent(event)) found.push(`${machine.id}:${path || '(root)'} on ${event}`);
    for (const child of Object.values(node.states)) {
      walk(child, path ? `${path}.${child.key}` : child.key);
      const invoked = childMachineOf(machine, child);
      if (invoked) found.push(...transitionsOf(invoked.machine, seen));
    }
  };
  walk(machine.root as unknown as StateNodeLike, '');
  return found;
}

export const allTransitions: readonly string[] = transitionsOf(conversationMachine);

const matches = (descriptor: string, event: string) => descriptor === event || (descriptor.endsWith('.*') && event.startsWith(descriptor.slice(0, -1)));

/**
 * The transitions an event took from a state, one per machine it reached: in each machine, the
 * deepest active state node that handles the event (as xstate selects it).
 */
export function transitionsTaken(state: string, event: string): string[] {
  const taken: string[] = [];
  let machine: AnyStateMachine | undefined = conversationMachine;
  let parts = state.split('.');
  while (machine && parts.length) {
    const chain: { node: StateNodeLike; path: string }[] = [{ node: machine.root as unknown as StateNodeLike, path: '' }];
    let node = machine.root as unknown as StateNodeLike;
    let consumed = 0;
    let next: { machine: AnyStateMachine } | undefined;
    for (const part of parts) {
      const child: StateNodeLike | undefined = node.states[part];
      if (!child) break;
      node = child;
      consumed++;
      chain.push({ node, path: chain.length > 1 ? `${chain.at(-1)!.path}.${part}` : part });
      next = childMachineOf(machine, node);
      if (next) break;
    }
    const handler = [...chain].reverse().find(({ node: candidate }) => Object.keys(candidate.config.on ?? {}).some((descriptor) => matches(descriptor, event)));
    if (!handler) break;
    const descriptor = Object.keys(handler.node.config.on ?? {}).find((key) => key === event) ?? Object.keys(handler.node.config.on ?? {}).find((key) => matches(key, event))!;
    taken.push(`${machine.id}:${handler.path || '(root)'} on ${descriptor}`);
    machine = next?.machine;
    parts = parts.slice(consumed);
  }
  return taken;
}
