export { createWriter, type Writer, type WriterOptions, type UnitResult } from './createWriter.js';
export { createDeltaBuilder, type DeltaBuilder } from './deltaBuilder.js';
