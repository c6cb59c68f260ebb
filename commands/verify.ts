import {Args, Flags} from '@oclif/core';
import {inputFile} from '../src/cli/stdin';
import {BaseCommand, EXIT} from '../src/cli/base';
import {toJson, type VerifyReport, verifyTrace} from '../src';

export default class Verify extends BaseCommand {
  static override summary = 'Check a trace file\'s integrity: checksums, hash chain, sequence, trailer (no root needed).';
  static override description = `Reports whether the file is intact, or truncated, modified (which block: seq \
and file offset), reordered, missing blocks, or without a consistent trailer, and prints the SHA-256 of the \
whole file and its chain head for a chain-of-custody log. With --chain-head, a chain head kept from an earlier \
run also catches a file cut or extended at a block boundary. Exit status: 0 intact, 3 damaged or \
incomplete, 1 unreadable.`;

  static override examples = [
    '<%= config.bin %> verify trace.bin',
    '<%= config.bin %> verify trace.bin --json | jq .sha256',
    '<%= config.bin %> verify trace.bin --chain-head 9f17c673ef26ea6312208e9e6c4bdf0871f7442b4e4ae3e7f6d7219886f80fa5',
  ];

  static override args = {
    file: Args.string({description: 'trace file written by `exectrace record`', required: true}),
  };

  static override flags = {
    json: Flags.boolean({description: 'print the report as one JSON object'}),
    'chain-head': Flags.string({description: 'the chain head the file should have (64 hex digits, from an earlier verify)'}),
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Verify);
    const input = await inputFile(args.file);
    const expect = flags['chain-head'];
    if (expect !== undefined && !/^[0-9a-fA-F]{64}$/.test(expect)) {
      this.error('--chain-head must be 64 hex digits (a SHA-256, as verify prints it)', {exit: EXIT.usage});
    }
    const progress = this.startProgress();
    const r = verifyTrace(input, {expectChainHead: expect, onProgress: progress.update});
    progress.end();
    // Standard input was read from a copy: the report names it as it was given.
    const shown = {...r, file: args.file};
    process.stdout.write(flags.json ? toJson(shown) + '\n' : humanReport(shown));
    process.exitCode = r.intact ? EXIT.ok : EXIT.damaged;
  }
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
