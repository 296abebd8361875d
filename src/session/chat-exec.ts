/**
 * The chat executor: runs one of the line's chat scripts (init, answer, ...) on the line
 * for the runner's `chat` command and turns the end into chat-ok / chat-failed. Lines
 * seen on the way feed the caller data (CONNECT, caller ID).
 */
import { showBytes } from '../core/bytes.js';
import { ChatScript, INIT_ABORTS, ANSWER_ABORTS, type ChatAction, type ChatUpdate } from '../chat/script.js';
import { SEND_PRE_DELAY_MS } from '../chat/send.js';
import { applyCallerIdLine } from '../modem/callerid.js';
import type { Cancel } from './cancel.js';
import { consume, sleep, type LineIo } from './line-io.js';
import type { ChatName, LineInput } from './machine.js';
import type { LineSettings } from './settings.js';

interface ChatSpec {
  elements: readonly string[];
  timeoutMs: number;
  aborts: typeof INIT_ABORTS;
}

function chatSpec(s: LineSettings, name: ChatName): ChatSpec | undefined {
  switch (name) {
    case 'init':
      return { elements: s.initChat, timeoutMs: 20_000, aborts: INIT_ABORTS };
    case 'force-init':
      return s.forceInitChat === undefined ? undefined : { elements: s.forceInitChat, timeoutMs: 20_000, aborts: INIT_ABORTS };
    case 'statistics':
      return s.statisticsChat === undefined ? undefined : { elements: s.statisticsChat, timeoutMs: 10_000, aborts: [] };
    case 'post-init':
      return s.postInitChat === undefined ? undefined : { elements: s.postInitChat, timeoutMs: 10_000, aborts: [] };
    case 'get-cnd':
      return s.getCndChat === undefined ? undefined : { elements: s.getCndChat, timeoutMs: 10_000, aborts: [] };
    case 'answer':
      return { elements: s.answerChat, timeoutMs: s.answerChatTimeoutMs, aborts: ANSWER_ABORTS };
    default: {
      const never: never = name;
      return never;
    }
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type SendStep = Extract<ChatUpdate<ChatAction>['step'], { kind: 'send' }>;

/**
 * Perform a send step. `first`: the answer chat's first send, whose 50 ms pre-delay is
 * dropped; `onFirstByte` is called once its first bytes are written (RING -> ATA).
 */
async function send(io: LineIo, name: ChatName, step: SendStep, first: boolean, signal: Cancel, onFirstByte: (() => void) | undefined): Promise<void> {
  const line = io.requireLine();
  for (const d of step.diagnostics) io.log.warn(`${name} chat: ${d.message}`);
  let text = '';
  // mgetty pauses 50 ms before every send; right after a RING that only delays the
  // answer, so the answer chat's first send (ATA) goes out at once (RING -> ATA < 5 ms).
  const ops = first && step.ops[0]?.kind === 'delay' && step.ops[0].ms === SEND_PRE_DELAY_MS ? step.ops.slice(1) : step.ops;
  for (const op of ops) {
    if (op.kind === 'delay') await sleep(io, op.ms, signal);
    else {
      await line.write(op.data);
      const answerByte = name === 'answer' && text === '';
      text += Buffer.from(op.data).toString('latin1');
      if (answerByte) {
        onFirstByte?.();
        // The rest of this call (its log line, the expect and its timer) waits for the
        // loop's next turn: when many lines ring at once their RINGs, read in the same
        // turn, each get their ATA out first instead of after this line's bookkeeping.
        await nextTurn();
      }
    }
  }
  io.log.mesg(`send: ${showBytes(text)}`);
}

/** Run a chat script on the line. `onAnswerByte`: the answer chat wrote its first bytes. */
export async function runChat(io: LineIo, name: ChatName, signal: Cancel, onAnswerByte?: () => void): Promise<LineInput> {
  const spec = chatSpec(io.s, name);
  if (spec === undefined) return { type: 'chat-ok' };
  io.requireLine();
  const script = new ChatScript<ChatAction>(spec.elements, { aborts: spec.aborts, timeoutMs: spec.timeoutMs });
  const statsLines: string[] = [];
  const onLines = (lines: readonly { text: string }[]): void => {
    for (const l of lines) {
      if (name === 'statistics') statsLines.push(l.text);
      applyCallerIdLine(io.call, l.text);
    }
  };
  let up = script.start();
  let answerStarted = false;
  for (;;) {
    onLines(up.lines);
    for (const f of up.found) io.log.mesg(`waiting for '${showBytes(f)}' ** found **`);
    const step = up.step;
    if (step.kind === 'done') {
      io.input.unshift(script.leftover());
      for (const l of statsLines) if (l !== '') io.log.mesg(`*** ${l}`);
      return { type: 'chat-ok', connect: io.call.connect };
    }
    if (step.kind === 'failed') {
      io.input.unshift(script.leftover());
      if (step.reason === 'timeout') io.log.warn(`${name} chat: timeout waiting for '${showBytes(step.expect)}'`);
      else io.log.warn(`${name} chat: got '${step.abortText ?? ''}' waiting for '${showBytes(step.expect)}'`);
      return {
        type: 'chat-failed',
        reason: step.reason,
        ...(step.abortText !== undefined ? { action: step.abortText.trim() } : {}),
        ...(step.action === 'fax' ? { fax: true } : {}),
      };
    }
    if (step.kind === 'send') {
      await send(io, name, step, name === 'answer' && !answerStarted, signal, onAnswerByte);
      answerStarted = true;
      up = script.sent();
      continue;
    }
    // expect: feed input until the step changes, or time out.
    const expectStep = step;
    up = await consume(
      io,
      signal,
      expectStep.timeoutMs,
      (chunk) => {
        const u = script.feed(chunk);
        return u.step !== expectStep ? u : (onLines(u.lines), undefined);
      },
      () => script.timeout(),
    );
  }
}
