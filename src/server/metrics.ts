import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TurnResult } from '../dialogue/dialogueEngine.js';

/** Prometheus metrics at /metrics: traffic, latency, what users ask, where the bot gives up. */
export class BotMetrics {
  readonly registry = new Registry();
  private readonly messages = new Counter({ name: 'chatbot_messages_total', help: 'User messages handled', registers: [this.registry] });
  private readonly latency = new Histogram({
    name: 'chatbot_turn_duration_seconds',
    help: 'Time to handle one user message (understanding, flows, persistence)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  private readonly intents = new Counter({ name: 'chatbot_intents_total', help: 'Messages by understood intent', labelNames: ['intent'], registers: [this.registry] });
  private readonly fallbacks = new Counter({ name: 'chatbot_fallbacks_total', help: 'Messages the bot did not understand', registers: [this.registry] });
  private readonly handoffs = new Counter({ name: 'chatbot_handoffs_total', help: 'Conversations handed to a human', labelNames: ['reason'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  recordTurn(result: TurnResult, seconds: number): void {
    this.messages.inc();
    this.latency.observe(seconds);
    this.intents.inc({ intent: result.intent.name });
    if (result.event === 'nlu.fallback') this.fallbacks.inc();
    if (result.handoff) this.handoffs.inc({ reason: result.handoff.reason });
  }
}
