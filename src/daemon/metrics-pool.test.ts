import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics } from './metrics.js';

test('in a pool every series has the host label, and the rows waiting for the shared database are a gauge', async () => {
  let waiting = 3;
  const m = new Metrics({ host: 'pi2', recordsWaiting: () => waiting });
  m.addLine('ttyS0');
  m.emit({ type: 'call-end', line: 'ttyS0', callId: 'a', at: 1, outcome: 'completed' });
  let text = await m.text();
  assert.match(text, /^tgetty_calls_total\{line="ttyS0",outcome="completed",host="pi2"\} 1$/m);
  assert.match(text, /^tgetty_sessions_active\{host="pi2"\} 0$/m);
  assert.match(text, /^tgetty_records_waiting_calls\{host="pi2"\} 3$/m);
  waiting = 0;
  text = await m.text();
  assert.match(text, /^tgetty_records_waiting_calls\{host="pi2"\} 0$/m);
  assert.ok(text.split('\n').filter((l) => /^tgetty_/.test(l)).every((l) => l.includes('host="pi2"')), 'no series without the label');
});

test('without a pool nothing changes: no host label, no waiting gauge', async () => {
  const m = new Metrics();
  m.addLine('ttyS0');
  const text = await m.text();
  assert.doesNotMatch(text, /host=/);
  assert.doesNotMatch(text, /tgetty_records_waiting_calls/);
});

test('contrib: the Grafana dashboard and the scrape config use only series tgetty exports, with the host label', async () => {
  const { readFileSync } = await import('node:fs');
  const root = new URL('../../../', import.meta.url);
  const dash = JSON.parse(readFileSync(new URL('contrib/grafana/tgetty-pool.json', root), 'utf8')) as { panels: { targets: { expr: string }[] }[]; templating: { list: { name: string }[] } };
  const m = new Metrics({ host: 'h', recordsWaiting: () => 0 });
  m.addLine('ttyS0');
  const exported = new Set((await m.text()).split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]));
  const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
  assert.ok(exprs.length >= 10);
  for (const e of exprs) {
    const names = [...e.matchAll(/\b(tgetty_[a-z_]+?)(?:_bucket)?\b(?=[{[ )]|$)/g)].map((x) => x[1]);
    assert.ok(names.length > 0, e);
    for (const n of names) assert.ok(exported.has(n), `${n} (in ${e}) is exported`);
    assert.match(e, /host=~"\$host"/, `filtered by the host variable: ${e}`);
  }
  assert.ok(dash.templating.list.some((v) => v.name === 'host'));
  const scrape = readFileSync(new URL('contrib/prometheus/tgetty-pool.yml', root), 'utf8');
  assert.match(scrape, /job_name: tgetty/);
  assert.match(scrape, /honor_labels: true/);
});
