/**
 * The web status page: one HTML file, one stylesheet, one script, all served by tgetty
 * (no CDN, no framework, no build step). The script opens /events (server-sent events)
 * and redraws from each PoolView it gets; the charts are inline SVG built in the page.
 * Every value from a line, a caller or a peer goes in with textContent, never as markup.
 */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tgetty status</title>
<link rel="stylesheet" href="/app.css">
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<script src="/app.js" defer></script>
</head>
<body>
<header><h1>tgetty</h1><span id="conn" class="conn down">connecting</span><span id="clock"></span></header>
<main id="pool"><p class="empty">waiting for the first status&hellip;</p></main>
<footer>read-only; updates live (server-sent events)</footer>
</body>
</html>
`;

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1d2433"/><path d="M3 11h2V7h2v4h2V5h2v6h2" stroke="#60a5fa" stroke-width="1.5" fill="none"/></svg>
`;

export const PAGE_CSS = `
:root { --fg: #1d2433; --muted: #6b7280; --bg: #f7f7f5; --card: #fff; --line: #e5e7eb; --ok: #15803d; --warn: #b45309; --bad: #b91c1c; --accent: #1d4ed8; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: baseline; gap: 1em; padding: .6em 1.2em; background: var(--fg); color: #fff; }
header h1 { margin: 0; font-size: 1.2em; }
#clock { margin-left: auto; color: #cbd5e1; font-variant-numeric: tabular-nums; }
.conn { font-size: .85em; padding: .1em .6em; border-radius: 1em; }
.conn.up { background: var(--ok); } .conn.down { background: var(--bad); }
main { padding: 1em 1.2em; display: grid; gap: 1.2em; }
footer { padding: .5em 1.2em 1.5em; color: var(--muted); font-size: .85em; }
section.host { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .8em 1em; }
section.host.unreachable { border-color: var(--bad); }
section.host h2 { margin: 0 0 .4em; font-size: 1.1em; display: flex; gap: .8em; align-items: baseline; }
.meta { color: var(--muted); font-size: .85em; font-weight: normal; }
.err { color: var(--bad); }
table { border-collapse: collapse; width: 100%; margin: .3em 0 .8em; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: .25em .6em .25em 0; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: top; }
td.error, td.state { white-space: normal; overflow-wrap: anywhere; }
td.state span { display: inline-block; }
th { color: var(--muted); font-weight: 600; font-size: .8em; text-transform: uppercase; }
td.state span { padding: .05em .5em; border-radius: .8em; background: #e5e7eb; }
tr[data-state="idle"] td.state span { background: #dcfce7; color: var(--ok); }
tr[data-state="ringing"] td.state span, tr[data-state="answering"] td.state span, tr[data-state="login"] td.state span { background: #dbeafe; color: var(--accent); }
tr[data-state="in-session"] td.state span { background: #1d4ed8; color: #fff; }
tr[data-state="error"] td.state span, tr[data-state="resting"] td.state span { background: #fee2e2; color: var(--bad); }
tr[data-state="starting"] td.state span, tr[data-state="initializing"] td.state span, tr[data-state="dialout"] td.state span { background: #fef3c7; color: var(--warn); }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1em; }
.chart h3 { margin: 0 0 .2em; font-size: .9em; color: var(--muted); font-weight: 600; }
.chart svg { display: block; width: 100%; height: auto; aspect-ratio: 480 / 140; background: #fafafa; border: 1px solid var(--line); border-radius: 4px; }
.chart .bar-ok { fill: #60a5fa; } .chart .bar-bad { fill: #f87171; } .chart .pt { fill: #1d4ed8; }
.chart .axis { stroke: #d1d5db; stroke-width: 1; } .chart text { font-size: 9px; fill: var(--muted); }
.empty { color: var(--muted); }
`;

export const PAGE_JS = `'use strict';
(function () {
  var SVG = 'http://www.w3.org/2000/svg';
  var last = null;
  var conn = document.getElementById('conn');
  var pool = document.getElementById('pool');

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    return e;
  }
  function dur(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + 's';
    var m = Math.floor(s / 60); s = s % 60;
    if (m < 60) return m + 'm ' + s + 's';
    var h = Math.floor(m / 60); m = m % 60;
    if (h < 24) return h + 'h ' + m + 'm';
    return Math.floor(h / 24) + 'd ' + (h % 24) + 'h';
  }
  function time(ms) {
    var d = new Date(ms);
    function p(n) { return (n < 10 ? '0' : '') + n; }
    return p(d.getHours()) + ':' + p(d.getMinutes()) + ':' + p(d.getSeconds());
  }
  function table(head, rows) {
    var t = el('table');
    var tr = el('tr');
    head.forEach(function (h) { tr.appendChild(el('th', null, h)); });
    var thead = el('thead'); thead.appendChild(tr); t.appendChild(thead);
    var tb = el('tbody');
    rows.forEach(function (r) { tb.appendChild(r); });
    t.appendChild(tb);
    return t;
  }
  function caller(c) {
    if (!c) return '-';
    var parts = [c.callerId, c.callerName].filter(function (x) { return x; });
    return parts.length ? parts.join(' ') : 'call';
  }
  function lineRow(l, now) {
    var tr = el('tr', { 'data-line': l.line, 'data-state': l.state });
    tr.appendChild(el('td', { class: 'name' }, l.line));
    var st = el('td', { class: 'state' });
    var label = l.state + (l.detail ? ' (' + l.detail + ')' : '');
    if (l.state === 'resting' && l.restingUntil) label = 'resting (' + dur(l.restingUntil - now) + ' left)';
    st.appendChild(el('span', null, label));
    tr.appendChild(st);
    tr.appendChild(el('td', { class: 'since', 'data-since': l.since }, dur(now - l.since)));
    tr.appendChild(el('td', { class: 'calls' }, l.calls));
    tr.appendChild(el('td', { class: 'caller' }, caller(l.call)));
    tr.appendChild(el('td', { class: 'connect' }, l.call && l.call.connect ? l.call.connect : '-'));
    var who = l.call && l.call.program ? (l.call.loginName ? l.call.loginName + ': ' : '') + l.call.program : '-';
    tr.appendChild(el('td', { class: 'program' }, who));
    tr.appendChild(el('td', { class: 'error' + (l.lastError ? ' err' : '') }, l.lastError ? l.lastError.message + ' (' + dur(now - l.lastError.at) + ' ago)' : '-'));
    return tr;
  }
  function callRow(c) {
    var tr = el('tr', { 'data-outcome': c.outcome || 'unfinished' });
    tr.appendChild(el('td', null, time(c.startedAt)));
    tr.appendChild(el('td', null, c.line));
    tr.appendChild(el('td', { class: 'caller' }, [c.callerId, c.callerName].filter(function (x) { return x; }).join(' ') || '-'));
    tr.appendChild(el('td', { class: 'outcome' }, c.outcome || 'in progress'));
    tr.appendChild(el('td', null, c.durationS === null ? '-' : dur(c.durationS * 1000)));
    tr.appendChild(el('td', null, c.ringToAtaMs === null ? '-' : c.ringToAtaMs + ' ms'));
    tr.appendChild(el('td', null, c.loginName || '-'));
    return tr;
  }
  function barChart(hours) {
    var W = 480, H = 140, pad = 18;
    var s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'calls per hour', class: 'calls-per-hour' });
    var max = 1;
    hours.forEach(function (h) { max = Math.max(max, h.answered + h.failed); });
    var bw = (W - pad) / hours.length;
    s.appendChild(svg('line', { x1: pad, y1: H - pad, x2: W, y2: H - pad, class: 'axis' }));
    hours.forEach(function (h, i) {
      var x = pad + i * bw + 1, base = H - pad, scale = (H - 2 * pad) / max;
      var ha = h.answered * scale, hf = h.failed * scale;
      if (ha > 0) s.appendChild(svg('rect', { x: x, y: base - ha, width: bw - 2, height: ha, class: 'bar-ok', 'data-n': h.answered }));
      if (hf > 0) s.appendChild(svg('rect', { x: x, y: base - ha - hf, width: bw - 2, height: hf, class: 'bar-bad', 'data-n': h.failed }));
      if (i % 6 === 0) { var t = svg('text', { x: x, y: H - 4 }); t.textContent = time(h.start).slice(0, 5); s.appendChild(t); }
    });
    var m = svg('text', { x: 2, y: pad }); m.textContent = String(max); s.appendChild(m);
    return s;
  }
  function latencyChart(pts) {
    var W = 480, H = 140, pad = 18;
    var s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': 'answer latency', class: 'latency' });
    s.appendChild(svg('line', { x1: pad, y1: H - pad, x2: W, y2: H - pad, class: 'axis' }));
    var max = 10;
    pts.forEach(function (p) { max = Math.max(max, p.ms); });
    var dx = pts.length > 1 ? (W - pad - 8) / (pts.length - 1) : 0;
    pts.forEach(function (p, i) {
      s.appendChild(svg('circle', { cx: pad + 4 + i * dx, cy: H - pad - (p.ms / max) * (H - 2 * pad), r: 2.5, class: 'pt', 'data-ms': p.ms }));
    });
    var m = svg('text', { x: 2, y: pad }); m.textContent = max + ' ms'; s.appendChild(m);
    return s;
  }
  function hostSection(snap, now) {
    var sec = el('section', { class: 'host', 'data-host': snap.host });
    var h = el('h2', null, snap.host);
    h.appendChild(el('span', { class: 'meta' }, 'tgetty ' + snap.version + ', up ' + dur(now - snap.startedAt)));
    sec.appendChild(h);
    if (snap.records) {
      var r = snap.records;
      var txt = 'records: ' + r.location;
      if (r.backend === 'postgresql') txt += r.connected ? ' (connected)' : ' (not reachable: ' + (r.lastError || 'connecting') + ')';
      if (r.waiting && r.waiting.calls > 0) txt += ', ' + r.waiting.calls + ' call row(s) waiting';
      sec.appendChild(el('p', { class: 'meta records' + (r.backend === 'postgresql' && !r.connected ? ' err' : '') }, txt));
    }
    sec.appendChild(table(['line', 'state', 'since', 'calls', 'caller', 'connect', 'login/program', 'last error'], snap.lines.map(function (l) { return lineRow(l, now); })));
    var charts = el('div', { class: 'charts' });
    var c1 = el('div', { class: 'chart' }); c1.appendChild(el('h3', null, 'calls per hour (24 h; blue answered, red failed)')); c1.appendChild(barChart(snap.callsPerHour));
    var c2 = el('div', { class: 'chart' }); c2.appendChild(el('h3', null, 'answer latency, RING to ATA (last ' + snap.latency.length + ' answered calls)')); c2.appendChild(latencyChart(snap.latency));
    charts.appendChild(c1); charts.appendChild(c2);
    sec.appendChild(charts);
    sec.appendChild(el('h3', { class: 'meta' }, 'last calls'));
    sec.appendChild(snap.lastCalls.length ? table(['time', 'line', 'caller', 'outcome', 'duration', 'ring-ata', 'login'], snap.lastCalls.map(callRow)) : el('p', { class: 'empty' }, 'no calls recorded yet'));
    return sec;
  }
  function downSection(p) {
    var sec = el('section', { class: 'host unreachable', 'data-host': p.host || p.url, 'data-peer': p.url });
    var h = el('h2', null, p.host || p.url);
    h.appendChild(el('span', { class: 'meta err' }, 'unreachable'));
    sec.appendChild(h);
    sec.appendChild(el('p', { class: 'err reason' }, p.error + (p.lastSeen ? ' (last seen ' + dur(Date.now() - p.lastSeen) + ' ago)' : '')));
    return sec;
  }
  function render() {
    if (!last) return;
    var now = Date.now();
    var frag = document.createDocumentFragment();
    frag.appendChild(hostSection(last.self, now));
    last.peers.forEach(function (p) { frag.appendChild(p.ok ? hostSection(p.snapshot, now) : downSection(p)); });
    pool.replaceChildren(frag);
    document.title = 'tgetty: ' + last.self.host + (last.peers.length ? ' + ' + last.peers.length + ' peer(s)' : '');
  }
  var es = new EventSource('/events');
  es.addEventListener('pool', function (ev) {
    last = JSON.parse(ev.data);
    window.tgettyUpdates = (window.tgettyUpdates || 0) + 1;
    render();
  });
  es.onopen = function () { conn.textContent = 'live'; conn.className = 'conn up'; };
  es.onerror = function () { conn.textContent = 'reconnecting'; conn.className = 'conn down'; };
  setInterval(function () {
    document.getElementById('clock').textContent = time(Date.now());
    var now = Date.now();
    document.querySelectorAll('td.since').forEach(function (td) { td.textContent = dur(now - Number(td.getAttribute('data-since'))); });
  }, 1000);
})();
`;
