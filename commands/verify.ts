import * as fs from 'node:fs';
import * as path from 'node:path';
import {Args, Flags} from '@oclif/core';
import {inputFile} from '../src/cli/stdin';
import {BaseCommand, EXIT} from '../src/cli/base';
import {toJson, type SeriesReport, type VerifyReport, verifySeries, verifyTrace} from '../src';
import {expandFiles} from '../src/cli/files';

export default class Verify extends BaseCommand {
  static override summary = 'Check a trace file\'s integrity: checksums, hash chain, sequence, trailer (no root needed).';
  static override description = `Reports whether the file is intact, or truncated, modified (which block: seq \
and file offset), reordered, missing blocks, or without a consistent trailer, and prints the SHA-256 of the \
whole file and its chain head for a chain-of-custody log. With --chain-head, a chain head kept from an earlier \
run also catches a file cut or extended at a block boundary. Given several files (or a pattern, quoted or not: \
'trace-*.bin'), verify checks each, then the links between the files of a rotated recording (record \
--rotate-size/--rotate-time): which file is missing, by its number, and which link is broken. Exit status: \
0 intact, 3 damaged or incomplete, 1 unreadable.`;

  static override examples = [
    '<%= config.bin %> verify trace.bin',
    '<%= config.bin %> verify trace.bin --json | jq .sha256',
    '<%= config.bin %> verify /var/log/exectrace/trace-*.bin   # a rotated series, file by file and link by link',
    '<%= config.bin %> verify trace.bin --chain-head 9f17c673ef26ea6312208e9e6c4bdf0871f7442b4e4ae3e7f6d7219886f80fa5',
  ];

  static override strict = false;
  static override args = {
    file: Args.string({description: 'trace file written by `exectrace record` (several, or a pattern: the files of a series)', required: true}),
  };

  static override flags = {
    json: Flags.boolean({description: 'print the report as one JSON object'}),
    'chain-head': Flags.string({description: 'the chain head the file should have (64 hex digits, from an earlier verify)'}),
  };

  async run(): Promise<void> {
    const {args, argv, flags} = await this.parse(Verify);
    const expect = flags['chain-head'];
    if (expect !== undefined && !/^[0-9a-fA-F]{64}$/.test(expect)) {
      this.error('--chain-head must be 64 hex digits (a SHA-256, as verify prints it)', {exit: EXIT.usage});
    }
    const given = argv as string[];
    const files = expandFiles(given);
    if (files.length === 1 && given.length === 1 && files[0] === given[0]) {
      const input = await inputFile(args.file);
      const progress = this.startProgress();
      const r = verifyTrace(input, {expectChainHead: expect, onProgress: progress.update});
      progress.end();
      // Standard input was read from a copy: the report names it as it was given.
      const shown = {...r, file: args.file};
      process.stdout.write(flags.json ? toJson(shown) + '\n' : humanReport(shown));
      process.exitCode = r.intact ? EXIT.ok : EXIT.damaged;
      return;
    }
    if (expect !== undefined) this.error('--chain-head checks one file: give one FILE with it', {exit: EXIT.usage});
    if (files.includes('-')) this.error('-: standard input holds one file: verify it alone', {exit: EXIT.usage});
    for (const f of files) if (!fs.existsSync(f)) this.error(`${f}: no such file`, {exit: EXIT.usage});
    const reports = files.map((f) => {
      const progress = this.startProgress({label: `verify ${path.basename(f)}`});
      try {
        return verifyTrace(f, {onProgress: progress.update});
      } catch (err) {
        // Unreadable as a trace at all: say which of the files.
        const msg = (err as Error).message;
        throw Object.assign(new Error(msg.includes(f) ? msg : `${f}: ${msg}`), {exitCode: EXIT.error});
      } finally {
        progress.end();
      }
    });
    const series = verifySeries(reports);
    const intact = reports.every((r) => r.intact) && series.every((s) => s.intact);
    process.stdout.write(flags.json
      ? toJson({intact, files: reports, series}) + '\n'
      : reports.map(humanReport).join('') + series.map(seriesReport).join(''));
    process.exitCode = intact ? EXIT.ok : EXIT.damaged;
  }
}

/** seriesReport is a series' verdict for people, after its files' reports: its files by number, then what is wrong with its links. */
export function seriesReport(s: SeriesReport): string {
  const kinds = [...new Set(s.findings.filter((f) => f.kind !== 'series-start').map((f) => f.kind))];
  const nums = s.files.map((f) => f.seq);
  const damaged = s.files.filter((f) => !f.intact).map((f) => f.seq);
  const verdict = kinds.length || damaged.length
    ? `NOT INTACT (${[...(damaged.length ? [`damaged files: seq ${damaged.join(', ')}`] : []), ...kinds].join(', ')})`
    : s.whole ? 'intact, whole (from the file that began the recording to the one that ended it)' : 'intact';
  const lines = [`series ${s.id}: ${plural(s.files.length, 'file')}, seq ${Math.min(...nums)}–${Math.max(...nums)}: ${verdict}`];
  const w = Math.max(...s.findings.map((f) => f.kind.length), 12);
  for (const f of s.findings) lines.push(`  ${f.kind.padEnd(w)}  ${f.message}`);
  return lines.join('\n') + '\n';
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

export function humanReport(r: VerifyReport): string {
  const kinds = [...new Set(r.findings.map((f) => f.kind))];
  const lines = [`${r.file}: ${r.intact ? 'intact' : `NOT INTACT (${kinds.join(', ')})`}`];
  const w = Math.max(...r.findings.map((f) => f.kind.length), 10);
  for (const f of r.findings) lines.push(`  ${f.kind.padEnd(w)}  ${f.message}`);
  const trailer = r.complete ? `trailer${r.end_reason ? ` (${r.end_reason})` : ''}` : 'no valid trailer';
  lines.push(`  ${'contents'.padEnd(w)}  format ${r.version}, ${plural(r.chunks, 'readable chunk')} (${plural(r.records, 'record')}), ${trailer}`);
  lines.push(`  ${'size'.padEnd(w)}  ${r.size} bytes`);
  lines.push(`  ${'sha256'.padEnd(w)}  ${r.sha256}`);
  lines.push(`  ${'chain head'.padEnd(w)}  ${r.chain_head || '(none: no complete block after the file header)'}`);
  return lines.join('\n') + '\n';
}
