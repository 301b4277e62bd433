// The I/O inspector: the span builder's layers recorded in-process for a sample of I/Os, shown
// as a waterfall (exact lines), with the fault chain, and exported as a sound Perfetto trace.
import test from 'node:test';
import assert from 'node:assert/strict';
import { writeIoPerfetto } from '../../../tui/top/export-io.js';
import { IoInspector, KEEP_PER_DEVICE, type IoRecord } from '../../../tui/top/inspector.js';
import { buildView, INITIAL_UI, plainText, selfTimeNs, visibleIos } from '../../../tui/top/view-model.js';
import { prepareRun } from '../../../tui/run.js';
import { checkPerfettoTrace } from '../../helpers/perfetto-check.js';
import { scenario } from '../../helpers/machine.js';

function record(name: string): readonly IoRecord[] {
  const s = scenario(name);
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  const inspector = new IoInspector(m, 1);
  m.run(s.durationNs);
  return inspector.recent();
}

test('blocking-read: the read as a waterfall, line by line', () => {
  const ios = record('blocking-read');
  assert.deepEqual(ios.map((io) => io.origin), ['openat', 'mmap', 'read', 'munmap', 'close']);
  const read = ios[2]!;
  const lines = buildView([], INITIAL_UI, 120, 40).lines.map(plainText);
  assert.deepEqual(lines, ['kiotrace top  starting the simulation…', 'q quit  space pause  +/- speed  tab panel  ↑↓ select  ? help'], 'nothing to show before the first snapshot');
  const view = buildView([{ ...emptySnapshot, ios }], { ...INITIAL_UI, focus: 'ios', openIo: read }, 120, 40).lines.map(plainText);
  assert.deepEqual(view.slice(1, 17), [
    'I/O 3  read by cold-read (pid 4) on nvme0n1  68 µs  started at 156 µs',
    '  LAYER                            START  DURATION      WAIT  DETAIL          time →',
    '  read                             +0 ns     68 µs    140 ns                  ██████████████████████████████████████████',
    '    vfs_read                     +140 ns     68 µs         -                  ██████████████████████████████████████████',
    '      ext4_file_read_iter        +140 ns     68 µs         -                  ██████████████████████████████████████████',
    '        filemap_read             +140 ns     68 µs     67 µs                  ██████████████████████████████████████████',
    '          page_cache_sync_ra     +180 ns    810 ns    250 ns                  █',
    '            ext4_ext_map_bloc…   +430 ns     60 ns     60 ns                  █',
    '            submit_bio           +490 ns    500 ns         -                  █',
    '              bio                +490 ns     65 µs    500 ns  nvme0n1, 4096…  █████████████████████████████████████████',
    '                request          +990 ns     65 µs         -  nvme0n1, 4096…  █████████████████████████████████████████',
    '                  queue wait     +990 ns         -         -                  █',
    '                  driver         +990 ns     65 µs    1.0 µs  nvme0n1, qd 1   █████████████████████████████████████████',
    '                    device       +2.0 µs     64 µs     63 µs  nvme0n1          ████████████████████████████████████████',
    '                      dma         +64 µs    1.3 µs    1.3 µs  4096 B                                                 ██',
    '                    irq/124 n…    +65 µs    950 ns    950 ns  vector 124                                              █',
  ]);
  // wait = time in a layer that none of its children cover: filemap_read slept for the page
  assert.equal(selfTimeNs(read, read.layers.findIndex((l) => l.name === 'filemap_read')), 67_565 - 810);
});

test('page-fault: the fault chain under the waterfall; the export is a sound Perfetto trace', () => {
  const ios = record('page-fault');
  const fault = ios.find((io) => io.origin === 'page_fault')!;
  assert.equal(fault.device, 'sda');
  const view = buildView([{ ...emptySnapshot, ios }], { ...INITIAL_UI, focus: 'ios', openIo: fault }, 120, 40).lines.map(plainText);
  const at = view.findIndex((l) => l.startsWith('  fault chain'));
  assert.deepEqual(view.slice(at, at + 2), [
    '  fault chain  VA 0x7effffffe000 -> VPN 0x7effffffe -> inode 12, pgoff 0',
    '               -> block 212341883 -> sector 1698735064 -> PFN 0xa3d7',
  ]);
  // the chain's own arithmetic: a 4 KiB page per VPN, eight 512-byte sectors per 4 KiB block
  assert.equal(fault.faultChain!.vpn, Math.floor(fault.faultChain!.va / 4096));
  assert.equal(fault.faultChain!.sector, fault.faultChain!.block * 8);
  const chunks: Uint8Array[] = [];
  writeIoPerfetto(fault, (c) => chunks.push(c.slice()));
  const { issues, summary } = checkPerfettoTrace(Buffer.concat(chunks));
  assert.deepEqual(issues, []);
  assert.equal(summary.slicesBegun, fault.layers.length);
  assert.equal(summary.slicesEnded, fault.layers.length);
});

const emptySnapshot = {
  scenario: 'x',
  seed: 1,
  simNs: 0,
  endNs: 1,
  speed: 1,
  achievedSpeed: undefined,
  behind: false,
  paused: false,
  eventsPerSec: 0,
  devices: [],
  pageCache: { hitRatio: 0, lookupsPerSec: 0, dirtyBytes: 0, writebackBytes: 0, cachedBytes: 0, readaheadBytesPerSec: 0, scannedPerSec: 0, stolenPerSec: 0, refaultsPerSec: 0, allocStallsPerSec: 0, throttlePausesPerSec: 0, throttleMeanPauseNs: 0 },
  cpus: [],
  contextSwitchesPerSec: 0,
  tasks: [],
  ios: [],
  probes: [],
};

test('default: the inspector reaches every device; the HDD keeps its last I/Os, fsyncs among them', () => {
  const s = scenario('default');
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  const inspector = new IoInspector(m, 1);
  for (const atNs of [300_000_000, 400_000_000, 500_000_000]) {
    m.run(atNs);
    const ios = inspector.recent();
    const onSda = visibleIos({ ...emptySnapshot, ios }, { ...INITIAL_UI, focus: 'ios', filter: 'sda' });
    // sda finishes a few hundred I/Os a second against nvme0n1's tens of thousands
    assert.equal(onSda.length, KEEP_PER_DEVICE, `sda at ${atNs}`);
    assert.deepEqual([...new Set(onSda.map((io) => io.origin))].sort(), ['fsync', 'readahead'], `sda at ${atNs}`);
    assert.ok(ios.filter((io) => io.device === 'nvme0n1').length >= KEEP_PER_DEVICE);
    // oldest first, each once
    assert.equal(new Set(ios.map((io) => io.ioId)).size, ios.length);
  }
});
