// Models: fs/namei.c and fs/namespace.c as far as opening needs: resolve an absolute path to an
// inode through the mount table (filesystems, bind mounts and /dev device nodes).
// SIMPLIFICATION: no directories, dentries or permissions; a path either names an existing inode
// on a mounted filesystem or a block device node, and every directory a path names exists.

import type { Inode } from './types.js';
import type { Ext4Fs, Ext4Inode } from './ext4/super.js';

/** One entry of the mount table: a filesystem seen at `mountPoint` (struct mount). */
export interface Mount {
  readonly mountPoint: string;
  readonly fs: Ext4Fs;
}

/** A path resolved to its filesystem: `fsPath` is where the file lives under the fs's own mount point. */
export interface ResolvedPath {
  readonly fs: Ext4Fs;
  readonly fsPath: string;
  readonly mount: Mount;
}

export class Vfs {
  readonly mounts: Mount[] = [];
  /** /dev: block and character device nodes by path (devtmpfs). */
  readonly devNodes = new Map<string, Inode>();

  /** do_new_mount: `fs` appears at its own mount point. */
  mount(fs: Ext4Fs): void {
    this.mounts.push({ mountPoint: fs.mountPoint, fs });
  }

  /** do_loopback (mount --bind): a mounted filesystem also appears at `mountPoint`. */
  bindMount(fs: Ext4Fs, mountPoint: string): void {
    this.mounts.push({ mountPoint, fs });
  }

  /** The mount a path lives on (longest mount-point prefix), and the path on that filesystem. */
  resolve(path: string): ResolvedPath | undefined {
    let best: Mount | undefined;
    for (const m of this.mounts) {
      const mp = m.mountPoint;
      if ((path === mp || path.startsWith(mp.endsWith('/') ? mp : mp + '/')) && (!best || mp.length > best.mountPoint.length)) best = m;
    }
    if (!best) return undefined;
    const mp = best.mountPoint;
    const rest = path === mp ? '' : path.slice(mp === '/' ? 0 : mp.length);
    const own = best.fs.mountPoint;
    const fsPath = rest === '' ? own : own === '/' ? rest : own + rest;
    return { fs: best.fs, fsPath, mount: best };
  }

  /** The mounted filesystem a path lives on. */
  fsFor(path: string): Ext4Fs | undefined {
    return this.resolve(path)?.fs;
  }

  /** Whether `path` is a mount point (a directory, not a file). */
  isMountPoint(path: string): boolean {
    return this.mounts.some((m) => m.mountPoint === path);
  }

  lookup(path: string): Inode | undefined {
    const dev = this.devNodes.get(path);
    if (dev) return dev;
    const r = this.resolve(path);
    return r?.fs.inodes.get(r.fsPath);
  }

  /** Creates (O_CREAT) an empty file on the filesystem holding `path`. */
  create(path: string): Ext4Inode | undefined {
    const r = this.resolve(path);
    if (!r || this.isMountPoint(path)) return undefined;
    return r.fs.createFile(r.fsPath, 0, path);
  }
}
