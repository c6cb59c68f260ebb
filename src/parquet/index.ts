// Parquet, write side: a streaming writer of our own, so that `exectrace export` needs no
// dependency beyond zstd-napi and holds one row group in memory whatever the input's size.
// The subset of the format it writes — PLAIN and dictionary encodings, v1 data pages, zstd,
// optional leaves, lists of strings, structs of leaves — is described in
// formats/parquet-schema.md; readers nobody here wrote (DuckDB, pyarrow) check it in tests.

export {ParquetWriter, type Field, type LeafType, type ParquetOptions} from './writer';
export type {ColumnData} from './column';
