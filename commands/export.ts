import {Args, Flags} from '@oclif/core';
import {BaseCommand, EXIT} from '../src/cli/base';
import {filterFlags, traceOptions} from '../src/cli/filter-flags';
import {inputFile} from '../src/cli/stdin';
import {exportTraces, type PartitionKey, type Schema, UsageError} from '../src';

export default class Export extends BaseCommand {
  static override summary = 'Export trace files as Parquet tables for DuckDB, Spark, Trino, pandas/pyarrow (no root needed).';
  static override description = `One row per event (the same events as decode --json), typed columns for the \
common fields and each event type's own (formats/parquet-schema.md), zstd compressed, written with exectrace's \
own streaming writer: memory stays flat however large the input, and no database is needed. Every row carries \
host, boot_id and exec_id; lost-event markers are rows of type "lost"; --totals writes the recorder's counters \
per input file, so a query over many hosts can say what it could not see. Outputs are created with mode 0600. \
Damaged input is exported as far as it is intact, each problem reported on one line, exit status 3.`;

  static override examples = [
    '<%= config.bin %> export trace.bin -o events.parquet',
    '<%= config.bin %> export /var/log/exectrace/*.bin -o out/            # one file per input',
    '<%= config.bin %> export host-*.bin --partition host,date -o fleet/ --totals fleet-totals.parquet',
    '<%= config.bin %> export trace.bin --type exec --type exec_failed -o execs.parquet',
    '<%= config.bin %> export trace.bin --schema ecs -o ecs.parquet              # Elastic Common Schema documents',
  ];

  static override strict = false;

  static override args = {
    file: Args.string({description: 'trace files written by `exectrace record` (- for standard input)', required: true}),
  };

  static override flags = {
    ...filterFlags,
    format: Flags.string({description: 'output format', options: ['parquet'], default: 'parquet'}),
    output: Flags.string({char: 'o', description: 'a .parquet file (all inputs), or DIR/ for one file per input or for --partition', required: true}),
    partition: Flags.string({description: 'write DIR/host=H/date=YYYY-MM-DD/part-N.parquet (hive style): host, date or host,date'}),
    totals: Flags.string({description: 'also write the totals table (per input file: complete, lost, the recorder\'s counters) to this .parquet file'}),
    force: Flags.boolean({char: 'f', description: 'replace output files that exist'}),
    'row-group': Flags.integer({description: 'rows per row group', default: 131072, min: 1}),
    level: Flags.integer({description: 'zstd compression level', default: 1, min: 1, max: 19}),
    processes: Flags.boolean({description: 'include the processes alive at start (type "process")', default: true, allowNo: true}),
    ancestors: Flags.boolean({description: 'give exec and exec_failed rows their ancestors (JSON text)'}),
    schema: Flags.string({
      description: 'map each event onto Elastic Common Schema or OCSF, as decode --schema does: a row per event with the mapped document (JSON text) and its key fields as columns named as the standard names them (formats/parquet-schema.md)',
      options: ['ecs', 'ocsf'],
    }),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Export);
    const files = argv as string[];
    let partition: PartitionKey[] | undefined;
    if (flags.partition !== undefined) {
      partition = [];
      for (const k of flags.partition.split(',').map((s) => s.trim())) {
        if (k !== 'host' && k !== 'date') throw new UsageError(`--partition: unknown key "${k}" (host, date or host,date)`);
        if (!partition.includes(k)) partition.push(k);
      }
    }
    const inputs: string[] = [];
    for (const f of files) inputs.push(await inputFile(f));
    if (inputs.filter((f, i) => files[i] === '-').length > 1) throw new UsageError('- (standard input) can be given once');
    let damaged = false;
    const progress = this.startProgress();
    const r = exportTraces(inputs, {
      onProgress: progress.update,
      output: flags.output, partition, totals: flags.totals, schema: flags.schema as Schema | undefined, names: files, force: flags.force, rowGroupRows: flags['row-group'], level: flags.level,
      trace: {...traceOptions(flags), processes: flags.processes, ancestors: flags.ancestors},
      onProblem: (file, p) => {
        damaged = true;
        this.warnLine(`${file}: ${p.message}`);
      },
    });
    progress.end();
    for (const f of r.files) {
      if (!f.complete && !damaged) this.warnLine(`${f.file}: no trailer: the recording did not end cleanly (everything up to the last chunk was exported)`);
    }
    const lost = r.files.reduce((n, f) => n + f.lost, 0);
    const events = r.outputs.filter((o) => o !== flags.totals);
    const outs = events.length === 1 ? events[0] : `${events.length} files under ${flags.output}`;
    const totals = flags.totals ? `, totals in ${flags.totals}` : '';
    this.warnLine(`exported ${r.rows} rows from ${r.files.length} file${r.files.length === 1 ? '' : 's'} into ${outs}${totals}${lost ? ` (${lost} events lost in recording, as "lost" rows)` : ''}`);
    if (damaged || r.files.some((f) => !f.complete)) process.exitCode = EXIT.damaged;
  }
}
