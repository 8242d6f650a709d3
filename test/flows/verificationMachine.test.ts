import { describe, expect, it } from 'vitest';
import { atVerification, FlowConversation } from '../support/flowDriver.js';

describe('verificationMachine: security verification while unbinding', () => {
  it.each([
    ['sms', 'verify.guide.sms'],
    ['biometric', 'verify.guide.biometric'],
    ['securityQuestion', 'verify.guide.securityQuestion'],
  ] as const)('guides the %s method and continues to the confirmation when it passes', (method, guide) => {
    const conversation = atVerification();
    expect(conversation.send({ type: 'user.chooseMethod', method }).said).toEqual([guide]);
    expect(conversation.send('user.affirm').said).toEqual(['verify.passed', 'unbind.confirm']);
  });

  it('SMS failure walks the article: signal, then phone number, then offers a human', () => {
    const conversation = atVerification();
    conversation.send({ type: 'user.chooseMethod', method: 'sms' });
    expect(conversation.send('user.deny').said).toEqual(['verify.tip.signal']);
    expect(conversation.send('user.deny').said).toEqual(['verify.tip.phoneNumber']);
    expect(conversation.send('user.deny').said).toEqual(['verify.offerHuman']);
    const handoff = conversation.send('user.human');
    expect(handoff.said).toEqual(['handoff.created']);
    expect(handoff.handoff).toEqual({ reason: 'verification_failed', step: 7 });
  });

  it('biometric failure suggests restarting the device, then another method', () => {
    const conversation = atVerification();
    conversation.send({ type: 'user.chooseMethod', method: 'biometric' });
    expect(conversation.send('user.deny').said).toEqual(['verify.tip.restart']);
    expect(conversation.send('user.deny').said).toEqual(['verify.tip.otherMethod']);
    // Switching method from the tip starts that method's guidance.
    expect(conversation.send({ type: 'user.chooseMethod', method: 'sms' }).said).toEqual(['verify.guide.sms']);
  });

  it('a tip that works ends the troubleshooting with success', () => {
    const conversation = atVerification();
    conversation.send({ type: 'user.chooseMethod', method: 'securityQuestion' });
    expect(conversation.send('user.deny').said).toEqual(['verify.tip.checkAnswer']);
    expect(conversation.send('user.affirm').said).toEqual(['verify.passed', 'unbind.confirm']);
  });

  it('after the offer of a human: "再试一次" retries, "不用了" keeps the user in the verification, "好的" hands off', () => {
    const retry = atVerification();
    retry.sendAll({ type: 'user.chooseMethod', method: 'sms' }, 'user.deny', 'user.deny', 'user.deny');
    expect(retry.send('user.repeat').said).toEqual(['verify.guide.sms']);
    retry.sendAll('user.deny', 'user.deny', 'user.deny');
    expect(retry.send('user.deny').said).toEqual(['verify.declinedHuman', 'verify.askMethod']);
    expect(retry.state).toBe('unbinding.confirmUnbind.verifying.choosingMethod');
    const accept = atVerification();
    accept.sendAll({ type: 'user.chooseMethod', method: 'sms' }, 'user.deny', 'user.deny', 'user.deny');
    expect(accept.send('user.affirm').handoff).toEqual({ reason: 'verification_failed', step: 7 });
  });

  it('"换一种验证方式" asks for the method again; "收不到短信验证码" outside the flow starts troubleshooting', () => {
    const conversation = atVerification();
    conversation.send({ type: 'user.chooseMethod', method: 'sms' });
    expect(conversation.send('user.switchMethod').said).toEqual(['verify.askMethod']);
    const standalone = new FlowConversation();
    expect(standalone.send({ type: 'user.verificationHelp', method: 'sms' }).said).toEqual(['verify.tip.signal']);
    expect(standalone.state).toBe('verifying.troubleshooting');
  });

  it('"收不到验证码" while being guided is treated as a failure report', () => {
    const conversation = atVerification();
    conversation.send({ type: 'user.chooseMethod', method: 'sms' });
    expect(conversation.send('user.verificationHelp').said).toEqual(['verify.tip.signal']);
  });

  it('is reachable outside the flow: a verification question starts it directly', () => {
    const conversation = new FlowConversation();
    expect(conversation.send('user.verificationHelp').said).toEqual(['verify.askMethod']);
    expect(conversation.state).toBe('verifying.choosingMethod');
    conversation.send({ type: 'user.chooseMethod', method: 'biometric' });
    expect(conversation.send('user.affirm').said).toEqual(['verify.passed', 'verify.standalonePassed']);
    expect(conversation.state).toBe('idle');
  });

  it('a question naming the method skips the method question', () => {
    const conversation = new FlowConversation();
    expect(conversation.send({ type: 'user.chooseMethod', method: 'sms' }).said).toEqual(['verify.guide.sms']);
    expect(conversation.state).toBe('verifying.guidingMethod');
  });

  it('repeat and an FAQ digression re-ask the current verification question', () => {
    const conversation = atVerification();
    conversation.send({ type: 'user.chooseMethod', method: 'sms' });
    conversation.send('user.deny');
    expect(conversation.send('user.repeat').said).toEqual(['verify.tip.signal']);
    expect(conversation.send({ type: 'user.ask', topics: ['records_after_unbind'] }).said).toEqual(['faq.records_after_unbind', 'verify.tip.signal']);
  });
});
