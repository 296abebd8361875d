/**
 * The call machine's state diagram, generated from the machine itself (machine.ts):
 * explore transition() from initial() with a representative set of inputs under many
 * configurations and collect the edges by state name. docs/architecture.md embeds the
 * result between marker comments, and a test compares it, so the picture cannot drift
 * from the code. Pure: no I/O.
 */
import { TgettyError } from '../core/errors.js';
import { initial, transition, type LineInput, type LineState, type MachineConfig, type StateName } from './machine.js';

/** One of each input, with the field values that lead the machine down different branches. */
export const SAMPLE_INPUTS: readonly LineInput[] = [
  { type: 'opened' },
  { type: 'open-failed', message: 'ENOENT' },
  { type: 'lock-held', ownerPid: 4242, ownerCmd: 'cu -l ttyS3' },
  { type: 'lock-free' },
  { type: 'chat-ok' },
  { type: 'chat-ok', connect: '33600/ARQ' },
  ...(['timeout', 'abort', 'error'] as const).map((reason): LineInput => ({ type: 'chat-failed', reason })),
  { type: 'chat-failed', reason: 'abort', action: 'NO CARRIER' },
  { type: 'chat-failed', reason: 'abort', action: 'FAX', fax: true },
  { type: 'dsr-cts', up: true },
  { type: 'dsr-cts', up: false },
  { type: 'activity' },
  { type: 'virtual-ring' },
  { type: 'check-due' },
  { type: 'quiet-done' },
  { type: 'ring', distRing: 0 },
  { type: 'ring', distRing: 2 },
  { type: 'ring', distRing: 0, caller: true },
  { type: 'ring-timeout' },
  ...(['CONNECT', 'NO CARRIER', 'BUSY', 'ERROR', 'FAX'] as const).map((action): LineInput => ({
    type: 'modem-line',
    action,
    line: action === 'CONNECT' ? 'CONNECT 33600/ARQ' : action,
  })),
  { type: 'cid-done' },
  { type: 'cid-done', wanted: 1 },
  { type: 'cid-done', wanted: 5 },
  { type: 'screened', allowed: true, why: 'no dialin.config' },
  { type: 'screened', allowed: false, why: 'dialin.config: -5551234' },
  ...(['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR2'] as const).map((signal): LineInput => ({ type: 'signal', signal })),
  { type: 'hangup' },
];

/**
 * The configurations explored. The nologin file is not part of them (it is in the
 * snapshot passed with each input): it can appear or go away at any moment, so every
 * step is tried with it present and absent.
 */
export function sampleConfigs(): MachineConfig[] {
  const out: MachineConfig[] = [];
  for (const direct of [false, true])
    for (const ringback of [false, true])
      for (const needDsr of [false, true])
        for (const forceInitChat of [false, true])
          for (const [statisticsChat, postInitChat] of [[false, false], [true, false], [false, true], [true, true]] as const)
            // rings -1: mgetty's "answer on the first activity" (Q12); 3: the cid-program loop.
            for (const rings of [1, 3, -1])
              // cid-program only matters while RINGs are counted: with rings 3.
              for (const cidProgram of rings === 3 ? [false, true] : [false])
                out.push({ direct, rings, cidProgram, ringback, ringbackTimeS: 30, modemCheckTimeS: 3600, needDsr, forceInitChat, statisticsChat, postInitChat, faxInit: false });
  return out;
}

/**
 * Ring counters grow without bound while the nologin file stays. States past this many
 * RINGs are not explored further: with rings 1 and 3 every branch shows below it.
 */
const MAX_RINGS = 3;

/** The end states: the runner stops there (connected goes on to the login phase). */
const TERMINAL: ReadonlySet<StateName> = new Set<StateName>(['connected', 'ended']);

export interface Edge {
  from: StateName;
  to: StateName;
  /** The input types that take this edge, sorted. */
  inputs: string[];
}

export interface Exploration {
  edges: Edge[];
  reached: Set<StateName>;
}


function tooDeep(s: LineState): boolean {
  return 'rings' in s && s.rings > MAX_RINGS;
}

let explored: Exploration | undefined;

/** Every edge the machine can take from initial() with SAMPLE_INPUTS under sampleConfigs() (computed once). */
export function exploreMachine(): Exploration {
  explored ??= explore();
  return { edges: explored.edges.map((e) => ({ ...e, inputs: [...e.inputs] })), reached: new Set(explored.reached) };
}

function explore(): Exploration {
  const labels = new Map<string, Set<string>>();
  const reached = new Set<StateName>();
  for (const base of sampleConfigs()) {
    const start = initial().state;
    const seen = new Set<string>([JSON.stringify(start)]);
    const queue: LineState[] = [start];
    reached.add(start.name);
    while (queue.length > 0) {
      const from = queue.shift() as LineState;
      if (TERMINAL.has(from.name)) continue;
      const fromId = JSON.stringify(from);
      for (const nologin of [false, true]) {
        for (const input of SAMPLE_INPUTS) {
          const t = transition(from, input, base, { nologin });
          const toId = JSON.stringify(t.state);
          // "ignored X in state Y" and the like: same state, nothing done but a log line.
          if (toId === fromId && t.commands.every((c) => c.cmd === 'log')) continue;
          const key = `${from.name}\t${t.state.name}`;
          let set = labels.get(key);
          if (set === undefined) labels.set(key, (set = new Set()));
          set.add(input.type);
          reached.add(t.state.name);
          if (!seen.has(toId) && !tooDeep(t.state)) {
            seen.add(toId);
            queue.push(t.state);
          }
        }
      }
    }
  }
  const edges = [...labels.entries()].map(([key, set]): Edge => {
    const [from, to] = key.split('\t') as [StateName, StateName];
    return { from, to, inputs: [...set].sort() };
  });
  edges.sort((a, b) => (a.from === b.from ? a.to.localeCompare(b.to) : a.from.localeCompare(b.from)));
  return { edges, reached };
}

/** Mermaid ids may not contain '-'. */
const id = (s: StateName): string => s.replace(/-/g, '_');

/** The call machine as a Mermaid stateDiagram-v2 (deterministic: states and edges sorted). */
export function machineDiagram(): string {
  const { edges, reached } = exploreMachine();
  const lines = ['stateDiagram-v2'];
  for (const s of [...reached].sort()) {
    if (s.includes('-')) lines.push(`    state "${s}" as ${id(s)}`);
  }
  lines.push(`    [*] --> ${id(initial().state.name)}`);
  for (const e of edges) lines.push(`    ${id(e.from)} --> ${id(e.to)}: ${e.inputs.join(', ')}`);
  for (const s of [...TERMINAL].sort()) lines.push(`    ${id(s)} --> [*]`);
  return `${lines.join('\n')}\n`;
}

export const DIAGRAM_BEGIN = '<!-- state-diagram:begin -->';
export const DIAGRAM_END = '<!-- state-diagram:end -->';

/** The block that sits between the markers in docs/architecture.md. */
export function diagramBlock(): string {
  return `\n\`\`\`mermaid\n${machineDiagram()}\`\`\`\n`;
}

/** The text between the markers, or undefined when a marker is missing. */
export function extractDiagramBlock(markdown: string): string | undefined {
  const b = markdown.indexOf(DIAGRAM_BEGIN);
  const e = markdown.indexOf(DIAGRAM_END);
  if (b < 0 || e < b) return undefined;
  return markdown.slice(b + DIAGRAM_BEGIN.length, e);
}

/** markdown with the block between the markers replaced by the current diagram. */
export function spliceDiagram(markdown: string): string {
  const b = markdown.indexOf(DIAGRAM_BEGIN);
  const e = markdown.indexOf(DIAGRAM_END);
  if (b < 0 || e < b) throw new TgettyError('INTERNAL', `markers ${DIAGRAM_BEGIN} / ${DIAGRAM_END} not found`, { input: markdown.slice(0, 80) });
  return markdown.slice(0, b + DIAGRAM_BEGIN.length) + diagramBlock() + markdown.slice(e);
}
