import { test } from 'node:test';
import assert from 'node:assert/strict';
import { END_KINDS } from '../session/machine.js';
import { CALL_OUTCOMES, type CallOutcome } from './events.js';
import { lineEffectOf, outcomeOf, type LineEffect, type LineEndKind } from './line-supervisor.js';

/** What each way a line can end means for the call record and for the line. */
const EXPECTED: Record<LineEndKind, { outcome: CallOutcome; effect: LineEffect }> = {
  reload: { outcome: 'failed', effect: 'reload' },
  signal: { outcome: 'hangup', effect: 'line-error' },
  hangup: { outcome: 'hangup', effect: 'line-error' },
  'open-failed': { outcome: 'failed', effect: 'line-error' },
  'init-failed': { outcome: 'failed', effect: 'init-failed' },
  'modem-dead': { outcome: 'failed', effect: 'line-error' },
  'answer-timeout': { outcome: 'timeout', effect: 'line-error' },
  'answer-failed': { outcome: 'no-carrier', effect: 'line-error' },
  fax: { outcome: 'failed', effect: 'none' },
  junk: { outcome: 'failed', effect: 'none' },
  'modem-said': { outcome: 'failed', effect: 'line-error' },
  nologin: { outcome: 'refused', effect: 'line-error' },
  'internal-error': { outcome: 'failed', effect: 'line-error' },
};

test('every end kind maps to a call outcome and a line effect', () => {
  const kinds: LineEndKind[] = [...END_KINDS, 'internal-error'];
  assert.deepEqual(new Set(Object.keys(EXPECTED)), new Set(kinds), 'the expectations cover exactly the kinds the machine has');
  for (const endKind of kinds) {
    assert.deepEqual({ outcome: outcomeOf({ endKind }), effect: lineEffectOf({ endKind }) }, EXPECTED[endKind], endKind);
    assert.ok(CALL_OUTCOMES.includes(outcomeOf({ endKind })));
  }
});

test('the mapping reads the kind, not the log text', () => {
  // The texts that the old regexes keyed on, put where they would have misled them.
  const misleading = [
    { kind: 'init-failed', exitCode: 1, reason: 'answer failed (timeout) after signal' },
    { kind: 'answer-failed', exitCode: 1, reason: 'modem initialisation failed' },
    { kind: 'reload', exitCode: 0, reason: 'signal SIGUSR2' },
    { kind: 'signal', exitCode: 10, reason: 'SIGUSR2' },
  ] as const;
  for (const m of misleading) {
    const result = { kind: 'ended' as const, exitCode: m.exitCode, reason: m.reason, keepLock: false, endKind: m.kind };
    assert.equal(outcomeOf(result), EXPECTED[m.kind].outcome, m.kind);
    assert.equal(lineEffectOf(result), EXPECTED[m.kind].effect, m.kind);
  }
});
