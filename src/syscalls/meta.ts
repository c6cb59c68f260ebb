// The `syscalls` metadata key of a trace file (formats/trace-format.md, "Syscalls"): plain
// data, written at record time and read by the decoder. Types only, no imports from the
// record side, so the offline side can use them anywhere.

import type { RecordLayout } from '../btf';

export type ArgKind = 'value' | 'str' | 'buf' | 'struct';

/** One argument of a syscall, and what the recorder captures from the memory it points to. */
export interface ArgInfo {
  /** As in the tracepoint's format file ('filename'), or arg0..arg5 when the syscall has none. */
  name: string;
  /** The C type as in the format file ('const char *', 'umode_t'); 'unsigned long' for argN. */
  type: string;
  /**
   * Bytes of the C type (not of the tracepoint field, which is always 8): the meaningful low
   * bytes of the 64-bit register value in et_sys_enter/et_sys_exit.args. Pointers are 8.
   */
  size: 1 | 2 | 4 | 8;
  /** Whether those bytes are a signed (two's complement) integer. */
  signed: boolean;
  kind: ArgKind;
  /** str, buf, struct: captured at entry ('in') or at exit ('out'). */
  capture?: 'in' | 'out';
  /** struct: the key of its layout in `syscalls.structs`. */
  struct?: string;
  /** buf: the index of the argument that holds the buffer's length in bytes. */
  len_arg?: number;
  /** buf (out): at most `ret` bytes are captured (none when ret < 0). */
  len_ret?: boolean;
}

export interface SyscallsMeta {
  /** uname -m spelling of the architecture the numbers belong to. */
  arch: string;
  /** Every syscall of the architecture's table: number (decimal string) → name. */
  table: { [nr: string]: string };
  /** Numbers of the recorded syscalls, ascending. */
  traced: number[];
  /**
   * With --syscall: the numbers among `traced` that were not asked for but recorded so that
   * descriptors and paths can be resolved (the calls that make, change or end them).
   */
  implicit?: number[];
  /** For each traced number (decimal string): its arguments, in order. */
  args: { [nr: string]: ArgInfo[] };
  /**
   * Layouts of the memory `struct` captures hold, by ArgInfo.struct: kernel structs from the
   * kernel's BTF (bitfields left out), and scalars read through a pointer (pipe's int[2]),
   * whose layout has one field named `value`.
   */
  structs: { [name: string]: RecordLayout };
  options: { max_str: number; max_bytes: number; comm: string[] };
}
