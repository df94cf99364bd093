import { openStreamAppender, type AppendResult, type StreamAppenderOptions } from './openStreamAppender.js';
import type { StreamRecordInput } from './StreamRecord.js';

/**
 * Appends records to stream `name` of the store at `storeDir` and resolves once they are written
 * as `options.durability` says (default `fsync`: after `fdatasync`). All the records land
 * together, in order, or none do. For many appends over time, keep an appender open with
 * {@link openStreamAppender} instead: this opens and closes one per call.
 *
 * @example
 * await appendStream('.framelog', 'receipts', [{ type: 'done', id: 'd-1' }]);
 */
export async function appendStream(storeDir: string, name: string, records: readonly StreamRecordInput[], options: StreamAppenderOptions = {}): Promise<AppendResult> {
  const appender = openStreamAppender(storeDir, name, options);
  try {
    return await appender.appendBatch(records);
  } finally {
    await appender.close();
  }
}
