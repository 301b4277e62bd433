// `kiotrace run` end to end through the real CLI: exit codes, the summary and the JSON report.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers/repo.js';

const cli = join(repoRoot(), 'dist', 'tui', 'cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: repoRoot() });

test('kiotrace run blocking-read --json reports one 4 KiB read with its latency', () => {
  const r = run('run', 'blocking-read', '--json');
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as {
    scenario: string;
    seed: number;
    jobs: { name: string; read: { ios: number; bytes: number; clat: { p50Ns: number; p99Ns: number; p999Ns: number } } }[];
    counters: { pageCacheMisses: number; contextSwitches: number; irqs: number; syscalls: number };
  };
  assert.equal(report.scenario, 'blocking-read');
  assert.equal(report.seed, 1);
  assert.equal(report.jobs.length, 1);
  const job = report.jobs[0]!;
  assert.equal(job.name, 'cold-read');
  assert.equal(job.read.ios, 1);
  assert.equal(job.read.bytes, 4096);
  // a cold NVMe read: tens of microseconds, not nanoseconds (cache) or milliseconds (disk)
  assert.ok(job.read.clat.p50Ns > 40_000 && job.read.clat.p50Ns < 200_000, `latency ${job.read.clat.p50Ns} ns`);
  assert.equal(report.counters.pageCacheMisses, 1);
  assert.equal(report.counters.irqs, 1);
});

test("kiotrace run default prints fio's report per job, then kernel counters; same seed, same bytes", () => {
  const a = run('run', 'default', '--duration', '100ms', '--seed', '3');
  assert.equal(a.status, 0, a.stderr);
  const version = (JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  const layout = ['seq-reader: Laying out IO file (1 file / 256MiB): prefilled at boot, no simulated time'];
  assert.ok(a.stdout.includes(`\nfio-3.36-kiotrace-${version}\nStarting 4 processes\n${layout[0]}\n`), a.stdout.slice(0, 1200));
  for (const job of ['seq-reader', 'rand-direct', 'mmap-reader', 'fsync-writer']) assert.match(a.stdout, new RegExp(`^${job}: \\(groupid=0, jobs=1\\): err= 0: pid=\\d+: Thu Jan  1 00:00:00 1970$`, 'm'));
  assert.match(a.stdout, /read: IOPS=[\d.]+k?, BW=/);
  assert.match(a.stdout, /\n {4}clat percentiles \((n|u|m)sec\):\n {5}\| {2}1\.00th=\[ *\d+\], {2}5\.00th=/);
  assert.match(a.stdout, /\nRun status group 0 \(all jobs\):\n {3}READ: bw=/);
  assert.match(a.stdout, /\nDisk stats \(read\/write\):\n {2}nvme0n1: ios=\d+\/\d+, sectors=\d+\/\d+, merge=\d+\/\d+, ticks=\d+\/\d+, in_queue=\d+, util=\d+\.\d\d%\n/);
  assert.match(a.stdout, /page cache: +hits=\d+, misses=\d+/);
  assert.match(a.stdout, /page faults: +minor=\d+, major=\d+/);
  assert.match(a.stdout, /scheduler: +context switches=\d+/);
  assert.match(a.stdout, /interrupts: +irqs=\d+/);
  assert.match(a.stdout, /merges: +bio back=\d+, bio front=\d+, request=\d+/);
  const b = run('run', 'default', '--duration', '100ms', '--seed', '3');
  assert.equal(b.stdout, a.stdout);
  const c = run('run', 'default', '--duration', '100ms', '--seed', '4');
  assert.notEqual(c.stdout, a.stdout);
});

// ---------------------------------------------------------------------------------------------
// --steps and the scenarios' "steps": the README's tour, printed

const BLOCKING_READ_STEPS = `Steps of I/O 3: read() of 4096 bytes from fd 3 by cold-read (pid 4), 29 probe hits
   1 syscall entry
         155.940us       +0ns  cpu3 cold-read/4      syscalls:sys_enter_read                fd=3 buf=0x7effffffe000 count=4096
   2 cache check
         156.080us     +140ns  cpu3 cold-read/4      filemap:mm_filemap_get_pages           i_ino=12 s_dev=271581184 index=0 last_index=0
         156.120us     +180ns  cpu3 cold-read/4      readahead:page_cache_sync_ra           i_ino=12 s_dev=271581184 index=0 order=0 size=4 async_size=3 ra_pages=32 mmap_miss=0 prev_pos=-1 req_count=1
         156.370us     +430ns  cpu3 cold-read/4      filemap:mm_filemap_add_to_page_cache   pfn=41944 i_ino=12 index=0 s_dev=271581184 order=0
         156.370us     +430ns  cpu3 cold-read/4      ext4:ext4_ext_map_blocks_enter         dev=271581184 ino=12 lblk=0 len=1
         156.430us     +490ns  cpu3 cold-read/4      ext4:ext4_ext_map_blocks_exit          dev=271581184 ino=12 pblk=11015291 lblk=0 len=1 ret=1
         156.630us     +690ns  cpu3 cold-read/4      block:block_bio_queue                  dev=271581184 sector=88122328 nr_sector=8 rwbs=RA comm=cold-read
         156.930us     +990ns  cpu3 cold-read/4      block:block_getrq                      dev=271581184 sector=88122328 nr_sector=8 rwbs=RA comm=cold-read
         156.930us     +990ns  cpu3 cold-read/4      block:block_io_start                   dev=271581184 sector=88122328 nr_sector=8 bytes=4096 rwbs=RA comm=cold-read
         156.930us     +990ns  cpu3 cold-read/4      block:block_plug                       comm=cold-read
   3 wait queue: the task waits for the locked folio
         156.930us     +990ns  cpu3 cold-read/4      kiotrace:folio_wait                    s_dev=271581184 i_ino=12 index=0 pfn=41944 bit=PG_locked
   4 driver: schedule() flushes the plug, the request is issued
         156.930us     +990ns  cpu3 cold-read/4      block:block_unplug                     nr_rq=1 comm=cold-read
         156.930us     +990ns  cpu3 cold-read/4      block:block_rq_insert                  dev=271581184 sector=88122328 nr_sector=8 bytes=4096 rwbs=RA comm=cold-read
         156.930us     +990ns  cpu3 cold-read/4      nvme:nvme_setup_cmd                    disk=nvme0n1 qid=4 opcode=2 cid=0
         156.930us     +990ns  cpu3 cold-read/4      block:block_rq_issue                   dev=271581184 sector=88122328 nr_sector=8 bytes=4096 rwbs=RA comm=cold-read
         157.480us   +1.540us  cpu3 cold-read/4      sched:sched_stat_runtime               comm=cold-read pid=4 runtime=154480
         157.480us   +1.540us  cpu3 cold-read/4      sched:sched_switch                     prev_comm=cold-read prev_pid=4 prev_state=2 next_comm=swapper/3 next_pid=0
   5 controller: command fetch and media
         157.930us   +1.990us  cpu3 swapper/3/0      kiotrace:device_fetch                  dev=271581184 qid=4 cid=0 sector=88122328 nr_sector=8 rwbs=RA
         179.430us  +23.490us  cpu3 swapper/3/0      kiotrace:device_media                  dev=271581184 qid=4 cid=0 sector=88122328 nr_sector=8 rwbs=RA channel=7 die=1 seek_ns=0 rotation_ns=-1 media_ns=40092 cache_hit=0
   6 DMA into memory
         220.785us  +64.845us  cpu3 swapper/3/0      kiotrace:dma_transfer                  dev=271581184 qid=4 cid=0 sector=88122328 nr_sector=8 rwbs=RA to_device=0 bytes=4096 nr_sg=1 dma_addr=0x10a3d8000 duration_ns=1263
   7 interrupt
         220.785us  +64.845us  cpu3 swapper/3/0      irq:irq_handler_entry                  irq=124 name=nvme0q4
   8 handler: the request completes
         221.735us  +65.795us  cpu3 swapper/3/0      nvme:nvme_complete_rq                  disk=nvme0n1 qid=4 cid=0 result=0 status=0
         221.735us  +65.795us  cpu3 swapper/3/0      block:block_rq_complete                dev=271581184 sector=88122328 nr_sector=8 error=0 rwbs=RA
   9 wake-up
         221.735us  +65.795us  cpu3 swapper/3/0      sched:sched_waking                     comm=cold-read pid=4 target_cpu=3
         221.735us  +65.795us  cpu3 swapper/3/0      sched:sched_wakeup                     comm=cold-read pid=4 target_cpu=3
         221.735us  +65.795us  cpu3 swapper/3/0      block:block_io_done                    dev=271581184 sector=88122328 nr_sector=8 bytes=4096 rwbs=RA comm=swapper/3
         221.735us  +65.795us  cpu3 swapper/3/0      irq:irq_handler_exit                   irq=124 ret=1
  10 back on CPU and return to user
         221.735us  +65.795us  cpu3 swapper/3/0      sched:sched_switch                     prev_comm=swapper/3 prev_pid=0 prev_state=0 next_comm=cold-read next_pid=4
         223.685us  +67.745us  cpu3 cold-read/4      syscalls:sys_exit_read                 ret=4096

`;

test('kiotrace run blocking-read prints its read hit by hit under the ten steps, after the summary', () => {
  const r = run('run', 'blocking-read');
  assert.equal(r.status, 0, r.stderr);
  const at = r.stdout.indexOf('\nSteps of I/O ');
  assert.ok(at > 0 && r.stdout.slice(0, at).includes('Kernel counters:'), 'steps follow the summary');
  assert.equal(r.stdout.slice(at + 1), BLOCKING_READ_STEPS);
  // the README's tour names these probes for the ten steps: each is printed
  const readme = readFileSync(join(repoRoot(), 'README.md'), 'utf8');
  const tour = readme.slice(readme.indexOf('- `kiotrace run blocking-read`'), readme.indexOf('- `kiotrace run page-fault`'));
  const probes = [...tour.matchAll(/`([a-z_]+:[a-z_0-9]+)`/g)].map((m) => m[1]!);
  assert.equal(probes.length, 12);
  for (const probe of probes) assert.match(BLOCKING_READ_STEPS, new RegExp(` ${probe} `), probe);
  const headings = BLOCKING_READ_STEPS.split('\n').filter((l) => /^ {2}[ \d]\d /.test(l)).map((l) => Number(l.slice(2, 4)));
  assert.deepEqual(headings, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
});

test('kiotrace run page-fault prints the fault chain hit by hit and the PTE install', () => {
  const r = run('run', 'page-fault');
  assert.equal(r.status, 0, r.stderr);
  const steps = r.stdout.slice(r.stdout.indexOf('Steps of I/O '));
  const lines = steps.split('\n');
  assert.equal(lines[0], 'Steps of I/O 3: page fault at 0x7effffffe000 by fault-one-page (pid 4), 30 probe hits');
  assert.deepEqual(
    lines.filter((l) => /^ {2}[ \d]\d /.test(l)),
    [
      '   1 VA: the user access faults',
      '   2 VPN and (inode, pgoff): the VMA maps the address to the file',
      '   3 page cache miss',
      '   4 PFN: a page frame joins the page cache',
      '   5 block: ext4 maps (inode, pgoff) to a disk block',
      '   6 sector: the bio is queued',
      '   7 request: through the I/O scheduler to the driver',
      '   8 device: command fetch',
      '   9 wait queue: the task sleeps on the locked folio',
      '  10 media: seek, rotation and transfer',
      '  11 DMA into memory',
      '  12 interrupt',
      '  13 completion',
      '  14 wake-up',
      '  15 back on CPU',
      '  16 PTE installed: the access is retried and succeeds',
    ],
  );
  assert.equal(
    lines.find((l) => l.includes('kiotrace:set_pte')),
    '       20104.298us  +19.948ms  cpu3 fault-one-page/4 kiotrace:set_pte                       address=0x7effffffe000 vpn=0x7effffffe i_ino=12 pgoff=0 block=212341883 sector=1698735064 pfn=41943 major=1',
  );
  assert.deepEqual(lines.slice(-4), [
    '  fault chain: VA 0x7effffffe000 -> VPN 0x7effffffe -> (inode 12, pgoff 0) -> block 212341883 -> sector 1698735064 -> PFN 41943',
    '  PTE installed at 20104.298us (+19.948ms), a major fault',
    '',
    '',
  ]);
});

test('--steps=N shows the first N data I/Os of any scenario; without it default shows none', () => {
  const r = run('run', 'default', '--duration', '5ms', '--steps=2');
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.stdout.split('\n').filter((l) => l.startsWith('Steps of I/O ')),
    [
      'Steps of I/O 7: pread64() of 4096 bytes from fd 3 by seq-reader (pid 4), 32 probe hits',
      'Steps of I/O 12: pread64() of 4096 bytes from fd 3 by rand-direct (pid 5), 24 probe hits',
    ],
  );
  const plain = run('run', 'default', '--duration', '5ms');
  assert.equal(plain.status, 0, plain.stderr);
  assert.ok(!plain.stdout.includes('Steps of I/O'));
  assert.equal(r.stdout.slice(0, r.stdout.indexOf('\nSteps of I/O')), plain.stdout, 'the summary is the same with or without steps');
  // --json stays JSON even for a scenario that asks for steps
  const json = run('run', 'blocking-read', '--json');
  assert.equal(json.status, 0, json.stderr);
  assert.equal((JSON.parse(json.stdout) as { scenario: string }).scenario, 'blocking-read');
  // and so does fio's JSON
  const fio = run('run', 'blocking-read', '--output-format=json');
  assert.equal(fio.status, 0, fio.stderr);
  assert.equal((JSON.parse(fio.stdout) as { kiotrace: { scenario: string } }).kiotrace.scenario, 'blocking-read');
});

test("kiotrace run --output-format=json prints fio's JSON of the run: one cold 4 KiB read", () => {
  const r = run('run', 'blocking-read', '--output-format', 'json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  const doc = JSON.parse(r.stdout) as {
    'fio version': string;
    jobs: Array<{ jobname: string; read: { io_bytes: number; total_ios: number; clat_ns: { N: number; min: number; percentile: Record<string, number> } } }>;
    disk_util: Array<{ name: string; read_ios: number; read_sectors: number }>;
  };
  assert.match(doc['fio version'], /^fio-3\.36-kiotrace-\d/);
  const job = doc.jobs[0]!;
  assert.equal(job.jobname, 'cold-read');
  assert.equal(job.read.io_bytes, 4096);
  assert.equal(job.read.total_ios, 1);
  assert.equal(job.read.clat_ns.N, 1);
  assert.equal(job.read.clat_ns.percentile['50.000000'], job.read.clat_ns.min);
  assert.ok(r.stdout.startsWith('{\n  "fio version" : "fio-3.36-kiotrace-'), 'printed as fio prints JSON');
  // json+ adds the histogram's bins to clat_ns: here one bin holding the one read
  const plus = run('run', 'blocking-read', '--output-format=json+');
  assert.equal(plus.status, 0, plus.stderr);
  const plusDoc = JSON.parse(plus.stdout) as { jobs: Array<{ read: { clat_ns: { bins: Record<string, number> } & Record<string, unknown> } }> };
  const { bins, ...clatWithoutBins } = plusDoc.jobs[0]!.read.clat_ns;
  assert.deepEqual(Object.values(bins), [1]);
  assert.ok(Math.abs(Number(Object.keys(bins)[0]) - job.read.clat_ns.min) / job.read.clat_ns.min < 0.02, 'the bin is the read\'s latency');
  assert.deepEqual(clatWithoutBins, job.read.clat_ns);
});

test('--output-format mistakes are usage errors (exit 2)', () => {
  const cases: ReadonlyArray<[string[], string]> = [
    [['run', '--output-format=xml'], 'kiotrace: --output-format: unknown format "xml" (expected normal, json or json+)'],
    [['run', '--output-format=terse'], 'kiotrace: --output-format: "terse" is not supported; use one of normal, json or json+'],
    [['run', '--output-format=normal,json'], 'kiotrace: --output-format: "normal,json" is not supported; use one of normal, json or json+'],
    [['run', '--output-format'], 'kiotrace: --output-format needs a value: normal, json or json+'],
    [['run', '--output-format=json', '--json'], "kiotrace: --json prints kiotrace's own report; it cannot be combined with --output-format=json"],
    [['run', '--output-format=json', '--steps'], 'kiotrace: --steps prints text after the summary; leave out --output-format=json'],
    [['top', '--output-format=json'], 'kiotrace: --output-format only works with run (e.g. kiotrace run default --output-format=json); a program takes -f text|json'],
  ];
  for (const [args, first] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.split('\n')[0], first);
    assert.equal(r.stdout, '');
  }
});

test('--steps mistakes are usage errors (exit 2)', () => {
  const cases: ReadonlyArray<[string[], string]> = [
    [['run', '--steps=0'], 'kiotrace: --steps: how many I/Os to show, from 1 to 16 (got "0")'],
    [['run', '--steps=17'], 'kiotrace: --steps: how many I/Os to show, from 1 to 16 (got "17")'],
    [['run', '--steps=x'], 'kiotrace: --steps: how many I/Os to show, from 1 to 16 (got "x")'],
    [['run', '--steps', '--json'], 'kiotrace: --steps prints text after the summary; leave out --json'],
    [['top', '--steps'], 'kiotrace: --steps only works with run (e.g. kiotrace run default --steps=2)'],
    [['-l', '--steps'], 'kiotrace: --steps only works with run (e.g. kiotrace run default --steps=2)'],
  ];
  for (const [args, first] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.split('\n')[0], first);
    assert.equal(r.stdout, '');
  }
});
