/**
 * Where the git transport's notices go: one line each (what recovery undid, a stale lock removed
 * from the remote), without the `framelog: git: ` prefix or the newline.
 */
export type GitLog = (notice: string) => void;

/** The default {@link GitLog}: `framelog: git: <notice>` on stderr, one line. */
export const stderrGitLog: GitLog = (notice) => {
  process.stderr.write(`framelog: git: ${notice}\n`);
};
