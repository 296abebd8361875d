import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DaemonEvent } from './events.js';
import { holdOptimizingCompiler, optimizingCompilerHeld, releaseOptimizingCompiler, StartupTiering } from './tiering.js';

const state = (s: 'idle' | 'ringing' | 'initializing'): DaemonEvent => ({ type: 'line-state', line: 'ttyS0', state: s, at: 0 });

test('StartupTiering: releases once, at the first RING, not while lines start or idle', () => {
  let released = 0;
  const t = new StartupTiering(() => released++);
  t.emit(state('initializing'));
  t.emit(state('idle'));
  t.emit({ type: 'call-end', line: 'ttyS0', callId: 'c0', at: 0, outcome: 'completed' });
  assert.equal(released, 0);
  t.emit(state('ringing'));
  t.emit(state('ringing'));
  t.emit({ type: 'call-start', line: 'ttyS1', callId: 'c1', at: 0 });
  assert.equal(released, 1);
});

test('StartupTiering: a call-start alone releases too; done() after that does nothing', () => {
  let released = 0;
  const t = new StartupTiering(() => released++);
  t.emit({ type: 'call-start', line: 'ttyS0', callId: 'c1', at: 0 });
  t.done();
  assert.equal(released, 1);
});

test('holdOptimizingCompiler: leaves the tiers alone when the user gave node a tier flag', () => {
  for (const flag of ['--no-opt', '--max-opt=2', '--turbofan', '--no-turbofan', '--jitless', '--max_opt=1']) {
    assert.equal(holdOptimizingCompiler([flag]), false, flag);
    assert.equal(optimizingCompilerHeld(), false, flag);
  }
  assert.equal(releaseOptimizingCompiler(), false, 'nothing held: nothing to release');
});

test('holdOptimizingCompiler: holds once, release turns it back on once', () => {
  assert.equal(holdOptimizingCompiler(['--max-semi-space-size=1']), true);
  assert.equal(holdOptimizingCompiler(['--max-semi-space-size=1']), false, 'already held');
  assert.equal(optimizingCompilerHeld(), true);
  assert.equal(releaseOptimizingCompiler(), true);
  assert.equal(releaseOptimizingCompiler(), false);
  assert.equal(optimizingCompilerHeld(), false);
});
