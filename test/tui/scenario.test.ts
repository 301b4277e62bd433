// Scenario files and units: defaults as fio has them, every mistake reported with its field path,
// position and a fix, and the shipped scenarios valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { completeJob, DEFAULT_MACHINE } from '../../core/userspace/job.js';
import { listExperimentNames, listScenarioNames, loadScenario, parseScenario, parseScenarioText, renderDiagnostic, type ScenarioResult } from '../../tui/scenario.js';
import { formatBytes, formatDurationFio, formatNs, formatSizeFio, num2str, parseDuration, parseSize } from '../../tui/units.js';
import { repoRoot } from '../helpers/repo.js';

const SCENARIOS = join(repoRoot(), 'traces', 'scenarios');

function errors(result: ScenarioResult): string {
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n');
}

// ---------------------------------------------------------------------------------------------
// units

test('parseSize: fio suffixes, kb_base=1024', () => {
  const cases: ReadonlyArray<[string, number | undefined]> = [
    ['512', 512],
    ['4k', 4096],
    ['4K', 4096],
    ['4kb', 4096],
    ['4KiB', 4096],
    ['256m', 256 * 2 ** 20],
    ['1g', 2 ** 30],
    ['1.5m', 1.5 * 2 ** 20],
    ['2t', 2 * 2 ** 40],
    ['0', 0],
    ['-4k', undefined],
    ['0.3k', undefined], // 307.2 bytes
    ['4x', undefined],
    ['k', undefined],
    ['', undefined],
  ];
  for (const [text, bytes] of cases) assert.equal(parseSize(text), bytes, text);
});

test('parseDuration: fio time suffixes, bare number in the default unit', () => {
  const cases: ReadonlyArray<[string, 'ns' | 'us' | 'ms' | 's', number | undefined]> = [
    ['2s', 's', 2e9],
    ['500ms', 's', 5e8],
    ['100us', 's', 1e5],
    ['100usec', 's', 1e5],
    ['250ns', 's', 250],
    ['1m', 's', 60e9],
    ['1h', 's', 3600e9],
    ['1.1s', 's', 1_100_000_000],
    ['2', 's', 2e9],
    ['20', 'us', 20_000],
    ['0', 's', 0],
    ['5x', 's', undefined],
    ['-1s', 's', undefined],
    ['0.5ns', 's', undefined],
    ['s', 's', undefined],
  ];
  for (const [text, unit, ns] of cases) assert.equal(parseDuration(text, unit), ns, text);
});

test("num2str matches fio's lib/num2str.c", () => {
  assert.equal(num2str(12_345, 4, false, ''), '12.3k');
  assert.equal(num2str(1_000, 4, false, ''), '1000');
  assert.equal(num2str(999_999, 4, false, ''), '1000k');
  assert.equal(num2str(50_438_144, 4, true, 'B/s'), '48.1MiB/s');
  assert.equal(num2str(50_438_144, 4, false, 'B/s'), '50.4MB/s');
  assert.equal(num2str(100_876_288, 4, true, 'B'), '96.2MiB');
  assert.equal(num2str(100_876_288, 4, false, 'B'), '101MB');
  assert.equal(num2str(0, 4, true, 'B'), '0B');
});

test('human formats', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(4096), '4 KiB');
  assert.equal(formatBytes(1.5 * 2 ** 20), '1.5 MiB');
  assert.equal(formatBytes(2 ** 30), '1 GiB');
  assert.equal(formatNs(850), '850 ns');
  assert.equal(formatNs(12_500), '12.5 µs');
  assert.equal(formatNs(2e9), '2 s');
  assert.equal(formatSizeFio(8 * 2 ** 20), '8m');
  assert.equal(formatSizeFio(4096), '4k');
  assert.equal(formatSizeFio(1000), '1000');
  assert.equal(formatDurationFio(2e9), '2s');
  assert.equal(formatDurationFio(5e5), '500us');
  assert.equal(formatDurationFio(1), '1ns');
});

// ---------------------------------------------------------------------------------------------
// parseScenario (already-parsed values)

test('fio defaults and the default machine fill in what a job leaves out', () => {
  const result = parseScenario(
    { name: 'mini', duration: '10ms', jobs: [{ name: 'r', filename: '/mnt/nvme/f', size: '1m' }] },
    'mini.json',
  );
  assert.ok(result.ok);
  assert.deepEqual(result.scenario, {
    name: 'mini',
    description: '',
    machine: DEFAULT_MACHINE,
    durationNs: 10_000_000,
    jobs: [completeJob({ name: 'r', filename: '/mnt/nvme/f', size: 2 ** 20 })],
  });
});

test('every option in fio units, raw devices default to their whole capacity', () => {
  const result = parseScenario(
    {
      name: 'all',
      description: 'd',
      duration: 2,
      machine: {
        cpus: 2,
        memory: '1g',
        devices: [
          { name: 'nvme1n1', type: 'nvme', capacity: '16g', mount: '/data' },
          { name: 'sdb', type: 'hdd' },
        ],
      },
      jobs: [
        {
          name: 'w',
          filename: '/data/x',
          rw: 'randrw',
          bs: 8192,
          size: '64m',
          iodepth: '8',
          ioengine: 'sync',
          direct: true,
          numjobs: 2,
          runtime: '1s',
          time_based: 1,
          fsync: 16,
          rwmixread: 70,
          thinktime: '1ms',
          startdelay: '500ms',
        },
        { name: 'raw', filename: '/dev/sdb', rw: 'readwrite' },
      ],
    },
    'all.json',
  );
  assert.ok(result.ok);
  const s = result.scenario;
  assert.equal(s.durationNs, 2e9);
  assert.deepEqual(s.machine, {
    cpus: 2,
    memoryBytes: 2 ** 30,
    devices: [
      { name: 'nvme1n1', kind: 'nvme', capacityBytes: 16 * 2 ** 30, scheduler: 'none', mount: '/data' },
      { name: 'sdb', kind: 'hdd', capacityBytes: 2 ** 40, scheduler: 'mq-deadline', mount: '' },
    ],
  });
  assert.deepEqual(s.jobs[0], completeJob({
    name: 'w',
    filename: '/data/x',
    rw: 'randrw',
    bs: 8192,
    size: 64 * 2 ** 20,
    iodepth: 8,
    ioengine: 'sync',
    direct: true,
    numjobs: 2,
    runtimeNs: 1e9,
    timeBased: true,
    fsync: 16,
    rwmixread: 70,
    thinktimeNs: 1e6,
    startdelayNs: 5e8,
  }));
  assert.equal(s.jobs[1]!.rw, 'rw'); // fio's alias
  assert.equal(s.jobs[1]!.size, 2 ** 40);
});

test('without source text, diagnostics are "file: path: message", all of them, in order', () => {
  const result = parseScenario(
    {
      name: 'x',
      duration: '1s',
      machine: { devices: [{ name: 'nvme0n1', type: 'ssd', mount: '/mnt/nvme' }] },
      jobs: [
        { name: 'a', filename: '/mnt/ssd/a', size: '64m' },
        { name: 'b', filename: '/mnt/nvme/b', size: '-4k' },
        { name: 'c', filename: '/mnt/nvme/c', size: '4m', bs: '8m' },
        { name: 'd', filename: '/mnt/nvme/d', size: '4m', rw: 'readwrites', blocksize: '4k' },
        { filename: '/mnt/nvme/e', size: '4m', direct: 'yes', thinktime: '5x', iodepth: 0 },
      ],
    },
    'traces/scenarios/x.json',
  );
  assert.equal(
    errors(result),
    [
      'traces/scenarios/x.json: machine.devices[0].type: unknown device type "ssd" (expected nvme or hdd)',
      // jobs[0]'s /mnt/ssd/a is on the root filesystem (the first mounted device, as on Linux);
      // jobs[3]'s blocksize is fio's own alias of bs
      'traces/scenarios/x.json: jobs[1].size: "-4k" is not a size; write a number with an optional suffix, like 4k, 64m or 1g',
      'traces/scenarios/x.json: jobs[2].bs: 8m is larger than size (4m)',
      'traces/scenarios/x.json: jobs[3].rw: unknown mode "readwrites" (expected one of: read, write, randread, randwrite, rw, readwrite, randrw); did you mean "readwrite"?',
      'traces/scenarios/x.json: jobs[4].name: required but missing (e.g. "name": "reader")',
      'traces/scenarios/x.json: jobs[4].direct: "yes" is not a boolean; write 1 or 0 (or true/false)',
      'traces/scenarios/x.json: jobs[4].thinktime: unknown time suffix "x" in "5x"; fio knows us, ms, s, m, h and d (and would read this as 5 microseconds)',
      'traces/scenarios/x.json: jobs[4].iodepth: must be an integer from 1 to 65536 (got 0)',
    ].join('\n'),
  );
});

test('top-level shape errors', () => {
  assert.equal(errors(parseScenario([], 'a.json')), 'a.json: must be a JSON object with "name", "duration" and "jobs" (got an array)');
  assert.equal(
    errors(parseScenario({ nmae: 'x', jobs: [] }, 'a.json')),
    [
      'a.json: name: required but missing (e.g. "name": "a")',
      'a.json: duration: required but missing (e.g. "duration": "2s")',
      'a.json: nmae: unknown key; did you mean "name"?',
      'a.json: jobs: must list at least one job, e.g. [{"name": "reader", "filename": "/mnt/nvme/data", "size": "64m"}]',
    ].join('\n'),
  );
  assert.equal(
    errors(parseScenario({ name: 'x', duration: '0s', jobs: {}, machine: { cpus: 0, memory: '1000', devices: [] } }, 'a.json')),
    [
      'a.json: duration: must be a positive duration like "2s" or "500ms" (got "0s")',
      'a.json: jobs: must be an array of jobs (got an object)',
      'a.json: machine.cpus: must be an integer from 1 to 64 (got 0)',
      'a.json: machine.memory: must be a whole number of 4k pages (got "1000")',
      'a.json: machine.devices: must list at least one device, e.g. [{"name": "nvme0n1", "type": "nvme", "mount": "/mnt/nvme"}]',
    ].join('\n'),
  );
});

test('device conflicts and unsupported fio options', () => {
  const result = parseScenario(
    {
      name: 'x',
      duration: '1s',
      machine: {
        devices: [
          { name: 'nvme0n1', type: 'nvme', mount: '/mnt/a' },
          { name: 'nvme0n1', type: 'nvme', mount: '/mnt/b' },
          { name: 'sda', type: 'hdd', mount: '/mnt/a/b', scheduler: 'cfq' },
        ],
      },
      jobs: [
        { name: 'j', filename: '/mnt/a/f', size: '1m', verify: 'md5', group_reporting: 1 },
        { name: 'k', filename: '/mnt/a/g', size: '1m', ioengine: 'posixaio' },
      ],
    },
    'x.json',
  );
  assert.equal(
    errors(result),
    [
      'x.json: machine.devices[1].name: duplicate device name "nvme0n1" (also machine.devices[0]); give each device its own name',
      'x.json: machine.devices[2].mount: "/mnt/a/b" nests with "/mnt/a" (mount of nvme0n1); mounts must not contain each other',
      'x.json: machine.devices[2].scheduler: unknown scheduler "cfq" (expected none, mq-deadline, bfq or kyber); did you mean "bfq"?',
      'x.json: jobs[0].verify: fio option not supported by kiotrace: data verification needs real data; kiotrace simulates only timing, not contents',
      'x.json: jobs[1].ioengine: ioengine=posixaio is not supported: POSIX AIO is glibc threads doing pread/pwrite; use libaio or io_uring for asynchronous I/O',
    ].join('\n'),
  );
});

test('machine.vm: the dirty-page sysctls by their Linux names, a ratio or its _bytes variant, each checked', () => {
  const job = { name: 'j', filename: '/mnt/nvme/f', size: '1m' };
  const ok = parseScenario({ name: 'x', duration: '1s', machine: { vm: { dirty_bytes: '64m', dirty_background_ratio: 5, dirty_writeback_centisecs: 0 } }, jobs: [job] }, 'x.json');
  assert.ok(ok.ok);
  assert.deepEqual(ok.scenario.machine.vm, { dirtyRatio: 0, dirtyBackgroundRatio: 5, dirtyBytes: 64 * 2 ** 20, dirtyBackgroundBytes: 0, dirtyExpireCentisecs: 3000, dirtyWritebackCentisecs: 0 });
  const bad = parseScenario(
    { name: 'x', duration: '1s', machine: { vm: { dirty_ratio: 101, dirty_bytes: '64m', dirty_background_bytes: 'lots', dirty_expire_centisecs: -1, dirty_writeback_centisecs: 5, swappiness: 60 } }, jobs: [job] },
    'x.json',
  );
  assert.equal(
    errors(bad),
    [
      'x.json: machine.vm.dirty_ratio: must be an integer from 0 to 100 (got 101)',
      'x.json: machine.vm.dirty_bytes: give either dirty_ratio or dirty_bytes, not both (setting one zeroes the other, as in /proc/sys/vm)',
      'x.json: machine.vm.dirty_background_bytes: must be a positive size like "64m" (got "lots")',
      'x.json: machine.vm.dirty_expire_centisecs: must be an integer from 0 to 360000 (got -1)',
      'x.json: machine.vm.swappiness: unknown key (expected one of: dirty_ratio, dirty_background_ratio, dirty_bytes, dirty_background_bytes, dirty_expire_centisecs, dirty_writeback_centisecs, min_free_kbytes, watermark_scale_factor, lru, lru_gen)',
    ].join('\n'),
  );
});

test('a file bigger than its device, a mount point as a file, duplicate job names', () => {
  const result = parseScenario(
    {
      name: 'x',
      duration: '1s',
      jobs: [
        { name: 'j', filename: '/mnt/nvme/f', size: '2t' },
        { name: 'j', filename: '/mnt/hdd', size: '1m' },
        { name: 'k', filename: 'relative/path', size: '1m' },
        { name: 'l', filename: '/dev/sdz', size: '1m' },
      ],
    },
    'x.json',
  );
  assert.equal(
    errors(result),
    [
      'x.json: jobs[0].size: 2t does not fit on nvme0n1 (capacity 512g)',
      'x.json: jobs[1].name: duplicate job name "j" (also jobs[0].name); give each job its own name',
      'x.json: jobs[1].filename: "/mnt/hdd" is a directory (a mount point); name a file in it, e.g. "/mnt/hdd/data"',
      // relative/path is /root/relative/path, on the root filesystem
      'x.json: jobs[3].filename: "/dev/sdz" is not a device of this machine (raw devices: /dev/nvme0n1, /dev/sda)',
    ].join('\n'),
  );
});

test('values JSON cannot hold are reported, not thrown', () => {
  assert.equal(
    errors(parseScenario({ name: 'x', duration: Number.NaN, jobs: [undefined] }, 'x.json')),
    [
      'x.json: duration: must be a positive duration like "2s" or "500ms" (got NaN)',
      'x.json: jobs[0]: must be an object of fio options like {"name": "reader", "filename": "/mnt/nvme/data", "size": "64m"} (got undefined)',
    ].join('\n'),
  );
});

// ---------------------------------------------------------------------------------------------
// parseScenarioText (positions and carets)

test('diagnostics from text carry line:column, the source line and a caret', () => {
  const text = [
    '{',
    '  "name": "bad",',
    '  "duration": "1s",',
    '  "jobs": [',
    '    { "name": "a", "filename": "/mnt/nvme/a", "size": "-4k" },',
    '    { "name": "b", "filename": "/mnt/nvme/b", "size": "4m", "blocksz": "8k" }',
    '  ]',
    '}',
    '',
  ].join('\n');
  assert.equal(
    errors(parseScenarioText(text, 'bad.json')),
    [
      'bad.json:5:55: jobs[0].size: "-4k" is not a size; write a number with an optional suffix, like 4k, 64m or 1g',
      '    { "name": "a", "filename": "/mnt/nvme/a", "size": "-4k" },',
      '                                                      ^~~~~',
      'bad.json:6:61: jobs[1].blocksz: unknown fio option; did you mean "blocksize"?',
      '    { "name": "b", "filename": "/mnt/nvme/b", "size": "4m", "blocksz": "8k" }',
      '                                                            ^~~~~~~~~',
    ].join('\n'),
  );
});

test('a missing key points at the opening brace of its object', () => {
  // (a job without "filename" has fio's default name, jobname.0.0 in the working directory)
  const text = '{"name": "m", "duration": "1s",\n "jobs": [\n\t{"filename": "a", "size": "1m"}]}';
  assert.equal(
    errors(parseScenarioText(text, 'm.json')),
    ['m.json:3:2: jobs[0].name: required but missing (e.g. "name": "reader")', '\t{"filename": "a", "size": "1m"}]}', '\t^'].join('\n'),
  );
});

test('JSON syntax errors: one diagnostic with line, column and caret', () => {
  const cases: ReadonlyArray<[string, string]> = [
    ['{\n  "jobs": [1,],\n}\n', 's.json:2:13: invalid JSON: trailing comma before "]" is not allowed in JSON\n  "jobs": [1,],\n            ^'],
    ['{\n  "a": 1,\n}', 's.json:2:9: invalid JSON: trailing comma before "}" is not allowed in JSON\n  "a": 1,\n        ^'],
    ['{"duration": 2s}', 's.json:1:14: invalid JSON: invalid number 2s; write sizes and durations with a unit as strings, e.g. "2s"\n{"duration": 2s}\n             ^~'],
    ['{\n  "name": "x"\n', 's.json:2:14: invalid JSON: unexpected end of file; expected "," or "}"\n  "name": "x"\n             ^'],
    ["{'name': 1}", "s.json:1:2: invalid JSON: property names must use double quotes in JSON\n{'name': 1}\n ^"],
    ['{"a": yes}', 's.json:1:7: invalid JSON: unexpected word "yes"; strings must be in double quotes\n{"a": yes}\n      ^~~'],
    ['{"a": 1} x', 's.json:1:10: invalid JSON: unexpected word "x" after the end of the JSON value\n{"a": 1} x\n         ^'],
    ['// c\n{}', 's.json:1:1: invalid JSON: comments are not allowed in JSON\n// c\n^~'],
    ['{"a": "b\nc"}', 's.json:1:7: invalid JSON: unterminated string (a string cannot span lines)\n{"a": "b\n      ^~'],
    ['{"a" 1}', 's.json:1:6: invalid JSON: expected ":" after "a", found character "1"\n{"a" 1}\n     ^'],
  ];
  for (const [text, expected] of cases) assert.equal(errors(parseScenarioText(text, 's.json')), expected, JSON.stringify(text));
});

test('parseScenarioText and parseScenario agree on valid input', () => {
  const value = { name: 'same', duration: '5ms', jobs: [{ name: 'r', filename: '/dev/nvme0n1', bs: '64k', rw: 'randread' }] };
  const fromText = parseScenarioText(JSON.stringify(value, null, 2), 'same.json');
  const fromValue = parseScenario(value, 'same.json');
  assert.ok(fromText.ok && fromValue.ok);
  assert.deepEqual(fromText.scenario, fromValue.scenario);
  assert.equal(fromText.scenario.jobs[0]!.size, 512 * 2 ** 30);
});

// ---------------------------------------------------------------------------------------------
// Shipped scenarios and loading

test('the shipped scenarios are valid and say what to look at', () => {
  const names = listScenarioNames(SCENARIOS);
  for (const expected of ['blocking-read', 'default', 'page-fault']) assert.ok(names.includes(expected), expected);
  for (const name of names) {
    const result = loadScenario(name, SCENARIOS);
    assert.ok(result.ok, result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n'));
    assert.equal(result.scenario.name, name);
    assert.ok(result.scenario.description.length > 40, `${name}: description`);
  }
});

test('default: four jobs on the default machine for 2s', () => {
  const result = loadScenario('default', SCENARIOS);
  assert.ok(result.ok);
  const s = result.scenario;
  assert.equal(s.durationNs, 2e9);
  assert.deepEqual(s.machine, DEFAULT_MACHINE);
  const summary = s.jobs.map((j) => `${j.name} ${j.filename} ${j.rw} ${j.bs} ${j.size} ${j.ioengine} direct=${j.direct} tb=${j.timeBased} fsync=${j.fsync} think=${j.thinktimeNs}`);
  assert.deepEqual(summary, [
    'seq-reader /mnt/nvme/seq-reader.dat read 4096 268435456 psync direct=false tb=true fsync=0 think=0',
    'rand-direct /mnt/nvme/rand-direct.dat randread 4096 1073741824 psync direct=true tb=true fsync=0 think=0',
    'mmap-reader /mnt/hdd/mmap-reader.dat read 4096 67108864 mmap direct=false tb=true fsync=0 think=20000',
    'fsync-writer /mnt/hdd/fsync-writer.dat write 4096 67108864 psync direct=false tb=true fsync=32 think=0',
  ]);
});

test('blocking-read and page-fault: one 4k page, no time_based', () => {
  const read = loadScenario('blocking-read', SCENARIOS);
  const fault = loadScenario('page-fault', SCENARIOS);
  assert.ok(read.ok && fault.ok);
  assert.equal(read.scenario.durationNs, 20e6);
  assert.equal(fault.scenario.durationNs, 50e6);
  const [r] = read.scenario.jobs;
  const [f] = fault.scenario.jobs;
  assert.ok(r !== undefined && f !== undefined);
  assert.deepEqual([r.filename.startsWith('/mnt/nvme/'), r.size, r.bs, r.ioengine, r.direct, r.timeBased], [true, 4096, 4096, 'sync', false, false]);
  assert.deepEqual([f.filename.startsWith('/mnt/hdd/'), f.size, f.ioengine, f.timeBased], [true, 4096, 'mmap', false]);
});

test('an unknown scenario name lists the available scenarios and experiments', () => {
  const names = listScenarioNames(SCENARIOS).join(', ');
  const experiments = listExperimentNames(join(repoRoot(), 'traces', 'experiments')).join(', ');
  assert.equal(
    errors(loadScenario('nope', SCENARIOS)),
    `kiotrace: unknown scenario or experiment "nope" (scenarios: ${names}; experiments: ${experiments}; or give the path of a .json scenario or an fio job file)`,
  );
  // a path (it has a slash), read relative to the working directory; a directory no one has, so the test holds wherever the checkout is
  assert.equal(errors(loadScenario('../kiotrace-no-such-dir/x', SCENARIOS)), 'kiotrace: cannot read scenario file "../kiotrace-no-such-dir/x": no such file');
});

// ---------------------------------------------------------------------------------------------
// Hostile input: depth, prototype names, bounds, files that are not scenario files

/** The shipped blocking-read scenario with `change` applied, as a value. */
function variant(change: (s: { machine?: unknown; jobs: Record<string, unknown>[] } & Record<string, unknown>) => void): unknown {
  const s = { name: 'v', duration: '1ms', jobs: [{ name: 'r', filename: '/mnt/nvme/f', size: '4k' }] as Record<string, unknown>[] } as {
    machine?: unknown;
    jobs: Record<string, unknown>[];
  } & Record<string, unknown>;
  change(s);
  return s;
}

test('nesting deeper than 64 levels is one diagnostic, from text and from a value, however deep', () => {
  const depth = 100_000;
  const text = `{"name": "d", "duration": "1ms", "jobs": ${'['.repeat(depth)}${']'.repeat(depth)}}`;
  const rendered = errors(parseScenarioText(text, 'd.json'));
  assert.equal(
    rendered,
    [
      'd.json:1:105: invalid JSON: nested deeper than 64 levels; a scenario needs at most 4 (see traces/README.md)',
      `...${'['.repeat(160)}...`,
      `${' '.repeat(43)}^`,
    ].join('\n'),
  );
  let deep: unknown = [];
  for (let i = 0; i < depth; i++) deep = [deep];
  assert.equal(
    errors(parseScenario({ name: 'd', duration: '1ms', jobs: [deep] }, 'd.json')),
    'd.json: jobs[0]: must be an object of fio options like {"name": "reader", "filename": "/mnt/nvme/data", "size": "64m"} (got an array)',
  );
  let deepObject: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) deepObject = { name: deepObject };
  assert.equal(
    errors(parseScenario({ name: 'd', duration: '1ms', jobs: [{ ...deepObject, filename: '/mnt/nvme/f', size: '4k' }] }, 'd.json')),
    'd.json: jobs[0].name: must be a non-empty string (got an object)',
  );
  let tooDeep: unknown = 'x';
  for (let i = 0; i < 70; i++) tooDeep = [tooDeep];
  assert.equal(errors(parseScenario(tooDeep, 'd.json')), 'd.json: must be a JSON object with "name", "duration" and "jobs" (got an array)');
  assert.equal(errors(parseScenario({ name: 'd', duration: '1ms', jobs: tooDeep }, 'd.json')).split('\n').length, 1);
});

test('enum values and keys are looked up as own keys: prototype names are unknown words', () => {
  const cases: ReadonlyArray<[(s: ReturnType<typeof Object>) => void, string]> = [
    [(s) => (s.jobs[0].rw = 'toString'), 'v.json: jobs[0].rw: unknown mode "toString" (expected one of: read, write, randread, randwrite, rw, readwrite, randrw)'],
    [(s) => (s.jobs[0].rw = '__proto__'), 'v.json: jobs[0].rw: unknown mode "__proto__" (expected one of: read, write, randread, randwrite, rw, readwrite, randrw)'],
    [(s) => (s.jobs[0].ioengine = 'constructor'), 'v.json: jobs[0].ioengine: unknown ioengine "constructor" (kiotrace runs: psync, sync, mmap, libaio, io_uring, lsm)'],
    [(s) => (s.jobs[0].ioengine = 'hasOwnProperty'), 'v.json: jobs[0].ioengine: unknown ioengine "hasOwnProperty" (kiotrace runs: psync, sync, mmap, libaio, io_uring, lsm)'],
    [
      (s) => (s.machine = { devices: [{ name: 'nvme0n1', type: 'constructor', mount: '/mnt/nvme' }] }),
      'v.json: machine.devices[0].type: unknown device type "constructor" (expected nvme or hdd)',
    ],
    [
      (s) => (s.machine = { devices: [{ name: 'nvme0n1', type: 'nvme', scheduler: 'valueOf', mount: '/mnt/nvme' }] }),
      'v.json: machine.devices[0].scheduler: unknown scheduler "valueOf" (expected none, mq-deadline, bfq or kyber)',
    ],
    [
      (s) => (s.jobs[0].constructor = 1),
      'v.json: jobs[0].constructor: unknown fio option (see fio(1) and traces/README.md for the options kiotrace reads)',
    ],
    [(s) => (s.toString = 1), 'v.json: toString: unknown key (expected one of: name, description, duration, machine, jobs, job_file, steps, crash_at, events, hosts, network)'],
    [(s) => (s.duration = '1constructor'), 'v.json: duration: must be a positive duration like "2s" or "500ms" (got "1constructor")'],
    [(s) => (s.jobs[0].thinktime = '5constructor'), 'v.json: jobs[0].thinktime: unknown time suffix "constructor" in "5constructor"; fio knows us, ms, s, m, h and d (and would read this as 5 microseconds)'],
  ];
  for (const [change, expected] of cases) assert.equal(errors(parseScenario(variant(change), 'v.json')), expected);
  // "__proto__" as a key, as JSON text has it (JSON.parse makes it an own key too)
  const text = '{"name": "p", "duration": "1ms", "__proto__": {"x": 1}, "jobs": [{"name": "r", "filename": "/mnt/nvme/f", "size": "4k", "__proto__": 1}]}';
  const expected = [
    'p.json: __proto__: unknown key (expected one of: name, description, duration, machine, jobs, job_file, steps, crash_at, events, hosts, network)',
    'p.json: jobs[0].__proto__: unknown fio option (see fio(1) and traces/README.md for the options kiotrace reads)',
  ];
  assert.equal(errors(parseScenario(JSON.parse(text), 'p.json')), expected.join('\n'));
  assert.deepEqual(
    (parseScenarioText(text, 'p.json') as unknown as { diagnostics: { path: string }[] }).diagnostics.map((d) => d.path),
    ['__proto__', 'jobs[0].__proto__'],
  );
});

test('every user-sized number has a floor and a ceiling', () => {
  const dev = (over: Record<string, unknown>) => (s: ReturnType<typeof Object>) => (s.machine = { devices: [{ name: 'nvme0n1', type: 'nvme', mount: '/mnt/nvme', ...over }] });
  const cases: ReadonlyArray<[(s: ReturnType<typeof Object>) => void, string]> = [
    [(s) => (s.machine = { memory: '1p' }), 'v.json: machine.memory: must be at most 64g (got "1p")'],
    [(s) => (s.machine = { memory: '1t' }), 'v.json: machine.memory: must be at most 64g (got "1t")'],
    [(s) => (s.machine = { memory: '32m' }), 'v.json: machine.memory: must be at least 64m (got "32m")'],
    [(s) => (s.machine = { memory: 4097 }), 'v.json: machine.memory: must be a whole number of 4k pages (got 4097)'],
    [(s) => (s.machine = { cpus: 1e300 }), 'v.json: machine.cpus: must be an integer from 1 to 64 (got 1e+300)'],
    [dev({ capacity: '65t' }), 'v.json: machine.devices[0].capacity: must be at most 64t (got "65t")'],
    [dev({ capacity: '512k' }), 'v.json: machine.devices[0].capacity: must be at least 1m (got "512k")'],
    [dev({ capacity: '4p' }), 'v.json: machine.devices[0].capacity: must be at most 64t (got "4p")'],
    [
      (s) => (s.machine = { devices: [{ name: 'sda', type: 'hdd', capacity: '65t', mount: '/mnt/nvme' }] }),
      'v.json: machine.devices[0].capacity: must be at most 64t (got "65t")',
    ],
    [
      (s) => (s.machine = { devices: Array.from({ length: 9 }, (_, i) => ({ name: `nvme${i}n1`, type: 'nvme' })) }),
      'v.json: machine.devices: lists 9 devices; a machine may have at most 8',
    ],
    [(s) => (s.jobs[0].bs = '1g'), 'v.json: jobs[0].bs: must be at most 16m (got "1g")'],
    [(s) => (s.jobs[0].size = '9007199254740993'), 'v.json: jobs[0].size: "9007199254740993" is too large (at most 9007199254740991)'],
    [(s) => (s.duration = '2h'), 'v.json: duration: must be at most 1h of simulated time (got "2h")'],
    [(s) => (s.duration = 1e300), 'v.json: duration: must be a positive duration like "2s" or "500ms" (got 1e+300)'],
    [(s) => (s.jobs[0].thinktime = '1000h'), 'v.json: jobs[0].thinktime: must be at most 1h of simulated time (got "1000h")'],
    [(s) => (s.duration = '99999999h'), 'v.json: duration: must be at most 1h of simulated time (got "99999999h")'],
    [(s) => (s.jobs[0].numjobs = 300), 'v.json: jobs[0].numjobs: must be an integer from 1 to 64 (got 300)'],
    [
      (s) => (s.jobs = Array.from({ length: 3 }, (_, i) => ({ name: `j${i}`, filename: `/mnt/nvme/f${i}`, size: '4k', numjobs: 30 }))),
      'v.json: jobs: the jobs fork 90 processes in all (numjobs summed); at most 64',
    ],
    [
      (s) => (s.jobs = Array.from({ length: 65 }, (_, i) => ({ name: `j${i}`, filename: `/mnt/nvme/f${i}`, size: '4k' }))),
      'v.json: jobs: lists 65 jobs; a scenario may have at most 64 (numjobs clones one)',
    ],
    [(s) => (s.name = 'n'.repeat(129)), 'v.json: name: is 129 characters long; give at most 128'],
    [(s) => (s.steps = 17), 'v.json: steps: must be an integer from 0 to 16 (got 17)'],
    [(s) => (s.steps = 'constructor'), 'v.json: steps: must be an integer from 0 to 16 (got "constructor")'],
    [(s) => (s.description = 'd'.repeat(5000)), 'v.json: description: is 5000 characters long; give at most 4096'],
    [(s) => (s.jobs[0].filename = `/mnt/nvme/${'f'.repeat(4090)}`), 'v.json: jobs[0].filename: the path is 4100 characters long; Linux paths are at most 4095 (PATH_MAX)'],
    [(s) => (s.jobs[0].filename = '/mnt/nvme/a\u0000b'), 'v.json: jobs[0].filename: a path cannot contain a NUL byte (Linux paths end at the first one)'],
    [
      dev({ mount: '/mnt/nv\u0000me' }),
      [
        'v.json: jobs[0].filename: "/mnt/nvme/f" is not on any filesystem: this machine has no device with a mount',
        'v.json: machine.devices[0].mount: must not contain a NUL byte: Linux paths end at the first one (got "/mnt/nv\\u0000me")',
      ].join('\n'),
    ],
    [
      dev({ name: `nvme${'0'.repeat(40)}` }),
      [
        'v.json: jobs[0].filename: "/mnt/nvme/f" is not on any filesystem: this machine has no device with a mount',
        'v.json: machine.devices[0].name: must be a kernel block device name like "nvme1n1" or "sdb", at most 31 characters (got "nvme000000000000000000000000000000000...")',
      ].join('\n'),
    ],
    [
      (s) => (s.jobs[0].size = '512g'),
      "v.json: jobs[0].size: this file needs 513 GiB but the filesystem on nvme0n1 has 507 GiB free after ext4's journal and metadata; make the file smaller or the device larger",
    ],
    [
      (s) => s.jobs.push({ name: 'b', filename: '/mnt/nvme/b', size: '300g' }, { name: 'c', filename: '/mnt/nvme/c', size: '300g' }),
      "v.json: jobs[2].size: the 3 files on /mnt/nvme need 601 GiB but the filesystem on nvme0n1 has 507 GiB free after ext4's journal and metadata; make the files smaller or the device larger",
    ],
  ];
  for (const [change, expected] of cases) assert.equal(errors(parseScenario(variant(change), 'v.json')), expected);
  // the bounds themselves are accepted, and small devices get a filesystem
  const edge = parseScenario(
    variant((s) => {
      s.machine = {
        memory: '64g',
        cpus: 64,
        devices: [
          { name: 'nvme0n1', type: 'nvme', capacity: '128m', mount: '/mnt/nvme' },
          { name: 'nvme1n1', type: 'nvme', capacity: '1m' },
          { name: 'nvme2n1', type: 'nvme', capacity: '64t', over_provisioning: '400%', page_size: '64k', block_size: '256m', dies: 1024, channels: 32 },
          { name: 'sda', type: 'hdd', capacity: '16t' },
        ],
      };
      s.duration = '1h';
      s.jobs[0]!.bs = '16m';
      s.jobs[0]!.size = '64m';
      s.jobs.push({ name: 'raw', filename: '/dev/sda', bs: '1m' });
    }),
    'v.json',
  );
  assert.ok(edge.ok, edge.ok ? '' : edge.diagnostics.map(renderDiagnostic).join('\n'));
});

test('names, keys and source lines are printed escaped; long lines show a window; 50 problems at most', () => {
  const text = '{"name": "\\u001b[2J", "duration": "1ms", "\\u001b]0;pwned\\u0007": 1, "jobs": [{"name": "r\u202e", "filename": "/mnt/nvme/f", "size": "4k", "bs": "\u009b1m"}]}';
  assert.equal(
    errors(parseScenarioText(text, 'e\u001b.json')),
    [
      'e\\x1b.json:1:42: ["\\u001b]0;pwned\\u0007"]: unknown key (expected one of: name, description, duration, machine, jobs, job_file, steps, crash_at, events, hosts, network)',
      '{"name": "\\u001b[2J", "duration": "1ms", "\\u001b]0;pwned\\u0007": 1, "jobs": [{"name": "r\\u202e", "filename": "/mnt/nvme/f", "size": "4k", "bs": "\\x9b1m"}]}',
      '                                         ^~~~~~~~~~~~~~~~~~~~~~',
      'e\\x1b.json:1:140: jobs[0].bs: "\\x9b1m" is not a size; write a number with an optional suffix, like 4k, 64m or 1g',
      '{"name": "\\u001b[2J", "duration": "1ms", "\\u001b]0;pwned\\u0007": 1, "jobs": [{"name": "r\\u202e", "filename": "/mnt/nvme/f", "size": "4k", "bs": "\\x9b1m"}]}',
      `${' '.repeat(144)}^~~~~~~~`,
    ].join('\n'),
  );
  // a raw control character in the file (invalid JSON) is shown escaped in the source line
  assert.equal(
    errors(parseScenarioText('{"name": "a\u001b[31mb"}', 'c.json')),
    'c.json:1:12: invalid JSON: control character in string; write it as an escape such as \\t\n{"name": "a\\x1b[31mb"}\n           ^~~~',
  );
  const many = { name: 'm', duration: '1ms', jobs: [{ name: 'r', filename: '/mnt/nvme/f', size: '4k', ...Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i])) }] };
  const manyText = JSON.stringify(many);
  const rendered = errors(parseScenarioText(manyText, 'm.json')).split('\n');
  assert.equal(rendered.length, 50 * 3 + 1);
  assert.equal(rendered[0], 'm.json:1:87: jobs[0].k0: unknown fio option (see fio(1) and traces/README.md for the options kiotrace reads)');
  assert.equal(rendered[1], '...r","filename":"/mnt/nvme/f","size":"4k","k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15"...');
  assert.equal(rendered[2], `${' '.repeat(43)}^~~~`);
  assert.equal(rendered[150], 'm.json: 99950 more problems not shown; fix these first');
  // a key too long to suggest for is cut short in the path
  assert.equal(
    errors(parseScenario({ name: 'l', duration: '1ms', jobs: [{ name: 'r', filename: '/mnt/nvme/f', size: '4k', ['x'.repeat(100_000)]: 1 }] }, 'l.json')),
    `l.json: jobs[0]["${'x'.repeat(37)}..."]: unknown fio option (see fio(1) and traces/README.md for the options kiotrace reads)`,
  );
});

test('a scenario path that is a device, a FIFO, a huge file, not UTF-8 or holds a NUL is refused before reading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-scenario-'));
  try {
    const fifo = join(dir, 'pipe.json');
    execFileSync('mkfifo', [fifo]);
    assert.equal(errors(loadScenario(fifo, SCENARIOS)), `kiotrace: cannot read scenario file ${JSON.stringify(fifo)}: it is a FIFO, not a regular file; give a .json scenario or an fio job file`);
    assert.equal(errors(loadScenario('/dev/zero', SCENARIOS)), 'kiotrace: cannot read scenario file "/dev/zero": it is a character device, not a regular file; give a .json scenario or an fio job file');
    const huge = join(dir, 'huge.json');
    writeFileSync(huge, '');
    truncateSync(huge, 2 ** 30);
    assert.equal(errors(loadScenario(huge, SCENARIOS)), `kiotrace: cannot read scenario file ${JSON.stringify(huge)}: it is 1 GiB; a scenario file is at most 1 MiB`);
    const latin1 = join(dir, 'latin1.json');
    writeFileSync(latin1, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
    assert.equal(errors(loadScenario(latin1, SCENARIOS)), `kiotrace: cannot read scenario file ${JSON.stringify(latin1)}: it is not UTF-8 text`);
    assert.equal(errors(loadScenario(dir, SCENARIOS)), `kiotrace: cannot read scenario file ${JSON.stringify(dir)}: it is a directory`);
    assert.equal(errors(loadScenario('a\u0000b.json', SCENARIOS)), 'kiotrace: cannot read scenario file "a\\u0000b.json": a path cannot contain a NUL byte');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('SSD keys of a device: parsed into its ssd spec, bad values located', () => {
  const dev = (over: Record<string, unknown>) => (s: ReturnType<typeof Object>) => (s.machine = { devices: [{ name: 'nvme0n1', type: 'nvme', mount: '/mnt/nvme', ...over }] });
  const ok = parseScenario(
    variant(dev({ capacity: '256m', over_provisioning: '28%', page_size: '16k', block_size: '8m', channels: 4, dies: 8, gc_policy: 'cost-benefit', multi_stream: true, precondition: 'random' })),
    'v.json',
  );
  assert.ok(ok.ok, ok.ok ? '' : ok.diagnostics.map(renderDiagnostic).join('\n'));
  assert.deepEqual(ok.scenario.machine.devices[0]!.ssd, {
    overProvisioningPercent: 28,
    pageSizeBytes: 16384,
    blockSizeBytes: 8 * 2 ** 20,
    channels: 4,
    dies: 8,
    gcPolicy: 'cost-benefit',
    multiStream: true,
    precondition: 'random',
  });
  const numeric = parseScenario(variant(dev({ over_provisioning: 7 })), 'v.json');
  assert.ok(numeric.ok);
  assert.equal(numeric.scenario.machine.devices[0]!.ssd?.overProvisioningPercent, 7);
  const cases: ReadonlyArray<[(s: ReturnType<typeof Object>) => void, string]> = [
    [dev({ over_provisioning: 'lots' }), 'v.json: machine.devices[0].over_provisioning: must be a percent of the capacity from 0 to 400 like "7%" or 28 (spare flash over the capacity) (got "lots")'],
    [dev({ over_provisioning: '500%' }), 'v.json: machine.devices[0].over_provisioning: must be a percent of the capacity from 0 to 400 like "7%" or 28 (spare flash over the capacity) (got "500%")'],
    [dev({ page_size: '12k' }), 'v.json: machine.devices[0].page_size: must be a power of two like "16k" or "32k" (got "12k")'],
    [dev({ page_size: '128k' }), 'v.json: machine.devices[0].page_size: must be at most 64k (got "128k")'],
    [dev({ block_size: '48k' }), 'v.json: machine.devices[0].block_size: must be a multiple of the 32k flash page (the default; set "page_size" for another), at least two pages (got "48k")'],
    [dev({ channels: 4, dies: 6 }), 'v.json: machine.devices[0].dies: must be a multiple of "channels" (4): every channel has as many dies (got 6)'],
    [dev({ dies: 0 }), 'v.json: machine.devices[0].dies: must be an integer from 1 to 1024 (got 0)'],
    [dev({ gc_policy: 'greedyy' }), 'v.json: machine.devices[0].gc_policy: unknown GC policy "greedyy" (expected greedy or cost-benefit); did you mean "greedy"?'],
    [dev({ multi_stream: 'yes' }), 'v.json: machine.devices[0].multi_stream: must be true (separate open blocks per write stream) or false (got "yes")'],
    [dev({ capacity: '1g', precondition: 'random' }), 'v.json: machine.devices[0].precondition: "random" rewrites the drive three times at boot, at most 256m (the capacity is 1g); use a smaller device'],
    [
      (s) => (s.machine = { devices: [{ name: 'sda', type: 'hdd', mount: '/mnt/nvme', gc_policy: 'greedy' }] }),
      'v.json: machine.devices[0].gc_policy: is an SSD setting; a "type": "hdd" device has no flash (remove it or use "type": "nvme")',
    ],
  ];
  for (const [change, expected] of cases) assert.equal(errors(parseScenario(variant(change), 'v.json')), expected);
});
