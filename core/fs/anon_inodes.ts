// Models: fs/anon_inodes.c: the inode behind files that live in no filesystem (an epoll instance,
// "anon_inode:[eventpoll]"): no blocks, no page cache of its own, only the ops of its kind.
// SIMPLIFICATION: one inode per file (Linux shares a single anon_inode_inode and puts the ops on
// the file, kiotrace dispatches through the inode's fops).

import type { Kernel } from '../kernel/kernel.js';
import { AddressSpace, PAGE_SIZE } from '../mm/mm_types.js';
import type { FileOperations, Inode, MappedExtent } from './types.js';

const noBlocks = { mapBlocks: (): MappedExtent | undefined => undefined };

/** anon_inode_getfile's inode for a file of kind `name` ("[eventpoll]") with ops `fops`. */
export function anonInode(k: Kernel, name: string, fops: FileOperations): Inode {
  let mapping: AddressSpace | undefined;
  const inode: Inode = {
    kaddr: k.kaddr(),
    ino: 0,
    sDev: 0,
    mode: 0o600,
    sizeBytes: 0,
    blockSizeBytes: PAGE_SIZE,
    get mapping(): AddressSpace {
      return mapping!;
    },
    aops: noBlocks,
    fops,
    bdevDev: 0,
    metadataDirty: false,
    path: `anon_inode:${name}`,
    writeHint: 0,
  };
  mapping = new AddressSpace(k.kaddr(), inode);
  return inode;
}
