// Models: fs/namei.c and fs/namespace.c as far as opening needs: resolve an absolute path to an
// inode through the mount table (filesystems, bind mounts and /dev device nodes), and network
// filesystems (RemoteMount) whose walk calls into the filesystem (->lookup, ->d_revalidate) and sleeps.
// SIMPLIFICATION: no directories, dentries or permissions; a path either names an existing inode
// on a mounted filesystem or a block device node, and every directory a path names exists.

import type { Inode } from './types.js';
import type { Task } from '../kernel/sched/task.js';
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

/** LOOKUP_* flags (include/linux/namei.h) a path walk hands the filesystem. */
export const LOOKUP = { OPEN: 0x0100, CREATE: 0x0200, EXCL: 0x0400 } as const;

/**
 * A mounted filesystem whose path walk calls into it and may sleep (a network filesystem: its
 * ->lookup on a dcache miss and ->d_revalidate on a hit are RPCs).
 */
export interface RemoteMount {
  readonly mountPoint: string;
  /** walk_component for `name`, the path below the mount point: the inode or -errno. */
  walk(task: Task, ioId: number, name: string, flags: number): Generator<number, Inode | number, void>;
  /** ->create for O_CREAT of a missing name. */
  create(task: Task, ioId: number, name: string, mode: number): Generator<number, Inode | number, void>;
  /** sync(2)'s part for this filesystem (sync_inodes_sb with WB_SYNC_ALL, ->write_inode): 0 or -errno. */
  syncFs(task: Task, ioId: number): Generator<number, number, void>;
}

export class Vfs {
  readonly mounts: Mount[] = [];
  /** Network filesystems, walked through their RemoteMount. */
  readonly remoteMounts: RemoteMount[] = [];
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

  /** do_new_mount of a network filesystem. */
  mountRemote(m: RemoteMount): void {
    this.remoteMounts.push(m);
  }

  /** The network filesystem `path` lives on (a longer local mount point wins), and the name below it. */
  remoteFor(path: string): { readonly mount: RemoteMount; readonly name: string } | undefined {
    for (const m of this.remoteMounts) {
      const mp = m.mountPoint;
      if (!path.startsWith(mp + '/') || path.length === mp.length + 1) continue;
      const local = this.resolve(path);
      if (local && local.mount.mountPoint.length > mp.length) return undefined;
      return { mount: m, name: path.slice(mp.length + 1) };
    }
    return undefined;
  }

  /** Whether `path` is a mount point (a directory, not a file). */
  isMountPoint(path: string): boolean {
    return this.mounts.some((m) => m.mountPoint === path) || this.remoteMounts.some((m) => m.mountPoint === path);
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
