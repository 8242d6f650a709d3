import { createHash } from 'node:crypto';
import { conversationMachine } from '../../flows/conversationMachine.js';
import { unbindWalletMachine } from '../../flows/unbindWalletMachine.js';
import { verificationMachine } from '../../flows/verificationMachine.js';

/**
 * A fingerprint of the flows' structure (states, events, targets). Response texts live in data and
 * do not change it, so editing an answer never disturbs conversations in progress.
 */
export const flowVersion = createHash('sha256')
  .update(JSON.stringify([conversationMachine, unbindWalletMachine, verificationMachine].map((machine) => machine.definition)))
  .digest('hex')
  .slice(0, 12);
