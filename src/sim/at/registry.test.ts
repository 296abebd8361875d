// The plug-in point: a handler set registered on the modem adds commands, overrides or
// passes on built-in ones, and goes away again; behaviours see whole lines first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock.js';
import { HayesModem, type HandlerSet } from '../modem.js';
import { lexAt } from './lexer.js';

function modem(commands: HandlerSet[] = []) {
  const clock = new FakeClock();
  const out: Buffer[] = [];
  const m = new HayesModem({ clock, output: (b) => out.push(Buffer.from(b)), commands });
  const say = (s: string): string => {
    out.length = 0;
    m.onDteBytes(Buffer.from(`AT${s}\r`, 'latin1'));
    return Buffer.concat(out).toString('latin1').replace(`AT${s}\r`, '');
  };
  return { m, clock, say };
}

test('a custom handler set adds a command family with its own state, info text and errors', () => {
  let speed = 2400;
  const dialOut: HandlerSet = {
    '+ZSPD': (c, ctx) => {
      if (c.op === 'read') ctx.info(String(speed));
      else if (c.op === 'set' && /^[0-9]+$/.test(c.arg)) speed = Number(c.arg);
      else return 'error';
      return 'ok';
    },
  };
  const { say } = modem([dialOut]);
  assert.equal(say('+ZSPD?'), '\r\n2400\r\n\r\nOK\r\n');
  assert.equal(say('+ZSPD=33600;+ZSPD?'), '\r\n33600\r\n\r\nOK\r\n');
  assert.equal(say('+ZSPD=fast'), '\r\nERROR\r\n');
  // Without the set the command is unknown.
  assert.equal(modem().say('+ZSPD?'), '\r\nERROR\r\n');
});

test('a set registered later takes precedence; next passes on; dispose restores the built-in', () => {
  const { m, say } = modem();
  assert.equal(say('I3'), '\r\nV.92 Data Modem (tgetty sim)\r\n\r\nOK\r\n');
  const seen: string[] = [];
  const reg = m.registerCommands({
    I: (c, ctx) => {
      seen.push(`I${c.num ?? 0}`);
      if (c.num !== 9) return 'next';
      ctx.info('custom');
      return 'ok';
    },
  });
  assert.equal(say('I9'), '\r\ncustom\r\n\r\nOK\r\n');
  assert.equal(say('I3'), '\r\nV.92 Data Modem (tgetty sim)\r\n\r\nOK\r\n', 'next: the built-in ATI answers');
  assert.deepEqual(seen, ['I9', 'I3']);
  reg.dispose();
  assert.equal(say('I9'), '\r\nERROR\r\n');
});

test('a prefix handler catches a family; an exact name beats it', () => {
  const names: string[] = [];
  const { say } = modem([{ '+Q': (c) => (names.push(c.name), 'ok'), '+QX': () => 'error' }]);
  assert.equal(say('+QA=1;+QBC?'), '\r\nOK\r\n');
  assert.equal(say('+QX'), '\r\nERROR\r\n');
  assert.deepEqual(names, ['+QA', '+QBC']);
});

test('a handler can make a call: connectNow gives CONNECT and data mode; done ends the line', () => {
  const got: string[] = [];
  const { m, say } = modem([{
    D: (c, ctx) => {
      if (!c.arg.includes(':')) return 'next';
      ctx.calls.connectNow('9600', { connected: () => undefined, data: (b) => got.push(Buffer.from(b).toString()), ended: (r) => got.push(`end ${r}`) });
      return 'done';
    },
  }]);
  assert.equal(say('DThost:23'), '\r\nCONNECT 9600\r\n');
  assert.equal(m.state, 'connected');
  assert.equal(m.currentMode, 'data');
  m.onDteBytes(Buffer.from('hello'));
  assert.deepEqual(got, ['hello']);
  m.dtrDrop();
  assert.equal(m.state, 'idle');
  assert.deepEqual(got, ['hello', 'end hangup']);
  assert.equal(say('D'), '\r\nNO DIALTONE\r\n', 'next: no network, the built-in dialler answers');
});

test('a behaviour sees the whole line first and may answer it itself', () => {
  const { m, say } = modem();
  const lines: string[] = [];
  const b = m.addBehaviour((line, ctx) => {
    lines.push(line);
    if (line !== 'A') return false;
    ctx.result('NO CARRIER');
    return true;
  });
  assert.equal(say('A'), '\r\nNO CARRIER\r\n');
  assert.equal(say('E1'), '\r\nOK\r\n');
  assert.deepEqual(lines, ['A', 'E1']);
  b.dispose();
  assert.equal(say('A'), '', 'the built-in ATA waits for a carrier');
});

test('the lexer knows shapes, not meanings', () => {
  assert.deepEqual(lexAt('E0 S7=45S0? &C1 +FCLASS=2.0;#CID=?D 555 1234').map((t) => ('op' in t ? [t.name, t.op, t.num, t.arg, t.value] : [t.name])), [
    ['E', 'exec', 0, '', 0],
    ['S', 'set', 7, '', 45],
    ['S', 'read', 0, '', 0],
    ['&C', 'exec', 1, '', 0],
    ['+FCLASS', 'set', undefined, '2.0', 0],
    ['#CID', 'test', undefined, '', 0],
    ['D', 'exec', undefined, '5551234', 0],
  ]);
  assert.deepEqual(lexAt('E0S!V1').map((t) => t.name), ['E', 'error']);
});
