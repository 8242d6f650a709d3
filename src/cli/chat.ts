/**
 * npm run chat: talk to the bot in a terminal. Quick replies are numbered; type the number to pick one.
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { isContentError, loadContent } from '../content/loadContent.js';
import { MemoryConversationStore } from '../dialogue/conversationStore.js';
import { DialogueEngine, isDialogueInputError } from '../dialogue/dialogueEngine.js';
import type { Reply } from '../dialogue/replyRenderer.js';
import type { Progress } from '../dialogue/unbindingProgress.js';

const content = (() => {
  try {
    return loadContent();
  } catch (error) {
    if (!isContentError(error)) throw error;
    // A content mistake is the editor's to fix: say where, without a stack trace.
    console.error(`chat: ${error.message}`);
    process.exit(2);
  }
})();
const engine = new DialogueEngine({
  content,
  store: new MemoryConversationStore(),
  logger: { warn: () => undefined },
});
const conversationId = randomUUID();
let choices: Reply['quickReplies'] = [];
/** Interface labels live with the other texts in intents/responses/ui.yml. */
const label = (key: string, params?: Record<string, number>) =>
  (content.responses.get(key)?.text ?? key).replace(/\{(\w+)\}/g, (whole, name: string) => String(params?.[name] ?? whole));
const botName = label('ui.botName');

function show(replies: Reply[], progress?: Progress): void {
  // The step to do; the turn that ends the unbinding says how it ended in its replies.
  if (progress?.status === 'active') console.log(`\x1b[2m── ${label('ui.progress', { step: progress.step, total: progress.total })} ──\x1b[0m`);
  for (const reply of replies) console.log(`\x1b[36m${botName}\x1b[0m  ${reply.text.replace(/\n/g, '\n        ')}`);
  // Only the last reply's quick replies are live, as in the web widget.
  choices = replies.at(-1)?.quickReplies ?? [];
  choices.forEach((choice, index) => console.log(`  \x1b[33m${index + 1}\x1b[0m ${choice.title}`));
}

const terminal = createInterface({ input: process.stdin, output: process.stdout, prompt: `\n\x1b[32m${label('ui.userName')}\x1b[0m  ` });
console.log(`${label('ui.title')}\n`);
show(engine.welcome());
terminal.prompt();
// Reading lines as a stream (not question()) also works when a script pipes the whole chat in.
for await (const raw of terminal) {
  const line = raw.trim();
  if (!process.stdin.isTTY) console.log(line);
  if (!line) {
    terminal.prompt();
    continue;
  }
  const picked = /^\d+$/.test(line) ? choices?.[Number(line) - 1] : undefined;
  try {
    const result = await engine.handleMessage(conversationId, picked ? picked.payload : line);
    show(result.replies, result.progress);
  } catch (error) {
    if (!isDialogueInputError(error)) throw error;
    console.log(`\x1b[31m${error.message}\x1b[0m`);
  }
  terminal.prompt();
}
