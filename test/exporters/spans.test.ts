// The span builder on real runs, through the real OpenTelemetry SDK (in-memory exporter): the
// blocking read's trace has one span per layer, nested as the I/O went down and back up; times are
// the probe hits' nanoseconds on the --epoch clock; ids come from (run, ioId, ordinal); a page
// fault's root carries the whole VA -> PFN chain; sampling keeps whole traces, chosen by trace id;
// merged bios link both ways across traces; failing syscalls are ERROR spans.
import test from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, type HrTime } from '@opentelemetry/api';
import { InMemorySpanExporter, SamplingDecision, SimpleSpanProcessor, TraceIdRatioBasedSampler, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import type { Machine, ProbeHit, Scenario } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { ATTR, SimIdGenerator } from '../../probes/spans.js';
import { createTracing } from '../../probes/tracing.js';
import { prepareRun } from '../../tui/run.js';
import { parseScenario } from '../../tui/scenario.js';
import { scenario } from '../helpers/machine.js';

const EPOCH = 1763856000000000000n;

interface Traced {
  readonly m: Machine;
  /** Every finished span, in the order the SDK ended them. */
  readonly spans: ReadableSpan[];
  /** Trace ids the builder reported complete, in order. */
  readonly completed: string[];
  readonly spansStarted: number;
  readonly ids: SimIdGenerator;
}

interface TraceOptions {
  readonly seed?: number;
  readonly durationNs?: number;
  readonly sampleRatio?: number;
  readonly epochNs?: bigint;
  readonly runIdentity?: string;
  /** Attach extra probes before the run (they see the same hits as the builder). */
  readonly probes?: (m: Machine) => void;
}

async function traced(s: Scenario, opts: TraceOptions = {}): Promise<Traced> {
  const seed = opts.seed ?? 1;
  const d = opts.durationNs ?? s.durationNs;
  const m = prepareRun(s, { seed, durationNs: d });
  opts.probes?.(m);
  const mem = new InMemorySpanExporter();
  const completed: string[] = [];
  const { provider, builder, ids } = createTracing(m, {
    scenario: s.name,
    seed,
    sampleRatio: opts.sampleRatio ?? 1,
    epochNs: opts.epochNs ?? EPOCH,
    ...(opts.runIdentity !== undefined ? { runIdentity: opts.runIdentity } : {}),
    processors: [new SimpleSpanProcessor(mem)],
    onTraceComplete: (id) => completed.push(id),
  });
  builder.start();
  m.run(d);
  builder.stop(m.env.nowNs);
  await provider.forceFlush();
  // the in-memory exporter forgets its spans on shutdown: take them first
  const spans = [...mem.getFinishedSpans()];
  await provider.shutdown();
  return { m, spans, completed, spansStarted: builder.spansStarted, ids };
}

const traceIdOf = (s: ReadableSpan): string => s.spanContext().traceId;
const spanIdOf = (s: ReadableSpan): string => s.spanContext().spanId;

function byTrace(spans: readonly ReadableSpan[]): Map<string, ReadableSpan[]> {
  const out = new Map<string, ReadableSpan[]>();
  for (const s of spans) {
    let list = out.get(traceIdOf(s));
    if (!list) out.set(traceIdOf(s), (list = []));
    list.push(s);
  }
  return out;
}

const hrNs = (t: HrTime): bigint => BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
/** The HrTime of simulated `simNs` on the EPOCH clock, computed without the code under test. */
function wall(simNs: number): HrTime {
  const ns = EPOCH + BigInt(simNs);
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
}
const simNs = (t: HrTime): number => Number(hrNs(t) - EPOCH);

function rootOf(trace: readonly ReadableSpan[]): ReadableSpan {
  const roots = trace.filter((s) => s.parentSpanContext === undefined);
  assert.equal(roots.length, 1, `one root in trace ${trace[0] ? traceIdOf(trace[0]) : '?'}`);
  return roots[0]!;
}

/** Children sorted by start time, ties by span id. */
function childrenOf(trace: readonly ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return trace
    .filter((s) => s.parentSpanContext?.spanId === spanIdOf(parent))
    .sort((a, b) => {
      const d = hrNs(a.startTime) - hrNs(b.startTime);
      return d < 0n ? -1 : d > 0n ? 1 : spanIdOf(a) < spanIdOf(b) ? -1 : spanIdOf(a) > spanIdOf(b) ? 1 : 0;
    });
}

/** The trace's tree as (depth, name), depth-first from the root, children in start order. */
function tree(trace: readonly ReadableSpan[]): [number, string][] {
  const out: [number, string][] = [];
  const walk = (s: ReadableSpan, depth: number): void => {
    out.push([depth, s.name]);
    for (const c of childrenOf(trace, s)) walk(c, depth + 1);
  };
  walk(rootOf(trace), 0);
  return out;
}

/** The structural rules every trace obeys; returns the root. */
function checkWellFormed(trace: readonly ReadableSpan[]): ReadableSpan {
  const root = rootOf(trace);
  const traceId = traceIdOf(root);
  const ids = new Set(trace.map(spanIdOf));
  assert.equal(ids.size, trace.length, 'span ids are unique in a trace');
  for (const s of trace) {
    assert.equal(traceIdOf(s), traceId, `${s.name}: the trace's id`);
    assert.ok(s.ended, `${s.name} ended`);
    assert.ok(hrNs(s.endTime) >= hrNs(s.startTime), `${s.name} ends after it starts`);
    assert.equal(s.kind, SpanKind.INTERNAL);
    assert.equal(s.instrumentationScope.name, 'kiotrace');
    if (s !== root) {
      const p = s.parentSpanContext;
      assert.ok(p, `${s.name} has a parent`);
      assert.equal(p.traceId, traceId, `${s.name}: parent in the same trace`);
      assert.ok(ids.has(p.spanId), `${s.name}: parent ${p.spanId} is in the trace`);
    }
  }
  return root;
}

function named(trace: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = trace.filter((s) => s.name === name);
  assert.equal(found.length, 1, `one ${name} span`);
  return found[0]!;
}

function parentOf(trace: readonly ReadableSpan[], s: ReadableSpan): ReadableSpan | undefined {
  return trace.find((p) => spanIdOf(p) === s.parentSpanContext?.spanId);
}

test('blocking-read: five whole traces; the read goes down the layers and back up, one span per layer', async () => {
  const irqHits: { irq: number; name: string }[] = [];
  const mapped: number[] = [];
  const { spans, completed, spansStarted } = await traced(scenario('blocking-read'), {
    probes: (m) => {
      attach(m, 'tracepoint:irq:irq_handler_entry', (h) => irqHits.push({ irq: Number(h.fields.irq), name: String(h.fields.name) }));
      attach(m, 'tracepoint:ext4:ext4_ext_map_blocks_exit', (h) => mapped.push(Number(h.fields.pblk)));
    },
  });
  const traces = byTrace(spans);
  assert.equal(traces.size, 5);
  assert.equal(spansStarted, spans.length, 'every span started was ended and exported');
  assert.equal(completed.length, 5, 'each trace is reported complete once');
  assert.deepEqual(new Set(completed), new Set(traces.keys()));

  const roots = [...traces.values()].map(checkWellFormed).sort((a, b) => (hrNs(a.startTime) < hrNs(b.startTime) ? -1 : 1));
  assert.deepEqual(
    roots.map((r) => r.name),
    ['openat', 'mmap', 'read', 'munmap', 'close'],
  );
  assert.deepEqual(
    roots.map((r) => r.attributes[ATTR.ioId]),
    [1, 2, 3, 4, 5],
  );

  const read = traces.get(traceIdOf(roots[2]!))!;
  // syscall -> VFS -> ext4 -> page cache (miss: synchronous readahead, which maps the block and
  // submits the bio) -> bio -> request (no queue wait under "none"), driver -> device -> DMA, and
  // the completion interrupt under the driver; the reader's wake-up hangs off the syscall
  assert.deepEqual(tree(read), [
    [0, 'read'],
    [1, 'vfs_read'],
    [2, 'ext4_file_read_iter'],
    [3, 'filemap_read'],
    [4, 'page_cache_sync_ra'],
    [5, 'ext4_ext_map_blocks'],
    [5, 'submit_bio'],
    [6, 'bio'],
    [7, 'request'],
    [8, 'queue wait'],
    [8, 'driver'],
    [9, 'device'],
    [10, 'dma'],
    [9, 'irq/124 nvme0q4'],
    [1, 'wakeup'],
  ]);
  // the short traces: open has its VFS layer, the rest are bare syscalls
  assert.deepEqual(tree(traces.get(traceIdOf(roots[0]!))!), [
    [0, 'openat'],
    [1, 'vfs_open'],
  ]);
  for (const r of roots.slice(3)) assert.equal(traces.get(traceIdOf(r))!.length, 1);

  const root = roots[2]!;
  assert.deepEqual(root.attributes, {
    [ATTR.ioId]: 3,
    [ATTR.pid]: 4,
    [ATTR.threadId]: 4,
    [ATTR.threadName]: 'cold-read',
    [ATTR.cpu]: 3,
    [ATTR.ret]: 4096,
  });
  assert.equal(root.status.code, SpanStatusCode.UNSET);

  const bio = named(read, 'bio');
  const request = named(read, 'request');
  const driver = named(read, 'driver');
  assert.equal(mapped.length, 1);
  assert.equal(bio.attributes[ATTR.sector], mapped[0]! * 8, 'the bio starts at the mapped 4 KiB block, in 512-byte sectors');
  assert.equal(bio.attributes[ATTR.bytes], 4096);
  assert.equal(bio.attributes[ATTR.device], 'nvme0n1');
  assert.equal(request.attributes[ATTR.device], 'nvme0n1');
  assert.equal(request.attributes[ATTR.sector], bio.attributes[ATTR.sector]);
  assert.equal(request.attributes[ATTR.bytes], 4096);
  assert.equal(request.attributes[ATTR.rwbs], 'RA');
  assert.equal(request.attributes[ATTR.queueWaitNs], 0);
  assert.equal(driver.attributes[ATTR.device], 'nvme0n1');
  assert.equal(driver.attributes[ATTR.queueDepth], 1);
  assert.equal(named(read, 'device').attributes[ATTR.device], 'nvme0n1');
  assert.deepEqual(named(read, 'dma').attributes, { [ATTR.bytes]: 4096, 'kiotrace.dma.to_device': false, 'kiotrace.dma.nr_sg': 1 });

  assert.deepEqual(irqHits, [{ irq: 124, name: 'nvme0q4' }]);
  const irq = named(read, 'irq/124 nvme0q4');
  assert.equal(irq.attributes[ATTR.irq], 124);
  assert.equal(irq.attributes[ATTR.irqName], 'irq/124 nvme0q4');
  assert.equal(parentOf(read, irq), driver);

  const wakeup = named(read, 'wakeup');
  assert.equal(wakeup.attributes[ATTR.wokenPid], 4);
  assert.deepEqual(
    wakeup.events.map((e) => e.name),
    ['sched_switch'],
  );

  // children lie inside their parents, except the bio, which outlives the submit_bio call
  for (const s of read) {
    const p = parentOf(read, s);
    if (!p || s.name === 'bio') continue;
    assert.ok(hrNs(s.startTime) >= hrNs(p.startTime) && hrNs(s.endTime) <= hrNs(p.endTime), `${s.name} inside ${p.name}`);
  }
  assert.ok(hrNs(bio.endTime) > hrNs(named(read, 'submit_bio').endTime), 'the bio completes after submit_bio returned');
});

test('blocking-read: times are the probe hits\' nanoseconds on the epoch clock', async () => {
  const times = new Map<string, number[]>();
  const record = (key: string) => (h: ProbeHit) => {
    let list = times.get(key);
    if (!list) times.set(key, (list = []));
    list.push(h.timeNs);
  };
  const dmaNs: number[] = [];
  const { spans } = await traced(scenario('blocking-read'), {
    probes: (m) => {
      attach(m, 'tracepoint:syscalls:sys_enter_read', record('enter'));
      attach(m, 'tracepoint:syscalls:sys_exit_read', record('exit'));
      attach(m, 'kprobe:vfs_read', record('vfs_read'));
      attach(m, 'kretprobe:vfs_read', record('vfs_read ret'));
      attach(m, 'tracepoint:block:block_rq_issue', record('issue'));
      attach(m, 'tracepoint:block:block_rq_complete', record('complete'));
      attach(m, 'tracepoint:kiotrace:device_fetch', record('fetch'));
      attach(m, 'tracepoint:irq:irq_handler_entry', record('irq entry'));
      attach(m, 'tracepoint:irq:irq_handler_exit', record('irq exit'));
      attach(m, 'tracepoint:sched:sched_waking', record('waking'));
      attach(m, 'tracepoint:kiotrace:dma_transfer', (h) => {
        record('dma')(h);
        dmaNs.push(Number(h.fields.duration_ns));
      });
    },
  });
  const one = (key: string): number => {
    const list = times.get(key) ?? [];
    assert.equal(list.length, 1, `one ${key} hit`);
    return list[0]!;
  };
  const read = [...byTrace(spans).values()].find((t) => rootOf(t).name === 'read')!;
  const root = rootOf(read);
  assert.deepEqual(root.startTime, wall(one('enter')));
  assert.deepEqual(root.endTime, wall(one('exit')));
  assert.ok(one('exit') > one('enter'));
  assert.deepEqual([named(read, 'vfs_read').startTime, named(read, 'vfs_read').endTime], [wall(one('vfs_read')), wall(one('vfs_read ret'))]);
  assert.deepEqual([named(read, 'driver').startTime, named(read, 'driver').endTime], [wall(one('issue')), wall(one('complete'))]);
  assert.deepEqual([named(read, 'device').startTime, named(read, 'device').endTime], [wall(one('fetch')), wall(one('complete'))]);
  const irq = named(read, 'irq/124 nvme0q4');
  assert.deepEqual([irq.startTime, irq.endTime], [wall(one('irq entry')), wall(one('irq exit'))]);
  assert.deepEqual([named(read, 'wakeup').startTime, named(read, 'wakeup').endTime], [wall(one('waking')), wall(one('exit'))]);
  // the NVMe model reports a DMA transfer when it has ended
  assert.equal(dmaNs.length, 1);
  assert.ok(dmaNs[0]! > 0);
  assert.deepEqual([named(read, 'dma').startTime, named(read, 'dma').endTime], [wall(one('dma') - dmaNs[0]!), wall(one('dma'))]);
  // nanoseconds survive: the root does not start on a microsecond boundary
  assert.equal(simNs(root.startTime), one('enter'));
  assert.notEqual(hrNs(root.endTime) % 1000n, 0n);
});

test('ids: (run, ioId, ordinal), the same on every run, and another seed, epoch or scenario gives other trace ids', async () => {
  const idsOf = (spans: readonly ReadableSpan[]) => spans.map((s) => [traceIdOf(s), spanIdOf(s), s.parentSpanContext?.spanId ?? '']);
  const a = await traced(scenario('blocking-read'));
  const b = await traced(scenario('blocking-read'));
  assert.deepEqual(idsOf(a.spans), idsOf(b.spans));
  assert.equal(a.spans.length, 20);

  for (const trace of byTrace(a.spans).values()) {
    const root = rootOf(trace);
    const ioId = root.attributes[ATTR.ioId];
    assert.equal(typeof ioId, 'number');
    const traceId = traceIdOf(root);
    assert.match(traceId, /^[0-9a-f]{32}$/);
    assert.equal(traceId, a.ids.traceIdOf(ioId as number));
    // the run's word, then the ioId as 64 bits, then a mix of (run, ioId) that also starts every span id
    assert.equal(traceId.slice(8, 24), (ioId as number).toString(16).padStart(16, '0'));
    assert.equal(spanIdOf(root), `${traceId.slice(24)}00000001`, 'ordinal 0 is the root');
    // the ordinals of a trace are 1..n, in the order the spans were started
    const ordinals = trace.map((s) => {
      assert.equal(spanIdOf(s).slice(0, 8), traceId.slice(24));
      return parseInt(spanIdOf(s).slice(8), 16);
    });
    assert.deepEqual(
      ordinals.sort((x, y) => x - y),
      trace.map((_, i) => i + 1),
    );
  }
  const readRoot = a.spans.find((s) => s.name === 'read')!;
  assert.equal(traceIdOf(readRoot), '1a7e209a00000000000000033b7f19cc');
  const wakeup = a.spans.find((s) => s.name === 'wakeup')!;
  assert.equal(spanIdOf(wakeup), `${traceIdOf(readRoot).slice(24)}0000000e`, 'the wake-up was the 14th span started');

  // every part of the run's identity moves every trace id: the seed, the epoch, and what the
  // caller adds (the scenario's content and the duration)
  const others = {
    seed: await traced(scenario('blocking-read'), { seed: 2 }),
    epoch: await traced(scenario('blocking-read'), { epochNs: EPOCH + 1n }),
    content: await traced(scenario('blocking-read'), { runIdentity: 'an edited blocking-read.json' }),
  };
  const ours = new Set(a.spans.map(traceIdOf));
  for (const [what, other] of Object.entries(others)) {
    const theirs = new Set(other.spans.map(traceIdOf));
    assert.equal(theirs.size, 5, what);
    for (const id of theirs) assert.ok(!ours.has(id), `${what}: ${id} is not one of the first run's`);
    assert.notEqual([...theirs][0]!.slice(0, 8), [...ours][0]!.slice(0, 8), what);
  }
});

test('page-fault: the root carries the chain VA -> VPN -> (inode, pgoff) -> block -> sector -> PFN', async () => {
  const seen: Record<string, number[]> = { va: [], pblk: [], bioSector: [], pfn: [], ino: [], dma: [], complete: [] };
  const { spans } = await traced(scenario('page-fault'), {
    probes: (m) => {
      attach(m, 'tracepoint:kiotrace:dma_transfer', (h) => seen.dma!.push(h.timeNs, Number(h.fields.duration_ns)));
      attach(m, 'tracepoint:block:block_rq_complete', (h) => seen.complete!.push(h.timeNs));
      attach(m, 'tracepoint:exceptions:page_fault_user', (h) => seen.va!.push(Number(h.fields.address)));
      attach(m, 'tracepoint:ext4:ext4_ext_map_blocks_exit', (h) => seen.pblk!.push(Number(h.fields.pblk)));
      attach(m, 'tracepoint:block:block_bio_queue', (h) => seen.bioSector!.push(Number(h.fields.sector)));
      attach(m, 'tracepoint:filemap:mm_filemap_add_to_page_cache', (h) => {
        seen.pfn!.push(Number(h.fields.pfn));
        seen.ino!.push(Number(h.fields.i_ino));
      });
    },
  });
  const traces = byTrace(spans);
  assert.equal(traces.size, 5);
  for (const t of traces.values()) checkWellFormed(t);
  const fault = [...traces.values()].find((t) => rootOf(t).name === 'page_fault')!;
  assert.deepEqual(tree(fault), [
    [0, 'page_fault'],
    [1, 'handle_mm_fault'],
    [2, 'filemap_fault'],
    [3, 'ext4_ext_map_blocks'],
    [3, 'submit_bio'],
    [4, 'bio'],
    [5, 'request'],
    [6, 'queue wait'],
    [6, 'driver'],
    [7, 'device'],
    [8, 'dma'],
    [7, 'softirq BLOCK'],
    [1, 'wakeup'],
  ]);
  const a = rootOf(fault).attributes;
  const num = (key: string): number => {
    const v = a[key];
    assert.equal(typeof v, 'number', key);
    return v as number;
  };
  for (const key of [ATTR.va, ATTR.vpn, ATTR.inode, ATTR.pgoff, ATTR.block, ATTR.sector, ATTR.pfn]) num(key);
  assert.equal(a[ATTR.majorFault], true);
  assert.deepEqual(seen.va, [num(ATTR.va)]);
  // the VA is above 4 GiB: shift as a bigint
  assert.equal(BigInt(num(ATTR.vpn)), BigInt(num(ATTR.va)) >> 12n, 'VPN is the VA in 4 KiB pages');
  assert.equal(num(ATTR.pgoff), 0, 'the file\'s only page');
  assert.deepEqual(seen.ino, [num(ATTR.inode)]);
  assert.deepEqual(seen.pblk, [num(ATTR.block)], 'block: the fs block ext4 mapped');
  assert.equal(num(ATTR.sector), num(ATTR.block) * 8, '4 KiB blocks are 8 sectors of 512 bytes');
  assert.deepEqual(seen.bioSector, [num(ATTR.sector)]);
  assert.equal(named(fault, 'bio').attributes[ATTR.sector], num(ATTR.sector));
  assert.deepEqual(seen.pfn, [num(ATTR.pfn)]);

  // the HDD completes in BLOCK_SOFTIRQ, under the driver
  const irq = named(fault, 'softirq BLOCK');
  assert.equal(irq.attributes[ATTR.irq], 4);
  assert.equal(irq.attributes[ATTR.irqName], 'softirq BLOCK');
  assert.equal(parentOf(fault, irq)?.name, 'driver');
  assert.equal(named(fault, 'driver').attributes[ATTR.device], 'sda');
  assert.equal(spans.filter((s) => s.name.startsWith('irq/')).length, 0, 'the hard IRQ completed nothing');
  // the HDD model reports a DMA transfer when it starts (the data moves as the platter turns)
  const [dmaAt, dmaNs] = seen.dma as [number, number];
  assert.equal(seen.dma!.length, 2);
  const dma = named(fault, 'dma');
  assert.deepEqual([dma.startTime, dma.endTime], [wall(dmaAt), wall(dmaAt + dmaNs)]);
  assert.ok(dmaAt + dmaNs <= seen.complete![0]!, 'the transfer ends before the request completes');
  assert.equal(parentOf(fault, dma)?.name, 'device');
});

/** The default scenario for 20 ms, at ratio 1 and 0.5 (shared by the sampling tests). */
let samplingRuns: Promise<[Traced, Traced]> | undefined;
function sampledRuns(): Promise<[Traced, Traced]> {
  const s = scenario('default');
  const durationNs = 20_000_000;
  samplingRuns ??= Promise.all([traced(s, { durationNs }), traced(s, { durationNs, sampleRatio: 0.5 })]);
  return samplingRuns;
}

/** What the spans of a trace are, as a sorted list of strings. */
function signature(trace: readonly ReadableSpan[]): string[] {
  return trace
    .map((x) => JSON.stringify([spanIdOf(x), x.parentSpanContext?.spanId, x.name, x.startTime, x.endTime, x.attributes, x.status, x.links.map((l) => l.context.spanId), x.events.map((e) => [e.name, e.time])]))
    .sort();
}

test('sampling: --sample 0.5 keeps whole traces, exactly those the ratio sampler picks by trace id', async () => {
  const [full, half] = await sampledRuns();
  const fullTraces = byTrace(full.spans);
  const halfTraces = byTrace(half.spans);
  assert.ok(fullTraces.size > 1000, `${fullTraces.size} traces in 20 ms`);
  assert.ok(halfTraces.size > 0 && halfTraces.size < fullTraces.size);
  const share = halfTraces.size / fullTraces.size;
  assert.ok(share >= 0.3 && share <= 0.7, `sampled share ${share}`);
  assert.equal(half.spansStarted, half.spans.length, 'unsampled I/Os start no spans');

  const sampler = new TraceIdRatioBasedSampler(0.5);
  const picked = (id: string): boolean => sampler.shouldSample(ROOT_CONTEXT, id).decision === SamplingDecision.RECORD_AND_SAMPLED;
  const expected = [...fullTraces.keys()].filter(picked);
  assert.deepEqual([...halfTraces.keys()].sort(), expected.sort());

  for (const [id, trace] of halfTraces) {
    const whole = fullTraces.get(id);
    assert.ok(whole, `sampled trace ${id} is in the full run`);
    assert.deepEqual(signature(trace), signature(whole), `trace ${id} is complete and the same`);
  }
});

test('sampling: the driver span\'s queue depth is the device\'s, whatever the sample ratio', async () => {
  const [full, half] = await sampledRuns();
  const depth = new Map(full.spans.filter((s) => s.name === 'driver').map((s) => [spanIdOf(s), s.attributes[ATTR.queueDepth]]));
  const differs = half.spans.filter((s) => s.name === 'driver' && s.attributes[ATTR.queueDepth] !== depth.get(spanIdOf(s)));
  assert.deepEqual(
    differs.map((s) => `${traceIdOf(s)} ${String(s.attributes[ATTR.queueDepth])} vs ${String(depth.get(spanIdOf(s)))}`),
    [],
  );
});

/**
 * Cross-I/O merges. The shipped `default` scenario has none (its kernel counters show 0 bio and
 * request merges even over the whole 2 s), so this scenario makes them: 64 processes doing
 * O_DIRECT 4 KiB random reads of a 256 KiB region of the HDD keep mq-deadline's queue full of
 * neighbouring requests.
 */
const MERGING = {
  name: 'merging',
  duration: '10ms',
  jobs: [{ name: 'r', filename: '/dev/sda', rw: 'randread', bs: '4k', size: '256k', direct: 1, numjobs: 64, time_based: 1 }],
};

interface MergeRun extends Traced {
  /** ioIds of bios that were bio-merged (block_bio_backmerge/frontmerge). */
  readonly bioMerged: Set<number>;
  /** ioIds of requests absorbed by a request merge (block_rq_merge). */
  readonly rqMerged: Set<number>;
  /** When each of those merges happened. */
  readonly rqMergedAt: Map<number, number>;
}

let mergeRun: Promise<MergeRun> | undefined;
function mergingRun(): Promise<MergeRun> {
  mergeRun ??= (async () => {
    const parsed = parseScenario(MERGING, 'merging.json');
    assert.ok(parsed.ok);
    const bioMerged = new Set<number>();
    const rqMerged = new Set<number>();
    const rqMergedAt = new Map<number, number>();
    const run = await traced(parsed.scenario, {
      probes: (m) => {
        attach(m, 'tracepoint:block:block_bio_backmerge,tracepoint:block:block_bio_frontmerge', (h) => bioMerged.add(h.ioId));
        attach(m, 'tracepoint:block:block_rq_merge', (h) => {
          assert.ok(!rqMerged.has(h.ioId), 'one request per I/O');
          rqMerged.add(h.ioId);
          rqMergedAt.set(h.ioId, h.timeNs);
        });
      },
    });
    return { ...run, bioMerged, rqMerged, rqMergedAt };
  })();
  return mergeRun;
}

const ioIdOfTrace = (trace: readonly ReadableSpan[]): number => rootOf(trace).attributes[ATTR.ioId] as number;

test('merges: a bio merged into another I/O\'s request links to that request, and the request links back', async () => {
  const { spans, bioMerged, m } = await mergingRun();
  assert.ok(bioMerged.size > 0, 'the scenario merges bios');
  const stopNs = hrNs(wall(m.env.nowNs));
  const traces = byTrace(spans);
  for (const t of traces.values()) checkWellFormed(t);
  const key = (traceId: string, spanId: string) => `${traceId}/${spanId}`;
  const all = new Map(spans.map((s) => [key(traceIdOf(s), spanIdOf(s)), s]));

  // only bios and requests link
  assert.deepEqual(new Set(spans.filter((s) => s.links.length > 0).map((s) => s.name)), new Set(['bio', 'request']));
  // bios that went into a queued request by bio_attempt_back_merge / front_merge
  const mergedBios = spans.filter((s) => s.name === 'bio' && s.attributes[ATTR.merged] !== undefined);
  for (const bio of mergedBios) {
    assert.ok(['back', 'front'].includes(String(bio.attributes[ATTR.merged])));
    assert.ok(bioMerged.has(ioIdOfTrace(traces.get(traceIdOf(bio))!)), 'a block_bio_*merge hit for its I/O');
  }
  // the links are made when the request is issued: look at the bios whose request completed (one
  // still queued when the run stopped has none yet)
  const issued = mergedBios.filter((b) => hrNs(b.endTime) < stopNs);
  assert.ok(issued.length > 0, 'some merged bio was issued and completed');
  for (const bio of issued) {
    const trace = traces.get(traceIdOf(bio))!;
    assert.equal(bio.links.length, 1, 'a bio is in one request');
    const link = bio.links[0]!;
    assert.deepEqual(link.attributes, { [ATTR.merged]: 'into request' });
    assert.notEqual(link.context.traceId, traceIdOf(bio), 'the request belongs to another I/O');
    const request = all.get(key(link.context.traceId, link.context.spanId));
    assert.ok(request, 'the linked span is in the output');
    assert.equal(request.name, 'request');
    const back = request.links.filter((l) => l.context.traceId === traceIdOf(bio) && l.context.spanId === spanIdOf(bio));
    assert.equal(back.length, 1, 'the request links back to the bio');
    assert.deepEqual(back[0]!.attributes, { [ATTR.ioId]: ioIdOfTrace(trace) });
    assert.equal(childrenOf(trace, bio).length, 0, 'the merged bio has no request of its own');
    assert.deepEqual(bio.endTime, request.endTime, 'the bio completes with the request it joined');
  }
  // links come in pairs: every request-side link has its bio-side twin
  let requestLinks = 0;
  for (const request of spans.filter((s) => s.name === 'request')) {
    for (const l of request.links) {
      requestLinks++;
      const bio = all.get(key(l.context.traceId, l.context.spanId));
      assert.ok(bio && bio.name === 'bio', 'a request links to bios');
      assert.ok(bio.links.some((b) => b.context.spanId === spanIdOf(request) && b.context.traceId === traceIdOf(request)), 'that bio links to it');
    }
  }
  assert.equal(requestLinks, spans.filter((s) => s.name === 'bio' && s.links.length > 0).length);
});

test('merges: a request absorbed by another ends there, marked, and its bio rides the survivor', async () => {
  const { spans, rqMerged, rqMergedAt } = await mergingRun();
  assert.ok(rqMerged.size > 0, 'the scenario merges requests');
  const traces = byTrace(spans);
  const all = new Map(spans.map((s) => [`${traceIdOf(s)}/${spanIdOf(s)}`, s]));
  const absorbed = spans.filter((s) => s.name === 'request' && s.attributes[ATTR.merged] !== undefined);
  assert.ok(absorbed.length > 0, 'some traced request was absorbed');
  let issuedSurvivors = 0;
  for (const request of absorbed) {
    const trace = traces.get(traceIdOf(request))!;
    const ioId = ioIdOfTrace(trace);
    assert.equal(request.attributes[ATTR.merged], 'into another request');
    assert.ok(rqMerged.has(ioId), `a block_rq_merge hit for io ${ioId}`);
    assert.deepEqual(request.endTime, wall(rqMergedAt.get(ioId)!), 'the span ends at the merge');
    assert.deepEqual(
      childrenOf(trace, request).map((c) => c.name),
      ['queue wait'],
      'never issued itself',
    );
    const bio = parentOf(trace, request)!;
    assert.equal(bio.name, 'bio');
    // once the survivor is issued, the absorbed request's bio links to it
    for (const l of bio.links) {
      const survivor = all.get(`${l.context.traceId}/${l.context.spanId}`);
      assert.equal(survivor?.name, 'request');
      assert.notEqual(l.context.traceId, traceIdOf(bio));
      issuedSurvivors++;
    }
  }
  assert.ok(issuedSurvivors > 0, 'some survivor was issued');
});

test('merges: a bio that was never merged has its own request and no links', async () => {
  const { spans, bioMerged, rqMerged } = await mergingRun();
  assert.ok(rqMerged.size > 0, 'the scenario merges requests');
  const wrong: string[] = [];
  for (const trace of byTrace(spans).values()) {
    const ioId = ioIdOfTrace(trace);
    if (bioMerged.has(ioId) || rqMerged.has(ioId)) continue;
    for (const bio of trace.filter((s) => s.name === 'bio')) {
      const requests = childrenOf(trace, bio).filter((s) => s.name === 'request');
      if (bio.links.length > 0 || requests.length !== 1) wrong.push(`io ${ioId}: ${bio.links.length} links, ${requests.length} requests`);
    }
  }
  assert.deepEqual(wrong, []);
});

test(
  'merges: a request span carries the size it was issued with, merged bios included',
  async () => {
    const { spans } = await mergingRun();
    const all = new Map(spans.map((s) => [`${traceIdOf(s)}/${spanIdOf(s)}`, s]));
    const wrong: string[] = [];
    for (const request of spans.filter((s) => s.name === 'request' && s.links.length > 0)) {
      const own = all.get(`${traceIdOf(request)}/${request.parentSpanContext?.spanId ?? ''}`);
      assert.equal(own?.name, 'bio');
      const bios = [own, ...request.links.map((l) => all.get(`${l.context.traceId}/${l.context.spanId}`)!)];
      const bytes = bios.reduce((n, b) => n + (b.attributes[ATTR.bytes] as number), 0);
      if (request.attributes[ATTR.bytes] !== bytes) wrong.push(`${traceIdOf(request)}: ${String(request.attributes[ATTR.bytes])} bytes, its bios ${bytes}`);
    }
    assert.deepEqual(wrong, []);
  },
);

test('device and DMA spans go to the request the hit is for, also when two requests for one sector are in flight', async () => {
  // 16 processes reading 8 blocks of the NVMe disk at random: the same sector is often in flight twice
  const parsed = parseScenario({ name: 'same-sector', duration: '2ms', jobs: [{ name: 'r', filename: '/dev/nvme0n1', rw: 'randread', bs: '4k', size: '32k', direct: 1, numjobs: 16, time_based: 1 }] }, 'same-sector.json');
  assert.ok(parsed.ok);
  const hits: string[] = [];
  const { spans } = await traced(parsed.scenario, {
    probes: (m) => {
      attach(m, 'tracepoint:kiotrace:device_fetch', (h) => hits.push(`${h.ioId} device ${h.timeNs}`));
      attach(m, 'tracepoint:kiotrace:dma_transfer', (h) => hits.push(`${h.ioId} dma ${h.timeNs}`));
    },
  });
  const built: string[] = [];
  for (const trace of byTrace(spans).values()) {
    for (const s of trace) {
      // a device span starts at the fetch; an NVMe dma span ends when the transfer (and its hit) does
      if (s.name === 'device') built.push(`${ioIdOfTrace(trace)} device ${simNs(s.startTime)}`);
      if (s.name === 'dma') built.push(`${ioIdOfTrace(trace)} dma ${simNs(s.endTime)}`);
    }
  }
  assert.ok(hits.length > 0);
  assert.deepEqual(built.sort(), hits.sort());
});

test('DMA spans lie inside their device span', async () => {
  const [full] = await sampledRuns();
  const traces = byTrace(full.spans);
  const outside: string[] = [];
  for (const s of full.spans.filter((x) => x.name === 'dma')) {
    const device = parentOf(traces.get(traceIdOf(s))!, s)!;
    if (hrNs(s.startTime) < hrNs(device.startTime) || hrNs(s.endTime) > hrNs(device.endTime)) {
      outside.push(`${traceIdOf(s)}: dma ${simNs(s.startTime)}-${simNs(s.endTime)}, device ${simNs(device.startTime)}-${simNs(device.endTime)}`);
    }
  }
  assert.deepEqual(outside, []);
});

test('errors: a failing syscall is an ERROR span with error.type and the errno', async () => {
  // O_DIRECT needs 512-byte alignment: every 1000-byte pread64 fails with EINVAL
  const parsed = parseScenario({ name: 'einval', duration: '1ms', jobs: [{ name: 'd', filename: '/mnt/nvme/x', bs: '1000', size: '4000', direct: 1 }] }, 'einval.json');
  assert.ok(parsed.ok);
  const rets: number[] = [];
  const { spans } = await traced(parsed.scenario, {
    probes: (m) => attach(m, 'tracepoint:syscalls:sys_exit_pread64', (h) => rets.push(Number(h.fields.ret))),
  });
  assert.deepEqual(rets, [-22, -22, -22, -22]);
  const preads = spans.filter((s) => s.name === 'pread64');
  assert.equal(preads.length, 4);
  for (const p of preads) {
    assert.deepEqual(p.status, { code: SpanStatusCode.ERROR, message: 'EINVAL' });
    assert.equal(p.attributes[ATTR.errorType], 'EINVAL');
    assert.equal(p.attributes[ATTR.errno], 22);
    assert.equal(p.attributes[ATTR.ret], -22);
  }
  const ok = spans.filter((s) => s.name !== 'pread64');
  assert.ok(ok.length > 0);
  for (const s of ok) {
    assert.equal(s.status.code, SpanStatusCode.UNSET, s.name);
    assert.equal(s.attributes[ATTR.errorType], undefined, s.name);
  }
});
