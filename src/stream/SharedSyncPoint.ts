import fs from 'node:fs';
import path from 'node:path';
import { fileLock } from './fileLock.js';
import { ensureDir } from './writeFileDurable.js';

const RECORD = 32;
const MAGIC = 0x6672616d656c6f67n; // "framelog"

/**
 * Cross-process group commit for one stream. A small side file (`streams/.sync/NAME`) holds
 * "an `fdatasync` that began when inode I was S bytes long has completed", tagged with the boot
 * id (a reboot forgets it) and a checksum (a torn read is ignored). An appender whose record ends
 * at or below S is durable without a sync of its own; otherwise one waiting appender leads: it
 * notes the size, syncs, and publishes it, while the others wait on a shared lock and re-check.
 * The file is a hint, never truth: deleting it only costs extra syncs.
 */
export class SharedSyncPoint {
  private readonly buf = Buffer.alloc(RECORD);

  private constructor(
    private readonly fd: number,
    private readonly boot: bigint,
  ) {}

  /** Opens (creating) the side file; `undefined` where there is no boot id to tag it with. */
  static open(syncFile: string): SharedSyncPoint | undefined {
    const boot = bootTag();
    if (boot === undefined) return undefined;
    ensureDir(path.dirname(syncFile));
    return new SharedSyncPoint(fs.openSync(syncFile, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644), boot);
  }

  /** The durable size published for inode `ino`, 0 if none. */
  durable(ino: number): number {
    const n = fs.readSync(this.fd, this.buf, 0, RECORD, 0);
    if (n < RECORD) return 0;
    const boot = this.buf.readBigUInt64LE(0);
    const inode = this.buf.readBigUInt64LE(8);
    const size = this.buf.readBigUInt64LE(16);
    const check = this.buf.readBigUInt64LE(24);
    if (check !== (boot ^ inode ^ size ^ MAGIC) || boot !== this.boot || inode !== BigInt(ino)) return 0;
    return Number(size);
  }

  /** Resolves once bytes `[0, end)` of the open stream `streamFd` (inode `ino`) are durable. */
  async syncThrough(streamFd: number, ino: number, end: number): Promise<void> {
    for (;;) {
      if (this.durable(ino) >= end) return;
      if (fileLock.try(this.fd, 'ex')) {
        try {
          if (this.durable(ino) >= end) return;
          // Every byte below this size was written before the sync starts, so the sync covers it.
          const size = fs.fstatSync(streamFd).size;
          await new Promise<void>((resolve, reject) => fs.fdatasync(streamFd, (e) => (e ? reject(e) : resolve())));
          this.publish(ino, size);
          return;
        } finally {
          fileLock.release(this.fd);
        }
      }
      // A leader is syncing; its sync may have begun before our write. Wait for it, then re-check.
      await fileLock.wait(this.fd, 'sh');
      fileLock.release(this.fd);
    }
  }

  /** After a torn tail was cut at `offset`, no published size above it may stand. */
  lowerTo(ino: number, offset: number): void {
    fileLock.waitSync(this.fd, 'ex');
    try {
      if (this.durable(ino) > offset) this.publish(ino, offset);
    } finally {
      fileLock.release(this.fd);
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  private publish(ino: number, size: number): void {
    const inode = BigInt(ino);
    const s = BigInt(size);
    this.buf.writeBigUInt64LE(this.boot, 0);
    this.buf.writeBigUInt64LE(inode, 8);
    this.buf.writeBigUInt64LE(s, 16);
    this.buf.writeBigUInt64LE(this.boot ^ inode ^ s ^ MAGIC, 24);
    fs.writeSync(this.fd, this.buf, 0, RECORD, 0);
  }
}

let cachedBoot: bigint | null | undefined;

function bootTag(): bigint | undefined {
  if (cachedBoot === undefined) {
    try {
      const id = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').replace(/[^0-9a-f]/gi, '');
      cachedBoot = id.length >= 16 ? BigInt('0x' + id.slice(0, 16)) : null;
    } catch {
      cachedBoot = null;
    }
  }
  return cachedBoot ?? undefined;
}
