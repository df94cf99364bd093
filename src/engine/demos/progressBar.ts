import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr for long work. On a terminal it redraws in place; when stderr is not a
 * terminal (a CI log, `2> file`, a pipe) it prints the line every `FRAMELOG_PROGRESS_MS`
 * milliseconds (default 10 s) and once at the end, so long work is never silent.
 */
export function progressBar(format: string): cliProgress.SingleBar {
  const every = Number(process.env.FRAMELOG_PROGRESS_MS ?? 10_000);
  return new cliProgress.SingleBar(
    { format, hideCursor: true, stream: process.stderr, fps: 10, noTTYOutput: true, notTTYSchedule: Number.isFinite(every) && every > 0 ? every : 10_000 },
    cliProgress.Presets.shades_classic,
  );
}
