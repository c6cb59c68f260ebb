// The files of a rotated recording taken together (formats/trace-format.md §10.19, §8.7):
// what one file says of its place in its series, and the check of a series' links that
// `exectrace verify` runs over several files — which file is missing (by its number), which
// link is broken, which file is given twice. Offline-safe; reads only what verify read.

import type {MetaMap, MetaValue} from './meta';
import type {VerifyReport} from './verify';

/** SeriesPlace is what a file says of its place in a series (its META's `series`, its trailer's `series.next`). */
export interface SeriesPlace {
  id: string;
  seq: number;
  /** The file began its recording (no file before it). */
  first: boolean;
  /** The file before it: its name, number and chain head (null in a first file). */
  prev: {file: string; seq: number; chain_head: string} | null;
  /**
   * The file the recording went on in (its name), null when it ended in this one, undefined
   * when the file has no readable trailer (still being written, or cut).
   */
  next?: string | null;
  /** What in `series` could not be read (then the fields above are what could). */
  malformed?: string;
}

const isMap = (v: MetaValue | undefined): v is {[key: string]: MetaValue} =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
const isSeq = (v: MetaValue | undefined): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
const isHash = (v: MetaValue | undefined): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/**
 * seriesPlace returns the file's place in its series, or null when it is not a file of a series — a file that
 * `filter` wrote from one keeps its source's `series` key, as every other key, but is a
 * subset, not that file.
 */
export function seriesPlace(meta: MetaMap, trailer: MetaMap | null): SeriesPlace | null {
  const s = meta.series;
  if (s === undefined || s === null || meta.filter !== undefined) return null;
  if (!isMap(s)) return {id: '', seq: 0, first: false, prev: null, malformed: 'the metadata\'s series is not a map'};
  const problems: string[] = [];
  const id = typeof s.id === 'string' && /^[0-9a-f]{32}$/.test(s.id) ? s.id : (problems.push('id'), typeof s.id === 'string' ? s.id.slice(0, 64) : '');
  const seq = isSeq(s.seq) ? s.seq : (problems.push('seq'), 0);
  const first = s.first === true;
  let prev: SeriesPlace['prev'] = null;
  if (isMap(s.prev)) {
    const p = s.prev;
    if (typeof p.file === 'string' && isSeq(p.seq) && isHash(p.chain_head)) prev = {file: p.file.slice(0, 4096), seq: p.seq, chain_head: p.chain_head};
    else problems.push('prev');
  } else if (s.prev !== null && s.prev !== undefined) problems.push('prev');
  const place: SeriesPlace = {id, seq, first, prev};
  const t = trailer?.series;
  if (trailer) {
    if (isMap(t) && (t.next === null || typeof t.next === 'string')) place.next = t.next === null ? null : t.next.slice(0, 4096);
    else problems.push('the trailer\'s series');
  }
  if (problems.length) place.malformed = `unreadable series keys: ${problems.join(', ')}`;
  return place;
}

/**
 * SeriesFindingKind: what verify finds wrong with a series.
 * file-missing: no file given has a number between the lowest and the highest, or the last
 *   one given says the recording went on in another.
 * link-broken: a file's record of the one before it (its chain head, its number) does not
 *   match that file; or its series keys are unreadable.
 * file-repeated: two files given have the same number.
 * series-start: the first file given did not begin its recording (informative).
 */
export type SeriesFindingKind = 'file-missing' | 'link-broken' | 'file-repeated' | 'series-start';

/** SeriesFinding is one finding of verifySeries, with the file number and name concerned. */
export interface SeriesFinding {
  kind: SeriesFindingKind;
  /** The file number concerned (for a broken link, the later file's). */
  seq: number | null;
  /** Its file name, when known (a missing file's, from its neighbour). */
  file: string | null;
  message: string;
}

/** SeriesReport is verifySeries' verdict on one series. */
export interface SeriesReport {
  id: string;
  /** The files given, by number. */
  files: {seq: number; file: string; intact: boolean}[];
  /** The first file given began the recording, and the last one given ended it. */
  whole: boolean;
  /** Every file intact, every link whole, none missing (series-start aside). */
  intact: boolean;
  findings: SeriesFinding[];
}

/** verifySeries groups the reports of files of a series by series id and checks each series' links (spec §8.7); it reads no file. */
export function verifySeries(reports: VerifyReport[]): SeriesReport[] {
  const groups = new Map<string, VerifyReport[]>();
  for (const r of reports) {
    if (!r.series) continue;
    const g = groups.get(r.series.id);
    if (g) g.push(r);
    else groups.set(r.series.id, [r]);
  }
  return [...groups].map(([id, rs]) => checkSeries(id, rs));
}

function checkSeries(id: string, rs: VerifyReport[]): SeriesReport {
  const findings: SeriesFinding[] = [];
  const sorted = [...rs].sort((a, b) => a.series!.seq - b.series!.seq);
  const bySeq = new Map<number, VerifyReport>();
  for (const r of sorted) {
    const p = r.series!;
    if (p.malformed) {
      findings.push({kind: 'link-broken', seq: p.seq || null, file: r.file, message: `${r.file}: ${p.malformed}`});
      continue;
    }
    const had = bySeq.get(p.seq);
    if (had) {
      findings.push({kind: 'file-repeated', seq: p.seq, file: r.file, message: `seq ${p.seq} is given twice: ${had.file} and ${r.file}`});
      continue;
    }
    bySeq.set(p.seq, r);
  }
  const seqs = [...bySeq.keys()].sort((a, b) => a - b);
  const lo = seqs[0];
  const hi = seqs[seqs.length - 1];
  if (lo !== undefined) {
    const first = bySeq.get(lo)!;
    if (!first.series!.first) {
      const before = first.series!.prev;
      findings.push({
        kind: 'series-start', seq: lo, file: first.file,
        message: `the series begins before ${first.file} (seq ${lo})${before ? `, after ${before.file} (seq ${before.seq})` : ''}: ` +
          'the earlier files are not given (--max-files removes the oldest)',
      });
    }
    for (let s = lo; s < hi; s++) {
      const a = bySeq.get(s);
      const b = bySeq.get(s + 1);
      if (!b) {
        // The first of a run of missing numbers: its name from its neighbours, when they say it.
        if (a) {
          let end = s + 1;
          while (!bySeq.has(end + 1)) end++;
          const after = bySeq.get(end + 1)!;
          const names = [a.series!.next, after.series!.prev?.seq === end ? after.series!.prev.file : null].filter((n): n is string => !!n);
          const which = end === s + 1 ? `seq ${s + 1}` : `seq ${s + 1} to ${end}`;
          findings.push({
            kind: 'file-missing', seq: s + 1, file: names[0] ?? null,
            message: `${which}${names.length ? ` (${[...new Set(names)].join(', ')}${end > s + 1 ? ' …' : ''})` : ''} missing: ` +
              `between ${a.file} (seq ${s}) and ${after.file} (seq ${end + 1})`,
          });
        }
        continue;
      }
      if (!a) continue;
      const link = b.series!;
      // The chain head is what links two files, not their names: a renamed file still links.
      const why: string[] = [];
      if (link.first) why.push('it says it began a recording');
      else if (!link.prev) why.push('it names no file before it');
      else {
        if (link.prev.seq !== s) why.push(`it names seq ${link.prev.seq} before it`);
        if (link.prev.chain_head !== a.chain_head) {
          why.push(`it names chain head ${link.prev.chain_head} for ${link.prev.file}, and ${a.file} has ${a.chain_head || '(none)'}`);
        }
      }
      if (a.series!.next === null) why.push(`${a.file} says the recording ended in it`);
      if (why.length) {
        findings.push({kind: 'link-broken', seq: s + 1, file: b.file, message: `link from ${a.file} (seq ${s}) to ${b.file} (seq ${s + 1}) is broken: ${why.join('; ')}`});
      }
    }
    const last = bySeq.get(hi)!;
    if (typeof last.series!.next === 'string') {
      findings.push({
        kind: 'file-missing', seq: hi + 1, file: last.series!.next,
        message: `seq ${hi + 1} (${last.series!.next}) missing: ${last.file} (seq ${hi}) says the recording went on in it`,
      });
    }
  }
  const first = lo !== undefined ? bySeq.get(lo)!.series! : undefined;
  const end = hi !== undefined ? bySeq.get(hi)!.series! : undefined;
  return {
    id,
    files: sorted.map((r) => ({seq: r.series!.seq, file: r.file, intact: r.intact})),
    whole: !!first?.first && end?.next === null && findings.length === 0,
    intact: rs.every((r) => r.intact) && findings.every((f) => f.kind === 'series-start'),
    findings,
  };
}
