// The Perfetto writer on real runs: the structural checker finds nothing wrong, the tracks hold
// what the simulated kernel did (slices nested by layer, one request per device track slot, IRQs
// on the CPU that took them, counters on counter tracks), one I/O's arrows go
// submission -> device -> interrupt -> woken task, and output is byte-identical run to run.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PerfettoWriter, loadPerfettoSchema } from '../../exporters/perfetto.js';
import { TraceRecorder } from '../../probes/recorder.js';
import { prepareRun } from '../../tui/run.js';
import { checkPerfettoTrace, type PerfettoSummary } from '../helpers/perfetto-check.js';
import { scenario } from '../helpers/machine.js';

const schema = loadPerfettoSchema();

function record(name: string, durationNs?: number, seed = 1): Uint8Array {
  const s = scenario(name);
  const d = durationNs ?? s.durationNs;
  const m = prepareRun(s, { seed, durationNs: d });
  const chunks: Uint8Array[] = [];
  const recorder = new TraceRecorder(m, new PerfettoWriter((c) => chunks.push(c.slice()), schema));
  recorder.start();
  m.run(d);
  recorder.stop(m.env.nowNs);
  return Buffer.concat(chunks);
}

interface FlowEvent {
  readonly track: string;
  readonly type: string;
  readonly name: string;
  readonly flow: 'flow' | 'terminating';
}

/** Every track event carrying `flowId`, in file order, with its track's and its slice's names. */
function flowEvents(bytes: Uint8Array, flowId: number): FlowEvent[] {
  const trace = schema.lookupType('perfetto.protos.Trace').decode(bytes).toJSON() as {
    packet: { trackDescriptor?: { uuid: string; name?: string; thread?: { threadName: string } }; trackEvent?: Record<string, unknown>; internedData?: { eventNames?: { iid: string; name: string }[] } }[];
  };
  const tracks = new Map<string, string>();
  const names = new Map<string, string>();
  const open = new Map<string, string[]>();
  const out: FlowEvent[] = [];
  for (const p of trace.packet) {
    for (const n of p.internedData?.eventNames ?? []) names.set(n.iid, n.name);
    if (p.trackDescriptor) tracks.set(p.trackDescriptor.uuid, p.trackDescriptor.name ?? p.trackDescriptor.thread?.threadName ?? '?');
    const e = p.trackEvent;
    if (!e) continue;
    const track = String(e.trackUuid);
    const stack = open.get(track) ?? [];
    open.set(track, stack);
    const type = String(e.type);
    let name = e.nameIid !== undefined ? (names.get(String(e.nameIid)) ?? '?') : '';
    if (type === 'TYPE_SLICE_BEGIN') stack.push(name);
    if (type === 'TYPE_SLICE_END') name = stack.pop() ?? '?';
    const ids = (key: string) => ((e[key] as string[] | undefined) ?? []).map(Number);
    if (ids('flowIds').includes(flowId)) out.push({ track: tracks.get(track)!, type, name, flow: 'flow' });
    if (ids('terminatingFlowIds').includes(flowId)) out.push({ track: tracks.get(track)!, type, name, flow: 'terminating' });
  }
  return out;
}

/** Names of the slices on the track called `track`. */
function slicesOn(summary: PerfettoSummary): (track: string) => string[] {
  const byName = new Map([...summary.tracks].map(([uuid, t]) => [t.name, uuid]));
  return (track) => summary.sliceNamesByTrack.get(byName.get(track)!) ?? [];
}

const errors = (bytes: Uint8Array) => checkPerfettoTrace(bytes).issues.filter((i) => i.severity === 'error');

test('blocking-read: a structurally sound trace with the read nested by layer and one arrow chain', () => {
  const bytes = record('blocking-read');
  const { issues, summary } = checkPerfettoTrace(bytes);
  assert.deepEqual(issues, []);
  const slices = slicesOn(summary);
  assert.deepEqual(slices('cold-read'), [
    // fio's job execs and stat()s its file before it opens it
    'execve',
    'newfstatat',
    'openat',
    'vfs_open',
    'mmap',
    'read',
    'vfs_read',
    'ext4_file_read_iter',
    'filemap_read',
    'page_cache_sync_ra',
    'ext4_ext_map_blocks',
    'submit_bio',
    // the plug is flushed when the reader goes to sleep: the driver runs on the reader's thread
    'nvme_queue_rq',
    'woken by I/O completion',
    'munmap',
    'close',
    // the job ends: exit_group, which never returns (an instant)
    'exit_group',
  ]);
  // the read's one request, on the NVMe's request track; its interrupt on the CPU that took it
  assert.deepEqual(slices('nvme0n1 requests'), ['RA']);
  assert.deepEqual(slices('CPU 3 interrupts'), ['irq/124 nvme0q4']);
  assert.equal([...summary.tracks.values()].find((t) => t.name === 'nvme0n1 queue depth')?.kind, 'counter');
  assert.equal(summary.flowsWithArrows, 1);
  assert.deepEqual(flowEvents(bytes, 3), [
    { track: 'cold-read', type: 'TYPE_SLICE_BEGIN', name: 'submit_bio', flow: 'flow' },
    { track: 'nvme0n1 requests', type: 'TYPE_SLICE_BEGIN', name: 'RA', flow: 'flow' },
    { track: 'CPU 3 interrupts', type: 'TYPE_SLICE_END', name: 'irq/124 nvme0q4', flow: 'flow' },
    { track: 'cold-read', type: 'TYPE_INSTANT', name: 'woken by I/O completion', flow: 'terminating' },
  ]);
  assert.equal(summary.hasSystemInfoRelease, true);
  assert.equal(summary.processes.get(4), 'cold-read');
  // ftrace's own records: 10 sched_switch, 1 sched_waking, and the interrupt's entry and exit
  assert.equal(summary.ftraceEvents, 13);
});

test('page-fault: the fault slice, the HDD request and a BLOCK softirq completion, chained', () => {
  const bytes = record('page-fault');
  const { issues, summary } = checkPerfettoTrace(bytes);
  assert.deepEqual(issues, []);
  const slices = slicesOn(summary);
  assert.deepEqual(slices('fault-one-page').slice(5, 11), ['page_fault', 'handle_mm_fault', 'filemap_fault', 'ext4_ext_map_blocks', 'submit_bio', 'woken by I/O completion']);
  assert.deepEqual(slices('sda requests'), ['RA']);
  assert.deepEqual(flowEvents(bytes, 3), [
    { track: 'fault-one-page', type: 'TYPE_SLICE_BEGIN', name: 'submit_bio', flow: 'flow' },
    { track: 'sda requests', type: 'TYPE_SLICE_BEGIN', name: 'RA', flow: 'flow' },
    { track: 'CPU 0 interrupts', type: 'TYPE_SLICE_END', name: 'softirq BLOCK', flow: 'flow' },
    { track: 'fault-one-page', type: 'TYPE_INSTANT', name: 'woken by I/O completion', flow: 'terminating' },
  ]);
});

test('default for 50 ms: no structural errors, every kind of track in use, deterministic bytes', () => {
  const a = record('default', 50_000_000);
  assert.deepEqual(errors(a), []);
  const { summary } = checkPerfettoTrace(a);
  const names = [...summary.tracks.values()].map((t) => t.name);
  for (const n of ['nvme0n1 queue depth', 'sda queue depth', 'Dirty', 'Writeback', 'Page cache', 'Free memory', 'CPU 0 run queue', 'seq-reader', 'fsync-writer']) {
    assert.ok(names.includes(n), `track ${n}`);
  }
  assert.ok(summary.counters > 100 && summary.flowsWithArrows > 100 && summary.ftraceEvents > 1000, JSON.stringify({ c: summary.counters, f: summary.flowsWithArrows }));
  assert.deepEqual(summary.slicesBegun, summary.slicesEnded);
  assert.deepEqual(Buffer.from(record('default', 50_000_000)), Buffer.from(a));
  assert.notDeepEqual(Buffer.from(record('default', 50_000_000, 2)), Buffer.from(a));
});
