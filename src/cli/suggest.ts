// "did you mean …?" for a mistyped command: the nearest name by edit distance, offered only
// when it is near enough that the user plausibly meant it (a wild guess misleads more than
// the plain list of commands).

/** Levenshtein distance, with a transposition counted as one edit (`decdoe` → `decode`). */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

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
