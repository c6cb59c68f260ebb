import {Args, Flags} from '@oclif/core';
import {BaseCommand} from '../src/cli/base';
import {recoverTrace, toJson} from '../src';

export default class Recover extends BaseCommand {
  static override summary = 'Write a clean trace file from what survives of a damaged, cut or unfinished one (no root needed).';
  static override description = `Keeps the metadata (with a recovered_from note: the source's name, SHA-256 and \
every problem verify finds), copies each intact chunk byte for byte and re-chains it, keeps the intact records of a \
chunk whose framing broke, and rebuilds the trailer from the records that survived (end_reason "recovered"; \
the kernel's sent/lost counters are kept when the original trailer is readable). Problems are reported on \
stderr, as decode reports them. The output is created with mode 0600; an existing one is replaced only with --force.`;

  static override examples = [
    '<%= config.bin %> recover killed.bin -o fixed.bin',
    '<%= config.bin %> recover damaged.bin -o fixed.bin --force && <%= config.bin %> verify fixed.bin',
  ];

  static override args = {
    file: Args.string({description: 'damaged or unfinished trace file', required: true}),
  };

  static override flags = {
    output: Flags.string({char: 'o', description: 'trace file to write', required: true}),
    force: Flags.boolean({char: 'f', description: 'overwrite the output file if it exists'}),
    json: Flags.boolean({description: 'print the summary as one JSON object'}),
  };

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Recover);
    const progress = this.startProgress();
    const r = recoverTrace(args.file, flags.output, {
      force: flags.force, onProgress: progress.update,
      onFinding: (f) => this.warnLine(`${args.file}: ${f.message}`),
    });
    progress.end();
    if (r.layouts_error) {
      this.warnLine(`${args.file}: its metadata cannot be decoded (${r.layouts_error}): chunks copied as stored, but decode will refuse ${r.output} too`);
    }
    if (flags.json) {
      process.stdout.write(toJson(r) + '\n');
      return;
    }
    const lost = r.records_dropped ? `; ${r.records_dropped} records could not be kept` : '';
    const trailer = r.trailer === 'original' ? 'trailer rebuilt, keeping the original\'s kernel counters' : 'trailer rebuilt from the records (the original was missing or unreadable)';
    process.stdout.write(
      `${r.output}: ${r.chunks} chunk${r.chunks === 1 ? '' : 's'} (${r.records} records) recovered from ${r.input}` +
        ` (${r.findings.length ? `${r.findings.length} problem${r.findings.length === 1 ? '' : 's'}` : 'it was intact'}${lost}); ${trailer}\n` +
        `  sha256 of ${r.input}: ${r.input_sha256}\n` +
        `  chain head of ${r.output}: ${r.chain_head}\n`,
    );
  }
}
