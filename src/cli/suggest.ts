// "did you mean …?" for a mistyped command: the nearest name by edit distance, offered only
// when it is near enough that the user plausibly meant it (a wild guess misleads more than
// the plain list of commands).

import {editDistance} from '../util/suggest';

/** The name `typed` most likely stands for, or null when none is close. */
export function closest(typed: string, names: readonly string[]): string | null {
  const t = typed.toLowerCase();
  // A unique prefix (`dec`, `stat`) is what the user started to type.
  const prefixed = names.filter((n) => t.length >= 2 && n.startsWith(t));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | null = null;
  let bestD = Infinity;
  for (const n of names) {
    const d = editDistance(t, n);
    if (d < bestD) {
      best = n;
      bestD = d;
    }
  }
  // Two edits for names of five letters or more, one below: `decod`, `flter`, `vrify`.
  return best !== null && bestD <= (best.length >= 5 ? 2 : 1) ? best : null;
}

/** The one line for a command that does not exist, with the likely one or the list. */
export function unknownCommandLine(bin: string, typed: string, names: readonly string[]): string {
  const visible = [...names].sort();
  if (typed.startsWith('-')) return `${bin}: unknown option ${typed} (give a command first: ${visible.join(', ')}; see ${bin} --help)`;
  const near = closest(typed, visible);
  return near
    ? `${bin}: unknown command '${typed}': did you mean ${near}?`
    : `${bin}: unknown command '${typed}' (commands: ${visible.join(', ')}; see ${bin} --help)`;
}
