// The forest as people read it, in the manner of `ps -ef --forest`: fixed columns first
// (start, lifetime, status, uid, pid), so that the tree guides line up whatever the command
// lines hold, then the guides and each process's exec chain — the argv of each image it
// ran, shell-quoted as decode quotes them, `→` between them.

import {commandLine} from '../decode/human';
import {displayText, type Text} from '../decode/text';
import {signalName} from '../util/errno';
import {formatDuration, HumanTime, WallClock, type Zone} from '../util/time';
import type {ProcessForest, ProcessImage, ProcessNode} from './forest';

type U64 = number | bigint;

/**
 * formatTree gives the forest as text lines (with a header line), times in `zone`, as
 * decode shows them (with the date when the recording spans days, or for a process started
 * on another day). An empty forest gives ''.
 */
export function formatTree(f: ProcessForest, o: {zone?: Zone} = {}): string {
  if (f.roots.length === 0) return '';
  const clock = new WallClock(f.clock);
  const times = HumanTime.forRecording(clock, o.zone ?? 'local', f.recording.start_ns, f.recording.end_ns);
  const rows: string[][] = [['START', 'LIFETIME', 'STATUS', f.users ? 'USER' : 'UID', 'PID', 'COMMAND']];
  const walk = (n: ProcessNode, lead: string, guide: string): void => {
    rows.push([
      n.start_ns === null ? '?' : times.format(n.start_ns), lifetime(n, f.recording.end_ns), statusText(n), uidText(n, f.users),
      String(n.pid), guide + processText(n),
    ]);
    n.children.forEach((c, i) => {
      const lastChild = i === n.children.length - 1;
      walk(c, lead + (lastChild ? '   ' : '│  '), lead + (lastChild ? '└─ ' : '├─ '));
    });
  };
  // Depth first; a chain is at most model.ts's MAX_DEPTH deep, which recursion takes.
  for (const r of f.roots) walk(r, '', '');
  const width = [0, 1, 2, 3, 4].map((k) => Math.max(...rows.map((r) => [...r[k]].length)));
  const right = [false, true, false, true, true];
  return rows.map((r) => r.map((cell, k) => {
    if (k === 5) return cell;
    const pad = ' '.repeat(width[k] - [...cell].length);
    return right[k] ? pad + cell : cell + pad;
  }).join('  ')).join('\n') + '\n';
}

/** formatTime gives a boot-clock time of the forest's recording as formatTree shows times (`?` when unknown). */
export function formatTime(f: ProcessForest, ns: U64 | null, zone: Zone = 'local'): string {
  if (ns === null) return '?';
  return HumanTime.forRecording(new WallClock(f.clock), zone, f.recording.start_ns, f.recording.end_ns).format(ns);
}

/** statusText gives `exit 3`, `SIGKILL`, `SIGSEGV core`, `running` (at the end of the recording), `?` (its end is not in the file). */
export function statusText(n: Pick<ProcessNode, 'exit' | 'status'>): string {
  const x = n.exit;
  if (x) return x.signal !== null ? `${signalName(x.signal)}${x.core_dumped ? ' core' : ''}` : `exit ${x.exit_code}`;
  return n.status === 'running' ? 'running' : '?';
}

/** How long it ran: the kernel's running time at exit; for one still running, at least until the end of the recording. */
function lifetime(n: ProcessNode, end: U64 | null): string {
  const ran = n.exit?.running_time_ns;
  if (ran !== undefined && ran !== null) return formatDuration(Number(ran));
  if (n.status === 'running' && end !== null && n.start_ns !== null && end >= n.start_ns) return `≥${formatDuration(Number(end) - Number(n.start_ns))}`;
  return '';
}

/**
 * The users its images ran as, in order (`root→nobody`, `0→65534` after a setuid program):
 * by the recording host's names when the file has them, as ps shows them, else by uid.
 */
function uidText(n: ProcessNode, users: Record<string, string> | null): string {
  const seq: number[] = [];
  for (const i of n.images) if (i.uid !== null && seq[seq.length - 1] !== i.uid) seq.push(i.uid);
  return seq.length ? seq.map((u) => users?.[String(u)] ?? String(u)).join('→') : '?';
}

const base = (t: Text): string => {
  const s = displayText(t);
  return s.slice(s.lastIndexOf('/') + 1);
};

/** One image: its argv, the file when argv[0] does not name it, and what was unusual about the exec. */
function imageText(i: ProcessImage): string {
  const argv = i.argv;
  let s = argv && argv.length ? commandLine(argv) : `[${i.comm}]`;
  if (i.filename !== null && (!argv || !argv.length || base(argv[0]) !== base(i.filename))) s += ` (${displayText(i.filename)})`;
  const marks = [...(i.flags ?? [])];
  if (i.truncated) marks.push('truncated');
  if (i.thread !== undefined) marks.push(`exec by thread ${i.thread}`);
  return marks.length ? `${s} [${marks.join(', ')}]` : s;
}

/** The COMMAND cell: the exec chain, then the failed execs and what else a reader should know. */
function processText(n: ProcessNode): string {
  const imgs = n.images;
  // A fork's image is its parent's program: shown only for a process that never exec'd.
  const chain = imgs.length > 1 && imgs[0].how === 'fork' ? imgs.slice(1) : imgs;
  const parts = chain.map(imageText);
  if (n.images_omitted > 0) parts.splice(1, 0, `… ${n.images_omitted} more`);
  let s = parts.length ? parts.join(' → ') : `[${n.comm}]`;
  if (imgs.length === 1 && imgs[0].how === 'fork') s += '  [no exec]';
  for (const x of n.failed_execs) s += `  ✗ ${x.argv && x.argv.length ? commandLine(x.argv) : displayText(x.filename ?? '?')} = ${x.errno ?? x.error_code}`;
  if (n.failed_omitted > 0) s += `  ✗ … ${n.failed_omitted} more`;
  const notes: string[] = [];
  if (n.reparented) notes.push(`reparented to ${n.reparented.ppid}`);
  if (n.origin === 'unseen') notes.push('fork not in the file');
  if (n.ancestry_cut) notes.push('ancestry cut');
  if (notes.length) s += `  [${notes.join('; ')}]`;
  return s;
}
