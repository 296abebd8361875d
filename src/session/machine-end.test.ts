import { test } from 'node:test';
import assert from 'node:assert/strict';
import { END_KINDS, initial, transition, type EndKind, type LineInput, type LineSnapshot, type LineState, type MachineConfig } from './machine.js';
import { SAMPLE_INPUTS, sampleConfigs } from './diagram.js';
import { BASE_MACHINE_CONFIG } from '../../test/helpers/machine-config.js';

const base: MachineConfig = BASE_MACHINE_CONFIG;

type Ended = Extract<LineState, { name: 'ended' }>;

function endOf(inputs: LineInput[], cfg: Partial<MachineConfig> = {}, now: LineSnapshot = { nologin: false }): Ended {
  const c = { ...base, ...cfg };
  let state = initial().state;
  for (const i of inputs) state = transition(state, i, c, now).state;
  assert.equal(state.name, 'ended', `did not end: ${JSON.stringify(state)}`);
  return state;
}

const toIdle: LineInput[] = [{ type: 'opened' }, { type: 'chat-ok' }, { type: 'quiet-done' }];
const toRinging: LineInput[] = [...toIdle, { type: 'activity' }, { type: 'lock-free' }];
const toAnswering: LineInput[] = [...toRinging, { type: 'ring', distRing: 0 }, { type: 'screened', allowed: true, why: '' }];
const twoFailedProbes: LineInput[] = [...toIdle, { type: 'check-due' }, { type: 'lock-free' }, { type: 'chat-failed', reason: 'timeout' }, { type: 'chat-failed', reason: 'timeout' }];
const nologin: LineSnapshot = { nologin: true };

/** Every end(...) call site of machine.ts, with the kind, exit code and lock it must give. */
const TABLE: { name: string; inputs: LineInput[]; cfg?: Partial<MachineConfig>; now?: LineSnapshot; kind: EndKind; exitCode: number; keepLock: boolean }[] = [
  { name: 'SIGUSR2 while idle', inputs: [...toIdle, { type: 'signal', signal: 'SIGUSR2' }], kind: 'reload', exitCode: 0, keepLock: false },
  { name: 'SIGTERM while ringing', inputs: [...toRinging, { type: 'signal', signal: 'SIGTERM' }], kind: 'signal', exitCode: 10, keepLock: false },
  { name: 'SIGHUP while answering', inputs: [...toAnswering, { type: 'signal', signal: 'SIGHUP' }], kind: 'signal', exitCode: 10, keepLock: false },
  { name: 'SIGQUIT during init', inputs: [{ type: 'opened' }, { type: 'signal', signal: 'SIGQUIT' }], kind: 'signal', exitCode: 10, keepLock: false },
  { name: 'open failed', inputs: [{ type: 'open-failed', message: 'ENOENT' }], kind: 'open-failed', exitCode: 30, keepLock: false },
  {
    name: 'modem line while refusing calls',
    inputs: [...toRinging, { type: 'ring', distRing: 0 }, { type: 'modem-line', action: 'NO CARRIER', line: 'NO CARRIER' }],
    now: nologin,
    kind: 'modem-said',
    exitCode: 20,
    keepLock: true,
  },
  {
    name: 'nologin refusal sent',
    inputs: [...toRinging, { type: 'modem-line', action: 'CONNECT', line: 'CONNECT 2400' }, { type: 'chat-ok' }],
    now: nologin,
    kind: 'nologin',
    exitCode: 20,
    keepLock: true,
  },
  {
    name: 'caller hangs up during the nologin refusal',
    inputs: [...toRinging, { type: 'modem-line', action: 'CONNECT', line: 'CONNECT 2400' }, { type: 'hangup' }],
    now: nologin,
    kind: 'nologin',
    exitCode: 20,
    keepLock: true,
  },
  { name: 'answer: fax', inputs: [...toAnswering, { type: 'chat-failed', reason: 'abort', action: 'FAX', fax: true }], kind: 'fax', exitCode: 0, keepLock: false },
  { name: 'answer: NO CARRIER', inputs: [...toAnswering, { type: 'chat-failed', reason: 'abort', action: 'NO CARRIER' }], kind: 'answer-failed', exitCode: 1, keepLock: false },
  { name: 'answer: error', inputs: [...toAnswering, { type: 'chat-failed', reason: 'error' }], kind: 'answer-failed', exitCode: 1, keepLock: false },
  { name: 'answer: time-out', inputs: [...toAnswering, { type: 'chat-failed', reason: 'timeout' }], kind: 'answer-timeout', exitCode: 1, keepLock: false },
  { name: 'hangup while answering', inputs: [...toAnswering, { type: 'hangup' }], kind: 'hangup', exitCode: 10, keepLock: false },
  { name: 'activity without RING', inputs: [...toRinging, { type: 'ring-timeout' }], kind: 'junk', exitCode: 0, keepLock: false },
  { name: 'FAX while counting RINGs', inputs: [...toRinging, { type: 'modem-line', action: 'FAX', line: 'FAX' }], kind: 'fax', exitCode: 0, keepLock: false },
  { name: 'BUSY while counting RINGs', inputs: [...toRinging, { type: 'modem-line', action: 'BUSY', line: 'BUSY' }], kind: 'modem-said', exitCode: 20, keepLock: true },
  { name: 'idle check recovery fails', inputs: [...twoFailedProbes, { type: 'chat-failed', reason: 'timeout' }], kind: 'modem-dead', exitCode: 30, keepLock: true },
  {
    name: 'idle check recovery fails (no force-init)',
    inputs: [...twoFailedProbes, { type: 'chat-failed', reason: 'abort', action: 'ERROR' }],
    cfg: { forceInitChat: false },
    kind: 'modem-dead',
    exitCode: 30,
    keepLock: true,
  },
  { name: 'init ERROR at start-up', inputs: [{ type: 'opened' }, { type: 'chat-failed', reason: 'abort', action: 'ERROR' }], kind: 'init-failed', exitCode: 1, keepLock: false },
  {
    name: 'init time-out twice at start-up',
    inputs: [{ type: 'opened' }, { type: 'chat-failed', reason: 'timeout' }, { type: 'chat-ok' }, { type: 'chat-failed', reason: 'timeout' }],
    kind: 'init-failed',
    exitCode: 1,
    keepLock: false,
  },
  { name: 'hangup while counting RINGs', inputs: [...toRinging, { type: 'hangup' }], kind: 'hangup', exitCode: 10, keepLock: false },
  { name: 'hangup during init', inputs: [{ type: 'opened' }, { type: 'hangup' }], kind: 'hangup', exitCode: 10, keepLock: false },
];

for (const row of TABLE) {
  test(`end kind: ${row.name} -> ${row.kind}`, () => {
    const s = endOf(row.inputs, row.cfg, row.now);
    assert.deepEqual({ kind: s.kind, exitCode: s.exitCode, keepLock: s.keepLock }, { kind: row.kind, exitCode: row.exitCode, keepLock: row.keepLock });
  });
}

test('end kinds: the table reaches every kind', () => {
  assert.deepEqual(new Set(TABLE.map((r) => r.kind)), new Set(END_KINDS));
});

test('end kinds: every ended state the machine can reach has a known kind, and each kind one exit code', () => {
  // Same exploration as the state diagram (diagram.ts), but keeping the ended states themselves.
  const exitOf = new Map<EndKind, Set<number>>();
  for (const staticCfg of sampleConfigs()) {
    const start = initial().state;
    const seen = new Set<string>([JSON.stringify(start)]);
    const queue: LineState[] = [start];
    while (queue.length > 0) {
      const from = queue.shift() as LineState;
      if (from.name === 'ended' || from.name === 'connected') continue;
      for (const present of [false, true]) {
        for (const input of SAMPLE_INPUTS) {
          const to = transition(from, input, staticCfg, { nologin: present }).state;
          if (to.name === 'ended') {
            assert.ok(END_KINDS.includes(to.kind), `unknown kind ${to.kind}`);
            let codes = exitOf.get(to.kind);
            if (codes === undefined) exitOf.set(to.kind, (codes = new Set()));
            codes.add(to.exitCode);
          }
          const id = JSON.stringify(to);
          // Ring counts grow without bound in some loops; a few are enough to reach every end.
          if (!seen.has(id) && !('rings' in to && to.rings > 4)) {
            seen.add(id);
            queue.push(to);
          }
        }
      }
    }
  }
  assert.deepEqual(new Set(exitOf.keys()), new Set(END_KINDS), 'every kind is reachable');
  for (const [kind, codes] of exitOf) assert.equal(codes.size, 1, `${kind} ends with more than one exit code: ${[...codes].join(', ')}`);
});
