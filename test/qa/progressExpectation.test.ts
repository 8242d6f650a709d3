import { describe, expect, it } from 'vitest';
import { checkTurn, type CheckedTurn } from '../../src/qa/conversationRunner.js';
import type { Progress } from '../../src/dialogue/unbindingProgress.js';

const turn = (progress: Progress | null): CheckedTurn => ({ replies: [{ id: 'unbind.cancelled', text: '…' }], intent: { name: 'cancel', confidence: 1 }, state: 'idle', progress, handoff: null });
const cancelledAt3: Progress = { step: 3, total: 7, completed: 2, phase: 'steps', status: 'cancelled' };

describe('progress expectations of a script', () => {
  it('progress names the step of an unbinding in progress: none on the turn it ended', () => {
    expect(checkTurn({ progress: null }, turn(cancelledAt3))).toEqual([]);
    expect(checkTurn({ progress: 3 }, turn(cancelledAt3))).toEqual([{ check: 'progress', expected: 'step 3', actual: 'no step shown (cancelled at step 3)' }]);
    expect(checkTurn({ progress: 3 }, turn({ ...cancelledAt3, status: 'active' }))).toEqual([]);
  });

  it('progressStatus says how the turn left the unbinding, null for a turn without progress', () => {
    expect(checkTurn({ progressStatus: 'cancelled' }, turn(cancelledAt3))).toEqual([]);
    expect(checkTurn({ progressStatus: 'done' }, turn(cancelledAt3))).toEqual([{ check: 'progressStatus', expected: 'done', actual: 'cancelled' }]);
    expect(checkTurn({ progressStatus: null }, turn(null))).toEqual([]);
    expect(checkTurn({ progressStatus: 'active' }, turn(null))).toEqual([{ check: 'progressStatus', expected: 'active', actual: 'no progress' }]);
  });
});
