import { join } from 'node:path';
import { initStore } from '../../store/storeContext.js';
import { createFsTransport } from '../fs/fsTransport.js';
import { openGitTransport } from '../git/gitTransport.js';
import { initGitStore } from '../git/gitStore.js';
import type { TransportUnderTest } from './equivalence.js';

/** The filesystem inbox: every writer and the merger share one store folder. */
export const fsUnderTest: TransportUnderTest = {
  name: 'fs',
  async open(root, plan) {
    const storeDir = join(root, 'store');
    initStore(storeDir, plan);
    return { storeDir, writer: async () => createFsTransport(storeDir), merger: createFsTransport(storeDir), close: async () => undefined };
  },
};

/** git: one bare repository; every writer in its own clone; the merger's store is one more clone. */
export const gitUnderTest: TransportUnderTest = {
  name: 'git',
  async open(root, plan) {
    const url = join(root, 'shared.git');
    const storeDir = join(root, 'merger');
    await initGitStore({ url, dir: storeDir, plan });
    const merger = await openGitTransport({ url, dir: storeDir, role: 'merger' });
    return {
      storeDir,
      writer: (name) => openGitTransport({ url, dir: join(root, 'clones', name), identity: name }),
      merger,
      close: () => merger.close(),
    };
  },
};
