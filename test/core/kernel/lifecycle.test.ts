// Process life as a tracer sees it: init forks every process of the workload (sys_enter_clone,
// sched_process_fork, sys_exit_clone with the child's pid) before the child execs (sys_enter_execve
// with its path and argv, sched_process_exec), init itself never exits, a process leaves through
// exit_group; fio's sleeps are clock_nanosleep syscalls; syncfs and sync_file_range are syscalls.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles } from '../../../core/index.js';
import { AT_FDCWD, sysOpenat } from '../../../core/fs/open.js';
import { sysPwrite64 } from '../../../core/fs/read_write.js';
import { SYNC_FILE_RANGE, sysSyncfs, sysSyncFileRange } from '../../../core/fs/sync.js';
import { O } from '../../../core/fs/types.js';
import { MAP, PROT } from '../../../core/mm/mmap.js';
import { sysMmap } from '../../../core/fs/open.js';
import { prepareRun } from '../../../tui/run.js';
import { attach } from '../../../probes/attach.js';
import { scenario } from '../../helpers/machine.js';
import { jobSpec } from '../../helpers/jobs.js';

test('every process is forked by init before it execs; init stays; processes leave through exit_group', () => {
  const m = prepareRun(scenario('default'), { seed: 1, durationNs: 2e6 });
  const events: string[] = [];
  attach(m, 'tracepoint:syscalls:sys_enter_clone', (h) => events.push(`clone ${h.comm} flags=0x${(h.fields['clone_flags'] as number).toString(16)}`));
  attach(m, 'tracepoint:sched:sched_process_fork', (h) => events.push(`fork ${h.fields['parent_comm'] as string}/${h.fields['parent_pid'] as number} -> ${h.fields['child_pid'] as number}`));
  attach(m, 'tracepoint:syscalls:sys_exit_clone', (h) => events.push(`clone ret ${h.fields['ret'] as number}`));
  attach(m, 'tracepoint:syscalls:sys_enter_execve', (h) => {
    const mm = m.k.tasks.find((t) => t.pid === h.tid)!.mm!;
    const argv = mm.userStructs.get(h.fields['argv'] as number) as readonly string[];
    events.push(`execve ${h.pid} ${mm.userStrings.get(h.fields['filename'] as number)!} [${argv.join(' ')}]`);
  });
  attach(m, 'tracepoint:sched:sched_process_exit', (h) => events.push(`exit ${h.pid}`));
  m.run(2e6);
  const forFirst = events.filter((e) => / 4\b| 4 |-> 4$|ret 4$/.test(e));
  assert.deepEqual(forFirst, ['fork systemd/1 -> 4', 'clone ret 4', 'execve 4 /usr/bin/fio [fio --name=seq-reader]']);
  assert.equal(events.filter((e) => e.startsWith('clone systemd flags=0x1200011')).length, 4);
  assert.ok(!events.includes('exit 1'), 'init does not exit');
  // each fork comes before its child's exec
  for (const pid of [4, 5, 6, 7]) assert.ok(events.indexOf(`fork systemd/1 -> ${pid}`) < events.findIndex((e) => e.startsWith(`execve ${pid} `)));
});

test('a job that ends calls exit_group with its status before sched_process_exit', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  const seen: string[] = [];
  attach(m, 'tracepoint:syscalls:sys_enter_exit_group', (h) => seen.push(`exit_group ${h.comm} ${h.fields['error_code'] as number}`));
  attach(m, 'tracepoint:sched:sched_process_exit', (h) => seen.push(`exit ${h.comm}`));
  m.spawn(
    'short',
    false,
    (t) =>
      (function* () {
        t.exitCode = 3;
        yield 1000;
      })(),
    m.init,
  );
  m.run(1e6);
  assert.deepEqual(seen, ['exit_group short 3', 'exit short']);
});

test("fio's think time sleeps through clock_nanosleep(CLOCK_REALTIME, 0, rqtp) with the time asked", () => {
  const m = prepareRun(scenario('default'), { seed: 1, durationNs: 50e6 });
  const sleeps: string[] = [];
  attach(m, 'tracepoint:syscalls:sys_enter_clock_nanosleep', (h) => {
    const ts = m.k.tasks.find((t) => t.pid === h.tid)!.mm!.userStructs.get(h.fields['rqtp'] as number) as { tv_sec: number; tv_nsec: number };
    sleeps.push(`${h.comm} clock=${h.fields['which_clock'] as number} flags=${h.fields['flags'] as number} ${ts.tv_sec}s+${ts.tv_nsec}ns`);
  });
  let returned = 0;
  attach(m, 'tracepoint:syscalls:sys_exit_clock_nanosleep', (h) => {
    if (h.fields['ret'] === 0) returned++;
  });
  m.run(50e6);
  assert.ok(sleeps.length > 10);
  // mmap-reader's thinktime=20 (us)
  assert.deepEqual([...new Set(sleeps)], ['mmap-reader clock=0 flags=0 0s+20000ns']);
  assert.ok(returned >= sleeps.length - 1 && returned <= sleeps.length);
});

test('syncfs writes back and flushes one filesystem; sync_file_range writes a range and waits', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [jobSpec({ name: 'a', filename: '/mnt/nvme/a', size: 1 << 20 }), jobSpec({ name: 'b', filename: '/mnt/hdd/b', size: 1 << 20 })]);
  const enters: string[] = [];
  for (const name of ['syncfs', 'sync_file_range']) attach(m, `tracepoint:syscalls:sys_enter_${name}`, (h) => enters.push(`${name} fd=${h.fields['fd'] as number}`));
  const flushes: number[] = [];
  const writes: number[] = [];
  attach(m, 'tracepoint:block:block_rq_issue', (h) => {
    const rwbs = h.fields['rwbs'] as string;
    if (rwbs.startsWith('F') || rwbs === 'FF') flushes.push(h.fields['dev'] as number);
    if (rwbs.includes('W') && (h.fields['nr_sector'] as number) > 0) writes.push(h.fields['sector'] as number);
  });
  const out: Record<string, number> = {};
  m.spawn(
    'syncer',
    false,
    (t) =>
      (function* () {
        const k = m.k;
        const buf = yield* sysMmap(k, t, 0, 8192, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
        const a = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/a', O.RDWR, 0);
        const b = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/hdd/b', O.RDWR, 0);
        yield* sysPwrite64(k, t, a, buf, 8192, 0);
        yield* sysPwrite64(k, t, b, buf, 8192, 0);
        out['dirtyBefore'] = k.vfs.lookup('/mnt/hdd/b')!.mapping.nrDirty;
        out['range'] = yield* sysSyncFileRange(k, t, b, 0, 4096, SYNC_FILE_RANGE.WRITE | SYNC_FILE_RANGE.WAIT_AFTER);
        out['dirtyAfterRange'] = k.vfs.lookup('/mnt/hdd/b')!.mapping.nrDirty;
        out['badFlags'] = yield* sysSyncFileRange(k, t, b, 0, 0, 8);
        out['syncfs'] = yield* sysSyncfs(k, t, a);
        out['nvmeDirty'] = k.vfs.lookup('/mnt/nvme/a')!.mapping.nrDirty;
        out['hddDirty'] = k.vfs.lookup('/mnt/hdd/b')!.mapping.nrDirty;
        out['badFd'] = yield* sysSyncfs(k, t, 99);
      })(),
    m.init,
  );
  m.run(2e9);
  assert.deepEqual(out, { dirtyBefore: 2, range: 0, dirtyAfterRange: 1, badFlags: -22, syncfs: 0, nvmeDirty: 0, hddDirty: 1, badFd: -9 });
  assert.deepEqual(enters, ['sync_file_range fd=4', 'sync_file_range fd=4', 'syncfs fd=3', 'syncfs fd=99']);
  // syncfs flushed the NVMe disk's cache only (sync_file_range flushes nothing)
  const nvme = m.k.vfs.lookup('/mnt/nvme/a')!.bdevDev;
  assert.ok(flushes.length >= 1 && flushes.every((d) => d === nvme), String(flushes));
});

test('lprm of the job printing sends the daemon SIGINT through kill(2): sys_enter_kill with pid and sig, 0 returned', () => {
  const m = bootMachine({ ...DEFAULT_MACHINE, printers: [{ name: 'lp0', baud: 115200 }] }, 1);
  const kills: string[] = [];
  attach(m, 'tracepoint:syscalls:sys_enter_kill', (h) => kills.push(`${h.comm} -> ${h.fields['pid'] as number} sig ${h.fields['sig'] as number}`));
  attach(m, 'tracepoint:syscalls:sys_exit_kill', (h) => kills.push(`ret ${h.fields['ret'] as number}`));
  m.scheduleEvents(
    [
      [0, 'yes alice | head -c 6000 | sudo -u alice lp -t one'],
      [5_000_000, 'sudo -u alice lprm 1'],
    ].map(([atNs, line]) => ({ kind: 'run' as const, atNs: atNs as number, argv: (line as string).split(/\s+/) })),
  );
  m.run(50_000_000);
  const lpd = m.k.tasks.find((t) => t.comm === 'lpd')!;
  assert.deepEqual(kills, [`lprm -> ${lpd.tgid} sig 2`, 'ret 0']);
});
