// fio job files read as fio reads them: sections and [global] inheritance, comments, include,
// ${VAR} and fio's keywords, the option table (aliases, refusals with why, "did you mean"), files
// resolved as Linux paths on the simulated machine, groups, and every problem as file:line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completeJob, DEFAULT_MACHINE, type JobSpec, type MachineSpec, type Scenario } from '../../../core/index.js';
import { isJobFile, loadMachineFile, loadScenario, parseJobFileText, renderDiagnostic, type LoadOptions, type ScenarioResult } from '../../../tui/scenario.js';
import { repoRoot } from '../../helpers/repo.js';

const SCENARIOS = join(repoRoot(), 'traces', 'scenarios');
const MiB = 2 ** 20;
const GiB = 2 ** 30;

function scenario(text: string, opts: LoadOptions = {}): Scenario {
  const r = parseJobFileText(text, 'job.fio', opts);
  if (!r.ok) assert.fail(`expected the job file to load:\n${r.diagnostics.map(renderDiagnostic).join('\n')}`);
  return r.scenario;
}

function jobs(text: string, opts: LoadOptions = {}): readonly JobSpec[] {
  return scenario(text, opts).jobs;
}

function errors(r: ScenarioResult): string {
  assert.equal(r.ok, false, 'expected the job file to be rejected');
  return r.ok ? '' : r.diagnostics.map(renderDiagnostic).join('\n');
}

/** Only the first line of each diagnostic (file:line: option: message). */
function heads(text: string, opts: LoadOptions = {}): string[] {
  const r = parseJobFileText(text, 'job.fio', opts);
  assert.equal(r.ok, false, 'expected the job file to be rejected');
  return r.ok ? [] : r.diagnostics.map((d) => renderDiagnostic(d).split('\n')[0]!);
}

function pick<K extends keyof JobSpec>(list: readonly JobSpec[], ...keys: K[]): Pick<JobSpec, K>[] {
  return list.map((j) => Object.fromEntries(keys.map((k) => [k, j[k]])) as Pick<JobSpec, K>);
}

// ---------------------------------------------------------------------------------------------
// The INI format

test('[global] options reach every later job; a later [global] only the jobs after it; a job overrides', () => {
  const list = jobs(`
[global]
size=1m
bs=8k
[a]
[b]
bs=16k
[global]
rw=randread
[c]
`);
  assert.deepEqual(pick(list, 'name', 'bs', 'rw', 'size'), [
    { name: 'a', bs: 8192, rw: 'read', size: MiB },
    { name: 'b', bs: 16384, rw: 'read', size: MiB },
    { name: 'c', bs: 8192, rw: 'randread', size: MiB },
  ]);
});

test('comments (; and #, whole-line and trailing), blank lines, bare keys, spaces around "="', () => {
  const list = jobs(`; a comment
# another
   ; indented comment

[job]   
  size = 2m ; trailing
bs=4k# no space before it
time_based
runtime=1s
	direct=1
`);
  assert.deepEqual(pick(list, 'name', 'size', 'bs', 'timeBased', 'direct', 'runtimeNs'), [{ name: 'job', size: 2 * MiB, bs: 4096, timeBased: true, direct: true, runtimeNs: 1e9 }]);
});

test('a default job: fio defaults, the file named jobname.0.0 in /root on the root filesystem', () => {
  const list = jobs('[reader]\nsize=1m\n');
  assert.deepEqual(list, [completeJob({ name: 'reader', filename: '/root/reader.0.0', files: ['/root/reader.0.0'], size: MiB, fileSizeBytes: MiB })]);
});

test('name= overrides the section name for display (default file names keep the section name); description', () => {
  const s = scenario('[global]\ndescription=Two readers\n[sec]\nname=shown\nsize=1m\n');
  assert.deepEqual(pick(s.jobs, 'name', 'filename'), [{ name: 'shown', filename: '/root/sec.0.0' }]);
  assert.equal(s.description, 'Two readers');
  assert.equal(s.name, 'job');
});

test('${VAR} from the environment passed in (unset: empty, as fio); $pagesize, $mb_memory, $ncpus from the machine, with bc-style math', () => {
  const list = jobs('[j]\nsize=${SIZE}\nnumjobs=${N}\nbs=$pagesize\niodepth=$ncpus\nfilename=/mnt/nvme/${UNSET}f\n', { env: { SIZE: '64m', N: '2' } });
  assert.deepEqual(pick(list, 'size', 'numjobs', 'bs', 'iodepth', 'filename'), [{ size: 64 * MiB, numjobs: 2, bs: 4096, iodepth: 4, filename: '/mnt/nvme/f' }]);
  // $mb_memory is 4096 on the default machine; fio hands "4096/2" to bc, and size reads bytes
  assert.equal(jobs('[j]\nsize=$mb_memory/2\nbs=1k\n')[0]!.size, 2048);
  assert.equal(jobs('[j]\nsize=(4096*$ncpus)\n')[0]!.size, 16384);
  assert.deepEqual(heads('[j]\nsize=${S}\n', { env: {} }), ['job.fio:2: size: "" is not a size; write a number with an optional suffix, like 4k, 64m or 1g']);
});

test('include FILE: relative to the including file, options only, nested, no cycles, bounded depth', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-include-'));
  try {
    mkdirSync(join(dir, 'inc'));
    writeFileSync(join(dir, 'main.fio'), '[global]\nsize=1m\ninclude inc/glob.fio\n[test]\nrw=randread\ninclude inc/test.fio\n');
    writeFileSync(join(dir, 'inc', 'glob.fio'), 'thread=1\ngroup_reporting=1\n');
    writeFileSync(join(dir, 'inc', 'test.fio'), 'ioengine=libaio\ninclude deeper.fio\n');
    writeFileSync(join(dir, 'inc', 'deeper.fio'), 'iodepth=4\n');
    const ok = loadScenario(join(dir, 'main.fio'), SCENARIOS);
    assert.ok(ok.ok);
    assert.deepEqual(pick(ok.scenario.jobs, 'name', 'rw', 'ioengine', 'iodepth', 'groupReporting'), [{ name: 'test', rw: 'randread', ioengine: 'libaio', iodepth: 4, groupReporting: true }]);

    writeFileSync(join(dir, 'loop.fio'), '[j]\nsize=1m\ninclude loop2.fio\n');
    writeFileSync(join(dir, 'loop2.fio'), 'bs=4k\ninclude loop2.fio\n');
    writeFileSync(join(dir, 'section.fio'), '[j]\ninclude sec-inc.fio\n');
    writeFileSync(join(dir, 'sec-inc.fio'), 'size=1m\n[other]\n');
    writeFileSync(join(dir, 'missing.fio'), '[j]\nsize=1m\ninclude nope.fio\n');
    const first = (file: string): string => errors(loadScenario(join(dir, file), SCENARIOS)).split('\n')[0]!;
    assert.equal(first('loop.fio'), `${join(dir, 'loop2.fio')}:2: include: "loop2.fio" includes itself (through "${join(dir, 'loop2.fio')}" -> "${join(dir, 'loop2.fio')}"); remove the cycle`);
    assert.equal(first('section.fio'), `${join(dir, 'sec-inc.fio')}:2: an included file may not open sections (fio: "No new sections in included files"); put the section in the including file`);
    assert.equal(first('missing.fio'), `${join(dir, 'missing.fio')}:3: include: cannot read "nope.fio": no such file`);
    for (let i = 0; i < 12; i++) writeFileSync(join(dir, `d${i}.fio`), `bs=4k\ninclude d${i + 1}.fio\n`);
    writeFileSync(join(dir, 'deep.fio'), '[j]\nsize=1m\ninclude d0.fio\n');
    assert.equal(first('deep.fio'), `${join(dir, 'd7.fio')}:2: include: includes nest deeper than 8 files; flatten them`);
    writeFileSync(join(dir, 'small.fio'), 'bs=4k\n');
    writeFileSync(join(dir, 'wide.fio'), `[j]\nsize=1m\n${'include small.fio\n'.repeat(300)}`);
    assert.equal(errors(loadScenario(join(dir, 'wide.fio'), SCENARIOS)).split('\n')[0], `${join(dir, 'wide.fio')}:259: include: more than 256 includes in all; a job file may include at most 256`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Files and paths

test('file names: relative to /root or --directory; directory= (itself relative to it); nrfiles; filename_format; ":" lists', () => {
  const cases: ReadonlyArray<[string, LoadOptions, readonly string[], number]> = [
    ['[j]\nfilename=data\nsize=1m\n', {}, ['/root/data'], MiB],
    ['[j]\nfilename=data\nsize=1m\n', { directory: '/mnt/nvme' }, ['/mnt/nvme/data'], MiB],
    ['[j]\nfilename=../tmp/./x//y\nsize=1m\n', {}, ['/tmp/x/y'], MiB],
    ['[j]\ndirectory=/mnt/hdd\nsize=1m\n', {}, ['/mnt/hdd/j.0.0'], MiB],
    ['[j]\ndirectory=sub\nfilename=f\nsize=1m\n', { directory: '/mnt/nvme' }, ['/mnt/nvme/sub/f'], MiB],
    // fio writes directory + "/" + filename even for an absolute filename
    ['[j]\ndirectory=/mnt/nvme\nfilename=/x\nsize=1m\n', {}, ['/mnt/nvme/x'], MiB],
    ['[j]\nnrfiles=3\nsize=3m\n', {}, ['/root/j.0.0', '/root/j.0.1', '/root/j.0.2'], MiB],
    ['[j]\nnrfiles=2\nfilesize=4m\n', {}, ['/root/j.0.0', '/root/j.0.1'], 4 * MiB],
    ['[j]\nnrfiles=2\nfilename_format=shared.$filenum\nsize=2m\n', {}, ['/root/shared.0', '/root/shared.1'], MiB],
    ['[j]\nfilename=/mnt/nvme/a:/mnt/hdd/b\nnrfiles=5\nsize=2m\n', {}, ['/mnt/nvme/a', '/mnt/hdd/b'], MiB],
    ['[j]\nfilename=/mnt/nvme/a\\:b\nsize=1m\n', {}, ['/mnt/nvme/a:b'], MiB],
  ];
  for (const [text, opts, files, fileSizeBytes] of cases) {
    const [j] = jobs(text, opts);
    assert.deepEqual({ files: j!.files, filename: j!.filename, fileSizeBytes: j!.fileSizeBytes }, { files, filename: files.join(':'), fileSizeBytes }, text);
  }
});

test('raw devices: /dev/<name> is the whole device by default; size=50% is half of it; a section named /dev/sda is that device', () => {
  assert.deepEqual(pick(jobs('[r]\nfilename=/dev/nvme0n1\nrw=randread\n'), 'files', 'size', 'fileSizeBytes'), [{ files: ['/dev/nvme0n1'], size: 512 * GiB, fileSizeBytes: 512 * GiB }]);
  assert.deepEqual(pick(jobs('[r]\nfilename=/dev/sda\nsize=50%\noffset=25%\n'), 'size', 'offsetBytes'), [{ size: 512 * GiB, offsetBytes: 256 * GiB }]);
  assert.deepEqual(pick(jobs('[/dev/sda]\nrw=read\n'), 'name', 'files'), [{ name: '/dev/sda', files: ['/dev/sda'] }]);
});

test('a machine file: its own root ("/" mount), its devices; --machine with mount "/" makes every path land on it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-machine-'));
  try {
    writeFileSync(join(dir, 'm.json'), JSON.stringify({ machine: { cpus: 2, memory: '1g', devices: [{ name: 'sdb', type: 'hdd', capacity: '8g', mount: '/' }, { name: 'nvme1n1', type: 'nvme', capacity: '4g', mount: '/data' }] } }));
    const m = loadMachineFile(join(dir, 'm.json'));
    assert.ok(m.ok);
    const machine: MachineSpec = m.machine;
    const list = jobs('[a]\nfilename=/tmp/x\nsize=1m\n[b]\ndirectory=/data\nsize=1m\n[c]\nfilename=/dev/nvme1n1\niodepth=$ncpus\n', { machine });
    assert.deepEqual(pick(list, 'files', 'size', 'iodepth'), [
      { files: ['/tmp/x'], size: MiB, iodepth: 1 },
      { files: ['/data/b.0.0'], size: MiB, iodepth: 1 },
      { files: ['/dev/nvme1n1'], size: 4 * GiB, iodepth: 2 },
    ]);
    writeFileSync(join(dir, 'bad.json'), '{"machine": {"cpus": 0}, "jobs": []}');
    const bad = loadMachineFile(join(dir, 'bad.json'));
    assert.equal(
      bad.ok ? 'loaded' : bad.diagnostics.map(renderDiagnostic).join('\n'),
      [
        `${join(dir, 'bad.json')}:1:22: machine.cpus: must be an integer from 1 to 64 (got 0)`,
        '{"machine": {"cpus": 0}, "jobs": []}',
        '                     ^',
        `${join(dir, 'bad.json')}:1:26: jobs: unknown key (expected one of: machine)`,
        '{"machine": {"cpus": 0}, "jobs": []}',
        '                         ^~~~~~',
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('paths that are not files on this machine', () => {
  assert.deepEqual(heads('[a]\nfilename=/dev/sdz\nsize=1m\n[b]\nfilename=/mnt/nvme\nsize=1m\n[c]\nfilename=/dev/null\nsize=1m\n'), [
    'job.fio:2: filename: "/dev/sdz" is not a device of this machine (raw devices: /dev/nvme0n1, /dev/sda)',
    'job.fio:5: filename: "/mnt/nvme" is a directory (a mount point); name a file in it, e.g. "/mnt/nvme/data"',
    'job.fio:8: filename: "/dev/null" is not a device of this machine (raw devices: /dev/nvme0n1, /dev/sda)',
  ]);
  assert.deepEqual(heads('[a]\nopendir=/mnt/nvme\n'), [
    'job.fio:2: opendir: opendir opens the files already in a directory, and the simulated filesystems hold only the files jobs name; name them with filename= or nrfiles=',
  ]);
  assert.deepEqual(heads('[a]\nfilename=/mnt/nvme/f\n'), ['job.fio:1: size: required: "/mnt/nvme/f" does not exist before the job, so fio needs a size (e.g. size=64m)']);
});

test('files on one filesystem must fit in it together (numjobs clones with generated names have their own files)', () => {
  assert.deepEqual(heads('[a]\ndirectory=/mnt/nvme\nsize=200g\nnumjobs=3\n'), [
    "job.fio:3: size: the 3 files on /mnt/nvme need 601 GiB but the filesystem on nvme0n1 has 507 GiB free after ext4's journal and metadata; make the files smaller or the device larger",
  ]);
  // a shared filename is one file however many clones use it
  assert.equal(jobs('[a]\nfilename=/mnt/nvme/f\nsize=200g\nnumjobs=3\n').length, 1);
});

// ---------------------------------------------------------------------------------------------
// Options

test('every option issue 10 lists, in fio units, into JobSpec', () => {
  const [j] = jobs(`
[all]
filename=/dev/nvme0n1
allow_mounted_write=1
ioengine=io_uring
iodepth=32
iodepth_batch=16
iodepth_batch_complete_min=4
iodepth_batch_complete_max=8
iodepth_low=16
readwrite=randrw
rwmixwrite=30
blocksize=4k,8k
offset=1g
offset_increment=64m
size=1g
ramp_time=2
runtime=10s
time_based
startdelay=500ms
numjobs=2
norandommap
randrepeat=0
random_distribution=zipf:1.2
rate=1m,500k
rate_iops=,100
rate_process=poisson
thinktime=20
thinktime_blocks=8
end_fsync=1
fsync=32
fdatasync=16
sync=dsync
loops=3
group_reporting
percentile_list=50:99:99.9
unified_rw_reporting=mixed
fallocate=none
create_on_open=1
overwrite=1
file_service_type=random
sqthread_poll=1
fixedbufs
registerfiles=1
hipri=1
direct=1
`);
  assert.deepEqual(
    j,
    completeJob({
      name: 'all',
      filename: '/dev/nvme0n1',
      files: ['/dev/nvme0n1'],
      fileSizeBytes: 512 * GiB,
      ioengine: 'io_uring',
      iodepth: 32,
      iodepthBatchSubmit: 16,
      iodepthBatchCompleteMin: 4,
      iodepthBatchCompleteMax: 8,
      iodepthLow: 16,
      rw: 'randrw',
      rwmixread: 70,
      bs: 4096,
      blockSizes: { read: { minBytes: 4096, maxBytes: 4096, split: [] }, write: { minBytes: 8192, maxBytes: 8192, split: [] } },
      offsetBytes: GiB,
      offsetIncrementBytes: 64 * MiB,
      size: GiB,
      rampTimeNs: 2e9,
      runtimeNs: 10e9,
      timeBased: true,
      startdelayNs: 500e6,
      numjobs: 2,
      norandommap: true,
      randrepeat: false,
      randomDistribution: { kind: 'zipf', theta: 1.2 },
      rateBytesPerSec: { read: MiB, write: 500 * 1024 },
      rateIops: { read: 0, write: 100 },
      rateProcess: 'poisson',
      thinktimeNs: 20e3,
      thinktimeBlocks: 8,
      endFsync: true,
      fsync: 32,
      fdatasync: 16,
      sync: 'dsync',
      loops: 3,
      groupReporting: true,
      percentileList: [50, 99, 99.9],
      unifiedRwReporting: 'mixed',
      fallocate: 'none',
      createOnOpen: true,
      overwrite: true,
      fileServiceType: 'random',
      sqthreadPoll: true,
      fixedbufs: true,
      registerfiles: true,
      hipri: true,
      direct: true,
    }),
  );
});

test('block sizes: bs ranges, bsrange per direction, bssplit (which decides when given)', () => {
  const spec = (text: string): JobSpec['blockSizes'] => jobs(`[j]\nsize=1m\n${text}\n`)[0]!.blockSizes;
  assert.equal(spec('bs=8k'), undefined);
  assert.deepEqual(spec('bs=4k-16k'), { read: { minBytes: 4096, maxBytes: 16384, split: [] }, write: { minBytes: 4096, maxBytes: 16384, split: [] } });
  assert.deepEqual(spec('bsrange=1k-4k,2k-8k'), { read: { minBytes: 1024, maxBytes: 4096, split: [] }, write: { minBytes: 2048, maxBytes: 8192, split: [] } });
  assert.deepEqual(spec('bssplit=4k/10:64k/50:32k/40'), {
    read: { minBytes: 4096, maxBytes: 65536, split: [{ bytes: 4096, percent: 10 }, { bytes: 65536, percent: 50 }, { bytes: 32768, percent: 40 }] },
    write: { minBytes: 4096, maxBytes: 65536, split: [{ bytes: 4096, percent: 10 }, { bytes: 65536, percent: 50 }, { bytes: 32768, percent: 40 }] },
  });
  assert.deepEqual(spec('bs=,8k'), { read: { minBytes: 4096, maxBytes: 4096, split: [] }, write: { minBytes: 8192, maxBytes: 8192, split: [] } });
  assert.equal(jobs('[j]\nsize=1m\nkb_base=1000\nbs=4k\n')[0]!.bs, 4000);
});

test('io_size a whole number of regions is loops; distributions; sync spellings', () => {
  assert.equal(jobs('[j]\nsize=1m\nio_size=4m\n')[0]!.loops, 4);
  const dist = (v: string): JobSpec['randomDistribution'] => jobs(`[j]\nsize=1m\nrandom_distribution=${v}\n`)[0]!.randomDistribution;
  assert.deepEqual(dist('random'), { kind: 'random' });
  assert.deepEqual(dist('pareto:0.9'), { kind: 'pareto', h: 0.9 });
  assert.deepEqual(dist('normal:20'), { kind: 'normal', stdDevPercent: 20 });
  const sync = (v: string): JobSpec['sync'] => jobs(`[j]\nsize=1m\nsync=${v}\n`)[0]!.sync;
  assert.deepEqual(['0', 'none', '1', 'sync', 'dsync'].map(sync), ['none', 'none', 'sync', 'sync', 'dsync']);
  assert.equal(jobs('[j]\nsize=1m\nbuffered=0\n')[0]!.direct, true);
});

test('options kiotrace cannot model are refused with why; unknown ones get "did you mean"; harmless ones are accepted', () => {
  assert.deepEqual(
    heads(`[global]
verify=md5
[j]
size=1m
ioengine=pvsync
[k]
size=1m
blocksiz=4k
randrepat=0
write_bw_log=x
openfiles=2
random_distribution=zoned_abs:50/5:50/95
rw=read:8q
rw2=1
`),
    [
      'job.fio:2: verify: fio option not supported by kiotrace: data verification needs real data; kiotrace simulates only timing, not contents',
      'job.fio:5: ioengine: ioengine=pvsync is not supported: preadv/pwritev are not syscalls of the simulated kernel; use psync (pread/pwrite), the same I/O path',
      'job.fio:8: blocksiz: unknown fio option; did you mean "blocksize"?',
      'job.fio:9: randrepat: unknown fio option; did you mean "randrepeat"?',
      'job.fio:10: write_bw_log: fio option not supported by kiotrace: kiotrace writes no fio log files; trace the run with a bpftrace script or --export instead',
      'job.fio:11: openfiles: fio option not supported by kiotrace: a job keeps all its files open (nrfiles of them); a limit on open files is not modelled',
      'job.fio:12: random_distribution: zoned_abs distributions are not modelled (kiotrace has random, zipf, pareto, normal and zoned)',
      `job.fio:13: rw: "read:8q": after ':' a sequential mode takes the bytes to skip after each I/O, like read:8k or read:-8k (unknown size suffix "q" in "8q"; use k, m, g, t or p (with an optional b or ib))`,
      'job.fio:14: rw2: unknown fio option; did you mean "rw"?',
    ],
  );
  // zoned (fio's examples/rand-zones.fio: the last size left empty is the rest) and blockalign
  assert.deepEqual(jobs('[z]\nsize=1m\nrw=randread\nrandom_distribution=zoned:50/5:30/15:20/\nblockalign=4k\n').map((j) => [j.randomDistribution, j.blockAlignBytes]), [
    [{ kind: 'zoned', zones: [{ accessPercent: 50, sizePercent: 5 }, { accessPercent: 30, sizePercent: 15 }, { accessPercent: 20, sizePercent: 80 }] }, 4096],
  ]);
  assert.deepEqual(heads('[z]\nsize=1m\nrandom_distribution=zoned:50/5:30/15\n'), [`job.fio:3: random_distribution: the zones' access percentages add up to 80; they must add up to 100`]);
  assert.equal(jobs('[n]\nsize=1m\nnumber_ios=1000\n')[0]!.numberIos, 1000);
  assert.deepEqual(jobs('[f]\nsize=1m\nflow=2\nflow_id=3\nflow_sleep=100\n').map((j) => [j.flow, j.flowId, j.flowSleepNs]), [[2, 3, 100_000]]);
  assert.deepEqual(
    jobs('[l]\nsize=1m\nlatency_target=500000\nlatency_window=5s\nlatency_percentile=99.9\nlatency_run=1\n').map((j) => [j.latencyTargetNs, j.latencyWindowNs, j.latencyPercentile, j.latencyRun]),
    [[500_000_000, 5_000_000_000, 99.9, true]],
  );
  assert.deepEqual(heads('[l]\nsize=1m\nlatency_percentile=101\n'), ['job.fio:3: latency_percentile: must be a percentage from 0 to 100 (got 101)']);
  assert.deepEqual(jobs('[m]\nsize=1m\nrate=1250\nratemin=1024\nratecycle=500\n').map((j) => [j.rateMinBytesPerSec, j.rateCycleNs]), [[{ read: 1024, write: 1024 }, 500_000_000]]);
  assert.deepEqual(jobs('[global]\nsize=1m\nexitall=1\n[a]\nexit_what=stonewall\n[b]\n').map((j) => [j.exitall, j.exitWhat]), [
    [true, 'stonewall'],
    [true, 'group'],
  ]);
  // fio's rw=MODE:N (backwards-read.fio, holes, random runs)
  assert.deepEqual(
    jobs('[a]\nsize=1m\nrw=read:-8k\n[b]\nsize=1m\nrw=write:4k\n[c]\nsize=1m\nrw=randread:8\n').map((j) => [j.seqAddBytes, j.randomRunIos]),
    [
      [-8192, 1],
      [4096, 1],
      [0, 8],
    ],
  );
  assert.deepEqual(heads('[j]\nsize=1m\nrw=randread:0\n'), [`job.fio:3: rw: "randread:0": after ':' a random mode takes how many I/Os to issue in a row from each random offset (a whole number >= 1)`]);
  // thread, invalidate, group_reporting, clat_percentiles, io_submit_mode: accepted
  assert.equal(jobs('[j]\nthread\ninvalidate=1\nclat_percentiles=1\nio_submit_mode=offload\nfilename=/dev/sda\n').length, 1);
  // ioscheduler: the disk of the job's first file gets the scheduler (a file resolves to its mount's disk)
  assert.deepEqual(jobs('[j]\nfilename=/dev/nvme0n1\nioscheduler=kyber\n[k]\nsize=1m\nfilename=/mnt/hdd/f\nioscheduler=bfq\n[l]\nsize=1m\n').map((j) => j.ioscheduler), [
    { disk: 'nvme0n1', scheduler: 'kyber' },
    { disk: 'sda', scheduler: 'bfq' },
    undefined,
  ]);
  assert.deepEqual(heads('[j]\nfilename=/dev/nvme0n1\nioscheduler=cfq\n'), ['job.fio:3: ioscheduler: unknown I/O scheduler "cfq" (expected one of: none, mq-deadline, bfq, kyber); did you mean "bfq"?']);
  // write_hint: fio's five lifetimes; absent, no hint is set
  assert.deepEqual(jobs('[a]\nsize=1m\nwrite_hint=short\n[b]\nsize=1m\nwrite_hint=extreme\n[c]\nsize=1m\n').map((j) => j.writeHint), ['short', 'extreme', undefined]);
  assert.deepEqual(heads('[a]\nsize=1m\nwrite_hint=shrot\n'), ['job.fio:3: write_hint: unknown write hint "shrot" (expected one of: none, short, medium, long, extreme); did you mean "short"?']);
  assert.deepEqual(heads('[j]\nsize=1m\nsqthread_poll=1\n'), ['job.fio:3: sqthread_poll: sqthread_poll is an io_uring option; set ioengine=io_uring (this job uses psync)']);
  // an engine kiotrace does not run: that is the one thing said (not its options, not its files)
  assert.deepEqual(heads('[burn]\nioengine=cpuio\ncpuload=50\n'), ['job.fio:2: ioengine: ioengine=cpuio is not supported: the cpuio engine burns CPU without I/O; kiotrace simulates the I/O path']);
});

test('values: bad ones say what fio reads, with a caret under the value', () => {
  assert.equal(
    errors(parseJobFileText('[j]\nsize=1m\nruntime=10sec\n  iodepth = 0\n', 'job.fio')),
    [
      'job.fio:3: runtime: unknown time suffix "sec" in "10sec"; fio knows us, ms, s, m, h and d (and would read this as 10 microseconds)',
      'runtime=10sec',
      '        ^~~~~',
      'job.fio:4: iodepth: must be an integer from 1 to 65536 (got 0)',
      '  iodepth = 0',
      '            ^',
    ].join('\n'),
  );
  // (direct=1 with 1000-byte blocks is not refused: as in fio, the I/O fails with EINVAL)
  assert.equal(jobs('[k]\nsize=4k\nbs=1000\ndirect=1\n')[0]!.bs, 1000);
  assert.deepEqual(heads('[j]\nsize=1m\nbs=8m\n[l]\nsize=1m\nrwmixread=70\nrwmixwrite=70\n'), [
    'job.fio:3: bs: 8m is larger than size (1m)',
    'job.fio:7: rwmixwrite: rwmixread=70 and rwmixwrite=70 add up to 140; they must add up to 100 (give one of them)',
  ]);
});

// ---------------------------------------------------------------------------------------------
// Groups, ordering, duration

test('groups as fio numbers them: stonewall and new_group start one once the current has jobs; wait_for names an earlier job', () => {
  const list = jobs(`
[global]
size=1m
filename=/tmp/data
[w]
stonewall
[r1]
[r2]
stonewall
[r3]
new_group
wait_for=r1
`);
  assert.deepEqual(pick(list, 'name', 'groupId', 'stonewall', 'waitFor'), [
    { name: 'w', groupId: 0, stonewall: true, waitFor: '' },
    { name: 'r1', groupId: 0, stonewall: false, waitFor: '' },
    { name: 'r2', groupId: 1, stonewall: true, waitFor: '' },
    { name: 'r3', groupId: 2, stonewall: false, waitFor: 'r1' },
  ]);
  assert.deepEqual(heads('[global]\nsize=1m\n[a]\nwait_for=b\n[b]\nwait_for=b\n[c]\nwait_for=\n'), [
    'job.fio:4: wait_for: no earlier job is named "b"; wait_for must name a job above this one',
    'job.fio:6: wait_for: a job cannot wait for itself (wait_for=b)',
    'job.fio:8: wait_for: needs the name of an earlier job (wait_for=writers)',
  ]);
  // fio allows two jobs one name ([global] name=...), but then wait_for cannot name it
  assert.deepEqual(heads('[global]\nsize=1m\nname=same\n[a]\n[b]\n[c]\nname=c\nwait_for=same\n'), [
    'job.fio:8: wait_for: several earlier jobs are named "same"; wait_for needs a name only one job has (fio: "multiple waitees")',
  ]);
});

test('the duration a job file implies: twice the phases of the longest startdelay + ramp_time + runtime (set-up and drain); 1h when a job is not time-limited', () => {
  assert.equal(scenario('[global]\nsize=1m\n[a]\nruntime=2s\n[b]\nruntime=1s\nstartdelay=500ms\nramp_time=1s\n[c]\nstonewall\nruntime=3s\n').durationNs, 2 * (2.5e9 + 3e9));
  assert.equal(scenario('[a]\nsize=1m\nruntime=1s\n[b]\nsize=1m\n').durationNs, 3600e9);
  assert.equal(scenario('[a]\nsize=1m\nruntime=1s\n[b]\nsize=1m\nruntime=2s\nwait_for=a\n').durationNs, 2 * 3e9);
});

test('numjobs: the runner clones; the total across jobs is bounded', () => {
  assert.equal(jobs('[a]\nsize=1m\nnumjobs=8\n')[0]!.numjobs, 8);
  assert.deepEqual(heads('[a]\nsize=1m\nnumjobs=40\n[b]\nsize=1m\nnumjobs=40\n'), ['job.fio:4: numjobs: the jobs fork 80 processes in all (numjobs summed); at most 64']);
  assert.deepEqual(heads('[a]\nsize=1m\nnumjobs=65\n'), ['job.fio:3: numjobs: must be an integer from 1 to 64 (got 65)']);
});

// ---------------------------------------------------------------------------------------------
// Bad input never throws

test('text that is not a job file: NUL bytes, options outside a section, bad headers, no jobs, too many sections', () => {
  assert.deepEqual(heads('[j]\nsize=1m\0\n'), ['job.fio: contains NUL bytes: it is a binary file, not an fio job file']);
  assert.deepEqual(heads('size=1m\n[j]\nsize=1m\n'), ['job.fio:1: "size=1m" is outside of a [section]; put options under [global] or a [job] header']);
  assert.deepEqual(heads('[j\nsize=1m\n'), ['job.fio:1: "[j" is not a section header; write [jobname]']);
  assert.deepEqual(heads(''), ['job.fio: no jobs: an fio job file has [jobname] sections of options (see traces/README.md)']);
  assert.deepEqual(heads('[global]\nsize=1m\n'), ['job.fio: no jobs: the file has only [global] sections; add a [jobname] section']);
  assert.deepEqual(heads(Array.from({ length: 70 }, (_, i) => `[j${i}]\nsize=1m\n`).join('')), ['job.fio:129: 70 jobs; a job file may have at most 64 (numjobs clones one)']);
  // 300 sections: past 256 the rest are not read; past 64 jobs the rest are not resolved
  const many = heads(Array.from({ length: 300 }, (_, i) => `[j${i}]\nsize=1m\nbogus${i}=1\n`).join(''));
  assert.equal(many.length, 51);
  assert.equal(many[50], 'job.fio: 16 more problems not shown; fix these first');
  // a hostile value: deep parentheses and huge expansions are errors, not crashes
  assert.equal(heads(`[j]\nsize=${'('.repeat(2000)}1${')'.repeat(2000)}\n`)[0], `job.fio:2: size: cannot evaluate "${'('.repeat(37)}...": nested deeper than 32 parentheses`);
  assert.deepEqual(heads(`[j]\nsize=1m\nfilename=${'a'.repeat(9000)}\n`), ['job.fio:3: the line is 9009 characters long; fio reads at most 8192']);
  assert.deepEqual(heads('[j]\nsize=1m\nfilename=${A}${A}${A}\n', { env: { A: 'x'.repeat(5000) } }), ['job.fio:3: filename: expanding ${A} makes the value longer than 8192 characters (fio\'s OPT_LEN_MAX)']);
});

test('a job file is found by extension or by content; a scenario may name one as "job_file"', () => {
  assert.equal(isJobFile('x.fio', '{'), true);
  assert.equal(isJobFile('x.job', ''), true);
  assert.equal(isJobFile('x.ini', ''), true);
  assert.equal(isJobFile('x.json', '[j]'), false);
  assert.equal(isJobFile('x', '\uFEFF  {"name": "x"}'), false);
  assert.equal(isJobFile('x', '; fio\n[j]\n'), true);
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-jobfile-'));
  try {
    writeFileSync(join(dir, 'plain'), '[r]\nfilename=/dev/nvme0n1\nruntime=1s\n');
    const plain = loadScenario(join(dir, 'plain'), SCENARIOS);
    assert.ok(plain.ok);
    assert.deepEqual({ name: plain.scenario.name, durationNs: plain.scenario.durationNs, machine: plain.scenario.machine }, { name: 'plain', durationNs: 2e9, machine: DEFAULT_MACHINE });
    mkdirSync(join(dir, 'jobs'));
    writeFileSync(join(dir, 'jobs', 'r.fio'), '[r]\nfilename=/dev/sdb\nsize=1m\n');
    writeFileSync(join(dir, 's.json'), JSON.stringify({ name: 's', machine: { devices: [{ name: 'sdb', type: 'hdd', capacity: '1g' }] }, job_file: 'jobs/r.fio' }));
    const viaJson = loadScenario(join(dir, 's.json'), SCENARIOS);
    assert.ok(viaJson.ok);
    assert.deepEqual(pick(viaJson.scenario.jobs, 'name', 'files', 'size'), [{ name: 'r', files: ['/dev/sdb'], size: MiB }]);
    assert.equal(viaJson.scenario.durationNs, 3600e9);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ name: 's', duration: '1s', job_file: 'jobs/r.fio' }));
    assert.equal(errors(loadScenario(join(dir, 'bad.json'), SCENARIOS)).split('\n')[0], `${join(dir, 'jobs', 'r.fio')}:2: filename: "/dev/sdb" is not a device of this machine (raw devices: /dev/nvme0n1, /dev/sda)`);
    // --machine is for job files: a JSON scenario has its own
    assert.equal(errors(loadScenario(join(dir, 's.json'), SCENARIOS, { machine: DEFAULT_MACHINE })), `kiotrace: --machine is for fio job files; the JSON scenario "${join(dir, 's.json')}" describes its own machine (edit its "machine" instead)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the job files shipped in traces/jobs load on the default machine', () => {
  for (const file of ['randread-nvme.fio', 'phases.fio', 'numjobs.fio', 'poisson.fio']) {
    const r = loadScenario(join(repoRoot(), 'traces', 'jobs', file), SCENARIOS);
    assert.ok(r.ok, r.ok ? '' : r.diagnostics.map(renderDiagnostic).join('\n'));
  }
});

test('the CLI: a bad job file is every problem as file:line with a caret, exit 2; --machine and --directory are checked', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-jobcli-'));
  const cli = (...args: string[]): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [join(repoRoot(), 'dist', 'tui', 'cli.js'), ...args], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  try {
    writeFileSync(join(dir, 'bad.fio'), '[global]\nsize=64m\n\n[reader]\nrw=randrea\nbs=4k,8q\n');
    assert.deepEqual(cli('run', 'bad.fio'), {
      code: 2,
      stdout: '',
      stderr: [
        'bad.fio:5: rw: unknown mode "randrea" (expected one of: read, write, randread, randwrite, rw, readwrite, randrw); did you mean "randread"?',
        'rw=randrea',
        '   ^~~~~~~',
        'bad.fio:6: bs: unknown size suffix "q" in "8q"; use k, m, g, t or p (with an optional b or ib)',
        'bs=4k,8q',
        '   ^~~~~',
        '',
      ].join('\n'),
    });
    // a job file in the working directory by its bare name, as `fio myjob` (the summary names it)
    writeFileSync(join(dir, 'myjob'), '[r]\nfilename=/mnt/nvme/x\nsize=64k\n');
    const mine = cli('run', 'myjob', '--duration', '1ms');
    assert.equal(mine.code, 0, mine.stderr);
    // the run ends when its one job has read its 64k, before the 1ms --duration allows
    assert.match(mine.stdout, /^scenario myjob: seed=1, duration=\d+ns, events=\d+$/m);
    writeFileSync(join(dir, 'm.json'), '{"machine": {"devices": [{"name": "sdb", "type": "hdd"}]}}');
    writeFileSync(join(dir, 'ok.fio'), '[r]\nfilename=/mnt/nvme/x\nsize=1m\n');
    assert.deepEqual(cli('run', 'ok.fio', '--machine', 'm.json', '--duration', '1ms'), {
      code: 2,
      stdout: '',
      stderr: 'ok.fio:2: filename: "/mnt/nvme/x" is not on any filesystem: this machine has no device with a mount\nfilename=/mnt/nvme/x\n         ^~~~~~~~~~~\n',
    });
    assert.equal(cli('run', 'ok.fio', '--machine', 'nope.json').stderr, 'kiotrace: cannot read machine file "nope.json": no such file\n');
    assert.equal(cli('run', 'ok.fio', '--directory', 'rel').stderr.split('\n')[0], 'kiotrace: --directory: must be an absolute path on the simulated machine, like /mnt/nvme (got "rel")');
    assert.equal(cli('-l', '--machine', 'm.json').stderr.split('\n')[0], 'kiotrace: --machine goes with run, top or a program (it shapes the machine a scenario runs on)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
