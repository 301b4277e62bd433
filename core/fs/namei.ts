// Models: fs/namei.c and fs/namespace.c as far as opening needs: resolve an absolute path to an
// inode through the mount table (filesystems, bind mounts and /dev device nodes); and the path walk
// through fs/dcache.c's dentry cache (link_path_walk: lookup_fast -> __d_lookup_rcu, on a miss
// lookup_slow -> d_lookup and the filesystem's ->lookup, whose answer, positive or negative, is
// cached), crossing mount points (follow_mount) as struct mount's mnt_mountpoint/mnt_parent say.
// Network filesystems (RemoteMount) walk through the filesystem instead (->lookup, ->d_revalidate),
// which may sleep.
// SIMPLIFICATION: no directory inodes or permissions; a path either names an existing inode
// on a mounted filesystem or a block device node, and every directory a path names exists.
// SIMPLIFICATION: the walk costs no time of its own (a miss reads no directory block), and the
// dentry cache is never shrunk.

import type { Inode } from './types.js';
import type { Task } from '../kernel/sched/task.js';
import type { Ext4Fs, Ext4Inode } from './ext4/super.js';
import type { Kernel } from '../kernel/kernel.js';

/** struct qstr: one path component. */
export interface Qstr {
  readonly name: string;
}

/** struct dentry: a name in a directory, cached; negative (no inode) when the name does not exist. */
export class Dentry {
  readonly d_name: Qstr;
  /** The directory it is in; a filesystem's root is its own parent. */
  readonly parent: Dentry;

  constructor(
    readonly kaddr: number,
    name: string,
    parent: Dentry | undefined,
    /** d_inode != NULL: the name exists (a file, a directory, a device node). */
    public positive: boolean,
    public inode: Inode | undefined,
  ) {
    this.d_name = { name };
    this.parent = parent ?? this;
  }
}

/** struct mount (with its embedded struct vfsmount): where a filesystem is attached in the tree. */
export class MountNode {
  /** The mount it is attached in; the root mount is its own parent. */
  parent: MountNode;
  /** The dentry (in the parent mount) it covers; the root mount's is its own root. */
  mountpoint: Dentry;

  constructor(
    readonly kaddr: number,
    /** The mount table's entry (none for a machine with nothing mounted at /). */
    readonly mount: Mount | undefined,
    /** vfsmount.mnt_root: the filesystem's root dentry, named "/". */
    readonly root: Dentry,
  ) {
    this.parent = this;
    this.mountpoint = root;
  }
}

/** struct nameidata as lookup_fast sees it: where the walk stands and the component it looks up. */
export interface Nameidata {
  readonly kaddr: number;
  readonly path: { readonly dentry: Dentry; readonly mnt: MountNode };
  readonly last: Qstr;
}

/** struct path: a dentry on a mount. */
export interface VfsMountPath {
  readonly dentry: Dentry;
  readonly mnt: MountNode;
}

/** struct fs_struct: a task's root and working directory. */
export interface FsStruct {
  readonly kaddr: number;
  readonly root: VfsMountPath;
  readonly pwd: VfsMountPath;
}

/**
 * The working directory of every process: root's home, where a login shell starts.
 * SIMPLIFICATION: processes do not chdir; fio's relative file names resolve against the
 * scenario's directory without the process being there.
 */
export const TASK_CWD = '/root';

/** What the dentry cache has answered: lookups it held (hits) and ones the filesystem answered (misses). */
export interface DcacheStats {
  hits: number;
  misses: number;
}

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
  /** The dentry hash table: (parent dentry, name) -> dentry. */
  readonly dcache = new Map<string, Dentry>();
  readonly dcacheStats: DcacheStats = { hits: 0, misses: 0 };
  /** The mount tree, each mount point's struct mount made at the first walk through it. */
  private readonly mountNodes = new Map<string, MountNode>();

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
    const inode = r.fs.createFile(r.fsPath, 0, path);
    // d_instantiate: a negative dentry cached for the name now names the file
    const d = this.cachedDentry(path);
    if (d && inode) {
      d.positive = true;
      d.inode = inode;
    }
    return inode;
  }

  /** current->fs: the root and the working directory (TASK_CWD), walked without probes. */
  fsStruct(k: Kernel, task: Task): FsStruct {
    const root = this.rootMount(k);
    const pwd = this.pathWalk(k, undefined, 0, TASK_CWD, true, false);
    return { kaddr: task.kaddr + FS_STRUCT_OFFSET, root: { dentry: root.root, mnt: root }, pwd };
  }

  /** The root mount ("/"), made with its root dentry the first time it is asked for. */
  rootMount(k: Kernel): MountNode {
    return this.mountNode(k, '/');
  }

  private mountNode(k: Kernel, mountPoint: string): MountNode {
    let node = this.mountNodes.get(mountPoint);
    if (node === undefined) {
      const mount = this.mounts.find((m) => m.mountPoint === mountPoint);
      node = new MountNode(k.kaddr(), mount, new Dentry(k.kaddr(), '/', undefined, true, undefined));
      this.mountNodes.set(mountPoint, node);
    }
    return node;
  }

  /** A dentry already in the cache for an absolute path (no walk, no probes), if any. */
  cachedDentry(path: string): Dentry | undefined {
    const found = this.walkCached(path);
    return found?.complete ? found.dentry : undefined;
  }

  private walkCached(path: string): { dentry: Dentry; complete: boolean } | undefined {
    const root = this.mountNodes.get('/');
    if (root === undefined) return undefined;
    let d = root.root;
    let at = '/';
    for (const name of path.split('/')) {
      if (name === '') continue;
      const child = this.dcache.get(dcacheKey(d, name));
      if (child === undefined) return { dentry: d, complete: false };
      at = at === '/' ? `/${name}` : `${at}/${name}`;
      d = this.mountNodes.get(at)?.root ?? child;
    }
    return { dentry: d, complete: true };
  }

  /**
   * link_path_walk + walk_component for an absolute path: each component through the dentry cache
   * (lookup_fast, __d_lookup_rcu; on a miss d_lookup, then the filesystem's answer cached as a
   * positive or negative dentry), crossing into a filesystem mounted on the way. Returns the last
   * component's dentry and mount (a negative dentry when the name does not exist) and the number
   * of components the cache answered. `directory`: the path names a directory (a cwd), which
   * exists; `traced`: false for a walk a probe's read makes (no probes fire, nothing is counted).
   */
  pathWalk(k: Kernel, task: Task | undefined, ioId: number, path: string, directory = false, traced = true): { dentry: Dentry; mnt: MountNode } {
    const fn = k.fn;
    let mnt = this.rootMount(k);
    let d = mnt.root;
    let at = '/';
    const names = path.split('/').filter((n) => n !== '');
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      const childPath = at === '/' ? `/${name}` : `${at}/${name}`;
      const key = dcacheKey(d, name);
      let child = this.dcache.get(key);
      const probed = traced && task !== undefined && (fn.lookup_fast.entry.enabled || fn.lookup_fast.ret.enabled || fn.__d_lookup_rcu.entry.enabled || fn.__d_lookup_rcu.ret.enabled || fn.d_lookup.entry.enabled || fn.d_lookup.ret.enabled);
      if (probed) {
        const cpu = k.sched.cpu(task.cpu);
        const last: Qstr = { name };
        if (fn.lookup_fast.entry.enabled) fn.lookup_fast.enter(cpu, ioId, { kaddr: task!.kaddr + NAMEIDATA_OFFSET, path: { dentry: d, mnt }, last } satisfies Nameidata);
        if (fn.__d_lookup_rcu.entry.enabled) fn.__d_lookup_rcu.enter(cpu, ioId, d, last, 0);
        if (fn.__d_lookup_rcu.ret.enabled) fn.__d_lookup_rcu.exit(cpu, ioId, child?.kaddr ?? 0);
        if (fn.lookup_fast.ret.enabled) fn.lookup_fast.exit(cpu, ioId, child?.kaddr ?? 0);
        // lookup_slow: d_lookup under the parent's lock finds nothing either
        if (child === undefined && fn.d_lookup.entry.enabled) fn.d_lookup.enter(cpu, ioId, d, last);
        if (child === undefined && fn.d_lookup.ret.enabled) fn.d_lookup.exit(cpu, ioId, 0);
      }
      if (child !== undefined) {
        if (traced) this.dcacheStats.hits++;
      } else {
        if (traced) this.dcacheStats.misses++;
        // the filesystem's ->lookup: every directory on the way exists; the last name is looked up
        const inode = i < names.length - 1 ? undefined : this.lookup(childPath);
        const positive = i < names.length - 1 || directory || inode !== undefined || this.isMountPoint(childPath);
        child = new Dentry(k.kaddr(), name, d, positive, inode);
        this.dcache.set(key, child);
      }
      at = childPath;
      d = child;
      if (!child.positive) break;
      // follow_mount: a filesystem mounted here covers the dentry
      if (this.isMountPoint(childPath)) {
        const node = this.mountNode(k, childPath);
        node.parent = mnt;
        node.mountpoint = child;
        mnt = node;
        d = node.root;
      }
    }
    return { dentry: d, mnt };
  }
}

/** Where a task's struct fs_struct is said to be (it is shared by CLONE_FS threads in Linux). */
const FS_STRUCT_OFFSET = 0x1f00;

/** Where a task's struct nameidata sits (on its kernel stack), for the address lookup_fast gets. */
const NAMEIDATA_OFFSET = 0x3e00;

function dcacheKey(parent: Dentry, name: string): string {
  return `${parent.kaddr}/${name}`;
}
