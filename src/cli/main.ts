/**
 * The composition root: `tgetty [mgetty options] <tty>` runs one line like mgetty;
 * subcommands add what mgetty never had. The only module that reads process.* state.
 */
import { Command, CommanderError, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { MGETTY_OPTIONS, overridesFromCli } from './mgetty-options.js';
import { DEFAULT_PATHS, PATH_OPTIONS, pathsFrom } from './paths.js';
import { keywordDef, type ConfigValue } from '../config/keywords.js';
import { splitChatArg, typeValue } from '../config/mgetty-config.js';
import { TgettyError, isTgettyError } from '../core/errors.js';

import { defaultIo, type CliIo } from './io.js';

export type { CliIo } from './io.js';

export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Type the mgetty options given on the command line with the config layer's own
 * rules, so `-n 2` and `rings 2` mean the same. `-m` splits at every single space (Q7).
 */
export function cliOverrides(values: Record<string, unknown>): Record<string, ConfigValue> {
  const out: Record<string, ConfigValue> = {};
  for (const [kw, raw] of overridesFromCli(values)) {
    const def = keywordDef(kw);
    if (def === undefined) throw new TgettyError('INTERNAL', `option maps to unknown keyword '${kw}'`);
    if (kw === 'init-chat') {
      out[kw] = splitChatArg(raw);
      continue;
    }
    const typed = typeValue(def, raw);
    if (!typed.ok) {
      const flag = MGETTY_OPTIONS.find((o) => o.keywords.includes(kw))?.flag ?? kw;
      // mgetty reads a non-numeric -x as 0; everything else is a usage error here.
      if (kw === 'debug') {
        out[kw] = 0;
        continue;
      }
      throw new TgettyError('CLI_USAGE', `option ${flag}: bad value '${raw}': ${typed.expected}`, { input: raw });
    }
    out[kw] = typed.value;
  }
  return out;
}

function addMgettyOptions(cmd: Command): Command {
  for (const o of MGETTY_OPTIONS) {
    const flags = o.arg !== undefined ? `${o.flag} <${o.arg}>` : o.flag;
    cmd.addOption(new Option(flags, o.description));
  }
  return cmd;
}

function addPathOptions(cmd: Command): Command {
  for (const [flags, , help] of PATH_OPTIONS) cmd.option(flags, help);
  return cmd;
}

function build(io: CliIo, result: { code: number }): Command {
  const program = new Command('tgetty');
  program
    .description('A modem getty for Linux, compatible with mgetty: answers Hayes modems, detects PPP, hands the line to login.')
    .usage('[mgetty options] <tty>  |  <command> [options]')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride()
    // Each subcommand owns its options (both define --config-dir etc.).
    .enablePositionalOptions()
    .allowExcessArguments(true)
    .showHelpAfterError('(run tgetty --help for usage)');

  addMgettyOptions(program);
  addPathOptions(program);
  program
    .option('--log-format <format>', 'per-line log format: text or json', 'text')
    .option('-V', 'print the version and the files used, then exit (as mgetty -V)')
    .argument('[tty]', 'the line: ttyS3 (= /dev/ttyS3) or an absolute path');

  program.action(async (tty: string | undefined, opts: Record<string, unknown>) => {
    const paths = pathsFrom(opts);
    if (opts.V === true) {
      const dev = tty ?? '<tty>';
      io.out(
        `\ntgetty ${version()} (mgetty 1.2.1 compatible)\n\nlog file written to '${paths.logDir}/${dev.replace(/^\/dev\//, '').replaceAll('/', '-')}.log'\n` +
          `config file read from '${paths.configDir ?? '/etc/mgetty'}/mgetty.config'\n\n`,
      );
      result.code = 0;
      return;
    }
    if (tty === undefined) {
      io.err('tgetty: no line given\n');
      program.outputHelp({ error: true });
      result.code = 2;
      return;
    }
    // Before anything is created (log file, pid file, lock): a typo such as `tgetty statsu`
    // is not a line. mgetty exits 30 when its device is missing; so do we, but say why.
    const missing = missingLine(tty, program.commands.map((c) => c.name()));
    if (missing !== undefined) {
      io.err(`tgetty: ${missing.message}\n`);
      result.code = missing.code;
      return;
    }
    const overrides = cliOverrides(opts);
    await closeInheritedFds();
    const { runSingleLine } = await import('./single-line.js');
    result.code = await runSingleLine({
      tty,
      overrides,
      paths,
      logFormat: opts.logFormat === 'json' ? 'json' : 'text',
    });
  });

  const config = program.command('config').description('inspect the configuration');
  const check = config
    .command('check')
    .description('check the config files and print the effective settings of a port, with where each value came from')
    .option('--port <name>', 'the line to resolve, e.g. ttyS3 (default: the global section only)')
    .option('--json', 'machine-readable output')
    .option('--strict', 'fail (exit 1) on warnings too, not only on errors');
  addMgettyOptions(check);
  addPathOptions(check);
  check.action(async (opts: Record<string, unknown>) => {
    const { configCheck } = await import('./config-check.js');
    result.code = configCheck({
      paths: pathsFrom(opts),
      port: typeof opts.port === 'string' ? opts.port : undefined,
      json: opts.json === true,
      strict: opts.strict === true,
      overrides: cliOverrides(opts),
      io,
    });
  });

  const sim = program
    .command('sim')
    .description('run a bank of virtual Hayes modems on ptys (DIR/ttySIM0 ...), with optional telnet callers')
    // Required for running the bank, checked in the action: `sim status` needs neither.
    .option('--lines <n>', 'number of virtual lines (required; 0 is allowed with --serial or --ip232)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new TgettyError('CLI_USAGE', `--lines needs a whole number, got '${v}'`);
      return n;
    })
    .option('--dir <dir>', 'where the line symlinks ttySIM0 ... (and the status socket) are created (required)')
    .option('--telnet <port>', 'accept telnet callers on this TCP port (each connection is an incoming call)', (v) => positiveInt(v, '--telnet'))
    .option('--host <addr>', 'address for --telnet and --ip232', '127.0.0.1')
    .option('--raw', 'plain TCP instead of telnet on --telnet')
    .option('--personality <name>', 'modem personality (e.g. generic, sportster)')
    .option('--fax', 'class 2 and class 2.0 fax modems (+FCLASS=0,2,2.0)')
    .option('--fax-machine <number:dir>', 'a virtual fax machine at NUMBER that stores the pages it is sent in DIR (repeatable)', collect, [])
    .option('--fax-call <number:files>', 'a virtual fax machine calls NUMBER with pages from FILE[,FILE...] (G3, TIFF class F, PBM) (repeatable)', collect, [])
    .option('--fax-call-delay <ms>', 'wait this long before --fax-call calls (default 5000)', (v) => positiveInt(v, '--fax-call-delay'))
    .option('--fax-id <id>', 'station id of the virtual fax machines')
    .option('--transcripts', 'write DIR/ttySIMn.transcript.log per line')
    .option('--cooldown <s>', 'refuse a telnet caller for this many seconds after its call ended ("please wait N s")', (v) => positiveInt(v, '--cooldown'))
    .option('--max-calls-per-minute <n>', 'accept at most this many telnet calls per minute in all', (v) => positiveInt(v, '--max-calls-per-minute'))
    .option('--max-calls-per-minute-per-caller <n>', 'accept at most this many telnet calls per minute from one address', (v) => positiveInt(v, '--max-calls-per-minute-per-caller'))
    .option('--busy-out', 'start busied out: every telnet caller gets BUSY')
    .option('--queue <n>', 'when every line is busy, up to N telnet callers wait (hearing the ringing) instead of getting BUSY', (v) => positiveInt(v, '--queue'))
    .option('--rings <n>', 'a telnet caller hears at most N rings (6 s apart, default 10), then NO ANSWER', (v) => positiveInt(v, '--rings'))
    .option('--connect-banner <file>', 'text sent to a telnet caller when a line answers (tcpser -a)')
    .option('--busy-banner <file>', 'text sent to a telnet caller when every line is busy, instead of BUSY (tcpser -B)')
    .option('--no-answer-banner <file>', 'text sent to a telnet caller nobody answered, instead of NO ANSWER (tcpser -N)')
    .option('--phonebook <file>', 'dial-out phone book: NUMBER = HOST[:PORT] [telnet|raw] per line (tcpser -n)')
    .option('--dial-speed <bps>', 'the speed a dial-out reports after CONNECT (default 33600)', (v) => positiveInt(v, '--dial-speed'))
    .option('--pace', 'deliver dial-out data no faster than the CONNECT speed')
    .option('--serial <dev[,speed]>', 'also run an emulated modem on this serial port (repeatable; default speed 38400); takes its UUCP lock', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--lock-dir <dir>', 'where the UUCP locks of --serial ports go (default /var/lock)')
    .option('--ip232 <port[,count]>', 'also run COUNT (default 1) emulated modems for emulators (VICE, openMSX) speaking ip232 on TCP ports PORT, PORT+1, ... (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
    .option('--no-dialout', 'no dial-out to TCP hosts (ATD host:port); plain numbers still ring the bank\'s lines')
    .action(async (opts: Record<string, unknown>) => {
      for (const [key, flag] of [['lines', '--lines <n>'], ['dir', '--dir <dir>']] as const) {
        if (opts[key] === undefined) throw new TgettyError('CLI_USAGE', `required option '${flag}' not specified`);
      }
      const serial = Array.isArray(opts.serial) ? (opts.serial as string[]) : [];
      const ip232 = Array.isArray(opts.ip232) ? (opts.ip232 as string[]) : [];
      if (opts.lines === 0 && serial.length === 0 && ip232.length === 0) throw new TgettyError('CLI_USAGE', '--lines 0 needs at least one --serial or --ip232 port');
      await closeInheritedFds();
      const { simCommand } = await import('../sim/cli.js');
      const bank = await simCommand({
        lines: opts.lines as number,
        dir: opts.dir as string,
        ...(typeof opts.telnet === 'number' ? { telnet: opts.telnet } : {}),
        host: opts.host as string,
        raw: opts.raw === true,
        ...(typeof opts.personality === 'string' ? { personality: opts.personality } : {}),
        fax: opts.fax === true,
        transcripts: opts.transcripts === true,
        faxMachines: opts.faxMachine as string[],
        faxCalls: opts.faxCall as string[],
        ...(typeof opts.faxCallDelay === 'number' ? { faxCallDelayMs: opts.faxCallDelay } : {}),
        ...(typeof opts.faxId === 'string' ? { faxId: opts.faxId } : {}),
        abuse: {
          ...(typeof opts.cooldown === 'number' ? { cooldownS: opts.cooldown } : {}),
          ...(typeof opts.maxCallsPerMinute === 'number' ? { maxCallsPerMinute: opts.maxCallsPerMinute } : {}),
          ...(typeof opts.maxCallsPerMinutePerCaller === 'number' ? { maxCallsPerMinutePerAddress: opts.maxCallsPerMinutePerCaller } : {}),
          busyOut: opts.busyOut === true,
        },
        ...(typeof opts.queue === 'number' ? { queue: opts.queue } : {}),
        ...(typeof opts.rings === 'number' ? { rings: opts.rings } : {}),
        ...(typeof opts.connectBanner === 'string' ? { connectBanner: opts.connectBanner } : {}),
        ...(typeof opts.busyBanner === 'string' ? { busyBanner: opts.busyBanner } : {}),
        ...(typeof opts.noAnswerBanner === 'string' ? { noAnswerBanner: opts.noAnswerBanner } : {}),
        ...(typeof opts.phonebook === 'string' ? { phonebook: opts.phonebook } : {}),
        ...(typeof opts.dialSpeed === 'number' ? { dialSpeed: opts.dialSpeed } : {}),
        pace: opts.pace === true,
        noDialout: opts.dialout === false,
        serial,
        ip232,
        ...(typeof opts.lockDir === 'string' ? { lockDir: opts.lockDir } : {}),
        log: (line: string) => io.out(`${line}\n`),
      });
      result.code = await waitForStop(async () => bank.close());
    });
  sim
    .command('status')
    .description('show the modems of a running tgetty sim: state, peer, bytes, since (its socket DIR/tgetty-sim.sock)')
    .requiredOption('--dir <dir>', 'the --dir of the running tgetty sim')
    .option('--json', 'machine-readable output')
    .action(async (opts: Record<string, unknown>) => {
      const { simStatusCommand } = await import('./sim-status.js');
      result.code = await simStatusCommand({ dir: opts.dir as string, json: opts.json === true, out: (s) => io.out(s), err: (s) => io.err(s) });
    });

  program
    .command('demo')
    .description('try tgetty without hardware or root: virtual modems, telnet callers on 127.0.0.1, the daemon, a demo login program')
    .option('--port <port>', 'telnet port on 127.0.0.1', (v) => positiveInt(v, '--port'), 2323)
    .option('--lines <n>', 'number of virtual modems', (v) => positiveInt(v, '--lines'), 4)
    .option('-x <level>', 'log level of the lines, 0..9; also shows their logs on the console', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 9) throw new TgettyError('CLI_USAGE', `-x needs a level 0..9, got '${v}'`);
      return n;
    })
    .option('--dir <dir>', 'keep everything the demo writes (config, logs, call records, status socket) in this dir, kept afterwards (default: a temp dir, removed on exit)')
    .option('--run-dir <dir>', 'where the status socket goes (default DIR/run)')
    .option('--records <file>', 'call records database (default DIR/calls.sqlite)')
    .option('--log-dir <dir>', 'per-line log directory (default DIR/log)')
    .action(async (opts: Record<string, unknown>) => {
      const { demoCommand } = await import('./demo.js');
      result.code = await demoCommand({
        port: opts.port as number,
        lines: opts.lines as number,
        ...(typeof opts.x === 'number' ? { debug: opts.x } : {}),
        ...(typeof opts.dir === 'string' ? { dir: opts.dir } : {}),
        ...(typeof opts.runDir === 'string' ? { runDir: opts.runDir } : {}),
        ...(typeof opts.records === 'string' ? { records: opts.records } : {}),
        ...(typeof opts.logDir === 'string' ? { logDir: opts.logDir } : {}),
        version: version(),
        io,
      });
    });

  const serve = program
    .command('serve')
    .description('run every line from one supervising daemon (lines: the config\'s port sections, or --lines)')
    .option('--lines <list>', 'comma-separated lines to serve (names like ttyS0, or absolute paths)')
    // The env var lets a unit's EnvironmentFile= set the port without editing ExecStart=.
    .addOption(
      new Option('--metrics-port <port>', 'serve Prometheus metrics on this port (loopback only by default)')
        .env('TGETTY_METRICS_PORT')
        .argParser((v) => positiveInt(v, '--metrics-port (or TGETTY_METRICS_PORT)')),
    )
    .option('--metrics-host <addr>', 'address for --metrics-port', '127.0.0.1')
    .option('--metrics-allow-remote', 'allow a non-loopback --metrics-host')
    .option('--no-records', 'do not keep call records')
    .option('--host-name <name>', "this host's name in the call records and on the web page (default: the system's host name)")
    .option('--http <[address:]port>', 'serve the read-only web status page (a bare port: 127.0.0.1; any other address needs --http-auth-file)')
    .option('--http-auth-file <file>', "the token hash for the page ('tgetty token FILE' writes one); required off loopback")
    .option('--peer <url>', 'another tgetty serve --http to show on the page (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--peer-token-file <file>', 'the token to send to the peers (the raw token, one line)')
    .option('--records-spool <file>', `with a postgresql:// --records: the local SQLite copy where rows wait while the database is away (default ${DEFAULT_PATHS.records})`)
    .option('--log-format <format>', 'per-line log format: text or json', 'text')
    .option('--fax-queue <dir>', 'run the outgoing fax queue in DIR (tgetty fax queue --spool-out DIR) on idle fax lines')
    .option('--fax-sender <program>', "the sender for --fax-queue (default: this tgetty's 'sendfax')");
  addMgettyOptions(serve);
  addPathOptions(serve);
  serve.action(async (opts: Record<string, unknown>) => {
    await closeInheritedFds();
    // Before the daemon's modules load: start-up runs without TurboFan (daemon/tiering.ts).
    const { holdOptimizingCompiler } = await import('../daemon/tiering.js');
    holdOptimizingCompiler([...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]);
    const { serveCommand } = await import('./serve.js');
    result.code = await serveCommand({
      paths: pathsFrom(opts),
      ...(typeof opts.lines === 'string' ? { lines: opts.lines.split(',').map((x) => x.trim()).filter((x) => x !== '') } : {}),
      overrides: cliOverrides(opts),
      logFormat: opts.logFormat === 'json' ? 'json' : 'text',
      ...(typeof opts.metricsPort === 'number' ? { metricsPort: opts.metricsPort } : {}),
      ...(typeof opts.metricsHost === 'string' ? { metricsHost: opts.metricsHost } : {}),
      metricsAllowRemote: opts.metricsAllowRemote === true,
      noRecords: opts.records === false,
      ...recordsSetting(opts),
      ...(typeof opts.recordsSpool === 'string' ? { recordsSpool: opts.recordsSpool } : {}),
      ...(typeof opts.hostName === 'string' ? { hostName: opts.hostName } : {}),
      ...(typeof opts.http === 'string' ? { http: opts.http } : {}),
      ...(typeof opts.httpAuthFile === 'string' ? { httpAuthFile: opts.httpAuthFile } : {}),
      ...(Array.isArray(opts.peer) ? { peers: opts.peer as string[] } : {}),
      ...(typeof opts.peerTokenFile === 'string' ? { peerTokenFile: opts.peerTokenFile } : {}),
      ...(typeof opts.faxQueue === 'string' ? { faxQueue: opts.faxQueue } : {}),
      ...(typeof opts.faxSender === 'string' ? { faxSender: opts.faxSender } : {}),
      version: version(),
      io,
    });
  });

  const sendfax = program
    .command('sendfax')
    .description("send fax pages (G3, TIFF, PBM, PDF, PostScript) as mgetty's sendfax does, with its options and exit codes")
    .usage('[options] PHONE-NUMBER FILE...')
    // -h is sendfax's page header: help is --help only.
    .helpOption('--help', 'show the sendfax options')
    .argument('[phone-number]', 'the number to dial (after the dial prefix)')
    .argument('[files...]', 'the pages: G3 files (one page each), TIFF class F, PBM, PDF or PostScript')
    .option('-v', 'progress reports on stdout')
    .option('-x <level>', 'log level 0..9 (the log: LOG-DIR/sendfax.log)')
    .option('-n', 'normal resolution (204x98 dpi); the default is fine (204x196)')
    .option('-h <file>', 'page header (accepted; not put on the pages, as in sendfax)')
    .option('-p', 'fax polling: receive the document the remote holds into -d; with FILES: send them first, then poll in the same call')
    .option('-l <lines>', 'fax lines to try, in order, separated by : (ttyS0 = /dev/ttyS0, or a path)')
    .option('-m <init>', 'an extra AT command after the class set-up (must give OK)')
    .option('-d <dir>', 'directory for polled faxes (default: the current directory)')
    .option('-r', 'rename each file to FILE.done once its pages are sent; files that are gone are skipped')
    .option('-S', 'the modem is on stdin: no lock, no open')
    .option('-D <prefix>', 'dial command before the number (default ATD, sendfax.config dial-prefix)')
    .option('-M <speed>', 'highest fax bit rate, e.g. 9600 (fax-max-speed)')
    .option('-s <speed>', 'serial port speed (sendfax.config speed; default 38400)')
    .option('-C <class>', 'modem command set: auto, cls2 or c2.0 (modem-type)')
    .option('-I <id>', 'our fax station id (fax-id)')
    .option('-R <tries>', 'tries per page the receiver calls bad (max-tries, default 3)')
    .option('-A <account>', 'an accounting handle, written in the log');
  // The paths a dial-out program touches, as for the getty.
  for (const [flags, key, help] of PATH_OPTIONS) if (key === 'configDir' || key === 'lockDir' || key === 'logDir') sendfax.option(flags, help);
  sendfax.action(async (phone: string | undefined, files: string[], opts: Record<string, unknown>) => {
    await closeInheritedFds();
    const { sendfaxCommand } = await import('./sendfax.js');
    const num = (v: unknown, flag: string): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new TgettyError('CLI_USAGE', `${flag} needs a whole number, got '${typeof v === 'string' ? v : typeof v}'`);
      return n;
    };
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    const cls = str(opts.C);
    if (cls !== undefined && !['auto', 'cls2', 'c2.0'].includes(cls)) throw new TgettyError('CLI_USAGE', `-C needs auto, cls2 or c2.0, got '${cls}'`);
    result.code = await sendfaxCommand({
      phone,
      files,
      verbose: opts.v === true,
      // mgetty reads a non-numeric -x as 0.
      debug: opts.x === undefined ? undefined : Number.isInteger(Number(opts.x)) ? Math.min(9, Math.max(0, Number(opts.x))) : 0,
      normal: opts.n === true,
      header: str(opts.h),
      poll: opts.p === true,
      lines: str(opts.l),
      modemInit: str(opts.m),
      pollDir: str(opts.d),
      rename: opts.r === true,
      stdin: opts.S === true,
      dialPrefix: str(opts.D),
      maxSpeed: num(opts.M, '-M'),
      portSpeed: num(opts.s, '-s'),
      modemType: cls,
      faxId: str(opts.I),
      maxTries: num(opts.R, '-R'),
      account: str(opts.A),
      paths: pathsFrom(opts),
      out: io.out,
      err: io.err,
    });
  });

  program
    .command('status')
    .description('show every line of the running daemon: state, since when, caller, last error')
    .option('--run-dir <dir>', `where the daemon's status socket is (default ${DEFAULT_PATHS.runDir})`)
    .option('--json', 'machine-readable output')
    .action(async (opts: Record<string, unknown>) => {
      const { statusCommand } = await import('./status.js');
      result.code = await statusCommand({ runDir: pathsFrom(opts).runDir, json: opts.json === true, out: io.out, err: io.err });
    });

  program
    .command('reload')
    .description('make the running daemon re-read its configuration (like SIGHUP, but reports errors)')
    .option('--run-dir <dir>', `where the daemon's status socket is (default ${DEFAULT_PATHS.runDir})`)
    .action(async (opts: Record<string, unknown>) => {
      const { reloadCommand } = await import('./status.js');
      result.code = await reloadCommand({ runDir: pathsFrom(opts).runDir, out: io.out, err: io.err });
    });

  program
    .command('calls')
    .description('list call records (a file, or the pool in PostgreSQL)')
    .option('--records <file|url>', `call records: an SQLite file or a postgresql://user@host/db URL (default: TGETTY_RECORDS, else records-url in mgetty.config, else ${DEFAULT_PATHS.records})`)
    .option('--config-dir <dir>', 'where mgetty.config is, for its records-url (default /etc/mgetty, else /etc/mgetty+sendfax)')
    .option('--host <host>', 'only calls recorded by this host')
    .option('--line <line>', 'only this line')
    .option('--since <time>', 'only calls since: 2026-11-21, 2026-11-21T19:00, or an age like 30m, 2h, 7d')
    .option('--outcome <outcome>', 'only calls that ended so (completed, denied, missed, ..., or unfinished)')
    .option('--limit <n>', 'at most this many rows', (v) => positiveInt(v, '--limit'))
    .option('--summary', 'per host and line: calls, answered, failed, mean duration')
    .option('--json', 'machine-readable output')
    .action(async (opts: Record<string, unknown>) => {
      const { anyCallsCommand } = await import('./calls-pool.js');
      const setting = recordsSetting(opts);
      result.code = await anyCallsCommand({
        records: setting.records ?? pathsFrom(opts).records,
        ...(setting.recordsFrom !== undefined ? { recordsFrom: setting.recordsFrom } : {}),
        ...(typeof opts.configDir === 'string' ? { configDir: opts.configDir } : {}),
        ...(typeof opts.host === 'string' ? { host: opts.host } : {}),
        ...(typeof opts.line === 'string' ? { line: opts.line } : {}),
        ...(typeof opts.since === 'string' ? { since: opts.since } : {}),
        ...(typeof opts.outcome === 'string' ? { outcome: opts.outcome } : {}),
        ...(typeof opts.limit === 'number' ? { limit: opts.limit } : {}),
        summary: opts.summary === true,
        json: opts.json === true,
        out: io.out,
        err: io.err,
      });
    });

  program
    .command('faxes')
    .description('list received faxes: from the call records and the incoming spool dirs (date, line, sender id, pages, outcome, files)')
    .option('--records <file|url>', `call records: an SQLite file or a postgresql:// URL (default: TGETTY_RECORDS, else ${DEFAULT_PATHS.records})`)
    .option('--spool-in <dirs>', "incoming fax spool dirs, colon-separated (default: every fax-spool-in of mgetty.config)")
    .option('--config-dir <dir>', 'config directory (default /etc/mgetty, else /etc/mgetty+sendfax)')
    .option('--line <line>', 'only this line')
    .option('--since <time>', 'only faxes since: 2026-11-21, 2026-11-21T19:00, or an age like 30m, 2h, 7d')
    .option('--limit <n>', 'at most this many faxes', (v) => positiveInt(v, '--limit'))
    .option('--json', 'machine-readable output')
    .action(async (opts: Record<string, unknown>) => {
      const { faxesCommand, spoolDirsFromConfig } = await import('./faxes.js');
      const setting = recordsSetting(opts);
      const spool = typeof opts.spoolIn === 'string' ? opts.spoolIn : spoolDirsFromConfig(typeof opts.configDir === 'string' ? opts.configDir : undefined).join(':');
      result.code = await faxesCommand({
        records: setting.records ?? pathsFrom(opts).records,
        ...(setting.recordsFrom !== undefined ? { recordsFrom: setting.recordsFrom } : {}),
        spoolDirs: spool.split(':').filter((d) => d !== ''),
        ...(typeof opts.line === 'string' ? { line: opts.line } : {}),
        ...(typeof opts.since === 'string' ? { since: opts.since } : {}),
        ...(typeof opts.limit === 'number' ? { limit: opts.limit } : {}),
        json: opts.json === true,
        out: io.out,
        err: io.err,
      });
    });

  const fax = program.command('fax').description('the outgoing fax queue, as faxspool/faxq/faxrm/faxrunq: queue, list, remove, run');
  const spoolOut = (c: Command): Command => c.option('--spool-out <dir>', 'the outgoing fax queue (default /var/spool/fax/outgoing)');
  const queueDir = (opts: Record<string, unknown>): string => (typeof opts.spoolOut === 'string' ? opts.spoolOut : '/var/spool/fax/outgoing');
  spoolOut(
    fax
      .command('queue')
      .description('put a fax job in the queue: the job file and copies of the files (G3, PDF, PostScript, TIFF, PBM, as the sender takes them)')
      .argument('<phone>', 'the number to dial')
      .argument('<files...>', 'the files to send, in order')
      .option('-n', 'normal resolution (sendfax -n)')
      .option('--mail <address>', 'mail the result to this address (default: you)')
      .option('--no-mail', 'no mail when the job is done or given up')
      .option('--at <time>', 'not before: 2026-11-21T19:00, or an age from now like 30m, 2h'),
  ).action(async (phone: string, files: string[], opts: Record<string, unknown>) => {
    const { faxQueueCommand } = await import('./fax-queue.js');
    result.code = faxQueueCommand({
      dir: queueDir(opts), phone, files, normal: opts.n === true,
      mail: opts.mail === false ? null : typeof opts.mail === 'string' ? opts.mail : undefined,
      ...(typeof opts.at === 'string' ? { at: opts.at } : {}),
      out: io.out, err: io.err,
    });
  });
  spoolOut(fax.command('list').description('list the fax jobs: status, tries, next try, last result').option('--json', 'machine-readable output')).action(
    async (opts: Record<string, unknown>) => {
      const { faxListCommand } = await import('./fax-queue.js');
      result.code = faxListCommand({ dir: queueDir(opts), json: opts.json === true, out: io.out, err: io.err });
    },
  );
  spoolOut(fax.command('remove').description('remove a fax job (yours; root: any)').argument('<job>', 'the job id (tgetty fax list)')).action(
    async (id: string, opts: Record<string, unknown>) => {
      const { faxRemoveCommand } = await import('./fax-queue.js');
      result.code = faxRemoveCommand({ dir: queueDir(opts), id, out: io.out, err: io.err });
    },
  );
  const run = spoolOut(
    fax
      .command('run')
      .description("send the jobs that are due, as faxrunq: retry per sendfax's exit code, give up after too many tries, mail the result")
      .option('--sender <program>', "the sender program, run as PROGRAM -r [-n] [-l LINE] PHONE FILE... (default: this tgetty's 'sendfax')")
      .option('-l, --line <line>', 'the line for the sender (sendfax -l); default: the sender chooses')
      .option('--max-costly <n>', `give up after this many failures after the far end answered (default ${DEFAULT_QUEUE_LIMITS_TEXT.maxCostly})`, (v) => positiveInt(v, '--max-costly'))
      .option('--max-tries <n>', `give up after this many tries (default ${DEFAULT_QUEUE_LIMITS_TEXT.maxTotal})`, (v) => positiveInt(v, '--max-tries'))
      .option('--retry-delay <s>', `seconds to wait after a failed try (default ${DEFAULT_QUEUE_LIMITS_TEXT.retryDelayS})`, (v) => positiveInt(v, '--retry-delay'))
      .option('--mail-program <path>', 'the sendmail-compatible program for the notices (default /usr/sbin/sendmail)')
      .option('--no-mail', 'send no notices')
      .option('-q, --quiet', 'print only errors'),
  );
  addPathOptions(run);
  run.action(async (opts: Record<string, unknown>) => {
    const { faxRunCommand } = await import('./fax-queue.js');
    const own = typeof opts.sender !== 'string';
    // tgetty's own sendfax gets the path flags given here (lock, config and log dir).
    const pathArgs = own
      ? (['configDir', 'lockDir', 'logDir'] as const).flatMap((k) => (typeof opts[k] === 'string' ? [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, opts[k]] : []))
      : [];
    result.code = await faxRunCommand({
      dir: queueDir(opts),
      sender: own ? { program: process.execPath, args: [process.argv[1], 'sendfax'] } : { program: opts.sender as string, args: [] },
      senderArgs: pathArgs,
      ...(typeof opts.line === 'string' ? { line: opts.line.replace(/^\/dev\//, '') } : {}),
      limits: {
        ...(typeof opts.maxCostly === 'number' ? { maxCostly: opts.maxCostly } : {}),
        ...(typeof opts.maxTries === 'number' ? { maxTotal: opts.maxTries } : {}),
        ...(typeof opts.retryDelay === 'number' ? { retryDelayMs: opts.retryDelay * 1000 } : {}),
      },
      ...(opts.mail === false ? {} : { mailProgram: typeof opts.mailProgram === 'string' ? opts.mailProgram : '/usr/sbin/sendmail' }),
      quiet: opts.quiet === true,
      out: io.out,
      err: io.err,
    });
  });

  program
    .command('token')
    .description('make a token for the web status page: writes its hash to FILE (mode 0600) and prints the token once')
    .argument('<file>', 'where the hash goes (give it to serve --http-auth-file)')
    .action(async (file: string) => {
      const { httpTokenCommand } = await import('./http-token.js');
      result.code = httpTokenCommand({ file, out: io.out, err: io.err });
    });

  program
    .command('version')
    .description('print the version')
    .action(() => {
      io.out(`tgetty ${version()}\n`);
      result.code = 0;
    });

  return program;
}

/** Edit distance with transpositions (optimal string alignment): `statsu` is 1 from `status`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[a.length][b.length];
}

/**
 * The line argument names no existing device: a mistyped subcommand (exit 2, with the
 * nearest subcommands) or a device that is missing (exit 30, as mgetty's "cannot get
 * terminal line"). Undefined when the device exists. `ttyS0`, `/dev/ttyS0` and absolute
 * paths are taken as mgetty takes them.
 */
export function missingLine(tty: string, commands: readonly string[], exists: (path: string) => boolean = existsSync): { message: string; code: number } | undefined {
  const path = tty.startsWith('/') ? tty : `/dev/${tty}`;
  if (exists(path)) return undefined;
  const word = tty.toLowerCase();
  const near = tty.includes('/') ? [] : commands.filter((c) => c !== 'help' && editDistance(word, c) <= (c.length <= 3 ? 1 : 2));
  const shown = printable(tty);
  if (near.length > 0) {
    return { message: `unknown command or no such line '${shown}' (did you mean ${near.map((c) => `'tgetty ${c}'`).join(' or ')}?)`, code: 2 };
  }
  return { message: `unknown command or no such line '${shown}': no such device ${printable(path)} (tgetty --help lists the commands)`, code: 30 };
}

/** Control characters as \xNN: the argument is echoed to the terminal. */
function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A repeatable option: every value, in order. */
function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** `--records` wins over TGETTY_RECORDS; with neither, records-url of mgetty.config (read by serve and calls), else the default file (paths.records). */
function recordsSetting(opts: Record<string, unknown>): { records?: string; recordsFrom?: string } {
  if (typeof opts.records === 'string') return { records: opts.records, recordsFrom: '--records' };
  const env = process.env.TGETTY_RECORDS;
  if (env !== undefined && env !== '') return { records: env, recordsFrom: 'TGETTY_RECORDS' };
  return {};
}

/** The queue's defaults as the help shows them (no import of the queue module at start-up). */
const DEFAULT_QUEUE_LIMITS_TEXT = { maxCostly: 5, maxTotal: 10, retryDelayS: 300 };

function positiveInt(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new TgettyError('CLI_USAGE', `${name} needs a positive whole number, got '${v}'`);
  return n;
}

/** The command tree, for the shell completion generator (src/cli/completion.ts). */
export function commandTree(): Command {
  return build({ out: () => {}, err: () => {} }, { code: 0 });
}

/** Run until SIGINT/SIGTERM, then stop cleanly. */
function waitForStop(stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      stop().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Parse argv (without node and script) and run. Returns the exit code (mgetty's: 2 = usage). */
/**
 * Before a mode that starts sessions or hooks: fds >= 3 this process inherited (from
 * the shell or service manager that started it) become close-on-exec, so no child gets them.
 */
async function closeInheritedFds(): Promise<void> {
  const { cloexecFrom } = await import('../os/fds.js');
  cloexecFrom(3);
}

export async function main(argv: string[], io: CliIo = defaultIo): Promise<number> {
  const result = { code: 0 };
  const program = build(io, result);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return result.code;
  } catch (err) {
    // sendfax's command line errors exit 1, as mgetty's sendfax (faxrunq reads the code).
    const usage = argv[0] === 'sendfax' ? 1 : 2;
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return 0;
      return usage;
    }
    if (isTgettyError(err, 'CLI_USAGE') || isTgettyError(err, 'CLI_BAD_SPEED')) {
      io.err(`tgetty: ${err.message}\n`);
      return usage;
    }
    const msg = isTgettyError(err) ? `${err.located} [${err.code}]` : err instanceof Error ? (err.stack ?? err.message) : String(err);
    io.err(`tgetty: ${msg}\n`);
    return 1;
  }
}
