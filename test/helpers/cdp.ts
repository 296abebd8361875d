/**
 * Headless Chromium (the Debian `chromium` package) driven over the DevTools protocol on
 * `--remote-debugging-pipe` (fd 3: commands to the browser, fd 4: its answers, each JSON
 * message ended by a NUL): no puppeteer, no browser download, no debugging port. A page
 * collects every JavaScript exception, console error and browser log error (CSP
 * violations, failed loads) so a test can count them as failures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));

export function chromiumUnavailable(): string | undefined {
  return CHROMIUM === undefined ? 'chromium is not installed (Debian package chromium)' : undefined;
}

type Handler = (params: Record<string, unknown>, sessionId?: string) => void;

export interface Page {
  /** Exceptions, console.error calls and browser log errors, as text. */
  readonly errors: string[];
  evaluate<T>(expression: string): Promise<T>;
  navigate(url: string): Promise<void>;
  screenshot(): Promise<Buffer>;
}

export interface Browser {
  newPage(opts?: { width?: number; height?: number; headers?: Record<string, string> }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<Browser> {
  if (CHROMIUM === undefined) throw new Error('no chromium');
  const profile = mkdtempSync(join(tmpdir(), 'tgetty-chromium-'));
  const proc: ChildProcess = spawn(
    CHROMIUM,
    [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--remote-debugging-pipe', `--user-data-dir=${profile}`,
      '--no-first-run', '--no-default-browser-check', '--disable-extensions', '--disable-background-networking',
      '--disable-sync', '--disable-component-update', '--mute-audio', '--hide-scrollbars', 'about:blank',
    ],
    // Its own process group: if it must be killed, its zygote and renderers go with it.
    { detached: true, stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'], env: { PATH: '/usr/bin:/bin', HOME: profile, LANG: 'C.UTF-8', TZ: process.env.TZ ?? 'UTC' } },
  );
  let stderr = '';
  proc.stderr?.on('data', (b: Buffer) => {
    if (stderr.length < 100_000) stderr += b.toString();
  });
  const toBrowser = proc.stdio[3] as Writable;
  const fromBrowser = proc.stdio[4] as Readable;
  let seq = 0;
  const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void; method: string }>();
  const handlers = new Map<string, Handler[]>();
  let buf = Buffer.alloc(0);
  fromBrowser.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (let i = buf.indexOf(0); i >= 0; i = buf.indexOf(0)) {
      const msg = JSON.parse(buf.subarray(0, i).toString('utf8')) as { id?: number; method?: string; params?: Record<string, unknown>; result?: Record<string, unknown>; error?: { message: string }; sessionId?: string };
      buf = buf.subarray(i + 1);
      if (msg.id !== undefined) {
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        if (msg.error !== undefined) p?.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p?.resolve(msg.result ?? {});
      } else if (msg.method !== undefined) {
        for (const h of handlers.get(msg.method) ?? []) h(msg.params ?? {}, msg.sessionId);
      }
    }
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new Error(`chromium exited:\n${stderr.slice(-2000)}`));
    pending.clear();
  });
  const send = (method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const id = ++seq;
      pending.set(id, { resolve, reject, method });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId !== undefined ? { sessionId } : {}) })}\0`);
    });
  const on = (method: string, h: Handler): void => {
    handlers.set(method, [...(handlers.get(method) ?? []), h]);
  };
  await send('Browser.getVersion');

  return {
    async newPage({ width = 1280, height = 900, headers } = {}) {
      const { targetId } = (await send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
      const { sessionId } = (await send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
      const errors: string[] = [];
      const loads: (() => void)[] = [];
      on('Runtime.exceptionThrown', (p, s) => {
        if (s !== sessionId) return;
        const d = p.exceptionDetails as { text?: string; exception?: { description?: string } };
        errors.push(`exception: ${d.exception?.description ?? d.text ?? '?'}`);
      });
      on('Runtime.consoleAPICalled', (p, s) => {
        if (s !== sessionId || (p.type !== 'error' && p.type !== 'assert')) return;
        errors.push(`console.${String(p.type)}: ${JSON.stringify((p.args as { value?: unknown; description?: string }[]).map((a) => a.value ?? a.description))}`);
      });
      on('Log.entryAdded', (p, s) => {
        const e = p.entry as { level: string; text: string; url?: string };
        if (s === sessionId && e.level === 'error') errors.push(`log: ${e.text}${e.url !== undefined ? ` (${e.url})` : ''}`);
      });
      on('Page.loadEventFired', (_p, s) => {
        if (s !== sessionId) return;
        for (const l of loads.splice(0)) l();
      });
      await send('Runtime.enable', {}, sessionId);
      await send('Log.enable', {}, sessionId);
      await send('Page.enable', {}, sessionId);
      await send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: false }, sessionId);
      if (headers !== undefined) {
        await send('Network.enable', {}, sessionId);
        await send('Network.setExtraHTTPHeaders', { headers }, sessionId);
      }
      return {
        errors,
        async evaluate<T>(expression: string): Promise<T> {
          const r = (await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, sessionId)) as { result: { value?: unknown }; exceptionDetails?: { text: string } };
          if (r.exceptionDetails !== undefined) throw new Error(`evaluate ${expression}: ${r.exceptionDetails.text}`);
          return r.result.value as T;
        },
        async navigate(url: string) {
          const loaded = new Promise<void>((r) => loads.push(r));
          const nav = (await send('Page.navigate', { url }, sessionId)) as { errorText?: string };
          if (nav.errorText !== undefined) throw new Error(`navigate ${url}: ${nav.errorText}`);
          await loaded;
        },
        async screenshot() {
          const r = (await send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true }, sessionId)) as { data: string };
          return Buffer.from(r.data, 'base64');
        },
      };
    },
    async close() {
      try {
        if (proc.exitCode === null && proc.signalCode === null) {
          const timer = setTimeout(() => {
            if (proc.pid !== undefined) process.kill(-proc.pid, 'SIGKILL');
          }, 5000);
          await Promise.race([send('Browser.close').catch(() => undefined), exited]);
          await exited;
          clearTimeout(timer);
        }
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
