import { createRequire } from 'node:module';
import { FramelogError } from '../errors.js';

interface FsExt {
  flockSync(fd: number, flags: 'ex' | 'exnb' | 'sh' | 'shnb' | 'un'): void;
  flock(fd: number, flags: 'ex' | 'sh', callback: (err: NodeJS.ErrnoException | null) => void): void;
}

let loaded: FsExt | undefined;
/**
 * fs-ext (CommonJS, a native addon built at install), loaded at the first lock, typed by the calls
 * we use. Where it could not be built (no compiler on that platform), the commands that take no
 * lock (state, log, diff, read, query, verify, serve) still work, and the first lock says why it
 * cannot be taken.
 */
function fsExt(): FsExt {
  if (loaded) return loaded;
  try {
    loaded = createRequire(import.meta.url)('fs-ext') as FsExt;
  } catch (e) {
    throw new FramelogError(`file locks need the fs-ext package (flock), which could not be loaded here (${(e as Error).message.split('\n')[0]}): reinstall framelog where a C++ compiler and Python are available (npm rebuild fs-ext)`, 'unsupported');
  }
  return loaded;
}

/**
 * Advisory `flock(2)` locks on an open file descriptor (through `fs-ext`). The kernel drops them
 * when the holder dies, even by SIGKILL, so a killed appender never leaves the stream locked.
 */
export const fileLock = {
  /** Takes the lock now if free; false when another open file holds it. */
  try(fd: number, mode: 'ex' | 'sh'): boolean {
    try {
      fsExt().flockSync(fd, mode === 'ex' ? 'exnb' : 'shnb');
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return false;
      throw err;
    }
  },

  /** Waits for the lock on a libuv worker thread, so the event loop keeps running. */
  wait(fd: number, mode: 'ex' | 'sh'): Promise<void> {
    return new Promise((resolve, reject) => {
      fsExt().flock(fd, mode, (err) => (err ? reject(err) : resolve()));
    });
  },

  /** Waits for the lock, blocking the thread (for short critical sections only). */
  waitSync(fd: number, mode: 'ex' | 'sh'): void {
    fsExt().flockSync(fd, mode);
  },

  /** Takes the lock, trying without a thread hop first. */
  async take(fd: number, mode: 'ex' | 'sh'): Promise<void> {
    if (!fileLock.try(fd, mode)) await fileLock.wait(fd, mode);
  },

  release(fd: number): void {
    fsExt().flockSync(fd, 'un');
  },
};
