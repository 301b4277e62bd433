// Pipes and splice (fs/pipe.c, fs/splice.c): what a byte costs on each path. write()+read()
// through a pipe copies it twice; splice from a file puts the page-cache page itself in the pipe;
// sendfile to a file copies once, kernel page to kernel page. A pipe holds 16 pages, so a full
// one blocks its writer (or -EAGAIN), and the ends going away mean EOF and EPIPE.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type Machine } from '../../../core/index.js';
import type { Task } from '../../../core/kernel/sched/task.js';
import { sysClose, sysMmap, sysOpenat, AT_FDCWD } from '../../../core/fs/open.js';
import { sysRead, sysWrite } from '../../../core/fs/read_write.js';
import { EPOLL, O } from '../../../core/fs/types.js';
import { getPipeInfo, sysPipe2, PIPE_DEF_BUFFERS } from '../../../core/fs/pipe.js';
import { sysSendfile64, sysSplice } from '../../../core/fs/splice.js';
import { sysEpollCreate1, sysEpollCtl, sysEpollWait, EPOLL_CTL, type EpollEvent } from '../../../core/fs/eventpoll.js';
import { MAP, PROT } from '../../../core/mm/mmap.js';
import { SIG } from '../../../core/kernel/signal.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import { attach } from '../../../probes/attach.js';
import { jobSpec } from '../../helpers/jobs.js';
import { EAGAIN, EBADF, EPIPE, ESPIPE } from '../../../core/uapi/errno.js';

const KiB = 1024;
const FILE = '/mnt/nvme/pipe.dat';

/** A machine with a cold 1 MiB file at FILE. */
function machine(): Machine {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [jobSpec({ name: 'lay', filename: FILE, size: 1024 * KiB })]);
  return m;
}

function* buffer(m: Machine, t: Task, bytes: number): Generator<number, number, void> {
  return yield* sysMmap(m.k, t, 0, bytes, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
}

function run(m: Machine, bodies: Record<string, (t: Task) => Generator<number, void, void>>): void {
  for (const [name, body] of Object.entries(bodies)) m.spawn(name, false, body, m.init);
  m.run(1_000_000_000);
}

test('write() then read() through a pipe: every byte copied twice, EOF once the writer is gone', () => {
  const m = machine();
  const got: number[] = [];
  run(m, {
    *p(t) {
      const buf = yield* buffer(m, t, 64 * KiB);
      const fds: number[] = [];
      assert.equal(yield* sysPipe2(m.k, t, buf, 0, fds), 0);
      const [r, w] = fds as [number, number];
      const before = m.k.stat.userCopyBytes;
      got.push(yield* sysWrite(m.k, t, w, buf, 10_000));
      got.push(yield* sysWrite(m.k, t, w, buf, 100)); // merges into the last page (10000 % 4096 + 100 fits)
      assert.equal(getPipeInfo(t.files!.get(r)!)!.bufs.length, 3, '4096 + 4096 + 1908 bytes, the 100 merged into the third');
      got.push(yield* sysRead(m.k, t, r, buf, 64 * KiB));
      got.push(m.k.stat.userCopyBytes - before);
      yield* sysClose(m.k, t, w);
      got.push(yield* sysRead(m.k, t, r, buf, 4096));
    },
  });
  assert.deepEqual(got, [10_000, 100, 10_100, 2 * 10_100, 0]);
});

test('a full pipe (16 pages) blocks its writer until the reader drains it; O_NONBLOCK gets a partial write, then EAGAIN', () => {
  const m = machine();
  const times: Record<string, number> = {};
  const rets: Record<string, number> = {};
  const fds: number[] = [];
  run(m, {
    *writer(t) {
      const buf = yield* buffer(m, t, 128 * KiB);
      yield* sysPipe2(m.k, t, buf, 0, fds);
      rets['blocking'] = yield* sysWrite(m.k, t, fds[1]!, buf, 100 * KiB);
      times['blocking'] = m.k.env.nowNs;
      const nb: number[] = [];
      yield* sysPipe2(m.k, t, buf, O.NONBLOCK, nb);
      rets['nonblocking'] = yield* sysWrite(m.k, t, nb[1]!, buf, 100 * KiB);
      rets['again'] = yield* sysWrite(m.k, t, nb[1]!, buf, 1);
      rets['readOne'] = yield* sysRead(m.k, t, nb[0]!, buf, 1);
      const empty: number[] = [];
      yield* sysPipe2(m.k, t, buf, O.NONBLOCK, empty);
      rets['emptyRead'] = yield* sysRead(m.k, t, empty[0]!, buf, 1);
    },
    *reader(t) {
      const buf = yield* buffer(m, t, 128 * KiB);
      yield* nanosleep(m.k, t, 1_000_000);
      times['readAt'] = m.k.env.nowNs;
      // the writer's task shares no fd table with us: read through its file
      const file = m.k.tasks.find((x) => x.comm === 'writer')!.files!.get(fds[0]!)!;
      file.refcount++;
      const fd = t.files!.install(file);
      rets['read'] = yield* sysRead(m.k, t, fd, buf, 128 * KiB);
    },
  });
  assert.equal(rets['blocking'], 100 * KiB);
  assert.ok(times['blocking']! > times['readAt']!, 'the blocking write finished only after the reader made room');
  assert.equal(rets['read'], PIPE_DEF_BUFFERS * 4 * KiB, 'the reader found a full pipe: 64 KiB');
  assert.equal(rets['nonblocking'], 64 * KiB, 'as much as fits');
  assert.equal(rets['again'], -EAGAIN);
  assert.equal(rets['readOne'], 1);
  assert.equal(rets['emptyRead'], -EAGAIN, 'an empty pipe with a writer: O_NONBLOCK read gets EAGAIN');
});

test('writing to a pipe nobody reads: SIGPIPE and -EPIPE', () => {
  const m = machine();
  let ret = 0;
  let sigs = 0;
  run(m, {
    *p(t) {
      const buf = yield* buffer(m, t, 4 * KiB);
      const fds: number[] = [];
      yield* sysPipe2(m.k, t, buf, 0, fds);
      yield* sysClose(m.k, t, fds[0]!);
      ret = yield* sysWrite(m.k, t, fds[1]!, buf, 10);
      sigs = t.sigPending;
    },
  });
  assert.equal(ret, -EPIPE);
  assert.equal(sigs, 1 << SIG.PIPE);
});

test('splice from a file into a pipe references the page-cache pages: nothing copied until a reader copies them out', () => {
  const m = machine();
  const out: Record<string, number> = {};
  run(m, {
    *p(t) {
      const buf = yield* buffer(m, t, 128 * KiB);
      const fds: number[] = [];
      yield* sysPipe2(m.k, t, buf, 0, fds);
      const fd = yield* sysOpenat(m.k, t, AT_FDCWD, FILE, O.RDONLY, 0);
      const copied0 = m.k.stat.userCopyBytes;
      out['spliced'] = yield* sysSplice(m.k, t, fd, undefined, fds[1]!, undefined, 128 * KiB, 0);
      const pipe = getPipeInfo(t.files!.get(fds[0]!)!)!;
      out['bufs'] = pipe.bufs.length;
      out['pageCacheRefs'] = pipe.bufs.filter((b) => b.folio !== undefined && b.folio.mapping === t.files!.get(fd)!.inode.mapping && b.folio.refs === 1).length;
      out['copiedBySplice'] = m.k.stat.userCopyBytes - copied0;
      out['filePos'] = t.files!.get(fd)!.posBytes;
      out['read'] = yield* sysRead(m.k, t, fds[0]!, buf, 128 * KiB);
      out['copiedByRead'] = m.k.stat.userCopyBytes - copied0;
      out['refsAfter'] = t.files!.get(fd)!.inode.mapping.pages.get(0)!.refs;
      // misaligned: starting 100 bytes into a page, 16 slots hold 100 bytes less
      out['misaligned'] = yield* sysSplice(m.k, t, fd, 100, fds[1]!, undefined, 128 * KiB, 0);
      // a pipe side takes no offset; and the checks run in do_splice's order (modes first)
      const outFd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nvme/spliced.dat', O.WRONLY | O.CREAT, 0o644);
      out['espipe'] = yield* sysSplice(m.k, t, fds[0]!, 0, outFd, undefined, 10, 0);
      out['ebadf'] = yield* sysSplice(m.k, t, fds[0]!, undefined, fd, undefined, 10, 0);
      out['toFile'] = yield* sysSplice(m.k, t, fds[0]!, undefined, outFd, undefined, 10_000, 0);
      out['kernelCopy'] = m.k.stat.kernelCopyBytes;
    },
  });
  assert.deepEqual(out, {
    spliced: 64 * KiB,
    bufs: 16,
    pageCacheRefs: 16,
    copiedBySplice: 0,
    filePos: 64 * KiB,
    read: 64 * KiB,
    copiedByRead: 64 * KiB,
    refsAfter: 0,
    misaligned: 64 * KiB - 100,
    espipe: -ESPIPE,
    ebadf: -EBADF,
    toFile: 10_000,
    kernelCopy: 10_000,
  });
});

test('sendfile to a file: one kernel copy per byte, no user copy; the offset pointer advances instead of the file position', () => {
  const m = machine();
  const out: Record<string, number> = {};
  run(m, {
    *p(t) {
      const inFd = yield* sysOpenat(m.k, t, AT_FDCWD, FILE, O.RDONLY, 0);
      const outFd = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nvme/copy.dat', O.WRONLY | O.CREAT, 0o644);
      const user0 = m.k.stat.userCopyBytes;
      out['sent'] = yield* sysSendfile64(m.k, t, outFd, inFd, undefined, 1024 * KiB);
      out['kernelCopy'] = m.k.stat.kernelCopyBytes;
      out['userCopy'] = m.k.stat.userCopyBytes - user0;
      out['inPos'] = t.files!.get(inFd)!.posBytes;
      out['outSize'] = t.files!.get(outFd)!.inode.sizeBytes;
      const offset = { value: 4096 };
      out['sentAt'] = yield* sysSendfile64(m.k, t, outFd, inFd, offset, 8192);
      out['offset'] = offset.value;
      out['inPosAfter'] = t.files!.get(inFd)!.posBytes;
      out['atEof'] = yield* sysSendfile64(m.k, t, outFd, inFd, undefined, 4096);
    },
  });
  assert.deepEqual(out, {
    sent: 1024 * KiB,
    kernelCopy: 1024 * KiB,
    userCopy: 0,
    inPos: 1024 * KiB,
    outSize: 1024 * KiB,
    sentAt: 8192,
    offset: 4096 + 8192,
    inPosAfter: 1024 * KiB,
    atEof: 0,
  });
});

test('epoll sees a pipe become readable when its writer writes', () => {
  const m = machine();
  const seen: number[] = [];
  const fds: number[] = [];
  run(m, {
    *waiter(t) {
      const buf = yield* buffer(m, t, 4 * KiB);
      yield* sysPipe2(m.k, t, buf, 0, fds);
      const ep = yield* sysEpollCreate1(m.k, t, 0);
      yield* sysEpollCtl(m.k, t, ep, EPOLL_CTL.ADD, fds[0]!, { events: EPOLL.IN, data: 7 }, buf);
      const events: EpollEvent[] = [];
      seen.push(yield* sysEpollWait(m.k, t, ep, events, 4, -1, buf));
      seen.push(events[0]!.data, events[0]!.events, m.k.env.nowNs >= 2_000_000 ? 1 : 0);
    },
    *writer(t) {
      const buf = yield* buffer(m, t, 4 * KiB);
      yield* nanosleep(m.k, t, 2_000_000);
      const file = m.k.tasks.find((x) => x.comm === 'waiter')!.files!.get(fds[1]!)!;
      file.refcount++;
      yield* sysWrite(m.k, t, t.files!.install(file), buf, 1);
    },
  });
  assert.deepEqual(seen, [1, 7, EPOLL.IN, 1], 'reported as asked for: EPOLLIN');
});

test('syscalls:sys_enter_splice and sys_enter_sendfile64 carry their Linux arguments', () => {
  const m = machine();
  const lines: string[] = [];
  for (const name of ['sys_enter_splice', 'sys_exit_splice', 'sys_enter_sendfile64', 'sys_exit_sendfile64', 'sys_enter_pipe2']) {
    attach(m, `tracepoint:syscalls:${name}`, (h) => lines.push(`${name} ${JSON.stringify(h.fields)}`));
  }
  run(m, {
    *p(t) {
      const buf = yield* buffer(m, t, 4 * KiB);
      const fds: number[] = [];
      yield* sysPipe2(m.k, t, buf, O.NONBLOCK, fds);
      const fd = yield* sysOpenat(m.k, t, AT_FDCWD, FILE, O.RDONLY, 0);
      yield* sysSplice(m.k, t, fd, undefined, fds[1]!, undefined, 8192, 2);
      yield* sysSendfile64(m.k, t, fds[1]!, fd, undefined, 4096);
    },
  });
  const pipe2 = JSON.parse(lines.shift()!.replace('sys_enter_pipe2 ', '')) as Record<string, number>;
  assert.deepEqual(pipe2, { __syscall_nr: 293, fildes: pipe2['fildes'], flags: O.NONBLOCK });
  assert.ok(pipe2['fildes']! > 0, 'fildes is the user address of the int[2]');
  assert.deepEqual(lines, [
    `sys_enter_splice ${JSON.stringify({ __syscall_nr: 275, fd_in: 5, off_in: 0, fd_out: 4, off_out: 0, len: 8192, flags: 2 })}`,
    `sys_exit_splice ${JSON.stringify({ __syscall_nr: 275, ret: 8192 })}`,
    `sys_enter_sendfile64 ${JSON.stringify({ __syscall_nr: 40, out_fd: 4, in_fd: 5, offset: 0, count: 4096 })}`,
    `sys_exit_sendfile64 ${JSON.stringify({ __syscall_nr: 40, ret: 4096 })}`,
  ]);
});
