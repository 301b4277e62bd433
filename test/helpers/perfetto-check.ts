// Structural checker for Perfetto protobuf traces, used by tests to validate what our writer produces.
// It enforces the import rules in shared/reference/perfetto-import-rules.md (issue codes = rule codes):
// a wire-level walk of the raw bytes (protobufjs decodes packed and unpacked alike, trace_processor
// does not), then a semantic pass over the packets decoded with protobufjs from the same .proto.
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { repoRoot } from './repo.js';

export interface PerfettoIssue {
  readonly code: string;
  readonly packetIndex: number;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

export interface PerfettoSummary {
  packets: number;
  trackEvents: number;
  slicesBegun: number;
  slicesEnded: number;
  instants: number;
  counters: number;
  ftraceEvents: number;
  compactSwitches: number;
  compactWakings: number;
  flowsWithArrows: number; // flow ids that produced >= 1 arrow
  tracks: Map<bigint, { name?: string; kind: 'thread' | 'process' | 'counter' | 'plain'; parent?: bigint; pid?: number; tid?: number }>;
  sliceNamesByTrack: Map<bigint, string[]>; // names of BEGIN/INSTANT events in order, resolved through interning
  slices: SliceSummary[]; // every slice and instant in file order, with its args (BEGIN's and END's merged, as TP does)
  processes: Map<number, string>; // pid -> name, from ProcessTree cmdline[0] / ProcessDescriptor
  hasSystemInfoRelease: boolean;
}

export interface SliceSummary {
  readonly track: bigint;
  readonly name: string;
  readonly ts: bigint;
  /** When its END came (undefined for instants and slices never ended). */
  endTs?: bigint;
  readonly args: Record<string, string | number>;
}

type TrackSummary = PerfettoSummary['tracks'] extends Map<bigint, infer V> ? V : never;

// --- schema ----------------------------------------------------------------------------------------

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

interface FieldSpec {
  readonly id: number;
  readonly name: string;
  readonly wire: number; // the wire type of one (unpacked) value
  readonly repeated: boolean;
  readonly packed: boolean;
  readonly message?: MessageSpec;
}

interface MessageSpec {
  readonly name: string;
  readonly fields: Map<number, FieldSpec>;
}

export interface PerfettoSchema {
  readonly root: protobuf.Root;
  readonly trace: protobuf.Type;
  readonly packet: protobuf.Type;
  readonly packetSpec: MessageSpec;
}

/** `<repo root>/exporters/perfetto/perfetto_trace.proto` (tests run from dist/, the .proto is not copied). */
export function defaultProtoPath(): string {
  return join(repoRoot(), 'exporters', 'perfetto', 'perfetto_trace.proto');
}

const schemas = new Map<string, PerfettoSchema>();

/** The .proto loaded with field names as written (snake_case), cached per path. */
export function loadPerfettoSchema(protoPath: string = defaultProtoPath()): PerfettoSchema {
  const cached = schemas.get(protoPath);
  if (cached) return cached;
  const root = new protobuf.Root().loadSync(protoPath, { keepCase: true });
  root.resolveAll();
  const trace = root.lookupType('perfetto.protos.Trace');
  const packet = root.lookupType('perfetto.protos.TracePacket');
  const schema: PerfettoSchema = { root, trace, packet, packetSpec: messageSpec(packet, new Map()) };
  schemas.set(protoPath, schema);
  return schema;
}

function messageSpec(type: protobuf.Type, seen: Map<string, MessageSpec>): MessageSpec {
  const existing = seen.get(type.fullName);
  if (existing) return existing;
  const spec: MessageSpec = { name: type.name, fields: new Map() };
  seen.set(type.fullName, spec); // before recursing: message types may refer to themselves
  for (const f of type.fieldsArray) {
    const rt = f.resolvedType;
    const message = rt instanceof protobuf.Type ? messageSpec(rt, seen) : undefined;
    spec.fields.set(f.id, {
      id: f.id,
      name: f.name,
      wire: rt instanceof protobuf.Enum ? WIRE_VARINT : message ? WIRE_LEN : scalarWireType(f.type),
      repeated: f.repeated,
      packed: f.repeated && f.packed, // proto2: true only when declared [packed = true]
      ...(message ? { message } : {}),
    });
  }
  return spec;
}

function scalarWireType(type: string): number {
  switch (type) {
    case 'double':
    case 'fixed64':
    case 'sfixed64':
      return WIRE_I64;
    case 'float':
    case 'fixed32':
    case 'sfixed32':
      return WIRE_I32;
    case 'string':
    case 'bytes':
      return WIRE_LEN;
    default:
      return WIRE_VARINT;
  }
}

// --- wire level --------------------------------------------------------------------------------------

type VarintResult = { value: number; next: number } | 'truncated' | 'corrupt';

/** A varint as a JS number: exact for tags and lengths, which is all the wire walk needs. */
function readVarint(buf: Uint8Array, pos: number, end: number): VarintResult {
  let value = 0;
  for (let i = 0; i < 10; i++) {
    if (pos + i >= end) return 'truncated';
    const b = buf[pos + i]!;
    value += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return { value, next: pos + i + 1 };
  }
  return 'corrupt';
}

/** The end of the value of a field with wire type `wire` starting at `pos`, and where its payload starts. */
function skipValue(buf: Uint8Array, pos: number, end: number, wire: number): { payload: number; next: number } | 'truncated' | 'corrupt' {
  switch (wire) {
    case WIRE_VARINT: {
      const v = readVarint(buf, pos, end);
      return typeof v === 'string' ? v : { payload: pos, next: v.next };
    }
    case WIRE_I64:
      return pos + 8 > end ? 'truncated' : { payload: pos, next: pos + 8 };
    case WIRE_I32:
      return pos + 4 > end ? 'truncated' : { payload: pos, next: pos + 4 };
    case WIRE_LEN: {
      const len = readVarint(buf, pos, end);
      if (typeof len === 'string') return len;
      return len.next + len.value > end ? 'truncated' : { payload: len.next, next: len.next + len.value };
    }
    default:
      return 'corrupt'; // groups (3, 4) are not in the schema; 6 and 7 are not wire types
  }
}

/** Whether [start, end) is a whole number of values of wire type `wire` (a packed payload). */
function packedPayloadOk(buf: Uint8Array, start: number, end: number, wire: number): boolean {
  if (wire === WIRE_I64) return (end - start) % 8 === 0;
  if (wire === WIRE_I32) return (end - start) % 4 === 0;
  for (let pos = start; pos < end; ) {
    const v = readVarint(buf, pos, end);
    if (typeof v === 'string') return false;
    pos = v.next;
  }
  return true;
}

type Report = (code: string, message: string) => void;

/**
 * Walks one message's bytes against its declared fields. Returns false when the bytes cannot be parsed
 * further (truncation, corruption); wrong wire types are reported but the walk goes on.
 */
function walkMessage(buf: Uint8Array, start: number, end: number, spec: MessageSpec, path: string, report: Report): boolean {
  let pos = start;
  while (pos < end) {
    const tag = readVarint(buf, pos, end);
    if (tag === 'truncated') {
      report('WIRE_TRUNCATED', `${path}: field tag runs past the end of the message`);
      return false;
    }
    if (tag === 'corrupt') {
      report('WIRE_CORRUPT', `${path}: field tag is not a valid varint`);
      return false;
    }
    const fieldNo = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (fieldNo === 0) {
      report('WIRE_CORRUPT', `${path}: field number 0`);
      return false;
    }
    const value = skipValue(buf, tag.next, end, wire);
    if (value === 'truncated') {
      report('WIRE_TRUNCATED', `${path}: field #${fieldNo} runs past the end of the message`);
      return false;
    }
    if (value === 'corrupt') {
      report('WIRE_CORRUPT', `${path}: field #${fieldNo} has invalid wire type ${wire}`);
      return false;
    }
    pos = value.next;

    const field = spec.fields.get(fieldNo);
    if (!field) {
      report('WIRE_UNKNOWN_FIELD', `${path}: field #${fieldNo} (wire type ${wire}) is not declared in ${spec.name}`);
      continue;
    }
    const where = `${path}.${field.name} (#${fieldNo})`;
    if (wire === field.wire) {
      if (field.packed && wire !== WIRE_LEN) {
        report('WIRE_NOT_PACKED', `${where}: declared [packed = true] but written unpacked`);
      } else if (field.message && !walkMessage(buf, value.payload, value.next, field.message, where, report)) {
        return false;
      }
    } else if (wire === WIRE_LEN && field.repeated && field.wire !== WIRE_LEN) {
      if (!field.packed) report('WIRE_PACKED', `${where}: repeated scalar without [packed = true] written packed; trace_processor reads it as one garbage value`);
      if (!packedPayloadOk(buf, value.payload, value.next, field.wire)) report('WIRE_CORRUPT', `${where}: packed payload is not a whole number of values`);
    } else {
      report('WIRE_TYPE', `${where}: wire type ${wire}, declared type needs ${field.wire}`);
    }
  }
  return true;
}

// --- decoded shapes (toObject with keepCase, longs as decimal strings, enums as numbers) ------------

interface InternEntryObj {
  iid?: string;
  name?: string;
  str?: Uint8Array;
}
interface InternedDataObj {
  event_categories?: InternEntryObj[];
  event_names?: InternEntryObj[];
  debug_annotation_names?: InternEntryObj[];
  debug_annotation_string_values?: InternEntryObj[];
}
interface DebugAnnotationObj {
  name_iid?: string;
  name?: string;
  string_value_iid?: string;
  bool_value?: boolean;
  uint_value?: string;
  int_value?: string;
  string_value?: string;
}
interface TrackEventObj {
  type?: number;
  track_uuid?: string;
  name_iid?: string;
  name?: string;
  category_iids?: string[];
  counter_value?: string;
  double_counter_value?: number;
  debug_annotations?: DebugAnnotationObj[];
  flow_ids?: string[];
  terminating_flow_ids?: string[];
}
interface TrackDescriptorObj {
  uuid?: string;
  parent_uuid?: string;
  name?: string;
  process?: { pid?: number; cmdline?: string[]; process_name?: string };
  thread?: { pid?: number; tid?: string; thread_name?: string };
  counter?: object;
  sibling_merge_behavior?: number;
}
interface SchedSwitchObj {
  prev_pid?: number;
  prev_state?: string;
  next_pid?: number;
}
interface FtraceEventObj {
  timestamp?: string;
  pid?: number;
  sched_switch?: SchedSwitchObj;
  sched_waking?: { pid?: number };
  irq_handler_entry?: { irq?: number };
  irq_handler_exit?: { irq?: number };
  softirq_entry?: { vec?: number };
  softirq_exit?: { vec?: number };
}
interface CompactSchedObj {
  intern_table?: string[];
  switch_timestamp?: string[];
  switch_prev_state?: string[];
  switch_next_pid?: number[];
  switch_next_prio?: number[];
  switch_next_comm_index?: number[];
  waking_timestamp?: string[];
  waking_pid?: number[];
  waking_target_cpu?: number[];
  waking_prio?: number[];
  waking_comm_index?: number[];
  waking_common_flags?: number[];
}
interface FtraceBundleObj {
  cpu?: number;
  event?: FtraceEventObj[];
  compact_sched?: CompactSchedObj;
}
interface ProcessTreeObj {
  processes?: { pid?: number; cmdline?: string[] }[];
  threads?: { tid?: number; tgid?: number }[];
}
interface PacketObj {
  timestamp?: string;
  trusted_packet_sequence_id?: number;
  sequence_flags?: number;
  interned_data?: InternedDataObj;
  trace_packet_defaults?: { timestamp_clock_id?: number; track_event_defaults?: { track_uuid?: string } };
  ftrace_events?: FtraceBundleObj;
  process_tree?: ProcessTreeObj;
  track_event?: TrackEventObj;
  system_info?: { utsname?: { release?: string } };
  track_descriptor?: TrackDescriptorObj;
}

// --- semantic pass -----------------------------------------------------------------------------------

const SEQ_INCREMENTAL_STATE_CLEARED = 1;
const SEQ_NEEDS_INCREMENTAL_STATE = 2;
const TYPE_SLICE_BEGIN = 1;
const TYPE_SLICE_END = 2;
const TYPE_INSTANT = 3;
const TYPE_COUNTER = 4;
const BOOTTIME_CLOCK_ID = 6; // the trace clock of proto traces: needs no ClockSnapshot
const MAX_TRACK_DEPTH = 100; // TP: track_event_track_hierarchy_too_deep
const MAX_SLICE_DEPTH = 512; // TP: SliceTracker::kMaxDepth
const MAX_CPUS = 1024;
const NR_SOFTIRQS = 10;
const INVALID_PREV_STATE_BITS = 0xfe00n; // TP decodes these as "?" (task_state.cc)
const INT64_SIGN = 1n << 63n;

type InternKind = 'event_categories' | 'event_names' | 'debug_annotation_names' | 'debug_annotation_string_values';
const INTERN_KINDS: readonly InternKind[] = ['event_categories', 'event_names', 'debug_annotation_names', 'debug_annotation_string_values'];

interface SeqState {
  valid: boolean; // saw SEQ_INCREMENTAL_STATE_CLEARED since the start (TP: packet_loss_ = true initially)
  interned: Map<InternKind, Map<bigint, string>>;
  defaultTrack?: bigint;
  lastTs?: bigint;
}

interface TeRecord {
  readonly packetIndex: number;
  readonly ts: bigint;
  readonly type: number;
  readonly track?: bigint; // from the event or the sequence's TrackEventDefaults
  readonly name: string; // '' when absent or unresolved (TP: NULL name)
  readonly hasCounterValue: boolean;
  readonly flowIds: readonly bigint[];
  readonly terminatingFlowIds: readonly bigint[];
  readonly args: readonly (readonly [string, string | number])[];
  slice?: number; // the slice the event binds flows to: set by the slice pass
}

interface TrackRecord {
  readonly summary: TrackSummary;
  readonly packetIndex: number; // first description
  readonly mergeBehavior: number;
}

interface CpuState {
  lastEventTs?: bigint;
  lastSwitchTs?: bigint;
  lastWakingTs?: bigint;
  lastNextPid?: number;
  irqOpen: number[]; // packet indexes of open irq_handler_entry
  softirqOpen: number[];
}

const has = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);
const big = (s: string | undefined): bigint | undefined => (s === undefined ? undefined : BigInt(s));
const utf8 = new TextDecoder();

export function checkPerfettoTrace(bytes: Uint8Array, opts: { protoPath?: string } = {}): { issues: PerfettoIssue[]; summary: PerfettoSummary } {
  const schema = loadPerfettoSchema(opts.protoPath ?? defaultProtoPath());
  const issues: PerfettoIssue[] = [];
  const error = (code: string, packetIndex: number, message: string) => issues.push({ code, packetIndex, message, severity: 'error' });
  const warn = (code: string, packetIndex: number, message: string) => issues.push({ code, packetIndex, message, severity: 'warning' });

  const summary: PerfettoSummary = {
    packets: 0,
    trackEvents: 0,
    slicesBegun: 0,
    slicesEnded: 0,
    instants: 0,
    counters: 0,
    ftraceEvents: 0,
    compactSwitches: 0,
    compactWakings: 0,
    flowsWithArrows: 0,
    tracks: new Map(),
    sliceNamesByTrack: new Map(),
    slices: [],
    processes: new Map(),
    hasSystemInfoRelease: false,
  };

  const sequences = new Map<number, SeqState>();
  const tracks = new Map<bigint, TrackRecord>();
  const threadUuidByTid = new Map<number, bigint>();
  const processUuidByPid = new Map<number, bigint>();
  const pidOfTid = new Map<number, { pid: number; packetIndex: number }>();
  const schedTids = new Map<number, number>(); // tid seen in sched data -> first packet index
  const cpus = new Map<number, CpuState>();
  const records: TeRecord[] = [];
  let sawSchedData = false;
  let firstSchedPacket = -1;

  /** tid -> pid attribution from ProcessTree and ThreadDescriptors; two different pids is a conflict. */
  const attribute = (tid: number, pid: number, packetIndex: number, source: string) => {
    const prev = pidOfTid.get(tid);
    if (!prev) pidOfTid.set(tid, { pid, packetIndex });
    else if (prev.pid !== pid) error('PID_TID_CONFLICT', packetIndex, `${source} puts tid ${tid} in pid ${pid}, packet ${prev.packetIndex} put it in pid ${prev.pid}`);
  };

  const cpuState = (cpu: number): CpuState => {
    let s = cpus.get(cpu);
    if (!s) cpus.set(cpu, (s = { irqOpen: [], softirqOpen: [] }));
    return s;
  };

  // --- framing: the file is `packet = 1` records, nothing else -------------------------------------
  const packetSpans: { start: number; end: number }[] = [];
  for (let pos = 0; pos < bytes.length; ) {
    const index = packetSpans.length;
    const tag = readVarint(bytes, pos, bytes.length);
    if (typeof tag === 'string') {
      error(tag === 'truncated' ? 'TRACE_TRUNCATED' : 'TRACE_FRAMING', index, `record tag at byte ${pos} is not a complete varint`);
      break;
    }
    const fieldNo = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    const value = skipValue(bytes, tag.next, bytes.length, wire);
    if (value === 'truncated') {
      error('TRACE_TRUNCATED', index, `record at byte ${pos} (field #${fieldNo}) runs past the end of the file (${bytes.length} bytes)`);
      break;
    }
    if (value === 'corrupt' || fieldNo === 0) {
      error('TRACE_FRAMING', index, `record at byte ${pos} has field #${fieldNo} wire type ${wire}: cannot continue`);
      break;
    }
    if (fieldNo !== 1 || wire !== WIRE_LEN) error('TRACE_FRAMING', index, `record at byte ${pos} is field #${fieldNo} wire type ${wire}, not packet = 1 (length-delimited)`);
    else packetSpans.push({ start: value.payload, end: value.next });
    pos = value.next;
  }
  summary.packets = packetSpans.length;

  // --- packets in file order: wire walk, decode, then everything TP does at tokenisation ----------
  packetSpans.forEach(({ start, end }, packetIndex) => {
    let decodable = true;
    const ok = walkMessage(bytes, start, end, schema.packetSpec, 'TracePacket', (code, message) => {
      // protobufjs reads a value by the declared type whatever its wire type: the decode would be garbage.
      if (code === 'WIRE_TYPE' || code === 'WIRE_TRUNCATED' || code === 'WIRE_CORRUPT') decodable = false;
      error(code, packetIndex, message);
    });
    if (!ok || !decodable) return;
    let p: PacketObj;
    try {
      p = schema.packet.toObject(schema.packet.decode(bytes.subarray(start, end)), { longs: String, enums: Number });
    } catch (e) {
      error('WIRE_CORRUPT', packetIndex, `protobufjs cannot decode the packet: ${(e as Error).message}`);
      return;
    }
    checkPacket(p, packetIndex);
  });

  function checkPacket(p: PacketObj, packetIndex: number): void {
    const seqId = p.trusted_packet_sequence_id ?? 0; // 0 = no sequence
    const flags = p.sequence_flags ?? 0;
    let seq = sequences.get(seqId);
    if (seqId !== 0 && !seq) sequences.set(seqId, (seq = { valid: false, interned: new Map() }));

    // TP order: CLEARED first, then defaults and interned data, then the NEEDS check, then the payload.
    if (flags & SEQ_INCREMENTAL_STATE_CLEARED) {
      if (!seq) error('SEQ_CLEARED_NO_SEQ', packetIndex, 'SEQ_INCREMENTAL_STATE_CLEARED without trusted_packet_sequence_id is ignored');
      else {
        seq.valid = true;
        seq.interned = new Map();
        delete seq.defaultTrack;
      }
    }
    if (p.timestamp !== undefined) {
      const ts = BigInt(p.timestamp);
      if (ts >= INT64_SIGN) error('TS_NEGATIVE', packetIndex, `timestamp ${ts} is negative as int64; the sorter drops it`);
      if (seq) {
        if (seq.lastTs !== undefined && ts < seq.lastTs) error('TE_TS_BACKWARDS', packetIndex, `timestamp ${ts} < ${seq.lastTs}, the previous one on sequence ${seqId}`);
        seq.lastTs = ts;
      }
    }
    if (p.trace_packet_defaults) {
      const clockId = p.trace_packet_defaults.timestamp_clock_id;
      if (clockId !== undefined && clockId !== BOOTTIME_CLOCK_ID) error('CLOCK_UNKNOWN', packetIndex, `timestamp_clock_id ${clockId} needs a ClockSnapshot, which this schema cannot carry`);
      if (!seq) error('DEFAULTS_NO_SEQ', packetIndex, 'trace_packet_defaults without trusted_packet_sequence_id are ignored');
      else {
        const t = big(p.trace_packet_defaults.track_event_defaults?.track_uuid);
        if (t !== undefined) seq.defaultTrack = t;
      }
    }
    if (p.interned_data) {
      if (!seq) error('INTERN_NO_SEQ', packetIndex, 'interned_data without trusted_packet_sequence_id is ignored');
      else if (!seq.valid) error('INTERN_STATE_INVALID', packetIndex, `interned_data on sequence ${seqId} before its first SEQ_INCREMENTAL_STATE_CLEARED is dropped`);
      else intern(p.interned_data, seq, packetIndex);
    }
    if (flags & SEQ_NEEDS_INCREMENTAL_STATE) {
      if (!seq) return void error('NEEDS_NO_SEQ', packetIndex, 'SEQ_NEEDS_INCREMENTAL_STATE without trusted_packet_sequence_id: TP fails the packet');
      if (!seq.valid) return void error('NEEDS_STATE_INVALID', packetIndex, `packet needs incremental state but sequence ${seqId} was never cleared: skipped`);
    }

    if (p.system_info?.utsname?.release) summary.hasSystemInfoRelease = true;
    if (p.process_tree) processTree(p.process_tree, packetIndex);
    if (p.track_descriptor) trackDescriptor(p.track_descriptor, packetIndex);
    if (p.track_event) trackEvent(p.track_event, p, seq, packetIndex);
    if (p.ftrace_events) ftraceBundle(p.ftrace_events, packetIndex);
  }

  function intern(data: InternedDataObj, seq: SeqState, packetIndex: number): void {
    for (const kind of INTERN_KINDS) {
      for (const entry of data[kind] ?? []) {
        const iid = big(entry.iid);
        if (iid === undefined || iid === 0n) {
          error('INTERN_NO_IID', packetIndex, `interned ${kind} entry without a non-zero iid is rejected`);
          continue;
        }
        const text = entry.name ?? (entry.str ? utf8.decode(entry.str) : '');
        let dict = seq.interned.get(kind);
        if (!dict) seq.interned.set(kind, (dict = new Map()));
        const prev = dict.get(iid);
        if (prev === undefined) dict.set(iid, text);
        else if (prev !== text) error('INTERN_REDEFINED', packetIndex, `${kind} iid ${iid} redefined as ${JSON.stringify(text)}, was ${JSON.stringify(prev)} (first wins)`);
      }
    }
  }

  function processTree(tree: ProcessTreeObj, packetIndex: number): void {
    for (const proc of tree.processes ?? []) {
      if (proc.pid === undefined) continue;
      const name = proc.cmdline?.[0];
      if (name === undefined) {
        error('PT_NO_CMDLINE', packetIndex, `ProcessTree process ${proc.pid} has no cmdline: TP ignores it`);
        continue;
      }
      summary.processes.set(proc.pid, name);
      attribute(proc.pid, proc.pid, packetIndex, `ProcessTree process ${proc.pid}`); // main thread
    }
    for (const thread of tree.threads ?? []) {
      if (thread.tid !== undefined && thread.tgid !== undefined) attribute(thread.tid, thread.tgid, packetIndex, 'ProcessTree thread');
    }
  }

  function trackDescriptor(td: TrackDescriptorObj, packetIndex: number): void {
    const uuid = big(td.uuid);
    if (uuid === undefined) return void error('TD_NO_UUID', packetIndex, 'track_descriptor without uuid is dropped');
    const parent = big(td.parent_uuid);
    if (uuid === 0n && parent !== undefined) error('TD_ROOT_PARENT', packetIndex, 'the default track (uuid 0) cannot have a parent');
    let s: TrackSummary;
    if (td.thread) {
      const tid = td.thread.tid === undefined ? undefined : Number(td.thread.tid);
      if (td.thread.pid === undefined || tid === undefined) return void error('TD_THREAD_NO_PID_TID', packetIndex, `thread track ${uuid} needs both pid and tid: dropped`);
      s = { kind: 'thread', pid: td.thread.pid, tid };
      const name = td.thread.thread_name ?? td.name; // TP ignores TrackDescriptor.name on thread tracks
      if (name !== undefined) s.name = name;
    } else if (td.process) {
      if (td.process.pid === undefined) return void error('TD_PROCESS_NO_PID', packetIndex, `process track ${uuid} without pid is dropped`);
      s = { kind: 'process', pid: td.process.pid };
      const name = td.process.process_name ?? td.name ?? td.process.cmdline?.[0];
      if (name !== undefined) s.name = name;
    } else {
      s = { kind: td.counter ? 'counter' : 'plain' };
      if (td.name !== undefined) s.name = td.name;
    }
    if (parent !== undefined) s.parent = parent;
    const mergeBehavior = td.sibling_merge_behavior ?? 0;

    const prev = tracks.get(uuid);
    if (prev) {
      const a = prev.summary;
      if (a.kind !== s.kind || a.parent !== s.parent || a.pid !== s.pid || a.tid !== s.tid || prev.mergeBehavior !== mergeBehavior) {
        error('TD_CONFLICT', packetIndex, `track ${uuid} re-described differently than in packet ${prev.packetIndex}: ignored`);
      } else if (a.name !== undefined && s.name !== undefined && a.name !== s.name) {
        warn('TD_RENAMED', packetIndex, `track ${uuid} renamed ${JSON.stringify(s.name)}; TP keeps ${JSON.stringify(a.name)}`);
      }
      return;
    }
    tracks.set(uuid, { summary: s, packetIndex, mergeBehavior });
    summary.tracks.set(uuid, s);

    if (s.kind === 'thread' && s.tid !== undefined && s.pid !== undefined) {
      if (s.pid === 0 || s.tid === 0) warn('TD_PID_TID_ZERO', packetIndex, `thread track ${uuid} has pid ${s.pid} tid ${s.tid}: 0 is the idle task`);
      const other = threadUuidByTid.get(s.tid);
      if (other !== undefined) warn('TD_TID_REUSE', packetIndex, `tid ${s.tid} has thread tracks ${other} and ${uuid}: TP starts a new thread`);
      else threadUuidByTid.set(s.tid, uuid);
      attribute(s.tid, s.pid, packetIndex, `thread track ${uuid}`);
    }
    if (s.kind === 'process' && s.pid !== undefined) {
      if (s.pid === 0) warn('TD_PID_TID_ZERO', packetIndex, `process track ${uuid} has pid 0: the idle task`);
      const other = processUuidByPid.get(s.pid);
      if (other !== undefined) warn('TD_PID_REUSE', packetIndex, `pid ${s.pid} has process tracks ${other} and ${uuid}: TP starts a new process`);
      else processUuidByPid.set(s.pid, uuid);
      if (s.name !== undefined) summary.processes.set(s.pid, s.name);
    }
  }

  function trackEvent(te: TrackEventObj, p: PacketObj, seq: SeqState | undefined, packetIndex: number): void {
    summary.trackEvents++;
    if (!seq) return void error('TE_NO_SEQ_ID', packetIndex, 'track_event without trusted_packet_sequence_id is dropped');
    if (p.timestamp === undefined) return void error('TE_NO_TIMESTAMP', packetIndex, 'track_event packet without timestamp is dropped');
    const type = te.type ?? 0;
    if (type === 0) return void error('TE_NO_TYPE', packetIndex, 'track_event without type is dropped');

    // Interning: lookups at tokenisation, file order, this sequence only.
    let usesIids = false;
    const lookup = (kind: InternKind, iidText: string, what: string): string | undefined => {
      usesIids = true;
      const iid = BigInt(iidText);
      const text = seq.interned.get(kind)?.get(iid);
      if (text === undefined) error('INTERN_UNRESOLVED', packetIndex, `${what} ${iid} is not defined in ${kind} on this sequence (this or an earlier packet since the last CLEARED)`);
      return text;
    };
    let name = te.name ?? '';
    if (te.name_iid !== undefined) name = lookup('event_names', te.name_iid, 'name_iid') ?? '';
    for (const c of te.category_iids ?? []) lookup('event_categories', c, 'category_iid');
    const args: [string, string | number][] = [];
    for (const da of te.debug_annotations ?? []) {
      let argName = da.name;
      if (da.name_iid !== undefined) argName = lookup('debug_annotation_names', da.name_iid, 'debug annotation name_iid');
      const number = da.int_value ?? da.uint_value;
      let value: string | number | undefined = number !== undefined ? Number(number) : da.bool_value !== undefined ? Number(da.bool_value) : da.string_value;
      if (da.string_value_iid !== undefined) value = lookup('debug_annotation_string_values', da.string_value_iid, 'debug annotation string_value_iid');
      if (argName !== undefined && value !== undefined) args.push([argName, value]);
    }
    const flags = p.sequence_flags ?? 0;
    if (usesIids && !(flags & SEQ_NEEDS_INCREMENTAL_STATE)) warn('TE_IID_WITHOUT_NEEDS_FLAG', packetIndex, 'track_event uses iids but the packet lacks SEQ_NEEDS_INCREMENTAL_STATE');

    const track = big(te.track_uuid) ?? seq.defaultTrack;
    records.push({
      packetIndex,
      ts: BigInt(p.timestamp),
      type,
      ...(track !== undefined ? { track } : {}),
      name,
      hasCounterValue: te.counter_value !== undefined || te.double_counter_value !== undefined,
      flowIds: (te.flow_ids ?? []).map(BigInt),
      terminatingFlowIds: (te.terminating_flow_ids ?? []).map(BigInt),
      args,
    });
  }

  function ftraceBundle(bundle: FtraceBundleObj, packetIndex: number): void {
    summary.ftraceEvents += bundle.event?.length ?? 0;
    summary.compactSwitches += bundle.compact_sched?.switch_timestamp?.length ?? 0;
    summary.compactWakings += bundle.compact_sched?.waking_timestamp?.length ?? 0;
    const cpu = bundle.cpu;
    if (cpu === undefined) return void error('FT_NO_CPU', packetIndex, 'ftrace_events bundle without cpu is dropped');
    if (cpu >= MAX_CPUS) return void error('FT_CPU_RANGE', packetIndex, `ftrace_events cpu ${cpu} >= ${MAX_CPUS}`);
    const st = cpuState(cpu);
    const noteSched = (tid: number | undefined) => {
      sawSchedData = true;
      if (firstSchedPacket < 0) firstSchedPacket = packetIndex;
      if (tid !== undefined && tid !== 0 && !schedTids.has(tid)) schedTids.set(tid, packetIndex);
    };
    const checkPrevState = (state: string | undefined) => {
      if (state !== undefined && (BigInt(state) & INVALID_PREV_STATE_BITS) !== 0n) warn('SCHED_BAD_PREV_STATE', packetIndex, `cpu ${cpu}: prev_state ${state} has bits TP decodes as invalid`);
    };

    for (const ev of bundle.event ?? []) {
      if (ev.timestamp === undefined) {
        error('FT_NO_TS', packetIndex, `cpu ${cpu}: ftrace event without timestamp is dropped`);
        continue;
      }
      const ts = BigInt(ev.timestamp);
      // pid 0 is the idle task: presence, not truthiness.
      if (!has(ev, 'pid')) {
        error('FT_NO_PID', packetIndex, `cpu ${cpu} ts ${ts}: ftrace event without common pid is dropped`);
        continue;
      }
      if (st.lastEventTs !== undefined && ts < st.lastEventTs) error('FT_TS_BACKWARDS', packetIndex, `cpu ${cpu}: ftrace event at ${ts} after one at ${st.lastEventTs}`);
      st.lastEventTs = ts;
      if (ev.sched_switch) {
        const sw = ev.sched_switch;
        const prevPid = sw.prev_pid ?? 0;
        if (st.lastNextPid !== undefined && prevPid !== st.lastNextPid) error('SCHED_PREV_MISMATCH', packetIndex, `cpu ${cpu} ts ${ts}: sched_switch prev_pid ${prevPid} but the previous switch ran ${st.lastNextPid}`);
        st.lastNextPid = sw.next_pid ?? 0;
        checkPrevState(sw.prev_state);
        noteSched(sw.next_pid); // prev_pid was some switch's next_pid, or ran before the trace began
      } else if (ev.sched_waking) {
        noteSched(ev.sched_waking.pid);
      } else if (ev.irq_handler_entry) {
        st.irqOpen.push(packetIndex);
      } else if (ev.irq_handler_exit) {
        if (st.irqOpen.pop() === undefined) error('IRQ_UNBALANCED', packetIndex, `cpu ${cpu} ts ${ts}: irq_handler_exit with no irq_handler_entry open`);
      } else if (ev.softirq_entry || ev.softirq_exit) {
        const vec = (ev.softirq_entry ?? ev.softirq_exit)?.vec ?? 0;
        if (vec >= NR_SOFTIRQS) error('SOFTIRQ_VEC', packetIndex, `cpu ${cpu} ts ${ts}: softirq vec ${vec} >= ${NR_SOFTIRQS}`);
        if (ev.softirq_entry) st.softirqOpen.push(packetIndex);
        else if (st.softirqOpen.pop() === undefined) error('SOFTIRQ_UNBALANCED', packetIndex, `cpu ${cpu} ts ${ts}: softirq_exit with no softirq_entry open`);
      } else {
        error('FT_NO_PAYLOAD', packetIndex, `cpu ${cpu} ts ${ts}: ftrace event without a payload`);
      }
    }

    const cs = bundle.compact_sched;
    if (!cs) return;
    const switchLens = [cs.switch_timestamp, cs.switch_prev_state, cs.switch_next_pid, cs.switch_next_prio, cs.switch_next_comm_index].map((a) => a?.length ?? 0);
    const wakingLens = [cs.waking_timestamp, cs.waking_pid, cs.waking_target_cpu, cs.waking_prio, cs.waking_comm_index, cs.waking_common_flags].map((a) => a?.length ?? 0);
    let lengthsOk = true;
    if (new Set(switchLens).size > 1) {
      lengthsOk = false;
      error('CS_LENGTHS', packetIndex, `cpu ${cpu}: compact_sched switch_* arrays have lengths ${switchLens.join('/')}`);
    }
    if (new Set(wakingLens).size > 1) {
      lengthsOk = false;
      error('CS_LENGTHS', packetIndex, `cpu ${cpu}: compact_sched waking_* arrays have lengths ${wakingLens.join('/')}`);
    }
    const internSize = cs.intern_table?.length ?? 0;
    for (const idx of [...(cs.switch_next_comm_index ?? []), ...(cs.waking_comm_index ?? [])]) {
      if (idx >= internSize) error('CS_COMM_INDEX', packetIndex, `cpu ${cpu}: compact_sched comm index ${idx} >= intern_table size ${internSize}`);
    }
    if (!lengthsOk) return; // TP: compact_sched_has_parse_errors, the arrays are not read
    // Timestamps: first absolute, then deltas; the prev task of a compact switch is implicit.
    let ts = 0n;
    (cs.switch_timestamp ?? []).forEach((delta, i) => {
      ts += BigInt(delta);
      if (i === 0 && st.lastSwitchTs !== undefined && ts < st.lastSwitchTs) error('FT_TS_BACKWARDS', packetIndex, `cpu ${cpu}: compact switch at ${ts} after one at ${st.lastSwitchTs}`);
      st.lastSwitchTs = ts;
      st.lastNextPid = cs.switch_next_pid?.[i] ?? 0;
      checkPrevState(cs.switch_prev_state?.[i]);
      noteSched(cs.switch_next_pid?.[i]);
    });
    ts = 0n;
    (cs.waking_timestamp ?? []).forEach((delta, i) => {
      ts += BigInt(delta);
      if (i === 0 && st.lastWakingTs !== undefined && ts < st.lastWakingTs) error('FT_TS_BACKWARDS', packetIndex, `cpu ${cpu}: compact waking at ${ts} after one at ${st.lastWakingTs}`);
      st.lastWakingTs = ts;
      noteSched(cs.waking_pid?.[i]);
    });
  }

  // --- after the whole file: what TP does at parse time, when every descriptor is known -----------

  // Track hierarchy: every parent chain must end at described tracks (TP drops events on broken ones).
  const brokenTracks = new Set<bigint>();
  for (const [uuid, t] of tracks) {
    const parent = t.summary.parent;
    if (parent !== undefined && !tracks.has(parent)) error('TD_PARENT_MISSING', t.packetIndex, `track ${uuid} has parent_uuid ${parent}, which no track_descriptor describes`);
    const seen = new Set<bigint>([uuid]);
    for (let cur = parent, depth = 1; cur !== undefined; depth++) {
      const next = tracks.get(cur);
      if (!next) {
        brokenTracks.add(uuid);
        break;
      }
      if (seen.has(cur)) {
        brokenTracks.add(uuid);
        if (cur === uuid) error('TD_HIERARCHY_LOOP', t.packetIndex, `track ${uuid} is its own ancestor`);
        break;
      }
      if (depth >= MAX_TRACK_DEPTH) {
        brokenTracks.add(uuid);
        error('TD_HIERARCHY_DEEP', t.packetIndex, `track ${uuid} is nested ${MAX_TRACK_DEPTH} or more levels deep`);
        break;
      }
      seen.add(cur);
      cur = next.summary.parent;
    }
  }

  // Slices and counters: per track, in file order (= timestamp order when sequences are in order).
  const stacks = new Map<bigint, { slice: number; name: string; packetIndex: number; summary: SliceSummary }[]>();
  const lastTsByTrack = new Map<bigint, bigint>();
  const reportedOnce = new Set<string>();
  const once = (key: string, f: () => void) => {
    if (reportedOnce.has(key)) return;
    reportedOnce.add(key);
    f();
  };
  let nextSlice = 0;
  const trackOrderCheck = (track: bigint, r: TeRecord) => {
    const last = lastTsByTrack.get(track);
    if (last !== undefined && r.ts < last) error('TRACK_TS_BACKWARDS', r.packetIndex, `event at ${r.ts} on track ${track} after one at ${last}`);
    else lastTsByTrack.set(track, r.ts);
  };
  for (const r of records) {
    if (r.type === TYPE_COUNTER) {
      if (r.flowIds.length || r.terminatingFlowIds.length) error('CTR_FLOWS_IGNORED', r.packetIndex, 'flow ids on a TYPE_COUNTER event are ignored');
      if (r.track === undefined) {
        error('CTR_NO_TRACK', r.packetIndex, 'TYPE_COUNTER without track_uuid (event or defaults) is dropped');
        continue;
      }
      if (!r.hasCounterValue) {
        error('CTR_NO_VALUE', r.packetIndex, `TYPE_COUNTER on track ${r.track} without counter_value is dropped`);
        continue;
      }
      const info = tracks.get(r.track);
      if (!info) {
        error('CTR_UNKNOWN_TRACK', r.packetIndex, `TYPE_COUNTER on track ${r.track}, which no track_descriptor describes: dropped`);
        continue;
      }
      if (info.summary.kind !== 'counter') {
        error('CTR_ON_NON_COUNTER_TRACK', r.packetIndex, `TYPE_COUNTER on ${info.summary.kind} track ${r.track} (no CounterDescriptor): dropped`);
        continue;
      }
      if (brokenTracks.has(r.track)) continue;
      trackOrderCheck(r.track, r);
      summary.counters++;
      continue;
    }
    if (r.type !== TYPE_SLICE_BEGIN && r.type !== TYPE_SLICE_END && r.type !== TYPE_INSTANT) {
      error('TE_NO_TYPE', r.packetIndex, `track_event type ${r.type} is not one this schema knows`);
      continue;
    }
    const track = r.track ?? 0n;
    const info = tracks.get(track);
    if (track === 0n) once('default', () => warn('TE_DEFAULT_TRACK', r.packetIndex, 'track_event without track_uuid lands on the global "Default Track"'));
    else if (!info) once(`unknown ${track}`, () => error('TE_UNKNOWN_TRACK', r.packetIndex, `track_event on track ${track}, which no track_descriptor describes: TP invents an unnamed track`));
    else if (info.packetIndex > r.packetIndex) once(`later ${track}`, () => warn('TE_TRACK_DESCRIBED_LATER', r.packetIndex, `track ${track} is used before its descriptor (packet ${info.packetIndex})`));
    if (brokenTracks.has(track)) continue;
    if (info?.summary.kind === 'counter') {
      error('SLICE_ON_COUNTER_TRACK', r.packetIndex, `slice-type event on counter track ${track}`);
      continue;
    }
    trackOrderCheck(track, r);
    let stack = stacks.get(track);
    if (!stack) stacks.set(track, (stack = []));
    if (r.type === TYPE_SLICE_END) {
      // END closes the innermost open slice whose name matches (no name matches anything).
      let i = stack.length - 1;
      if (r.name !== '') while (i >= 0 && stack[i]!.name !== r.name) i--;
      if (stack.length === 0) {
        error('SLICE_UNMATCHED_END', r.packetIndex, `SLICE_END on track ${track} with no slice open: dropped`);
        continue;
      }
      if (i < 0) {
        error('SLICE_END_NO_MATCH', r.packetIndex, `SLICE_END ${JSON.stringify(r.name)} on track ${track} matches no open slice`);
        continue;
      }
      if (i !== stack.length - 1) error('SLICE_END_MISNESTED', r.packetIndex, `SLICE_END ${JSON.stringify(r.name)} on track ${track} closes an outer slice`);
      const closed = stack.splice(i, 1)[0]!;
      r.slice = closed.slice;
      closed.summary.endTs = r.ts;
      for (const [k, v] of r.args) closed.summary.args[k] = v;
      summary.slicesEnded++;
      continue;
    }
    r.slice = nextSlice++;
    let names = summary.sliceNamesByTrack.get(track);
    if (!names) summary.sliceNamesByTrack.set(track, (names = []));
    names.push(r.name);
    const sliceSummary: SliceSummary = { track, name: r.name, ts: r.ts, args: Object.fromEntries(r.args) };
    summary.slices.push(sliceSummary);
    if (r.type === TYPE_INSTANT) {
      summary.instants++;
      continue;
    }
    if (stack.length >= MAX_SLICE_DEPTH) error('SLICE_TOO_DEEP', r.packetIndex, `slice nesting on track ${track} exceeds ${MAX_SLICE_DEPTH}`);
    stack.push({ slice: r.slice, name: r.name, packetIndex: r.packetIndex, summary: sliceSummary });
    summary.slicesBegun++;
  }
  for (const [track, stack] of stacks) {
    for (const open of stack) warn('SLICE_UNCLOSED', open.packetIndex, `slice ${JSON.stringify(open.name)} on track ${track} never ends (dur = -1)`);
  }

  // Flows, as TP: all events with a slice, in timestamp order (stable: equal ts keep file order).
  const flowEvents = records.filter((r) => r.slice !== undefined).sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
  const sightings = new Map<bigint, { count: number; packetIndex: number }>();
  const active = new Map<bigint, number>(); // flow id -> slice it is bound to
  const withArrows = new Set<bigint>();
  const arrow = (id: bigint, from: number, r: TeRecord) => {
    if (from === r.slice) error('FLOW_SELF', r.packetIndex, `flow ${id} draws an arrow from a slice to itself (same id on the BEGIN and END of one slice?)`);
    withArrows.add(id);
  };
  for (const r of flowEvents) {
    const slice = r.slice!;
    for (const id of [...r.flowIds, ...r.terminatingFlowIds]) {
      const s = sightings.get(id);
      if (s) s.count++;
      else sightings.set(id, { count: 1, packetIndex: r.packetIndex });
    }
    for (const id of r.flowIds) {
      if (r.terminatingFlowIds.includes(id)) warn('FLOW_BOTH_LISTS', r.packetIndex, `flow ${id} is in both flow_ids and terminating_flow_ids of one event`);
      const from = active.get(id);
      if (from !== undefined) arrow(id, from, r);
      active.set(id, slice);
    }
    for (const id of r.terminatingFlowIds) {
      const from = active.get(id);
      if (from === undefined) {
        warn('FLOW_TERMINATE_UNSTARTED', r.packetIndex, `terminating flow ${id} was never started: ignored`);
        continue;
      }
      arrow(id, from, r);
      active.delete(id);
    }
  }
  for (const [id, s] of sightings) {
    if (s.count === 1) error('FLOW_DANGLING', s.packetIndex, `flow ${id} appears on one event only: it draws no arrow`);
  }
  summary.flowsWithArrows = withArrows.size;

  // Ftrace leftovers and process metadata.
  for (const [cpu, st] of cpus) {
    for (const idx of st.irqOpen) warn('IRQ_UNBALANCED', idx, `cpu ${cpu}: irq_handler_entry never exited`);
    for (const idx of st.softirqOpen) warn('SOFTIRQ_UNBALANCED', idx, `cpu ${cpu}: softirq_entry never exited`);
  }
  if (sawSchedData && !summary.hasSystemInfoRelease) warn('SCHED_NO_KERNEL_VERSION', firstSchedPacket, 'sched data without system_info.utsname.release: TP decodes prev_state as kernel 4.4');
  for (const [tid, idx] of schedTids) {
    if (!pidOfTid.has(tid)) warn('SCHED_THREAD_NO_PROCESS', idx, `tid ${tid} appears in sched data but no ProcessTree thread or ThreadDescriptor gives its pid`);
  }
  for (const [uuid, t] of tracks) {
    const pid = t.summary.pid;
    if (t.summary.kind === 'thread' && pid !== undefined && !summary.processes.has(pid)) {
      once(`unnamed ${pid}`, () => warn('PROC_UNNAMED', t.packetIndex, `thread track ${uuid} is in pid ${pid}, which no ProcessDescriptor / ProcessTree names`));
    }
  }

  issues.sort((a, b) => a.packetIndex - b.packetIndex); // stable: same-packet issues keep detection order
  return { issues, summary };
}
