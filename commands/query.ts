import {Args, Flags} from '@oclif/core';
import {BaseCommand, EXIT} from '../src/cli/base';
import {filterFlags, traceOptions} from '../src/cli/filter-flags';
import {inputFile} from '../src/cli/stdin';
import {formatCsv, formatJson, formatTable, query, UsageError} from '../src';

export default class Query extends BaseCommand {
  static override summary = 'Run SQL over trace files and exported Parquet with embedded DuckDB (optional dependency).';
  static override description = `The views: events (one row per event, the columns of export: \
formats/parquet-schema.md), lost (its rows of type 'lost') and totals (per input file: complete, lost, the \
recorder's counters). FILE is a trace file (exported to a private temporary Parquet file first, removed \
after), a Parquet file, a directory of them (hive partitions host=…/date=… become columns) or a glob. DuckDB \
(@duckdb/node-api) is loaded only by this command; where it is missing, the error says how to install it.`;

  static override examples = [
    `<%= config.bin %> query "SELECT comm, count(*) AS n FROM events WHERE type = 'exec' GROUP BY comm ORDER BY n DESC LIMIT 10" trace.bin`,
    `<%= config.bin %> query "SELECT host, sum(lost) FROM totals GROUP BY host" fleet/ fleet-totals.parquet`,
    `<%= config.bin %> query --json "SELECT pid, argv FROM events WHERE type = 'exec'" 'fleet/**/*.parquet'`,
  ];

  static override strict = false;

  static override args = {
    sql: Args.string({description: 'the SQL: SELECT … FROM events (or lost, totals)', required: true}),
    file: Args.string({description: 'trace files, Parquet files, directories of them, globs (- for a trace on standard input)', required: true}),
  };

  static override flags = {
    ...filterFlags,
    json: Flags.boolean({description: 'one JSON object per row (NDJSON)', exclusive: ['csv']}),
    csv: Flags.boolean({description: 'CSV (RFC 4180) with a header row', exclusive: ['json']}),
    processes: Flags.boolean({description: 'trace files: include the processes alive at start (type "process")', default: true, allowNo: true}),
  };

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Query);
    const [sql, ...files] = argv as string[];
    if (files.filter((f) => f === '-').length > 1) throw new UsageError('- (standard input) can be given once');
    const inputs: string[] = [];
    for (const f of files) inputs.push(await inputFile(f));
    let damaged = false;
    const progress = this.startProgress();
    const r = await query(sql, inputs, {
      trace: {...traceOptions(flags), processes: flags.processes}, names: files, onProgress: progress.update,
      onProblem: (file, p) => {
        damaged = true;
        this.warnLine(`${file}: ${p.message}`);
      },
    });
    progress.end();
    process.stdout.write(flags.json ? formatJson(r) : flags.csv ? formatCsv(r) : formatTable(r));
    if (damaged) process.exitCode = EXIT.damaged;
  }
}
