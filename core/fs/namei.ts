// Models: fs/namei.c and fs/namespace.c as far as opening needs: resolve an absolute path to an
// inode through the mount table (filesystems and /dev block device nodes).
// SIMPLIFICATION: no directories, dentries or permissions; a path either names an existing inode
// on a mounted filesystem or a block device node.

import type { Inode } from './types.js';
import type { Ext4Fs, Ext4Inode } from './ext4/super.js';
import type { BdevInode } from './block_dev.js';

export class Vfs {
  readonly mounts: Ext4Fs[] = [];
  readonly devNodes = new Map<string, BdevInode>();

  /** The mounted filesystem a path lives on (longest mount-point prefix). */
  fsFor(path: string): Ext4Fs | undefined {
    let best: Ext4Fs | undefined;
    for (const fs of this.mounts) {
      const mp = fs.mountPoint;
      if ((path === mp || path.startsWith(mp.endsWith('/') ? mp : mp + '/')) && (!best || mp.length > best.mountPoint.length)) best = fs;
    }
    return best;
  }

  lookup(path: string): Inode | undefined {
    const dev = this.devNodes.get(path);
    if (dev) return dev;
    return this.fsFor(path)?.inodes.get(path);
  }

  /** Creates (O_CREAT) an empty file on the filesystem holding `path`. */
  create(path: string): Ext4Inode | undefined {
    const fs = this.fsFor(path);
    if (!fs || path === fs.mountPoint) return undefined;
    return fs.createFile(path, 0);
  }
}
