// Names in BTF and ELF string tables are bytes chosen by whoever wrote the
// file. Error messages must stay one line whatever those bytes are, so names
// go through printable() before they are quoted in a message.

/** s with every character outside printable ASCII written as \xNN or \u{...}. */
export function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/gu, (c) => {
    const cp = c.codePointAt(0)!;
    return cp <= 0xff ? `\\x${cp.toString(16).padStart(2, '0')}` : `\\u{${cp.toString(16)}}`;
  });
}
