// What every writer process of the transport benches does besides talking to its engine: the same
// deltas (built before the clock starts), and the timed loop of puts, `batch` per call, reported as
// {writer, started, ended, puts} on stdout.

/** `n` small deltas of `writer`, 10 per frame, as the bytes a writer sends. */
export function benchDeltas(writer, n) {
  const bytes = [];
  for (let j = 0; j < n; j++) {
    const frame = 1 + Math.floor(j / 10);
    bytes.push(Buffer.from(JSON.stringify({ frame, writer, utc: new Date(Date.UTC(2026, 0, 1) + j).toISOString(), seq: j % 10, counters: { n: 1 }, items: { results: [{ id: `${writer}-${j}` }] }, set: { agents: { [writer]: { j } } } })));
  }
  return bytes;
}

/** Waits for `start()` (the common start), puts `bytes` `batch` per call, closes, prints the timing. */
export async function timedPuts({ writer, bytes, batch, put, close, start }) {
  await start();
  const started = Date.now();
  let puts = 0;
  for (let i = 0; i < bytes.length; i += batch) {
    await put(bytes.slice(i, i + batch));
    puts++;
  }
  const ended = Date.now();
  await close();
  process.stdout.write(JSON.stringify({ writer, started, ended, puts }) + '\n');
}

/** A start at the wall-clock time `startAt` (epoch ms). */
export const startAtTime = (startAt) => () => new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
