import { describe, expect, it } from 'vitest';
import { faqTopics } from '../../flows/events.js';
import { atStep, atVerification, FlowConversation, stepStates } from '../support/flowDriver.js';

const steps = stepStates.map((name, index) => ({ name, number: index + 1 }));

describe('unbindWalletMachine: the guided unbinding', () => {
  it('checks the balance first, then walks all 7 steps to a completed unbinding', () => {
    const conversation = new FlowConversation();
    expect(conversation.send('user.unbind').said).toEqual(['unbind.intro', 'unbind.askBalance']);
    expect(conversation.state).toBe('unbinding.checkingBalance');
    const said = conversation.sendAll('user.deny', 'user.affirm', 'user.affirm', 'user.affirm', 'user.affirm', 'user.affirm');
    expect(said).toEqual(['unbind.step1', 'unbind.step2', 'unbind.step3', 'unbind.step4', 'unbind.step5', 'unbind.step6']);
    expect(conversation.send('user.affirm').said).toEqual(['unbind.step7', 'verify.askMethod']);
    expect(conversation.last?.step).toBe(7);
    expect(conversation.send({ type: 'user.chooseMethod', method: 'sms' }).said).toEqual(['verify.guide.sms']);
    expect(conversation.send('user.affirm').said).toEqual(['verify.passed', 'unbind.confirm']);
    expect(conversation.send('user.affirm').said).toEqual(['unbind.completed']);
    expect(conversation.state).toBe('idle');
  });

  it('advises withdrawing a remaining balance before step 1, as the article does', () => {
    const conversation = new FlowConversation();
    conversation.send('user.unbind');
    expect(conversation.send('user.affirm').said).toEqual(['unbind.balanceAdvice']);
    expect(conversation.send('user.affirm').said).toEqual(['unbind.step1']);
  });

  it('lets the user skip verification when the app does not ask for it', () => {
    const conversation = atVerification();
    expect(conversation.send('user.deny').said).toEqual(['verify.skipped', 'unbind.confirm']);
  });

  it('offers a retry and a human when the final confirmation fails', () => {
    const conversation = atVerification();
    conversation.send('user.deny');
    expect(conversation.send('user.deny').said).toEqual(['unbind.confirmFailed']);
    expect(conversation.state).toBe('unbinding.confirmUnbind.confirming');
  });

  describe.each(steps)('at step $number ($name)', ({ name, number }) => {
    it('"好了" moves to the next step', () => {
      const conversation = atStep(number);
      expect(conversation.state).toBe(`unbinding.${name}`);
      const next = conversation.send('user.affirm').said;
      expect(next[0]).toBe(`unbind.step${number + 1}`);
    });

    it('"上一步" goes back one step (or stays at step 1 saying so)', () => {
      const conversation = atStep(number);
      const said = conversation.send('user.back').said;
      if (number === 1) {
        expect(said).toEqual(['unbind.backAtFirstStep', 'unbind.step1']);
        expect(conversation.state).toBe('unbinding.openWeChat');
      } else {
        expect(said).toEqual([`unbind.step${number - 1}`]);
        expect(conversation.state).toBe(`unbinding.${stepStates[number - 2]}`);
      }
    });

    it('"再说一遍" repeats the same step', () => {
      const conversation = atStep(number);
      expect(conversation.send('user.repeat').said).toEqual([`unbind.step${number}`]);
      expect(conversation.state).toBe(`unbinding.${name}`);
    });

    it('"找不到" and "没有" give help for this step and stay on it', () => {
      const conversation = atStep(number);
      expect(conversation.send('user.stepHelp').said).toEqual([`unbind.help.step${number}`]);
      expect(conversation.send('user.deny').said).toEqual([`unbind.help.step${number}`]);
      expect(conversation.state).toBe(`unbinding.${name}`);
    });

    it('"取消" stops the unbinding', () => {
      const conversation = atStep(number);
      expect(conversation.send('user.cancel').said).toEqual(['unbind.cancelled']);
      expect(conversation.state).toBe('idle');
    });

    it('"重新开始" goes back to step 1', () => {
      const conversation = atStep(number);
      expect(conversation.send('user.restart').said).toEqual(['unbind.restarted', 'unbind.step1']);
      expect(conversation.state).toBe('unbinding.openWeChat');
    });

    it.each(faqTopics)('a question about %s is answered, then the flow resumes at the same step', (topic) => {
      const conversation = atStep(number);
      const said = conversation.send({ type: 'user.ask', topics: [topic] }).said;
      expect(said).toEqual([`faq.${topic}`, 'unbind.resume', `unbind.step${number}`]);
      expect(conversation.state).toBe(`unbinding.${name}`);
      expect(conversation.send('user.affirm').said[0]).toBe(`unbind.step${number + 1}`);
    });

    it('asking to unbind again does not silently restart: it says where we are', () => {
      const conversation = atStep(number);
      expect(conversation.send('user.unbind').said).toEqual(['unbind.alreadyInProgress']);
      expect(conversation.state).toBe(`unbinding.${name}`);
      expect(conversation.last?.step).toBe(number);
    });

    it('a verification question before step 7 is answered briefly, then the step again', () => {
      const conversation = atStep(number);
      expect(conversation.send('user.verificationHelp').said).toEqual(['unbind.verificationLater', `unbind.step${number}`]);
    });

    it('asking for a human hands off with the step reached', () => {
      const conversation = atStep(number);
      const result = conversation.send('user.human');
      expect(result.said).toEqual(['handoff.created']);
      expect(result.handoff).toEqual({ reason: 'user_request', step: number });
      expect(conversation.state).toBe('handedOff');
    });
  });

  describe('at step 7 (verification, then confirming)', () => {
    it('back from the method question returns to step 6', () => {
      const conversation = atVerification();
      expect(conversation.send('user.back').said).toEqual(['unbind.step6']);
    });

    it.each(faqTopics)('a question about %s mid-verification resumes the verification question', (topic) => {
      const conversation = atVerification();
      expect(conversation.send({ type: 'user.ask', topics: [topic] }).said).toEqual([`faq.${topic}`, 'verify.askMethod']);
      expect(conversation.state).toBe('unbinding.confirmUnbind.verifying.choosingMethod');
    });

    it('cancel and restart work inside the verification too', () => {
      const cancelled = atVerification();
      expect(cancelled.send('user.cancel').said).toEqual(['unbind.cancelled']);
      const restarted = atVerification();
      expect(restarted.send('user.restart').said).toEqual(['unbind.restarted', 'unbind.step1']);
    });

    it('at the confirmation, repeat, back, step help and a digression behave like any step', () => {
      const conversation = atVerification();
      conversation.send({ type: 'user.chooseMethod', method: 'biometric' });
      conversation.send('user.affirm');
      expect(conversation.state).toBe('unbinding.confirmUnbind.confirming');
      expect(conversation.send('user.repeat').said).toEqual(['unbind.confirm']);
      expect(conversation.send('user.stepHelp').said).toEqual(['unbind.help.step7']);
      expect(conversation.send({ type: 'user.ask', topics: ['rebind'] }).said).toEqual(['faq.rebind', 'unbind.resume', 'unbind.confirm']);
      expect(conversation.send('user.back').said).toEqual(['unbind.step6']);
    });
  });
});
