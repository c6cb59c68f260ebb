// The `syscalls` metadata key of a trace file (formats/trace-format.md, "Syscalls"): plain
// data, written at record time and read by the decoder. Types only, no imports from the
// record side, so the offline side can use them anywhere.

import type { RecordLayout } from '../btf';

/**
 * What is captured from an argument's memory (formats/trace-format.md §10.11): nothing, a
 * string, bytes, a struct, a socket address, an fd_set, an array of structs, an iovec
 * vector with its first bytes, a msghdr with its address and iovec.
 */
export type ArgKind = 'value' | 'str' | 'buf' | 'struct' | 'sockaddr' | 'fdset' | 'array' | 'iovec' | 'msghdr';

/** When a capture is taken: at entry, at exit, or both (the memory before and after the call). */
export type Capture = 'in' | 'out' | 'inout';

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
  /** Every kind but value: captured at entry ('in'), at exit ('out'), or both ('inout'). */
  capture?: Capture;
  /** struct, msghdr: the key of its layout in `syscalls.structs`. */
  struct?: string;
  /** array, iovec, msghdr: the key in `syscalls.structs` of one element's layout (pollfd, iovec). */
  elem?: string;
  /**
   * buf, sockaddr: the index of the argument that holds the length in bytes; array, iovec:
   * the element count; fdset: the descriptor count (select's n).
   */
  len_arg?: number;
  /** buf, sockaddr: len_arg points to the length (an int), read after the call, at most its value before. */
  len_ptr?: boolean;
  /** buf (out): at most `ret` bytes are captured (none when ret < 0); array: ret elements; iovec, msghdr: at most ret bytes of data. */
  len_ret?: boolean;
  /** sockaddr, fdset: the most bytes captured; msghdr: of its msg_name. */
  max?: number;
  /** array: the most elements captured; iovec, msghdr: the most elements of the vector described. */
  max_count?: number;
  /** array: the fields of an element that the call writes (poll's revents), meaningless at entry. */
  out_fields?: string[];
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
