// The live view as a pure function: snapshots taken from a real run at fixed points (a fake wall
// clock, so rates are deterministic) give exactly these screens; units, tones and clipping.
import test from 'node:test';
import assert from 'node:assert/strict';
import { buildView, fmtBytes, fmtCount, fmtNs, INITIAL_UI, plainText, PLAIN_UI, sparkline, visibleIos, type Line } from '../../../tui/top/view-model.js';
import { snapshotsAt } from '../../helpers/top.js';

const text = (lines: readonly Line[]): string => lines.map(plainText).join('\n');

// seq-reader (fio's fadvise_hint: POSIX_FADV_SEQUENTIAL, 256 KiB windows) has its whole file
// cached by 200 ms, so from there nvme0n1 carries only rand-direct's 4 KiB reads (57.1 MiB/s at
// 15k IOPS, p99 the 4 KiB read's); the HDD is saturated.
test('default at 100, 200 and 300 ms: the dashboard, line by line', () => {
  const history = snapshotsAt('default', [100_000_000, 200_000_000, 300_000_000]);
  const view = buildView(history, INITIAL_UI, 120, 40);
  assert.equal(
    text(view.lines),
    [
      'kiotrace top  default  seed 1  sim 300 ms / 2.00 s  speed 1x  357k events/s  ● running',
      '▶ Devices',
      '  DEVICE    STATE     SCHED           IOPS    MiB/s   QD       p50       p99  MERGE/s  UTIL  IOPS   p99',
      '> nvme0n1   busy      none             15k     57.1    1     65 µs     66 µs        0   96%  ███    ██▃',
      '    disk 259:0  0000:01:00.0  in progress: R 521394424 + 8 [rand-direct]',
      '  sda       busy      mq-deadline      170     19.1    2    8.4 ms     35 ms        0  100%  ▇▇█    █▇▇',
      '',
      '  Page cache',
      '  hit ratio 100.0%   lookups 699k/s   readahead 15.0 MiB/s   dirty 0 B   writeback 0 B   cached 261 MiB',
      '  reclaim scanned 0/s   stolen 0/s   refaults 0/s   direct stalls 0/s   dirty throttled 0/s',
      '',
      '  CPUs   context switches 37k/s',
      '  CPU  UTIL                RUNQ    IRQ/s',
      '  0    █░░░░░░░░░░░    5%     0      10k',
      '  1    ░░░░░░░░░░░░    2%     0     1.5k',
      '  2    ░░░░░░░░░░░░    2%     0     3.3k',
      '  3    ████████████  100%     1        0',
      '',
      '  Tasks',
      '  TASK               PID  STATE       IOPS    MiB/s       p50       p99',
      '  seq-reader           4  R run       699k   2731.6    630 ns    630 ns',
      '  rand-direct          5  D I/O        15k     57.1     68 µs     68 µs',
      '  mmap-reader          6  D I/O       3.8k     15.0    430 ns     20 µs',
      '  fsync-writer         7  D I/O        960      3.8    960 ns    960 ns',
      'q quit  space pause  +/- speed  tab panel  ↑↓ select  ? help',
    ].join('\n'),
  );
});

test('tones: latency and load thresholds, the selection and the state badge', () => {
  const history = snapshotsAt('default', [100_000_000, 200_000_000]);
  const lines = buildView(history, INITIAL_UI, 120, 40).lines;
  const tonesOf = (prefix: string) => lines.find((l) => plainText(l).startsWith(prefix))!.filter((s) => s.tone).map((s) => `${s.tone}:${s.text.trim()}`);
  // 100-200 ms: seq-reader's last readahead windows share the NVMe (sub-ms: good); the HDD's tens of ms are bad
  assert.deepEqual(tonesOf('> nvme0n1'), ['selected:>', 'accent:busy', 'good:66 µs', 'good:183 µs', 'bad:98%', 'accent:██', 'good:██']);
  assert.deepEqual(tonesOf('  sda'), ['accent:busy', 'bad:21 ms', 'bad:35 ms', 'bad:100%', 'accent:██', 'bad:█▇']);
  assert.deepEqual(lines[0]!.at(-1), { text: '● running', tone: 'good' });
  const paused = buildView([...history.slice(0, -1), { ...history.at(-1)!, paused: true }], INITIAL_UI, 120, 40).lines;
  assert.deepEqual(paused[0]!.at(-1), { text: ' PAUSED ', tone: 'badge' });
});

test('plain mode has no focus or selection markers; help replaces the panels; frames fit the terminal', () => {
  const history = snapshotsAt('blocking-read', [10_000_000, 20_000_000]);
  const plain = buildView(history, PLAIN_UI, 120, 40).lines.map(plainText);
  assert.equal(plain[1], '  Devices');
  // the one read completed in the first 10 ms; the second window is idle
  assert.equal(plain[3], '  nvme0n1   idle      none               0      0.0    0         -         -        0    0%  █▁     █▁');
  assert.equal(plain[0], 'kiotrace top  blocking-read  seed 1  sim 20 ms / 20 ms  speed 1x  0 events/s   DONE');
  const help = buildView(history, { ...INITIAL_UI, help: true }, 120, 40).lines.map(plainText);
  assert.deepEqual(help.slice(1, 4), ['Keys', '  space       pause / resume the simulation', '  + / -       run faster / slower (1x = 1 simulated ms per wall ms; max = as fast as it goes)']);
  const sorted = buildView(history, { ...INITIAL_UI, focus: 'tasks', sortByIops: true }, 120, 40).lines.map(plainText);
  assert.ok(sorted.some((l) => l.startsWith('> cold-read')));
  const small = buildView(history, INITIAL_UI, 70, 12).lines;
  assert.equal(small.length, 11, 'rows - 1 lines at most');
  assert.ok(small.every((l) => plainText(l).length <= 70));
  assert.equal(plainText(small.at(-1)!), 'q quit  space pause  +/- speed  tab panel  ↑↓ select  ? help');
});

test('units are always shown', () => {
  assert.deepEqual([0, 999, 1500, 12_000, 2_500_000_000, 42e9, 600e9].map(fmtNs), ['-', '999 ns', '1.5 µs', '12 µs', '2.50 s', '42.0 s', '600 s']);
  assert.deepEqual([0, 1023, 1536, 58_720_256, 3 * 2 ** 30].map(fmtBytes), ['0 B', '1023 B', '1.5 KiB', '56.0 MiB', '3.0 GiB']);
  assert.deepEqual([0, 7.25, 999, 1500, 15_000, 2_400_000].map(fmtCount), ['0', '7.3', '999', '1.5k', '15k', '2.4M']);
  assert.equal(sparkline([0, 1, 2, 4, 8], 6), '▁▁▂▄█ ');
  assert.equal(sparkline([], 3), '   ');
});

test('top probes: every site counted while the panel is open, busiest first', () => {
  const history = snapshotsAt('default', [50_000_000, 100_000_000], { countProbes: true });
  const lines = buildView(history, { ...INITIAL_UI, focus: 'probes' }, 120, 12).lines.map(plainText);
  assert.deepEqual(lines.slice(1, 9), [
    '▶ Top probes   hits per simulated second, every probe site counted while this panel is open',
    '  #   PROBE                                                   HITS/s     TOTAL   SHARE',
    // seq-reader's cached 4 KiB preads dominate: each fires the syscall and VFS sites once (mmap-reader's
    // think-time sleeps add their clock_nanosleep syscalls to the raw ones)
    '> 1   tracepoint:raw_syscalls:sys_enter                         448k       45k      7%  █░░░░░░░░░░░░░░░░░░░',
    '  2   tracepoint:raw_syscalls:sys_exit                          448k       45k      7%  █░░░░░░░░░░░░░░░░░░░',
    '  3   kprobe:ext4_file_read_iter                                444k       44k      7%  █░░░░░░░░░░░░░░░░░░░',
    '  4   kprobe:vfs_read                                           444k       44k      7%  █░░░░░░░░░░░░░░░░░░░',
    '  5   tracepoint:syscalls:sys_enter_pread64                     444k       44k      7%  █░░░░░░░░░░░░░░░░░░░',
    '  6   kretprobe:ext4_file_read_iter                             444k       44k      7%  █░░░░░░░░░░░░░░░░░░░',
  ]);
  // without the panel nothing is counted, and the simulation pays nothing for it
  assert.deepEqual(snapshotsAt('blocking-read', [1_000_000])[0]!.probes, []);
});

test('the I/O list filters by words: text and latency bounds', () => {
  const io = (ioId: number, task: string, device: string, durationNs: number) => ({ ioId, origin: 'pread64', task, pid: 1, device, startNs: ioId, durationNs, error: false, layers: [], faultChain: undefined });
  const snap = { ...snapshotsAt('blocking-read', [1_000_000])[0]!, ios: [io(1, 'a', 'sda', 5_000_000), io(2, 'b', 'nvme0n1', 70_000), io(3, 'a', 'nvme0n1', 2_000_000)] };
  const ids = (filter: string, sortByLatency = false) => visibleIos(snap, { ...INITIAL_UI, filter, sortByLatency }).map((x) => x.ioId);
  assert.deepEqual(ids(''), [3, 2, 1], 'newest first');
  assert.deepEqual(ids('', true), [1, 3, 2], 'slowest first');
  assert.deepEqual(ids('nvme'), [3, 2]);
  assert.deepEqual(ids('>1ms'), [3, 1]);
  assert.deepEqual(ids('>1ms nvme'), [3]);
  assert.deepEqual(ids('<100us'), [2]);
  assert.deepEqual(ids('>1parsec'), [], 'not a duration: taken as text');
});

test('a fault that waited for another I/O shows no block of its own', () => {
  const io = { ioId: 9, origin: 'page_fault', task: 'm', pid: 6, device: '', startNs: 0, durationNs: 25_000_000, error: false, layers: [], faultChain: { va: 0x7000, vpn: 7, inode: 12, pgoff: 3, block: -1, sector: -1, pfn: 0x1d } };
  const lines = buildView(snapshotsAt('blocking-read', [1_000_000]), { ...INITIAL_UI, focus: 'ios', openIo: io }, 120, 40).lines.map(plainText);
  const at = lines.findIndex((l) => l.startsWith('  fault chain'));
  assert.deepEqual(lines.slice(at, at + 2), ['  fault chain  VA 0x7000 -> VPN 0x7 -> inode 12, pgoff 3', '               -> page already being read by another I/O (no block of its own) -> PFN 0x1d']);
});

test('names from scenario and job files are shown escaped: no control character reaches the screen', () => {
  const [s] = snapshotsAt('default', [100_000_000]);
  const evil = 'x\u001b[2J\u009b\u202e';
  const io = { ioId: 1, origin: 'pread64', task: evil, pid: 5, device: 'nvme0n1', startNs: 0, durationNs: 10, error: false, layers: [{ name: `wake ${evil}`, depth: 0, startNs: 0, endNs: 10, error: false, detail: '' }], faultChain: undefined };
  const snap = { ...s!, scenario: evil, tasks: s!.tasks.map((t) => ({ ...t, name: evil })), ios: [io], script: { maps: `@[${evil}]: 1\n`, output: [evil], exited: false } };
  const screens = [
    buildView([snap], INITIAL_UI, 120, 60),
    buildView([snap], { ...INITIAL_UI, focus: 'ios', filter: evil }, 120, 40),
    buildView([snap], { ...INITIAL_UI, focus: 'ios', openIo: io, message: evil }, 120, 40),
    buildView([snap], { ...INITIAL_UI, focus: 'maps' }, 120, 40),
  ].map((v) => text(v.lines));
  for (const screen of screens) assert.doesNotMatch(screen, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  assert.match(screens[0]!, /^kiotrace top {2}x\\x1b\[2J\\x9b\\u202e {2}seed 1 /);
  assert.match(screens[0]!, /\n {2}x\\x1b\[2J\\x9b\\u2… +6 {2}D I\/O /);
  assert.match(screens[2]!, /\nI\/O 1 {2}pread64 by x\\x1b\[2J\\x9b\\u202e \(pid 5\)/);
  assert.match(screens[3]!, /\n {2}@\[x\\x1b\[2J\\x9b\\u202e\]: 1\n/);
});

test('lines are cut by terminal cells: wide characters in a filter or in names never make a line wider than the terminal, and columns stay aligned', () => {
  const [first, second] = snapshotsAt('default', [100_000_000, 200_000_000]);
  const io = (ioId: number, task: string) => ({ ioId, origin: 'pread64', task, pid: 5, device: 'nvme0n1', startNs: 0, durationNs: 5000, error: false, layers: [], faultChain: undefined });
  const history = [first!, { ...second!, ios: [io(1, '中文中文中文中文中文'), io(2, 'ascii-task')] }];
  const ui = { ...INITIAL_UI, focus: 'ios' as const, filtering: true, filter: '' };
  for (const columns of [100, 40]) {
    const lines = buildView(history, { ...ui, filter: '全'.repeat(200) }, columns, 40).lines.map(plainText);
    // (cut by UTF-16 units, the title line took 100 + 60 cells at 100 columns)
    assert.equal(lines[1], `▶ I/O inspector   0 of 2 recent I/Os, newest first   filter: ${'全'.repeat(columns === 100 ? 19 : 0)}`.slice(0, columns === 100 ? undefined : 40));
  }
  const rows = buildView(history, ui, 100, 40).lines.map(plainText).filter((l) => / pread64 /.test(l));
  // the wide task name is cut to its 16 cells (7 wide characters, the ellipsis, a blank): the columns after it line up
  assert.deepEqual(rows, [
    '  2        pread64       ascii-task      nvme0n1             -     5.0 µs       0',
    '  1        pread64       中文中文中文中… nvme0n1             -     5.0 µs       0',
  ]);
});

test('the page cache panel shows memory pressure: reclaim, refaults, direct stalls and dirty throttling, toned', () => {
  const [snap] = snapshotsAt('default', [100_000_000]);
  const pressed = { ...snap!, pageCache: { ...snap!.pageCache, scannedPerSec: 52_300, stolenPerSec: 51_000, refaultsPerSec: 12, allocStallsPerSec: 3, throttlePausesPerSec: 140, throttleMeanPauseNs: 7_100_000 } };
  const lines = buildView([pressed], INITIAL_UI, 120, 40).lines;
  const reclaim = lines.find((l) => plainText(l).startsWith('  reclaim'));
  assert.ok(reclaim);
  assert.equal(plainText(reclaim), '  reclaim scanned 52k/s   stolen 51k/s   refaults 12/s   direct stalls 3.0/s   dirty throttled 140/s, 7.1 ms each');
  assert.deepEqual(
    reclaim.filter((seg) => seg.tone !== undefined).map((seg) => [seg.text, seg.tone]),
    [
      ['12/s', 'warn'],
      ['3.0/s', 'bad'],
      ['140/s, 7.1 ms each', 'warn'],
    ],
  );
});
