// The Perfetto trace checker against hand-built traces: a correct "rich" trace (perfetto-format.md §12)
// passes with the exact summary, and each planted violation yields exactly its rule code.
import test from 'node:test';
import assert from 'node:assert/strict';
import protobuf from 'protobufjs';
import { checkPerfettoTrace, defaultProtoPath, loadPerfettoSchema, type PerfettoIssue } from '../helpers/perfetto-check.js';

const schema = loadPerfettoSchema();

type Obj = Record<string, unknown>;
/** A packet as a protobufjs object (snake_case fields), or hand-encoded TracePacket bytes. */
type Part = Obj | Uint8Array;
interface Entry {
  name: string;
  part: Part;
}

const BEGIN = 1;
const END = 2;
const INSTANT = 3;
const COUNTER = 4;
const FLOW_F = '18446744073709551557'; // above 2^53: must survive as a 64-bit id
const FLOW_G = '7';

function encodeAs(typeName: string, obj: Obj): Uint8Array {
  const type = schema.root.lookupType(`perfetto.protos.${typeName}`);
  return type.encode(type.fromObject(obj)).finish();
}

/** Frames each packet as `packet = 1` of Trace. */
function encodeTrace(parts: readonly Part[]): Uint8Array {
  const w = protobuf.Writer.create();
  for (const part of parts) w.uint32((1 << 3) | 2).bytes(part instanceof Uint8Array ? part : encodeAs('TracePacket', part));
  return w.finish();
}

function concat(...chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const lenField = (field: number, payload: Uint8Array) => protobuf.Writer.create().uint32((field << 3) | 2).bytes(payload).finish();
const varintField = (field: number, value: number) => protobuf.Writer.create().uint32(field << 3).uint32(value).finish();

const seq2 = (ts: number, trackEvent: Obj): Obj => ({ timestamp: ts, trusted_packet_sequence_id: 2, sequence_flags: 2, track_event: trackEvent });
const descriptor = (td: Obj): Obj => ({ timestamp: 1000, trusted_packet_sequence_id: 2, track_descriptor: td });

/** perfetto-format.md §12, small: a fresh copy per call so cases can edit it. */
function richTrace(): Entry[] {
  const e = (name: string, part: Obj): Entry => ({ name, part });
  return [
    e('sysinfo', { trusted_packet_sequence_id: 1, sequence_flags: 1, system_info: { utsname: { sysname: 'Linux', release: '6.8.0', machine: 'x86_64' }, num_cpus: 2 } }),
    e('ptree', {
      timestamp: 1000,
      trusted_packet_sequence_id: 1,
      process_tree: {
        processes: [{ pid: 100, ppid: 1, cmdline: ['fio', '--rw=read'] }],
        threads: [
          { tid: 100, tgid: 100, name: 'fio' },
          { tid: 101, tgid: 100, name: 'fio-worker' },
        ],
      },
    }),
    e('clear', {
      timestamp: 1000,
      trusted_packet_sequence_id: 2,
      sequence_flags: 1,
      interned_data: {
        event_categories: [{ iid: 1, name: 'io' }],
        event_names: [
          { iid: 1, name: 'read' },
          { iid: 2, name: 'vfs_read' },
          { iid: 3, name: 'submit_bio' },
          { iid: 4, name: 'READ 4KiB @2048' },
          { iid: 5, name: 'read done' },
        ],
        debug_annotation_names: [{ iid: 1, name: 'bytes' }],
        debug_annotation_string_values: [{ iid: 1, str: Buffer.from('nvme0n1') }],
      },
      track_descriptor: { uuid: 1000, process: { pid: 100, process_name: 'fio' } },
    }),
    e('td_thread', descriptor({ uuid: 1002, thread: { pid: 100, tid: 101, thread_name: 'fio-worker' } })),
    e('td_block', descriptor({ uuid: 2000, name: 'Block devices', child_ordering: 3 })),
    e('td_dev', descriptor({ uuid: 2001, parent_uuid: 2000, name: 'nvme0n1', sibling_order_rank: 1 })),
    e('td_qdepth', descriptor({ uuid: 2002, parent_uuid: 2000, name: 'nvme0n1 queue depth', counter: { unit: 2 } })),
    e('td_bytes', descriptor({ uuid: 3000, parent_uuid: 1000, name: 'bytes in flight', counter: { unit: 3 } })),
    e('read_b', seq2(2000, { type: BEGIN, track_uuid: 1002, name_iid: 1, category_iids: [1], debug_annotations: [{ name_iid: 1, uint_value: 4096 }] })),
    e('vfs_b', seq2(2100, { type: BEGIN, track_uuid: 1002, name_iid: 2, flow_ids: [FLOW_G] })),
    e('submit_b', seq2(2200, { type: BEGIN, track_uuid: 1002, name_iid: 3, flow_ids: [FLOW_F], debug_annotations: [{ name: 'dev', string_value_iid: 1 }] })),
    e('submit_e', seq2(2300, { type: END, track_uuid: 1002 })),
    e('bytes_4096', seq2(2300, { type: COUNTER, track_uuid: 3000, counter_value: 4096 })),
    e('dev_b', seq2(2400, { type: BEGIN, track_uuid: 2001, name_iid: 4, flow_ids: [FLOW_F] })),
    e('qd_1', seq2(2400, { type: COUNTER, track_uuid: 2002, counter_value: 1 })),
    // The END binds flows to the slice it closes: FLOW_G draws vfs_read -> READ.
    e('dev_e', seq2(5000, { type: END, track_uuid: 2001, terminating_flow_ids: [FLOW_G] })),
    e('qd_0', seq2(5000, { type: COUNTER, track_uuid: 2002, counter_value: 0 })),
    e('done_i', seq2(5100, { type: INSTANT, track_uuid: 1002, name_iid: 5, terminating_flow_ids: [FLOW_F] })),
    e('bytes_0', seq2(5200, { type: COUNTER, track_uuid: 3000, double_counter_value: 0 })),
    e('vfs_e', seq2(5300, { type: END, track_uuid: 1002 })),
    e('read_e', seq2(5400, { type: END, track_uuid: 1002 })),
    e('ft_cpu0', {
      trusted_packet_sequence_id: 1,
      ftrace_events: {
        cpu: 0,
        event: [
          { timestamp: 1500, pid: 0, sched_switch: { prev_comm: 'swapper/0', prev_pid: 0, prev_prio: 120, prev_state: 0, next_comm: 'fio-worker', next_pid: 101, next_prio: 120 } },
          { timestamp: 2500, pid: 101, sched_switch: { prev_comm: 'fio-worker', prev_pid: 101, prev_prio: 120, prev_state: 2, next_comm: 'swapper/0', next_pid: 0, next_prio: 120 } },
          { timestamp: 4900, pid: 0, irq_handler_entry: { irq: 33, name: 'nvme0q1', handler: 0 } }, // pid 0: the idle task, valid
          { timestamp: 4950, pid: 0, irq_handler_exit: { irq: 33, ret: 1 } },
          { timestamp: 4960, pid: 0, softirq_entry: { vec: 4 } },
          { timestamp: 4990, pid: 0, softirq_exit: { vec: 4 } },
        ],
      },
    }),
    e('cs_cpu1', {
      trusted_packet_sequence_id: 1,
      ftrace_events: {
        cpu: 1,
        compact_sched: {
          intern_table: ['swapper/1', 'fio'],
          switch_timestamp: [3000, 100], // absolute, then delta
          switch_prev_state: [0, 1],
          switch_next_pid: [100, 0],
          switch_next_prio: [120, 120],
          switch_next_comm_index: [1, 0],
          waking_timestamp: [2900],
          waking_pid: [100],
          waking_target_cpu: [1],
          waking_prio: [120],
          waking_comm_index: [1],
          waking_common_flags: [1],
        },
      },
    }),
  ];
}

// --- editing the rich trace ---------------------------------------------------------------------------

function indexOf(t: Entry[], name: string): number {
  const i = t.findIndex((x) => x.name === name);
  assert.ok(i >= 0, `no packet ${name}`);
  return i;
}

function packet(t: Entry[], name: string): Obj {
  const part = t[indexOf(t, name)]!.part;
  assert.ok(!(part instanceof Uint8Array), `${name} is already bytes`);
  return part;
}

/** The object or array at a dotted path (array indexes are path segments). */
function at(t: Entry[], name: string, path: string): Obj {
  let o: unknown = packet(t, name);
  for (const key of path.split('.')) {
    o = (o as Obj)[key];
    assert.ok(typeof o === 'object' && o !== null, `no ${path} in ${name}`);
  }
  return o as Obj;
}

/** Sets (or with `undefined`, deletes) the field at a dotted path; the parent must exist. */
function set(t: Entry[], name: string, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  const parent = keys.length ? at(t, name, keys.join('.')) : packet(t, name);
  if (value !== undefined) parent[last] = value;
  else {
    assert.ok(last in parent, `no ${path} in ${name} to delete`);
    delete parent[last];
  }
}

function insertAfter(t: Entry[], name: string, part: Part): void {
  t.splice(indexOf(t, name) + 1, 0, { name: `after ${name}`, part });
}

function remove(t: Entry[], name: string): Entry {
  return t.splice(indexOf(t, name), 1)[0]!;
}

/** The packet with its track_event re-encoded by hand: the packed form protobufjs won't write from proto2. */
function withPackedFlowIds(p: Obj): Uint8Array {
  const { track_event: te, ...rest } = p;
  const { flow_ids: ids, ...teRest } = te as Obj;
  const packed = protobuf.Writer.create();
  for (const id of ids as string[]) packed.fixed64(id);
  const teBytes = concat(encodeAs('TrackEvent', teRest), lenField(47, packed.finish()));
  return concat(encodeAs('TracePacket', rest), lenField(11, teBytes));
}

/** The compact_sched packet with waking_common_flags written unpacked (it is declared [packed = true]). */
function withUnpackedCompactFlags(p: Obj): Uint8Array {
  const bundle = p['ftrace_events'] as Obj;
  const { waking_common_flags: flags, ...cs } = bundle['compact_sched'] as Obj;
  const csBytes = concat(encodeAs('FtraceEventBundle.CompactSched', cs), ...(flags as number[]).map((f) => varintField(12, f)));
  const bundleBytes = concat(encodeAs('FtraceEventBundle', { cpu: bundle['cpu'] as number }), lenField(4, csBytes));
  return concat(encodeAs('TracePacket', { trusted_packet_sequence_id: p['trusted_packet_sequence_id'] as number }), lenField(1, bundleBytes));
}

const build = (t: Entry[]) => encodeTrace(t.map((x) => x.part));
const errors = (issues: readonly PerfettoIssue[]) => issues.filter((i) => i.severity === 'error');
const show = (issues: readonly PerfettoIssue[]) => issues.map((i) => `${i.severity} ${i.code} @${i.packetIndex}: ${i.message}`).join('\n');

// --- the correct trace ----------------------------------------------------------------------------------

test('rich trace: no issues and the exact summary', () => {
  const { issues, summary } = checkPerfettoTrace(build(richTrace()));
  assert.deepEqual(issues, [], show(issues));
  assert.equal(errors(issues).length, 0);
  const { tracks, sliceNamesByTrack, slices, processes, ...counts } = summary;
  assert.deepEqual(counts, {
    packets: 23,
    trackEvents: 13,
    slicesBegun: 4,
    slicesEnded: 4,
    instants: 1,
    counters: 4,
    ftraceEvents: 6,
    compactSwitches: 2,
    compactWakings: 1,
    flowsWithArrows: 2, // F: submit_bio -> READ -> read done; G: vfs_read -> READ (bound by the END)
    hasSystemInfoRelease: true,
  });
  assert.deepEqual(
    tracks,
    new Map([
      [1000n, { kind: 'process', pid: 100, name: 'fio' }],
      [1002n, { kind: 'thread', pid: 100, tid: 101, name: 'fio-worker' }],
      [2000n, { kind: 'plain', name: 'Block devices' }],
      [2001n, { kind: 'plain', name: 'nvme0n1', parent: 2000n }],
      [2002n, { kind: 'counter', name: 'nvme0n1 queue depth', parent: 2000n }],
      [3000n, { kind: 'counter', name: 'bytes in flight', parent: 1000n }],
    ]),
  );
  assert.deepEqual(
    sliceNamesByTrack,
    new Map([
      [1002n, ['read', 'vfs_read', 'submit_bio', 'read done']],
      [2001n, ['READ 4KiB @2048']],
    ]),
  );
  assert.deepEqual(processes, new Map([[100, 'fio']]));
  // args as TP shows them: BEGIN's and END's together, interned strings resolved
  assert.deepEqual(slices, [
    { track: 1002n, name: 'read', ts: 2000n, endTs: 5400n, args: { bytes: 4096 } },
    { track: 1002n, name: 'vfs_read', ts: 2100n, endTs: 5300n, args: {} },
    { track: 1002n, name: 'submit_bio', ts: 2200n, endTs: 2300n, args: { dev: 'nvme0n1' } },
    { track: 2001n, name: 'READ 4KiB @2048', ts: 2400n, endTs: 5000n, args: {} },
    { track: 1002n, name: 'read done', ts: 5100n, args: {} },
  ]);
});

test('the proto path can be given explicitly', () => {
  const bytes = build(richTrace());
  assert.deepEqual(checkPerfettoTrace(bytes, { protoPath: defaultProtoPath() }), checkPerfettoTrace(bytes));
  assert.throws(() => checkPerfettoTrace(bytes, { protoPath: '/nonexistent/perfetto_trace.proto' }));
});

// --- planted violations ---------------------------------------------------------------------------------

interface Case {
  readonly name: string;
  /** Every code the trace must produce, with its severity; nothing else may appear. */
  readonly expect: Readonly<Record<string, 'error' | 'warning'>>;
  readonly count?: number; // total issues, when it matters
  readonly edit?: (t: Entry[]) => void;
  readonly bytes?: (b: Uint8Array) => Uint8Array;
}

const cases: readonly Case[] = [
  // The required table.
  {
    name: 'packed flow_ids',
    expect: { WIRE_PACKED: 'error' },
    edit: (t) => {
      t[indexOf(t, 'submit_b')]!.part = withPackedFlowIds(packet(t, 'submit_b'));
    },
  },
  { name: 'unknown iid', expect: { INTERN_UNRESOLVED: 'error' }, edit: (t) => set(t, 'vfs_b', 'track_event.name_iid', 99) },
  {
    name: 'interned data before CLEARED',
    expect: { INTERN_STATE_INVALID: 'error' },
    edit: (t) => t.splice(indexOf(t, 'clear'), 0, { name: 'early', part: { trusted_packet_sequence_id: 2, interned_data: { event_names: [{ iid: 9, name: 'early' }] } } }),
  },
  { name: 'END with nothing open', expect: { SLICE_UNMATCHED_END: 'error' }, edit: (t) => insertAfter(t, 'qd_0', seq2(5000, { type: END, track_uuid: 2001 })) },
  { name: 'counter on a slice track', expect: { CTR_ON_NON_COUNTER_TRACK: 'error' }, edit: (t) => set(t, 'qd_1', 'track_event.track_uuid', 2001) },
  { name: 'slice on a counter track', expect: { SLICE_ON_COUNTER_TRACK: 'error' }, edit: (t) => insertAfter(t, 'read_e', seq2(5400, { type: INSTANT, track_uuid: 2002, name: 'oops' })) },
  { name: 'flow id seen once', expect: { FLOW_DANGLING: 'error' }, count: 1, edit: (t) => set(t, 'vfs_e', 'track_event.flow_ids', ['42']) },
  {
    name: 'self flow (same id on BEGIN and END of one slice)',
    expect: { FLOW_SELF: 'error' },
    edit: (t) => {
      set(t, 'vfs_b', 'track_event.flow_ids', [FLOW_G, '43']);
      set(t, 'vfs_e', 'track_event.terminating_flow_ids', ['43']);
    },
  },
  { name: 'undescribed track', expect: { TE_UNKNOWN_TRACK: 'error' }, edit: (t) => insertAfter(t, 'read_e', seq2(5400, { type: INSTANT, track_uuid: 4242, name: 'lost' })) },
  { name: 'missing parent', expect: { TD_PARENT_MISSING: 'error' }, edit: (t) => insertAfter(t, 'td_bytes', descriptor({ uuid: 2003, parent_uuid: 2999, name: 'orphan' })) },
  {
    name: 'process without cmdline',
    expect: { PT_NO_CMDLINE: 'error' },
    edit: (t) => (at(t, 'ptree', 'process_tree.processes') as unknown as Obj[]).push({ pid: 200, ppid: 1 }),
  },
  { name: 'track event without sequence id', expect: { TE_NO_SEQ_ID: 'error' }, edit: (t) => insertAfter(t, 'read_e', { timestamp: 5400, track_event: { type: INSTANT, track_uuid: 1002, name: 'x' } }) },
  { name: 'timestamps going backwards in a sequence', expect: { TE_TS_BACKWARDS: 'error' }, edit: (t) => set(t, 'bytes_0', 'timestamp', 4000) },
  { name: 'sched_switch chain mismatch', expect: { SCHED_PREV_MISMATCH: 'error' }, edit: (t) => set(t, 'ft_cpu0', 'ftrace_events.event.1.sched_switch.prev_pid', 102) },
  { name: 'compact sched lengths mismatch', expect: { CS_LENGTHS: 'error' }, edit: (t) => set(t, 'cs_cpu1', 'ftrace_events.compact_sched.switch_next_prio', [120]) },
  {
    name: 'unknown field number',
    expect: { WIRE_UNKNOWN_FIELD: 'error' },
    edit: (t) => {
      t[indexOf(t, 'sysinfo')]!.part = concat(encodeAs('TracePacket', packet(t, 'sysinfo')), varintField(99, 1));
    },
  },

  // More rules, same discipline.
  {
    name: '64-bit flow ids stay distinct (they collide as doubles)',
    expect: { FLOW_DANGLING: 'error' },
    count: 2,
    edit: (t) => {
      set(t, 'vfs_e', 'track_event.flow_ids', ['9223372036854775809']);
      set(t, 'read_e', 'track_event.flow_ids', ['9223372036854775808']);
    },
  },
  {
    name: 'compact sched array written unpacked',
    expect: { WIRE_NOT_PACKED: 'error' },
    edit: (t) => {
      t[indexOf(t, 'cs_cpu1')]!.part = withUnpackedCompactFlags(packet(t, 'cs_cpu1'));
    },
  },
  // Field 10 (uint32) written as fixed32: the packet is not decoded, nothing else depends on it.
  { name: 'wrong wire type', expect: { WIRE_TYPE: 'error' }, edit: (t) => insertAfter(t, 'read_e', Uint8Array.of((10 << 3) | 5, 2, 0, 0, 0)) },
  { name: 'record other than packet = 1', expect: { TRACE_FRAMING: 'error' }, bytes: (b) => concat(Uint8Array.of(2 << 3, 1), b) },
  { name: 'file cut inside the last packet', expect: { TRACE_TRUNCATED: 'error' }, bytes: (b) => b.subarray(0, b.length - 3) },
  { name: 'track event without timestamp', expect: { TE_NO_TIMESTAMP: 'error' }, edit: (t) => insertAfter(t, 'read_e', { trusted_packet_sequence_id: 2, track_event: { type: INSTANT, track_uuid: 1002, name: 'x' } }) },
  {
    name: 'needs incremental state on a never-cleared sequence',
    expect: { NEEDS_STATE_INVALID: 'error' },
    edit: (t) => insertAfter(t, 'read_e', { timestamp: 5400, trusted_packet_sequence_id: 3, sequence_flags: 2, track_event: { type: INSTANT, track_uuid: 1002, name: 'x' } }),
  },
  { name: 'iid redefined with other content', expect: { INTERN_REDEFINED: 'error' }, edit: (t) => set(t, 'read_b', 'interned_data', { event_names: [{ iid: 1, name: 'other' }] }) },
  { name: 'track re-described differently', expect: { TD_CONFLICT: 'error' }, edit: (t) => insertAfter(t, 'td_bytes', descriptor({ uuid: 2001, parent_uuid: 1000, name: 'nvme0n1' })) },
  { name: 'counter without value', expect: { CTR_NO_VALUE: 'error' }, edit: (t) => set(t, 'qd_0', 'track_event.counter_value', undefined) },
  {
    name: 'event earlier than the previous one on its track (other sequence)',
    expect: { TRACK_TS_BACKWARDS: 'error' },
    edit: (t) => insertAfter(t, 'read_e', { timestamp: 1500, trusted_packet_sequence_id: 3, track_event: { type: INSTANT, track_uuid: 2001, name: 'early' } }),
  },
  { name: 'tid in two pids', expect: { PID_TID_CONFLICT: 'error' }, edit: (t) => set(t, 'ptree', 'process_tree.threads.1.tgid', 200) },
  // The last sched_switch on cpu 0: dropping it breaks no chain (an irq event would unbalance the irq stack).
  { name: 'ftrace event without pid', expect: { FT_NO_PID: 'error' }, edit: (t) => set(t, 'ft_cpu0', 'ftrace_events.event.1.pid', undefined) },
  {
    name: 'ftrace going backwards across bundles',
    expect: { FT_TS_BACKWARDS: 'error' },
    edit: (t) =>
      insertAfter(t, 'ft_cpu0', {
        trusted_packet_sequence_id: 1,
        ftrace_events: { cpu: 0, event: [{ timestamp: 1000, pid: 0, irq_handler_entry: { irq: 1 } }, { timestamp: 1100, pid: 0, irq_handler_exit: { irq: 1 } }] },
      }),
  },
  { name: 'irq exit without entry', expect: { IRQ_UNBALANCED: 'error' }, edit: (t) => (at(t, 'ft_cpu0', 'ftrace_events.event') as unknown as Obj[]).splice(2, 1) },
  {
    name: 'softirq vec out of range',
    expect: { SOFTIRQ_VEC: 'error' },
    edit: (t) => {
      set(t, 'ft_cpu0', 'ftrace_events.event.4.softirq_entry.vec', 12);
      set(t, 'ft_cpu0', 'ftrace_events.event.5.softirq_exit.vec', 12);
    },
  },
  { name: 'compact comm index past the intern table', expect: { CS_COMM_INDEX: 'error' }, edit: (t) => set(t, 'cs_cpu1', 'ftrace_events.compact_sched.switch_next_comm_index', [1, 5]) },

  // Warnings.
  {
    name: 'track described after its first event',
    expect: { TE_TRACK_DESCRIBED_LATER: 'warning' },
    edit: (t) => {
      const dev = remove(t, 'td_dev');
      delete (dev.part as Obj)['timestamp']; // keep sequence 2's timestamps in order
      insertAfter(t, 'dev_b', dev.part);
    },
  },
  { name: 'slice never ended', expect: { SLICE_UNCLOSED: 'warning' }, edit: (t) => void remove(t, 'read_e') },
  {
    name: 'terminating a flow that never started',
    expect: { FLOW_TERMINATE_UNSTARTED: 'warning' },
    count: 2,
    edit: (t) => {
      set(t, 'vfs_e', 'track_event.terminating_flow_ids', ['44']);
      set(t, 'read_e', 'track_event.terminating_flow_ids', ['44']);
    },
  },
  {
    name: 'one id in both flow lists (and so a self arrow)',
    expect: { FLOW_BOTH_LISTS: 'warning', FLOW_SELF: 'error' },
    edit: (t) => {
      set(t, 'vfs_b', 'track_event.flow_ids', [FLOW_G, '45']);
      set(t, 'vfs_b', 'track_event.terminating_flow_ids', ['45']);
    },
  },
  { name: 'event on the default track', expect: { TE_DEFAULT_TRACK: 'warning' }, edit: (t) => insertAfter(t, 'read_e', seq2(5400, { type: INSTANT, name: 'x' })) },
  { name: 'second uuid for one tid', expect: { TD_TID_REUSE: 'warning' }, edit: (t) => insertAfter(t, 'td_thread', descriptor({ uuid: 1003, thread: { pid: 100, tid: 101 } })) },
  { name: 'sched data without kernel release', expect: { SCHED_NO_KERNEL_VERSION: 'warning' }, edit: (t) => set(t, 'sysinfo', 'system_info.utsname.release', undefined) },
  { name: 'iids without SEQ_NEEDS_INCREMENTAL_STATE', expect: { TE_IID_WITHOUT_NEEDS_FLAG: 'warning' }, edit: (t) => set(t, 'read_b', 'sequence_flags', undefined) },
];

for (const c of cases) {
  test(`planted: ${c.name} -> ${Object.keys(c.expect).join(', ')}`, () => {
    const t = richTrace();
    c.edit?.(t);
    const bytes = c.bytes ? c.bytes(build(t)) : build(t);
    const { issues } = checkPerfettoTrace(bytes);
    assert.deepEqual([...new Set(issues.map((i) => i.code))].sort(), Object.keys(c.expect).sort(), show(issues));
    for (const i of issues) assert.equal(i.severity, c.expect[i.code], show([i]));
    if (c.count !== undefined) assert.equal(issues.length, c.count, show(issues));
  });
}
