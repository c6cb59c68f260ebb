// "did you mean …?": the names nearest to what was typed, by edit distance, offered only
// when near enough that the user plausibly meant them (a wild guess misleads more than none).

/**
 * The candidates closest to `word`, up to `max` of them (ties only: a farther match is noise
 * next to a close one). Close: a small edit distance, transpositions counting 1 ('opneat' →
 * openat), or `word` at the start of a candidate ('sock' → socket), or inside one, as libc
 * names are inside kernel ones ('fstatat' → newfstatat).
 */
export function closeMatches(word: string, candidates: readonly string[], max: number): string[] {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.min(3, Math.floor(w.length / 3)));
  const scored: [number, string][] = [];
  for (const c of new Set(candidates)) {
    const inside = w.length >= 4 ? c.indexOf(w) : -1;
    const d = inside === 0 ? 1 : inside > 0 ? 1.5 : editDistance(w, c, limit);
    if (d <= limit) scored.push([d, c]);
  }
  if (scored.length === 0) return [];
  const best = Math.min(...scored.map(([d]) => d));
  return scored
    .filter(([d]) => d === best)
    .map(([, c]) => c)
    .sort()
    .slice(0, max);
}

/** Optimal string alignment distance; returns limit + 1 as soon as it must exceed limit. */
export function editDistance(a: string, b: string, limit = Infinity): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      cur.push(d);
      best = Math.min(best, d);
    }
    if (best > limit) return limit + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[b.length];
}

