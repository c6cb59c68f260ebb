// Processes: who each process of a trace was, what it ran and who launched it. model.ts is
// the one process table, fed by the decoder (Decoder.trackProcesses) with every process
// record in stream order; `decode --ancestors`, the `--tree` filter (src/filter/tree.ts)
// and `exectrace tree` (forest.ts, drawn by render.ts) all read it, so they agree on who
// descends from whom. Offline-safe: decode and format only.

export {
  type Ancestor, type Exit, type FailedExec, type Image, type ImageOrigin, keyOf, MAX_DEPTH, MAX_FAILED, MAX_IMAGES, Process,
  type ProcessOrigin, ProcessTable,
} from './model';
export {
  type ProcessExit, type ProcessFailedExec, type ProcessForest, type ProcessImage, type ProcessNode, processTree,
  type ProcessTreeOptions,
} from './forest';
export {formatTime, formatTree, statusText} from './render';
