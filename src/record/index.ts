// Recording: the only part of exectrace that needs Linux, root and the native addon. It
// orchestrates the addon (native.ts), the host snapshot (procfs.ts) and the file writer.
export {record, RecordOptions, RecordSummary, DEFAULT_OBJECT, PACKAGE_ROOT} from './recorder';
export {UserError} from '../util/errors';
