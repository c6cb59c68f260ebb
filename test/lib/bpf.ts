// Which BPF objects a process holds, and whether the kernel still has them: for the tests
// that check a recording leaves nothing of ours loaded, however it ended. Ids come from the
// process's own fds (/proc/PID/fdinfo), so other BPF users on the machine do not count.

import * as fs from 'node:fs';
import {spawnSync} from 'node:child_process';

export interface BpfIds {
  prog: number[];
  map: number[];
  link: number[];
}

/** The BPF programs, maps and links process `pid` holds an fd to. */
export function bpfIdsOf(pid: number | 'self'): BpfIds {
  const out: BpfIds = {prog: [], map: [], link: []};
  let fds: string[];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    let info: string;
    try {
      if (!/^anon_inode:bpf[-_](prog|map|link)$/.test(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))) continue;
      info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile
    }
    const m = /^(prog|map|link)_id:\s*(\d+)$/m.exec(info);
    if (m) out[m[1] as keyof BpfIds].push(Number(m[2]));
  }
  return out;
}

/** Every BPF program, map and link id loaded in the kernel now (bpftool). */
export function loadedIds(): BpfIds {
  const list = (what: string): number[] => {
    const r = spawnSync('bpftool', ['-j', what, 'list'], {encoding: 'utf8'});
    if (r.status !== 0) throw new Error(`bpftool ${what} list: ${r.stderr.trim()}`);
    return (JSON.parse(r.stdout || '[]') as {id: number}[]).map((x) => x.id);
  };
  return {prog: list('prog'), map: list('map'), link: list('link')};
}

/** Which of `ids` the kernel still holds after waiting up to `ms` (it frees them asynchronously once the fds close). */
export async function stillLoaded(ids: BpfIds, ms = 5000): Promise<BpfIds> {
  const deadline = Date.now() + ms;
  for (;;) {
    const now = loadedIds();
    const left: BpfIds = {
      prog: ids.prog.filter((id) => now.prog.includes(id)),
      map: ids.map.filter((id) => now.map.includes(id)),
      link: ids.link.filter((id) => now.link.includes(id)),
    };
    if ((!left.prog.length && !left.map.length && !left.link.length) || Date.now() >= deadline) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const NONE: BpfIds = {prog: [], map: [], link: []};
