/**
 * Durability primitives shared by the store and the streams: every file framelog writes goes
 * through these (temp + fsync + rename or link, appends with fdatasync, folder syncs).
 * @packageDocumentation
 */
export { fsyncDir, writeAll, ensureDir, tempNameFor, writeNewFileSynced, writeFileDurable, createFileDurable, readFileNoAtime, appendDurable, truncateDurable, moveNoReplace } from './durableFs.js';
export { readTextIfExists, openIfExists } from './optionalFile.js';
export { fileLock } from './fileLock.js';
export { sweepTemps, dropTemp } from './sweepTemps.js';
