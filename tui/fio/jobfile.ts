// fio jobs -> JobSpec: one job's options (inherited [global] ones first, its own after them; the
// later wins) read through the shared option table, converted with fio's value syntax, its files
// resolved as Linux paths on the simulated machine, and checked. Job files and JSON scenarios both
// come here, so the two describe one workload model. Locations are opaque (`L`): a job file passes
// file:line places, a JSON scenario its field paths and spans.
//
// fio semantics followed (init.c add_job/make_filename, filesetup.c add_file, options.c):
// - default file names: filename_format ($jobname.$jobnum.$filenum) in `directory`, nrfiles of them;
//   a section named after an existing non-regular file (/dev/sda) uses that file;
// - `directory` is prepended to every filename, even an absolute one (fio writes "dir/" + name);
// - size is divided between the files unless filesize is given; a raw device defaults to its size;
// - groups: stonewall or new_group starts a new reporting group once the current one has jobs.

import { posix } from 'node:path';
import {
  completeJob,
  type BlockSizeSpec,
  type BsSplitEntry,
  type DeviceSpec,
  type FallocateMode,
  type FadviseHint,
  type FileServiceType,
  type IoEngine,
  type JobSpec,
  type LsmSpec,
  LSM_DEFAULTS,
  type MachineSpec,
  type PerDirection,
  type RandomDistribution,
  type RwMode,
  type SyncMode,
  type UnifiedRwReporting,
} from '../../core/index.js';
import { findOption, IO_ENGINES, OPTION_NAMES, REFUSED_ENGINES } from './options.js';
import {
  parseBool,
  parseBsSplit,
  parseFloatValue,
  parseInteger,
  parsePercentileList,
  parseSize,
  parseSizeOrPercent,
  parseSizeRange,
  parseTime,
  splitDirections,
  type KbBase,
  type Parsed,
  type SizeOrPercent,
} from './values.js';
import { closestWord } from './suggest.js';

export type ProblemCode = 'unknown-key' | 'unsupported-option' | 'bad-value' | 'missing-key' | 'conflict' | 'not-on-device' | 'too-many';

export interface OptionInput<L> {
  /** The option's name as written. */
  readonly key: string;
  /** undefined for a bare `key` (fio: set / true). */
  readonly value: string | undefined;
  readonly keyAt: L;
  readonly valueAt: L;
}

export interface JobInput<L> {
  /** fio's jobname: the section name (used in default file names); `name=` may change what is shown. */
  readonly sectionName: string;
  /** Where the job starts (its section header or JSON object), for problems with no option. */
  readonly at: L;
  /** Inherited options first, then the job's own; a later one overrides an earlier. */
  readonly options: readonly OptionInput<L>[];
}

export interface ResolveContext<L> {
  readonly machine: MachineSpec;
  /** The working directory relative file names start from (absolute, clean). */
  readonly cwd: string;
  /** Two jobs may not share a name (JSON scenarios: names label the report); fio's job files may. */
  readonly uniqueNames: boolean;
  /** How messages name the job at an index ("jobs[0]", "[reader]"); "job N" by default. */
  readonly describeJob?: (index: number) => string;
  /** Most processes a job may fork (numjobs), as all jobs together may. */
  readonly maxProcesses: number;
  report(code: ProblemCode, at: L, option: string, message: string): void;
}

/** A resolved job and what the runner needs that JobSpec does not carry yet. */
export interface ResolvedJob<L> {
  readonly job: JobSpec;
  readonly description: string;
  /** numjobs clones of a job with generated names get their own files (fio's $jobnum): 1..numjobs-1. */
  readonly cloneFiles: readonly (readonly string[])[];
  /** Where the size came from, for the filesystem-fit message. */
  readonly sizeAt: L;
  /** fio's new_group: start a new reporting group without waiting (resolveJobs sets groupId). */
  readonly newGroup: boolean;
}

/** Largest block size: each I/O's buffer is that much simulated memory per process (as before). */
export const MAX_BS_BYTES = 16 * 2 ** 20;
/** The longest simulated time any time option may ask for. */
export const MAX_TIME_NS = 3_600_000_000_000;
export const MAX_NAME_CHARS = 128;
/** PATH_MAX less its terminating NUL. */
const MAX_PATH_CHARS = 4095;
/** nrfiles bound: every file is simulated inode and extent state. */
export const MAX_FILES_PER_JOB = 1024;

const RW_MODES: Readonly<Record<string, RwMode>> = {
  read: 'read',
  write: 'write',
  randread: 'randread',
  randwrite: 'randwrite',
  rw: 'rw',
  readwrite: 'rw',
  randrw: 'randrw',
};
const TRIM_MODES = ['trim', 'randtrim', 'trimwrite', 'randtrimwrite'];

/** Where a path lands on the machine. */
export type PathTarget =
  | { readonly kind: 'raw'; readonly device: DeviceSpec }
  | { readonly kind: 'file'; readonly device: DeviceSpec; readonly mount: string }
  | { readonly kind: 'error'; readonly message: string };

/**
 * The root filesystem's device: the one mounted at "/", else the first device with a mount (core
 * also mounts it at "/"), else none.
 */
export function rootDevice(machine: MachineSpec): DeviceSpec | undefined {
  return machine.devices.find((d) => d.mount === '/') ?? machine.devices.find((d) => d.mount !== '');
}

/** The mounts paths resolve against: each device's own, plus "/" on the root device. */
export function mountTable(machine: MachineSpec): readonly { readonly mount: string; readonly device: DeviceSpec }[] {
  const table = machine.devices.filter((d) => d.mount !== '').map((d) => ({ mount: d.mount, device: d }));
  const root = rootDevice(machine);
  if (root !== undefined && !table.some((t) => t.mount === '/')) table.push({ mount: '/', device: root });
  return table;
}

/** Where the clean absolute path `p` lands: a raw device, a file on a mount (longest prefix), or why neither. */
export function resolveTarget(p: string, machine: MachineSpec): PathTarget {
  const raw = machine.devices.find((d) => p === `/dev/${d.name}`);
  if (raw !== undefined) return { kind: 'raw', device: raw };
  if (p === '/dev' || p.startsWith('/dev/')) {
    return { kind: 'error', message: `${JSON.stringify(p)} is not a device of this machine (raw devices: ${machine.devices.map((d) => `/dev/${d.name}`).join(', ') || 'none'})` };
  }
  const table = mountTable(machine);
  const mountPoint = table.find((t) => t.mount === p);
  if (mountPoint !== undefined || p === '/') {
    return { kind: 'error', message: `${JSON.stringify(p)} is a directory (a mount point); name a file in it, e.g. ${JSON.stringify(posix.join(p, 'data'))}` };
  }
  let best: (typeof table)[number] | undefined;
  for (const t of table) {
    if ((t.mount === '/' || p.startsWith(`${t.mount}/`)) && (best === undefined || t.mount.length > best.mount.length)) best = t;
  }
  if (best === undefined) return { kind: 'error', message: `${JSON.stringify(p)} is not on any filesystem: this machine has no device with a mount` };
  return { kind: 'file', device: best.device, mount: best.mount };
}

/** fio's filename_format: $jobname, $jobnum, $filenum (case-insensitive, as strcasestr finds them). */
function formatFilename(format: string, jobname: string, jobnum: number, filenum: number): string {
  return format.replace(/\$jobname|\$jobnum|\$filenum/gi, (k) => {
    const key = k.toLowerCase();
    return key === '$jobname' ? jobname : key === '$jobnum' ? String(jobnum) : String(filenum);
  });
}

/** fio's filename list: ':' separates names; '\:' is a literal colon. */
function splitFilenames(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '\\' && value[i + 1] === ':') {
      cur += ':';
      i++;
    } else if (value[i] === ':') {
      out.push(cur);
      cur = '';
    } else {
      cur += value[i]!;
    }
  }
  out.push(cur);
  return out.filter((s) => s !== '');
}

/** A value as messages quote it back: numbers as they are, anything else in quotes (cut short). */
function describeValue(v: string): string {
  if (/^[-+]?\d+(\.\d+)?$/.test(v)) return v;
  return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
}

/** A size in fio's shortest exact spelling (8m, 4k, 1000). */
export function fioSize(bytes: number): string {
  for (const [suffix, unit] of [
    ['p', 2 ** 50],
    ['t', 2 ** 40],
    ['g', 2 ** 30],
    ['m', 2 ** 20],
    ['k', 2 ** 10],
  ] as const) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${suffix}`;
  }
  return String(bytes);
}

/**
 * One job. Problems go to ctx.report; undefined when any were found (so a bad job yields no
 * JobSpec, and every problem is still reported).
 */
export function resolveJob<L>(input: JobInput<L>, ctx: ResolveContext<L>): ResolvedJob<L> | undefined {
  let problems = 0;
  const report = (code: ProblemCode, at: L, option: string, message: string): void => {
    problems++;
    ctx.report(code, at, option, message);
  };

  // An engine kiotrace does not run is the one problem worth saying: its own options and its
  // file needs (cpuio has no file) would only be noise after it.
  const engineValue = input.options.filter((o) => findOption(o.key)?.name === 'ioengine').pop()?.value?.trim();
  const foreignEngine = engineValue !== undefined && !(IO_ENGINES as readonly string[]).includes(engineValue);

  // 1. Options through the table; the last setting of each wins.
  const set = new Map<string, OptionInput<L>>();
  for (const o of input.options) {
    const def = findOption(o.key);
    if (foreignEngine && def?.name !== 'ioengine') continue;
    if (def === undefined) {
      const suggestion = closestWord(o.key, OPTION_NAMES);
      report('unknown-key', o.keyAt, o.key, suggestion !== undefined ? `unknown fio option; did you mean "${suggestion}"?` : 'unknown fio option (see fio(1) and traces/README.md for the options kiotrace reads)');
      continue;
    }
    if (def.status.kind === 'refused') {
      report('unsupported-option', o.keyAt, o.key, `fio option not supported by kiotrace: ${def.status.why}`);
      continue;
    }
    if (def.status.kind === 'accepted') continue;
    set.set(def.name, o);
  }

  const get = (name: string): OptionInput<L> | undefined => set.get(name);
  /** Reads an option's value with `parse`; reports and returns undefined on a bad value. */
  const read = <T>(name: string, parse: (value: string) => Parsed<T>, bareValue?: string): T | undefined => {
    const o = get(name);
    if (o === undefined) return undefined;
    const value = o.value ?? bareValue;
    if (value === undefined) {
      report('bad-value', o.keyAt, o.key, `needs a value (${o.key}=...)`);
      return undefined;
    }
    const r = parse(value);
    if (!r.ok) {
      report('bad-value', o.valueAt, o.key, r.error);
      return undefined;
    }
    return r.value;
  };
  const fail = (name: string, message: string, code: ProblemCode = 'bad-value'): void => {
    const o = get(name);
    if (o !== undefined) report(code, o.value === undefined ? o.keyAt : o.valueAt, o.key, message);
  };
  const intIn = (min: number, max: number) => (v: string): Parsed<number> => {
    const n = parseInteger(v);
    if (!n.ok) return n;
    if (n.value < min || n.value > max) return { ok: false, error: `must be an integer from ${min} to ${max} (got ${describeValue(v)})` };
    return n;
  };
  const time = (bareUnit: 's' | 'us') => (v: string): Parsed<number> => {
    const t = parseTime(v, bareUnit);
    if (t.ok && t.value > MAX_TIME_NS) return { ok: false, error: `must be at most 1h of simulated time (got ${describeValue(v)})` };
    return t;
  };
  const choice = <T>(table: Readonly<Record<string, T>>, what: string) => (v: string): Parsed<T> => {
    const key = v.trim();
    if (Object.hasOwn(table, key)) return { ok: true, value: table[key]! };
    const s = closestWord(key, Object.keys(table));
    return { ok: false, error: `unknown ${what} ${describeValue(v)} (expected one of: ${Object.keys(table).join(', ')})${s !== undefined ? `; did you mean "${s}"?` : ''}` };
  };
  const bool = (name: string): boolean | undefined => read(name, parseBool, '1');

  // 2. kb_base first: every size depends on it (fio sorts it before them too).
  const kbBase: KbBase = read('kb_base', (v): Parsed<KbBase> => (v.trim() === '1000' ? { ok: true, value: 1000 } : v.trim() === '1024' ? { ok: true, value: 1024 } : { ok: false, error: `must be 1024 or 1000 (got ${describeValue(v)})` })) ?? 1024;
  const sizeValue = (v: string): Parsed<number> => parseSize(v, kbBase);

  // 3. Name and description.
  let name = input.sectionName;
  const nameOpt = get('name');
  if (nameOpt !== undefined) {
    if (nameOpt.value === undefined || nameOpt.value === '') report('bad-value', nameOpt.keyAt, nameOpt.key, 'needs a job name (name=reader)');
    else name = nameOpt.value;
  }
  if (name.length > MAX_NAME_CHARS) report('bad-value', nameOpt?.valueAt ?? input.at, 'name', `is ${name.length} characters long; give at most ${MAX_NAME_CHARS}`);
  const description = get('description')?.value ?? '';

  // 4. rw.
  let rw: RwMode = 'read';
  let seqAddBytes = 0;
  let randomRunIos = 1;
  const rwOpt = get('rw');
  if (rwOpt !== undefined) {
    const v = (rwOpt.value ?? '').trim();
    const colon = v.indexOf(':');
    const base = colon < 0 ? v : v.slice(0, colon);
    if (TRIM_MODES.includes(base)) fail('rw', `rw=${base}: the simulated devices take reads and writes only (no discard/trim)`, 'unsupported-option');
    else {
      const r = choice(RW_MODES, 'mode')(base);
      if (r.ok) rw = r.value;
      else fail('rw', r.error);
      if (r.ok && colon >= 0) {
        // fio's rw=MODE:N: a sequential mode adds N bytes after each I/O (negative: backwards);
        // a random one issues N I/Os in a row from each random offset
        const suffix = v.slice(colon + 1).trim();
        if (rw.startsWith('rand')) {
          const n = parseInteger(suffix);
          if (n.ok && n.value >= 1) randomRunIos = n.value;
          else fail('rw', `${describeValue(rwOpt.value ?? '')}: after ':' a random mode takes how many I/Os to issue in a row from each random offset (a whole number >= 1)`);
        } else {
          const negative = suffix.startsWith('-');
          const n = sizeValue(negative ? suffix.slice(1) : suffix);
          if (n.ok) seqAddBytes = negative ? -n.value : n.value;
          else fail('rw', `${describeValue(rwOpt.value ?? '')}: after ':' a sequential mode takes the bytes to skip after each I/O, like read:8k or read:-8k (${n.error})`);
        }
      }
    }
  }

  // 5. Block sizes: bs, bsrange, bssplit per direction (bssplit decides when given).
  const bsCheck = (bytes: number, v: string): string | undefined =>
    bytes === 0 ? `a block size must be positive (got ${describeValue(v)})` : bytes > MAX_BS_BYTES ? `must be at most ${fioSize(MAX_BS_BYTES)} (got ${describeValue(v)})` : undefined;
  const perDirection = <T>(name: string, parse: (v: string) => Parsed<T>): { read: T | undefined; write: T | undefined } | undefined =>
    read(name, (v) => {
      const parts = splitDirections(v);
      if (!parts.ok) return parts;
      const r = parts.value.read === undefined ? undefined : parse(parts.value.read);
      if (r !== undefined && !r.ok) return r;
      const w = parts.value.write === undefined ? undefined : parse(parts.value.write);
      if (w !== undefined && !w.ok) return w;
      return { ok: true, value: { read: r?.value, write: w?.value } };
    });
  // fio's bs= may itself be a range ("bs=4k-16k"), read like bsrange.
  const bsPair = perDirection('bs', (v) => {
    const r = parseSizeRange(v, kbBase);
    if (!r.ok) return r;
    const why = bsCheck(r.value.minBytes, v) ?? bsCheck(r.value.maxBytes, v);
    return why === undefined ? r : { ok: false, error: why };
  });
  const rangePair = perDirection('bsrange', (v) => {
    const r = parseSizeRange(v, kbBase);
    if (!r.ok) return r;
    const why = bsCheck(r.value.minBytes, v) ?? bsCheck(r.value.maxBytes, v);
    return why === undefined ? r : { ok: false, error: why };
  });
  const splitPair = perDirection('bssplit', (v) => {
    const r = parseBsSplit(v, kbBase);
    if (!r.ok) return r;
    for (const e of r.value) {
      const why = bsCheck(e.bytes, v);
      if (why !== undefined) return { ok: false, error: why };
    }
    return r;
  });
  const blockSpec = (dir: 'read' | 'write'): BlockSizeSpec => {
    const split: readonly BsSplitEntry[] = splitPair?.[dir] ?? [];
    if (split.length > 0) return { minBytes: Math.min(...split.map((e) => e.bytes)), maxBytes: Math.max(...split.map((e) => e.bytes)), split };
    const range = rangePair?.[dir] ?? bsPair?.[dir];
    return range !== undefined ? { ...range, split: [] } : { minBytes: 4096, maxBytes: 4096, split: [] };
  };
  const readSpec = blockSpec('read');
  const writeSpec = blockSpec('write');
  const blockSizesDiffer = readSpec.minBytes !== readSpec.maxBytes || writeSpec.minBytes !== writeSpec.maxBytes || readSpec.minBytes !== writeSpec.minBytes || readSpec.split.length > 0 || writeSpec.split.length > 0;
  const bs = readSpec.minBytes;

  // 6. Engine and its options.
  let ioengine: IoEngine = 'psync';
  const engineOpt = get('ioengine');
  if (engineOpt !== undefined) {
    const v = (engineOpt.value ?? '').trim();
    const known = (IO_ENGINES as readonly string[]).find((e) => e === v);
    const refusedWhy = Object.hasOwn(REFUSED_ENGINES, v) ? REFUSED_ENGINES[v] : undefined;
    if (known !== undefined) ioengine = known as IoEngine;
    else if (refusedWhy !== undefined) fail('ioengine', `ioengine=${v} is not supported: ${refusedWhy}`, 'unsupported-option');
    else {
      const s = closestWord(v, IO_ENGINES);
      fail('ioengine', `unknown ioengine ${describeValue(v)} (kiotrace runs: ${IO_ENGINES.join(', ')})${s !== undefined ? `; did you mean "${s}"?` : ''}`);
    }
  }
  if (foreignEngine) return undefined; // reported above, with why
  const uringOnly = (name: string): boolean => {
    const v = bool(name) ?? false;
    if (v && ioengine !== 'io_uring') fail(name, `${name} is an io_uring option; set ioengine=io_uring (this job uses ${ioengine})`, 'conflict');
    return v;
  };
  const sqthreadPoll = uringOnly('sqthread_poll');
  const fixedbufs = uringOnly('fixedbufs');
  const registerfiles = uringOnly('registerfiles');
  const hipri = uringOnly('hipri');
  read('io_submit_mode', choice({ inline: 'inline', offload: 'offload' } as const, 'io_submit_mode'));
  const lsm = readLsmOptions(ioengine, get, read, fail, intIn, sizeValue);
  if (ioengine === 'lsm' && rw !== 'read' && rw !== 'randread') fail('rw', `ioengine=lsm's I/Os are point lookups: rw must be randread or read (got ${rw}); puts come from put_rate`, 'conflict');

  const iodepth = read('iodepth', intIn(1, 65536)) ?? 1;
  // fio fixup_options: batch sizes above iodepth are lowered to it; 0 submits one at a time.
  const iodepthBatchSubmit = Math.min(iodepth, Math.max(1, read('iodepth_batch_submit', intIn(0, 65536)) ?? 1));
  const iodepthBatchCompleteMin = Math.min(iodepth, read('iodepth_batch_complete_min', intIn(0, 65536)) ?? 1);
  const batchMax = read('iodepth_batch_complete_max', intIn(0, 65536));
  const iodepthBatchCompleteMax = Math.max(iodepthBatchCompleteMin, Math.min(iodepth, batchMax === undefined || batchMax === 0 ? iodepth : batchMax));
  const low = read('iodepth_low', intIn(0, 65536));
  const iodepthLow = low === undefined || low === 0 ? iodepth : Math.min(low, iodepth);

  // 7. direct / buffered / sync.
  const directOpt = bool('direct');
  const bufferedOpt = bool('buffered');
  if (directOpt !== undefined && bufferedOpt !== undefined && directOpt === bufferedOpt) {
    fail('buffered', `buffered=${bufferedOpt ? 1 : 0} contradicts direct=${directOpt ? 1 : 0} (buffered is the opposite of direct); give one of them`, 'conflict');
  }
  const direct = directOpt ?? (bufferedOpt === undefined ? false : !bufferedOpt);
  const sync: SyncMode = read('sync', choice({ '0': 'none', none: 'none', '1': 'sync', sync: 'sync', dsync: 'dsync' } as const, 'sync mode')) ?? 'none';
  // direct=1 with sizes that are not whole 512-byte blocks is not refused here: as in fio, the
  // I/O itself fails with EINVAL (and runs that show error spans rely on it).
  // blockalign: accepted when it is fio's default (the smallest block size); other alignments are not modelled.
  const align = read('blockalign', (v) => {
    const parts = splitDirections(v);
    if (!parts.ok) return parts;
    const r = parts.value.read === undefined ? undefined : sizeValue(parts.value.read);
    if (r !== undefined && !r.ok) return r;
    return { ok: true, value: r?.value };
  });
  const blockAlignBytes = align !== undefined && align > 0 ? align : 0;

  // 8. Counts and times.
  const numjobs = read('numjobs', intIn(1, ctx.maxProcesses)) ?? 1;
  const runtimeNs = read('runtime', time('s')) ?? 0;
  const timeBased = bool('time_based') ?? false;
  const rampTimeNs = read('ramp_time', time('s')) ?? 0;
  const startdelayNs = read('startdelay', time('s')) ?? 0;
  // cgroup=: a group under the cgroup v2 root (fio makes it if missing)
  const cgroup =
    read('cgroup', cgroupName('reader')) ?? '';
  const thinktimeNs = read('thinktime', time('us')) ?? 0;
  const thinktimeBlocks = read('thinktime_blocks', intIn(1, 2 ** 31 - 1)) ?? 1;
  const thinktimeSpinNs = read('thinktime_spin', time('us')) ?? 0;
  let loops = read('loops', intIn(1, 2 ** 31 - 1)) ?? 1;
  const numberIos = read('number_ios', intIn(0, Number.MAX_SAFE_INTEGER)) ?? 0;
  const fsync = read('fsync', intIn(0, 2 ** 31 - 1)) ?? 0;
  const fdatasync = read('fdatasync', intIn(0, 2 ** 31 - 1)) ?? 0;
  const endFsync = bool('end_fsync') ?? false;
  const mixRead = read('rwmixread', intIn(0, 100));
  const mixWrite = read('rwmixwrite', intIn(0, 100));
  if (mixRead !== undefined && mixWrite !== undefined && mixRead + mixWrite !== 100) {
    fail('rwmixwrite', `rwmixread=${mixRead} and rwmixwrite=${mixWrite} add up to ${mixRead + mixWrite}; they must add up to 100 (give one of them)`, 'conflict');
  }
  const rwmixread = mixRead ?? (mixWrite !== undefined ? 100 - mixWrite : 50);

  // 9. Randomness.
  const norandommap = bool('norandommap') ?? false;
  const randrepeat = bool('randrepeat') ?? true;
  const randomDistribution = read('random_distribution', parseDistribution) ?? { kind: 'random' };

  // 10. Rates.
  // a per-direction limit a job does not set is 0 (none) in that direction
  const limits = (name: string, parse: (v: string) => Parsed<number>): PerDirection => {
    const p = perDirection(name, parse);
    return { read: p?.read ?? 0, write: p?.write ?? 0 };
  };
  const rateBytesPerSec = limits('rate', sizeValue);
  const rateIops = limits('rate_iops', intIn(0, 2 ** 31 - 1));
  const rateMinBytesPerSec = limits('rate_min', sizeValue);
  const rateMinIops = limits('rate_iops_min', intIn(0, 2 ** 31 - 1));
  const rateCycleNs = (read('rate_cycle', intIn(1, 2 ** 31 - 1)) ?? 1000) * 1_000_000;
  // flow control between jobs (fio's flow.c); flow_sleep is in microseconds
  const flow = read('flow', intIn(0, 2 ** 31 - 1)) ?? 0;
  const flowId = read('flow_id', intIn(0, 2 ** 31 - 1)) ?? 0;
  const flowSleepNs = (read('flow_sleep', intIn(0, 2 ** 31 - 1)) ?? 0) * 1000;
  // fio's latency-target depth search (io_u.c lat_target_*); bare times are microseconds
  const latencyTargetNs = read('latency_target', time('us')) ?? 0;
  const latencyWindowNs = read('latency_window', time('us')) ?? 0;
  const latencyPercentile =
    read('latency_percentile', (v): Parsed<number> => {
      const f = parseFloatValue(v);
      if (f.ok && (f.value < 0 || f.value > 100)) return { ok: false, error: `must be a percentage from 0 to 100 (got ${describeValue(v)})` };
      return f;
    }) ?? 100;
  const latencyRun = bool('latency_run') ?? false;
  const rateProcess = read('rate_process', choice({ linear: 'linear', poisson: 'poisson' } as const, 'rate_process')) ?? 'linear';

  // 11. Files: layout options.
  const fallocate: FallocateMode =
    read('fallocate', choice({ none: 'none', '0': 'none', native: 'native', posix: 'posix', '1': 'posix', keep: 'keep', truncate: 'truncate' } as const, 'fallocate mode')) ?? 'native';
  const createOnOpen = bool('create_on_open') ?? false;
  const overwrite = bool('overwrite') ?? false;
  const fileServiceType: FileServiceType =
    read('file_service_type', (v) => {
      if (v.includes(':')) return { ok: false, error: `the ':N' suffix (switch files every N I/Os) is not modelled; write ${v.split(':')[0]}` };
      return choice({ roundrobin: 'roundrobin', sequential: 'sequential', random: 'random' } as const, 'file_service_type')(v);
    }) ?? 'roundrobin';

  const fadviseHint: FadviseHint =
    read('fadvise_hint', choice({ '0': 'none', '1': 'type', random: 'random', sequential: 'sequential', noreuse: 'noreuse' } as const, 'fadvise_hint')) ?? 'type';

  // 12. Reporting and ordering.
  const stonewall = bool('stonewall') ?? false;
  const exitall = bool('exitall') ?? false;
  const exitWhat = read('exit_what', choice({ group: 'group', stonewall: 'stonewall', all: 'all' } as const, 'exit_what')) ?? 'group';
  const newGroup = bool('new_group') ?? false;
  const waitFor = get('wait_for')?.value ?? '';
  const groupReporting = bool('group_reporting') ?? false;
  const percentileList = read('percentile_list', parsePercentileList);
  const unifiedRwReporting: UnifiedRwReporting =
    read('unified_rw_reporting', choice({ none: 'none', '0': 'none', mixed: 'mixed', '1': 'mixed', both: 'both', '2': 'both' } as const, 'unified_rw_reporting')) ?? 'none';

  // 13. Where: directory, filename(s), nrfiles, filename_format; then sizes and offsets.
  if (get('opendir') !== undefined) {
    fail('opendir', 'opendir opens the files already in a directory, and the simulated filesystems hold only the files jobs name; name them with filename= or nrfiles=', 'unsupported-option');
    return undefined; // which files, and their sizes, would follow from it
  }
  const cleanPath = (option: string, at: L, p: string): string | undefined => {
    if (p.includes('\0')) {
      report('bad-value', at, option, 'a path cannot contain a NUL byte (Linux paths end at the first one)');
      return undefined;
    }
    const abs = posix.resolve(ctx.cwd, p);
    if (abs.length > MAX_PATH_CHARS) {
      report('bad-value', at, option, `the path is ${abs.length} characters long; Linux paths are at most ${MAX_PATH_CHARS} (PATH_MAX)`);
      return undefined;
    }
    return abs;
  };
  let directory: string | undefined;
  const dirOpt = get('directory');
  if (dirOpt !== undefined) {
    const dirs = splitFilenames(dirOpt.value ?? '');
    if (dirs.length === 0) report('bad-value', dirOpt.keyAt, dirOpt.key, 'needs a directory (directory=/mnt/nvme)');
    else directory = cleanPath(dirOpt.key, dirOpt.valueAt, dirs[0]!);
    // SIMPLIFICATION: with several directories (a:b) fio spreads clones over them; job 0 uses the first.
  }
  const nrfiles = read('nrfiles', intIn(1, MAX_FILES_PER_JOB)) ?? 1;
  const format = get('filename_format')?.value ?? '$jobname.$jobnum.$filenum';
  if (/\$clientuid/i.test(format)) fail('filename_format', '$clientuid names the client of fio client/server mode, which kiotrace does not have', 'unsupported-option');
  const inDir = (name: string): string => (directory !== undefined ? `${directory}/${name}` : name);
  const fileOpt = get('filename');
  let fileNames: string[];
  let namesAt: L;
  let generated = false;
  if (fileOpt !== undefined) {
    fileNames = splitFilenames(fileOpt.value ?? '');
    namesAt = fileOpt.valueAt;
    if (fileNames.length === 0) report('bad-value', fileOpt.keyAt, fileOpt.key, 'needs a file name (filename=/mnt/nvme/data, or several separated by ":")');
    if (fileNames.includes('-')) report('unsupported-option', fileOpt.valueAt, fileOpt.key, 'filename=- (stdin/stdout) is not modelled; name a file or a device');
    if (fileNames.length > MAX_FILES_PER_JOB) report('bad-value', fileOpt.valueAt, fileOpt.key, `${fileNames.length} files; a job may have at most ${MAX_FILES_PER_JOB}`);
    // fio: "whenever this option is specified, nrfiles is ignored"
  } else if (nrfiles === 1 && /^\/dev\/[^/]+$/.test(input.sectionName) && resolveTarget(input.sectionName, ctx.machine).kind === 'raw') {
    // fio add_job: a job named after an existing device uses that device.
    fileNames = [input.sectionName];
    namesAt = input.at;
  } else {
    generated = true;
    fileNames = Array.from({ length: nrfiles }, (_, i) => formatFilename(format, input.sectionName, 0, i));
    namesAt = get('filename_format')?.valueAt ?? get('nrfiles')?.valueAt ?? input.at;
  }
  const namesOption = fileOpt?.key ?? (generated ? 'filename_format' : 'filename');
  const files: string[] = [];
  const targets: PathTarget[] = [];
  for (const n of fileNames.slice(0, MAX_FILES_PER_JOB)) {
    const abs = cleanPath(namesOption, namesAt, inDir(n));
    if (abs === undefined) continue;
    const t = resolveTarget(abs, ctx.machine);
    if (t.kind === 'error') {
      report('not-on-device', namesAt, namesOption, t.message);
      continue;
    }
    files.push(abs);
    targets.push(t);
  }
  const cloneFiles: string[][] = [];
  if (generated) {
    for (let c = 1; c < Math.min(numjobs, 65536); c++) cloneFiles.push(fileNames.map((_, i) => posix.resolve(ctx.cwd, inDir(formatFilename(format, input.sectionName, c, i)))));
  }

  // fio's setup_files: a job that writes to a raw device that is mounted aborts (fio looks it up in
  // /proc/mounts) unless allow_mounted_write=1; writing under a mounted filesystem corrupts it
  const allowMountedWrite = bool('allow_mounted_write') ?? false;
  if (rw !== 'read' && rw !== 'randread' && !allowMountedWrite) {
    for (const t of targets) {
      if (t.kind === 'raw' && t.device.mount !== '') report('conflict', namesAt, namesOption, `/dev/${t.device.name} appears mounted (at ${t.device.mount}), and 'allow_mounted_write' isn't set. Aborting (set allow_mounted_write=1 to write anyway)`);
    }
  }

  // ioscheduler: fio's switch_ioscheduler writes the name to /sys/block/<disk>/queue/scheduler of
  // the disk holding the job's first file before the job runs (the kernel refuses unknown names)
  const scheduler = read('ioscheduler', choice({ none: 'none', 'mq-deadline': 'mq-deadline', bfq: 'bfq', kyber: 'kyber' } as const, 'I/O scheduler'));
  const schedDevice = targets[0]?.kind === 'error' ? undefined : targets[0]?.device;
  const ioscheduler = scheduler !== undefined && schedDevice !== undefined ? { disk: schedDevice.name, scheduler } : undefined;
  // write_hint: fio's fcntl(F_SET_RW_HINT) on each file it opens
  const writeHint = read('write_hint', choice({ none: 'none', short: 'short', medium: 'medium', long: 'long', extreme: 'extreme' } as const, 'write hint'));

  // Sizes.
  const allRaw = targets.length > 0 && targets.every((t) => t.kind === 'raw');
  const capacity = targets.length === 0 ? 0 : Math.min(...targets.map((t) => (t.kind === 'error' ? Infinity : t.device.capacityBytes)));
  const nFiles = Math.max(1, files.length);
  const sizeOpt = get('size');
  const filesizeOpt = get('filesize');
  const sizeVal = read('size', (v) => parseSizeOrPercent(v, kbBase));
  const filesizeVal = read('filesize', (v) => {
    if (/\d[-:]\s*\d/.test(v)) return { ok: false, error: `a range of file sizes is not modelled; give one size (got ${describeValue(v)})` };
    return parseSizeOrPercent(v, kbBase);
  });
  const ofDevice = (p: SizeOrPercent, option: string): number | undefined => {
    if (p.kind === 'bytes') return p.bytes;
    if (!allRaw) {
      fail(option, `${option}=${p.percent}% is a share of the files' existing size, and files on the simulated filesystems do not exist before the job; give a size in bytes (or use a raw device like /dev/nvme0n1)`);
      return undefined;
    }
    return Math.floor((capacity * p.percent) / 100);
  };
  let fileSizeBytes: number | undefined = filesizeVal === undefined ? undefined : ofDevice(filesizeVal, 'filesize');
  let totalSize: number | undefined = sizeVal === undefined ? undefined : ofDevice(sizeVal, 'size');
  if (totalSize === undefined && sizeOpt === undefined) {
    if (fileSizeBytes !== undefined) totalSize = fileSizeBytes * nFiles;
    else if (allRaw) totalSize = capacity * nFiles; // fio: a device's size is the whole device
    else if (files.length > 0 && filesizeOpt === undefined) {
      report('missing-key', input.at, 'size', `required: ${files.length === 1 ? `${JSON.stringify(files[0])} does` : 'these files do'} not exist before the job, so fio needs a size (e.g. size=64m)`);
    }
  }
  if (totalSize === 0 && sizeOpt !== undefined) fail('size', 'must be a positive size like 64m (got 0)');
  const regionPerFile = totalSize === undefined ? undefined : Math.floor(totalSize / nFiles);

  // Offsets (a percentage is of the file's size, aligned up to the smallest block size).
  const fileBase = fileSizeBytes ?? (allRaw ? capacity : regionPerFile);
  const offsetOf = (option: string): number => {
    const p = read(option, (v) => parseSizeOrPercent(v, kbBase));
    if (p === undefined) return 0;
    if (p.kind === 'bytes') return p.bytes;
    if (fileBase === undefined) return 0;
    const raw = Math.floor((fileBase * p.percent) / 100);
    return Math.ceil(raw / readSpec.minBytes) * readSpec.minBytes;
  };
  const offsetBytes = offsetOf('offset');
  const offsetIncrementBytes = offsetOf('offset_increment');

  let size = totalSize ?? 0;
  if (fileSizeBytes === undefined && regionPerFile !== undefined) {
    // fio lays a new file out to offset + its share of size; a device is as large as it is.
    fileSizeBytes = allRaw ? capacity : regionPerFile + offsetBytes;
  }
  if (fileSizeBytes !== undefined && regionPerFile !== undefined) {
    const lastOffset = offsetBytes + offsetIncrementBytes * (numjobs - 1);
    if (lastOffset >= fileSizeBytes) {
      fail(get('offset_increment') !== undefined && offsetIncrementBytes > 0 ? 'offset_increment' : 'offset', `the region starts at ${fioSize(lastOffset)}${numjobs > 1 && offsetIncrementBytes > 0 ? ` for the last of ${numjobs} clones` : ''}, at or past the end of the file (${fioSize(fileSizeBytes)})`, 'conflict');
    } else if (regionPerFile + offsetBytes > fileSizeBytes) {
      // fio caps the region at what is left after the offset.
      size = (fileSizeBytes - offsetBytes) * nFiles;
    }
  }
  if (allRaw && totalSize !== undefined && regionPerFile !== undefined && regionPerFile + offsetBytes > capacity && sizeOpt !== undefined) {
    fail('size', `${fioSize(regionPerFile)}${offsetBytes > 0 ? ` from offset ${fioSize(offsetBytes)}` : ''} does not fit on ${targets[0]!.kind === 'raw' ? targets[0]!.device.name : 'the device'} (capacity ${fioSize(capacity)})`);
  }
  for (const t of targets) {
    if (t.kind === 'file' && fileSizeBytes !== undefined && fileSizeBytes > t.device.capacityBytes) {
      fail(filesizeOpt !== undefined ? 'filesize' : 'size', `${fioSize(fileSizeBytes)} does not fit on ${t.device.name} (capacity ${fioSize(t.device.capacityBytes)})`);
      break;
    }
  }
  if (lsm !== undefined && fileSizeBytes !== undefined && fileSizeBytes < LSM_MIN_SLOTS * lsm.targetFileSizeBaseBytes) {
    fail(get('filesize') !== undefined ? 'filesize' : 'size', `ioengine=lsm keeps its SST files in slots of target_file_size_base (${fioSize(lsm.targetFileSizeBaseBytes)}): the file needs at least ${LSM_MIN_SLOTS} of them (${fioSize(LSM_MIN_SLOTS * lsm.targetFileSizeBaseBytes)})`, 'conflict');
  }
  // io_size: more I/O than the region means going over it again; a whole multiple is loops.
  const ioSize = read('io_size', sizeValue);
  if (ioSize !== undefined && size > 0) {
    if (ioSize % size !== 0) fail('io_size', `io_size=${fioSize(ioSize)} is not a whole number of size=${fioSize(size)} regions; only whole loops over the region are modelled (use loops=)`, 'unsupported-option');
    else if (get('loops') !== undefined && ioSize !== size) fail('io_size', 'io_size and loops together are not modelled; give one of them', 'conflict');
    else loops = Math.max(1, ioSize / size);
  }

  const blockMax = Math.max(readSpec.maxBytes, writeSpec.maxBytes);
  const regionAfterOffset = regionPerFile === undefined ? undefined : Math.min(regionPerFile, (fileSizeBytes ?? Infinity) - offsetBytes);
  if (regionAfterOffset !== undefined && regionAfterOffset > 0 && blockMax > regionAfterOffset) {
    const opt = get('bssplit') !== undefined ? 'bssplit' : get('bsrange') !== undefined ? 'bsrange' : get('bs') !== undefined ? 'bs' : undefined;
    if (opt !== undefined) fail(opt, `${fioSize(blockMax)} is larger than size (${fioSize(regionAfterOffset)})`, 'conflict');
    else {
      const sizeAt = get('size') ?? get('filesize');
      report('conflict', sizeAt?.valueAt ?? input.at, sizeAt?.key ?? 'size', `${fioSize(regionAfterOffset)} is smaller than the default bs (4k); set bs too`);
    }
  }

  if (problems > 0 || files.length === 0) {
    if (files.length === 0 && problems === 0) report('missing-key', input.at, 'filename', 'the job has no file to do I/O on');
    return undefined;
  }

  const job = completeJob({
    name,
    filename: files.join(':'),
    files,
    fileSizeBytes: fileSizeBytes ?? Math.floor(size / nFiles),
    rw,
    bs,
    ...(blockSizesDiffer ? { blockSizes: { read: readSpec, write: writeSpec } } : {}),
    size,
    offsetBytes,
    offsetIncrementBytes,
    loops,
    iodepth,
    iodepthBatchSubmit,
    iodepthBatchCompleteMin,
    iodepthBatchCompleteMax,
    iodepthLow,
    ioengine,
    direct,
    sync,
    numjobs,
    runtimeNs,
    timeBased,
    rampTimeNs,
    fsync,
    fdatasync,
    endFsync,
    rwmixread,
    seqAddBytes,
    randomRunIos,
    thinktimeNs,
    thinktimeBlocks,
    thinktimeSpinNs,
    startdelayNs,
    cgroup,
    norandommap,
    randrepeat,
    randomDistribution,
    rateBytesPerSec,
    rateIops,
    rateProcess,
    fallocate,
    createOnOpen,
    overwrite,
    fileServiceType,
    fadviseHint,
    ...(ioscheduler !== undefined ? { ioscheduler } : {}),
    ...(writeHint !== undefined ? { writeHint } : {}),
    sqthreadPoll,
    fixedbufs,
    registerfiles,
    hipri,
    ...(lsm !== undefined ? { lsm } : {}),
    stonewall,
    exitall,
    exitWhat,
    waitFor,
    groupReporting,
    ...(percentileList !== undefined ? { percentileList } : {}),
    unifiedRwReporting,
    cloneFiles,
    rateMinBytesPerSec,
    rateMinIops,
    rateCycleNs,
    flow,
    flowId,
    flowSleepNs,
    latencyTargetNs,
    latencyWindowNs,
    latencyPercentile,
    latencyRun,
    blockAlignBytes,
    numberIos,
  });
  // new_group is carried into groupId by resolveJobs; JobSpec.stonewall stays fio's stonewall only.
  return { job, newGroup, description, cloneFiles, sizeAt: sizeOpt?.valueAt ?? filesizeOpt?.valueAt ?? input.at };
}

/** zoned:A/S:A/S:...: each zone's share of the accesses and of the region, in percent; a last size left empty is the rest. */
function parseZones(args: readonly string[]): Parsed<RandomDistribution> {
  const zones: { accessPercent: number; sizePercent: number }[] = [];
  for (let i = 0; i < args.length; i++) {
    const [a, s] = args[i]!.split('/');
    const access = parseFloatValue(a ?? '');
    const last = i === args.length - 1;
    const sizeText = (s ?? '').trim();
    const size = sizeText === '' && last ? { ok: true as const, value: 100 - zones.reduce((n, z) => n + z.sizePercent, 0) } : parseFloatValue(sizeText);
    if (!access.ok || !size.ok || access.value < 0 || size.value <= 0) return { ok: false, error: `zone ${describeValue(args[i]!)} must be ACCESS%/SIZE% like 50/5 (the last size may be left empty for the rest)` };
    zones.push({ accessPercent: access.value, sizePercent: size.value });
  }
  const access = zones.reduce((n, z) => n + z.accessPercent, 0);
  const size = zones.reduce((n, z) => n + z.sizePercent, 0);
  if (zones.length === 0) return { ok: false, error: 'zoned needs zones, e.g. zoned:50/5:30/15:20/80' };
  if (Math.abs(access - 100) > 1e-9) return { ok: false, error: `the zones' access percentages add up to ${access}; they must add up to 100` };
  if (size > 100 + 1e-9) return { ok: false, error: `the zones' sizes add up to ${size}%; at most 100` };
  return { ok: true, value: { kind: 'zoned', zones } };
}

/** random | zipf:theta | pareto:h | normal:dev | zoned:A/S:... (fio's random_distribution). */
function parseDistribution(v: string): Parsed<RandomDistribution> {
  const [kindRaw, ...args] = v.trim().split(':');
  const kind = (kindRaw ?? '').toLowerCase();
  if (kind === 'random') return args.length === 0 ? { ok: true, value: { kind: 'random' } } : { ok: false, error: 'random takes no parameter (write random_distribution=random)' };
  if (kind === 'zoned') return parseZones(args);
  if (kind === 'zoned_abs' || kind === 'sequence') return { ok: false, error: `${kind} distributions are not modelled (kiotrace has random, zipf, pareto, normal and zoned)` };
  if (kind !== 'zipf' && kind !== 'pareto' && kind !== 'normal' && kind !== 'gauss') {
    const s = closestWord(kind, ['random', 'zipf', 'pareto', 'normal']);
    return { ok: false, error: `unknown distribution ${describeValue(kindRaw ?? '')} (expected random, zipf:THETA, pareto:H or normal:DEV)${s !== undefined ? `; did you mean "${s}"?` : ''}` };
  }
  if (args.length === 0 || args[0]!.trim() === '') return { ok: false, error: `${kind} needs a parameter, e.g. ${kind === 'zipf' ? 'zipf:1.2' : kind === 'pareto' ? 'pareto:0.9' : 'normal:20'}` };
  if (args.length > 1) return { ok: false, error: `a center (the second value, ${describeValue(args[1]!)}) is not modelled; the distribution is centred on the region's start as fio's default` };
  const p = parseFloatValue(args[0]!);
  if (!p.ok) return p;
  if (kind === 'zipf') {
    if (p.value <= 0 || p.value === 1) return { ok: false, error: `zipf theta must be positive and not 1.0 (got ${p.value})` };
    return { ok: true, value: { kind: 'zipf', theta: p.value } };
  }
  if (kind === 'pareto') {
    if (p.value <= 0 || p.value >= 1) return { ok: false, error: `pareto h must be between 0 and 1, exclusive (got ${p.value})` };
    return { ok: true, value: { kind: 'pareto', h: p.value } };
  }
  if (p.value < 0 || p.value > 100) return { ok: false, error: `normal deviation must be from 0 to 100 (got ${p.value})` };
  return { ok: true, value: { kind: 'normal', stdDevPercent: p.value } };
}

/** Jobs in file order: groups (fio add_job: stonewall/new_group start one once the current has jobs), wait_for, names. */
export function resolveJobs<L>(inputs: readonly JobInput<L>[], ctx: ResolveContext<L>): { jobs: ResolvedJob<L>[]; ok: boolean } {
  const maxProcesses = ctx.maxProcesses;
  let ok = true;
  const wrapped: ResolveContext<L> = {
    ...ctx,
    report: (code, at, option, message) => {
      ok = false;
      ctx.report(code, at, option, message);
    },
  };
  const out: ResolvedJob<L>[] = [];
  const names = new Map<string, number>();
  /** Names more than one job has (allowed in job files, as fio allows them; wait_for cannot name one). */
  const dupNames = new Set<string>();
  let groupId = 0;
  let groupJobs = 0;
  let processes = 0;
  inputs.forEach((input, index) => {
    // names label the report, so two jobs may not share one (numjobs clones are numbered): checked
    // from the options, so a job with other problems is still compared
    const nameOpt = input.options.filter((o) => findOption(o.key)?.name === 'name').pop();
    const jobName = nameOpt?.value !== undefined && nameOpt.value !== '' ? nameOpt.value : input.sectionName;
    const first = names.get(jobName);
    if (first !== undefined && ctx.uniqueNames) {
      wrapped.report('conflict', nameOpt?.valueAt ?? input.at, 'name', `duplicate job name ${JSON.stringify(jobName)} (also ${ctx.describeJob?.(first) ?? `job ${first + 1}`}); give each job its own name`);
    } else if (first === undefined) {
      names.set(jobName, index);
    } else {
      dupNames.add(jobName);
    }
    // wait_for must name an earlier job (checked from the option, so a job with other problems is too)
    const waitOpt = input.options.filter((o) => findOption(o.key)?.name === 'wait_for').pop();
    const waitFor = waitOpt?.value ?? '';
    if (waitOpt !== undefined && waitFor === '') wrapped.report('bad-value', waitOpt.keyAt, waitOpt.key, 'needs the name of an earlier job (wait_for=writers)');
    else if (waitOpt !== undefined && waitFor === jobName) wrapped.report('bad-value', waitOpt.valueAt, waitOpt.key, `a job cannot wait for itself (wait_for=${waitFor})`);
    else if (waitOpt !== undefined && dupNames.has(waitFor)) {
      wrapped.report('bad-value', waitOpt.valueAt, waitOpt.key, `several earlier jobs are named ${JSON.stringify(waitFor)}; wait_for needs a name only one job has (fio: "multiple waitees")`);
    } else if (waitOpt !== undefined && (!names.has(waitFor) || names.get(waitFor)! >= index)) {
      const s = closestWord(waitFor, [...names.entries()].filter(([, i]) => i < index).map(([n]) => n));
      wrapped.report('bad-value', waitOpt.valueAt, waitOpt.key, `no earlier job is named ${JSON.stringify(waitFor)}; wait_for must name a job above this one${s !== undefined ? `; did you mean "${s}"?` : ''}`);
    }
    const r = resolveJob(input, wrapped);
    if (r === undefined) return;
    if ((r.job.stonewall || r.newGroup) && groupJobs > 0) {
      groupId++;
      groupJobs = 0;
    }
    groupJobs++;
    processes += r.job.numjobs;
    out.push({ ...r, job: { ...r.job, groupId } });
  });
  if (processes > maxProcesses) {
    const last = inputs[inputs.length - 1];
    if (last !== undefined) wrapped.report('too-many', last.at, 'numjobs', `the jobs fork ${processes} processes in all (numjobs summed); at most ${maxProcesses}`);
  }
  return { jobs: out, ok };
}

/**
 * How long the run must last for every job to finish when each is time-limited: over stonewall
 * phases, the sum of each phase's longest startdelay + ramp_time + runtime (wait_for chains add
 * the waited-for job's end). undefined when some job has no runtime (it ends when its I/O is done).
 */
export function impliedDurationNs(jobs: readonly JobSpec[]): number | undefined {
  if (jobs.length === 0 || jobs.some((j) => j.runtimeNs === 0)) return undefined;
  const endOf = new Map<string, number>();
  let phaseStart = 0;
  let phaseEnd = 0;
  for (const j of jobs) {
    if (j.stonewall) phaseStart = phaseEnd;
    const start = Math.max(phaseStart, j.waitFor !== '' ? (endOf.get(j.waitFor) ?? phaseStart) : phaseStart);
    const end = start + j.startdelayNs + j.rampTimeNs + j.runtimeNs;
    endOf.set(j.name, end);
    phaseEnd = Math.max(phaseEnd, end);
  }
  return phaseEnd;
}

/** ioengine=lsm's file holds at least this many SST slots (half start loaded). */
const LSM_MIN_SLOTS = 16;

/** The option names of ioengine=lsm and the LsmSpec field each sets. */
const LSM_OPTIONS = [
  ['put_rate', 'putRateBps', 'size'],
  ['write_buffer_size', 'writeBufferSizeBytes', 'size'],
  ['max_write_buffer_number', 'maxWriteBufferNumber', 'int'],
  ['target_file_size_base', 'targetFileSizeBaseBytes', 'size'],
  ['max_bytes_for_level_base', 'maxBytesForLevelBase', 'size'],
  ['max_bytes_for_level_multiplier', 'maxBytesForLevelMultiplier', 'int'],
  ['level0_file_num_compaction_trigger', 'level0FileNumCompactionTrigger', 'int'],
  ['level0_slowdown_writes_trigger', 'level0SlowdownWritesTrigger', 'int'],
  ['level0_stop_writes_trigger', 'level0StopWritesTrigger', 'int'],
  ['delayed_write_rate', 'delayedWriteRateBps', 'size'],
  ['num_levels', 'numLevels', 'int'],
] as const;

/**
 * ioengine=lsm's options (RocksDB's names and defaults): only with that engine, and consistent
 * (a memtable fits an SST file; slowdown before stop).
 */
function readLsmOptions<L>(
  ioengine: IoEngine,
  get: (name: string) => OptionInput<L> | undefined,
  read: <T>(name: string, parse: (value: string) => Parsed<T>) => T | undefined,
  fail: (name: string, message: string, code?: ProblemCode) => void,
  intIn: (min: number, max: number) => (v: string) => Parsed<number>,
  sizeValue: (v: string) => Parsed<number>,
): LsmSpec | undefined {
  const names = [...LSM_OPTIONS.map(([name]) => name), 'compaction_cgroup'];
  if (ioengine !== 'lsm') {
    for (const name of names) if (get(name) !== undefined) fail(name, `${name} is an option of ioengine=lsm (this job uses ${ioengine})`, 'conflict');
    return undefined;
  }
  const spec: { -readonly [K in keyof LsmSpec]: LsmSpec[K] } = { ...LSM_DEFAULTS };
  const positiveSize = (v: string): Parsed<number> => {
    const r = sizeValue(v);
    return r.ok && r.value <= 0 ? { ok: false, error: `must be a positive size (got ${describeValue(v)})` } : r;
  };
  for (const [name, field, kind] of LSM_OPTIONS) {
    const v = read(name, kind === 'size' ? positiveSize : intIn(name === 'num_levels' ? 2 : 1, name === 'num_levels' ? 20 : 1_000_000));
    if (v !== undefined) spec[field] = v;
  }
  const cg = read('compaction_cgroup', cgroupName('compaction'));
  if (cg !== undefined) spec.compactionCgroup = cg;
  if (spec.writeBufferSizeBytes > spec.targetFileSizeBaseBytes) fail(get('write_buffer_size') !== undefined ? 'write_buffer_size' : 'target_file_size_base', `write_buffer_size (${fioSize(spec.writeBufferSizeBytes)}) must fit in target_file_size_base (${fioSize(spec.targetFileSizeBaseBytes)}): each SST file is one slot of the job's file`, 'conflict');
  if (spec.level0SlowdownWritesTrigger > spec.level0StopWritesTrigger) fail('level0_slowdown_writes_trigger', `level0_slowdown_writes_trigger (${spec.level0SlowdownWritesTrigger}) must not exceed level0_stop_writes_trigger (${spec.level0StopWritesTrigger})`, 'conflict');
  return spec;
}

/** A cgroup v2 group's name under the root (cgroup=, compaction_cgroup=). */
function cgroupName(example: string): (v: string) => Parsed<string> {
  return (v) => (/^[A-Za-z0-9_.-]{1,64}$/.test(v) && v !== '.' && v !== '..' ? { ok: true, value: v } : { ok: false, error: `must be a cgroup name like "${example}" (letters, digits, _ . -; at most 64), got ${JSON.stringify(v.slice(0, 70))}` });
}
