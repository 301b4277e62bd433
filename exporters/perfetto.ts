// Perfetto trace writer: a TimelineSink that streams protobuf TracePackets (perfetto_trace.proto,
// our proto2 subset with the official field numbers) through protobufjs, chunk by chunk, so
// memory does not grow with the length of the run. Two writer sequences: 1 carries the kernel's
// own records (system info, process tree, ftrace sched events per CPU), 2 the track events
// (descriptors, slices, counters, flows) with interned names. Like an OpenTelemetry exporter it
// never throws: an output that fails is remembered and counted (outputError, bytesLost).

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import type { TaskInfo } from '../core/index.js';
import type { CounterUnit, TimelineAnnotation, TimelineSink, TimelineStart } from '../probes/recorder.js';

const SEQ_KERNEL = 1;
const SEQ_TRACKS = 2;
const SEQ_INCREMENTAL_STATE_CLEARED = 1;
const SEQ_NEEDS_INCREMENTAL_STATE = 2;
/** Flush a chunk to the output once this many bytes are pending. */
const CHUNK_BYTES = 256 * 1024;
/** ftrace events buffered per CPU before they go out as one bundle. */
const BUNDLE_EVENTS = 512;

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const tag = (field: number, wire: number): number => ((field << 3) | wire) >>> 0;

/** A uint64 varint; below 2^32 through protobufjs's cheaper uint32 path, which writes the same bytes. */
function writeVarint64(w: protobuf.Writer, value: number): void {
  if (value <= 0xffffffff && value >= 0) w.uint32(value);
  else w.uint64(value);
}

/** Where the schema lives: exporters/perfetto/ in the package (dist/ has only the compiled code). */
export function perfettoProtoPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'exporters', 'perfetto', 'perfetto_trace.proto');
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      const up = dirname(dir);
      if (up === dir) throw new Error('perfetto_trace.proto not found');
      dir = up;
    }
  }
}

export function loadPerfettoSchema(): protobuf.Root {
  return protobuf.loadSync(perfettoProtoPath());
}

/** Field numbers read from the schema, so the hot path and the .proto cannot disagree. */
function fieldIds(root: protobuf.Root) {
  const id = (type: string, field: string): number => {
    const f = root.lookupType(`perfetto.protos.${type}`).fields[field];
    if (!f) throw new Error(`perfetto schema: ${type}.${field} missing`);
    return f.id;
  };
  return {
    traceEntry: id('Trace', 'packet'),
    timestamp: id('TracePacket', 'timestamp'),
    sequenceId: id('TracePacket', 'trustedPacketSequenceId'),
    sequenceFlags: id('TracePacket', 'sequenceFlags'),
    internedData: id('TracePacket', 'internedData'),
    trackEvent: id('TracePacket', 'trackEvent'),
    trackDescriptor: id('TracePacket', 'trackDescriptor'),
    ftraceEvents: id('TracePacket', 'ftraceEvents'),
    processTree: id('TracePacket', 'processTree'),
    systemInfo: id('TracePacket', 'systemInfo'),
    eventNames: id('InternedData', 'eventNames'),
    eventCategories: id('InternedData', 'eventCategories'),
    annotationNames: id('InternedData', 'debugAnnotationNames'),
    internedIid: id('EventName', 'iid'),
    internedName: id('EventName', 'name'),
    type: id('TrackEvent', 'type'),
    trackUuid: id('TrackEvent', 'trackUuid'),
    nameIid: id('TrackEvent', 'nameIid'),
    categoryIids: id('TrackEvent', 'categoryIids'),
    counterValue: id('TrackEvent', 'counterValue'),
    debugAnnotations: id('TrackEvent', 'debugAnnotations'),
    flowIds: id('TrackEvent', 'flowIds'),
    terminatingFlowIds: id('TrackEvent', 'terminatingFlowIds'),
    annotationNameIid: id('DebugAnnotation', 'nameIid'),
    annotationInt: id('DebugAnnotation', 'intValue'),
    annotationString: id('DebugAnnotation', 'stringValue'),
  };
}

const TYPE_SLICE_BEGIN = 1;
const TYPE_SLICE_END = 2;
const TYPE_INSTANT = 3;
const TYPE_COUNTER = 4;

interface FtraceEventObject {
  timestamp: number;
  pid: number;
  schedSwitch?: object;
  schedWaking?: object;
  irqHandlerEntry?: object;
  irqHandlerExit?: object;
  softirqEntry?: object;
  softirqExit?: object;
}

/** An interning table for one kind of string on the track-event sequence. */
class InternTable {
  private readonly ids = new Map<string, number>();
  /** Entries first used by the packet being written. */
  pending: [number, string][] = [];

  iid(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(s, id);
      this.pending.push([id, s]);
    }
    return id;
  }
}

export class PerfettoWriter implements TimelineSink {
  /** Track events plus ftrace events written (what "events per second" counts). */
  eventsWritten = 0;
  /** Bytes `out` took. */
  bytesWritten = 0;
  /** Bytes not written because `out` failed (it is not called again after that). */
  bytesLost = 0;
  /** The first error `out` threw. */
  outputError: Error | undefined;
  private w = protobuf.Writer.create();
  private readonly f: ReturnType<typeof fieldIds>;
  private readonly types: {
    trackDescriptor: protobuf.Type;
    processTree: protobuf.Type;
    systemInfo: protobuf.Type;
    bundle: protobuf.Type;
  };
  private readonly names = new InternTable();
  private readonly categories = new InternTable();
  private readonly annotationNames = new InternTable();
  private readonly ftrace: FtraceEventObject[][] = [];
  private lastTsNs = 0;
  private trackSequenceCleared = false;

  constructor(
    private readonly out: (chunk: Uint8Array) => void,
    root: protobuf.Root = loadPerfettoSchema(),
  ) {
    this.f = fieldIds(root);
    this.types = {
      trackDescriptor: root.lookupType('perfetto.protos.TrackDescriptor'),
      processTree: root.lookupType('perfetto.protos.ProcessTree'),
      systemInfo: root.lookupType('perfetto.protos.SystemInfo'),
      bundle: root.lookupType('perfetto.protos.FtraceEventBundle'),
    };
  }

  start(info: TimelineStart): void {
    for (let c = 0; c < info.cpus; c++) this.ftrace.push([]);
    const w = this.w;
    const f = this.f;
    w.uint32(tag(f.traceEntry, WIRE_LEN)).fork();
    w.uint32(tag(f.sequenceId, WIRE_VARINT)).uint32(SEQ_KERNEL);
    const systemInfo = {
      utsname: { sysname: 'Linux', version: '#1 SMP PREEMPT_DYNAMIC', release: info.kernelRelease, machine: 'x86_64' },
      pageSize: info.pageSizeBytes,
      numCpus: info.cpus,
      systemRamBytes: info.memoryBytes,
      machineName: info.machineName,
    };
    this.types.systemInfo.encode(systemInfo, w.uint32(tag(f.systemInfo, WIRE_LEN)).fork()).ldelim();
    w.ldelim();
    // the first packet of the track sequence clears its incremental state: interning starts here
    w.uint32(tag(f.traceEntry, WIRE_LEN)).fork();
    w.uint32(tag(f.timestamp, WIRE_VARINT)).uint64(0);
    w.uint32(tag(f.sequenceId, WIRE_VARINT)).uint32(SEQ_TRACKS);
    w.uint32(tag(f.sequenceFlags, WIRE_VARINT)).uint32(SEQ_INCREMENTAL_STATE_CLEARED);
    w.ldelim();
    this.trackSequenceCleared = true;
    this.maybeFlush();
  }

  processes(tsNs: number, tasks: readonly TaskInfo[]): void {
    const tree = {
      // a process per thread group: io_uring's io-wq and SQ threads belong to their submitter's
      processes: tasks.filter((t) => t.pid === t.tgid).map((t) => ({ pid: t.pid, ppid: t.ppid, cmdline: [t.comm], isKthread: t.kthread })),
      threads: tasks.map((t) => ({ tid: t.pid, tgid: t.tgid, name: t.comm })),
    };
    const w = this.w;
    const f = this.f;
    w.uint32(tag(f.traceEntry, WIRE_LEN)).fork();
    w.uint32(tag(f.timestamp, WIRE_VARINT)).uint64(tsNs);
    w.uint32(tag(f.sequenceId, WIRE_VARINT)).uint32(SEQ_KERNEL);
    this.types.processTree.encode(tree, w.uint32(tag(f.processTree, WIRE_LEN)).fork()).ldelim();
    w.ldelim();
    this.maybeFlush();
  }

  defineThreadTrack(trackId: number, pid: number, tid: number, name: string): void {
    this.descriptor({ uuid: trackId, thread: { pid, tid, threadName: name } });
  }

  defineTrack(trackId: number, name: string, parentTrackId: number | undefined, counterUnit?: CounterUnit): void {
    const d: Record<string, unknown> = { uuid: trackId, name };
    if (parentTrackId !== undefined) d.parentUuid = parentTrackId;
    if (counterUnit !== undefined) d.counter = { unit: counterUnit === 'bytes' ? 3 : 2 };
    this.descriptor(d);
  }

  private descriptor(d: object): void {
    const w = this.w;
    const f = this.f;
    w.uint32(tag(f.traceEntry, WIRE_LEN)).fork();
    w.uint32(tag(f.timestamp, WIRE_VARINT)).uint64(this.lastTsNs);
    w.uint32(tag(f.sequenceId, WIRE_VARINT)).uint32(SEQ_TRACKS);
    this.types.trackDescriptor.encode(d, w.uint32(tag(f.trackDescriptor, WIRE_LEN)).fork()).ldelim();
    w.ldelim();
    this.maybeFlush();
  }

  sliceBegin(trackId: number, tsNs: number, name: string, category: string, annotations?: readonly TimelineAnnotation[], flowIds?: readonly number[]): void {
    this.trackEvent(TYPE_SLICE_BEGIN, trackId, tsNs, name, category, annotations, flowIds, undefined, undefined);
  }

  sliceEnd(trackId: number, tsNs: number, annotations?: readonly TimelineAnnotation[], flowIds?: readonly number[], terminatingFlowIds?: readonly number[]): void {
    this.trackEvent(TYPE_SLICE_END, trackId, tsNs, undefined, undefined, annotations, flowIds, terminatingFlowIds, undefined);
  }

  instant(trackId: number, tsNs: number, name: string, category: string, annotations?: readonly TimelineAnnotation[], terminatingFlowIds?: readonly number[]): void {
    this.trackEvent(TYPE_INSTANT, trackId, tsNs, name, category, annotations, undefined, terminatingFlowIds, undefined);
  }

  counter(trackId: number, tsNs: number, value: number): void {
    this.trackEvent(TYPE_COUNTER, trackId, tsNs, undefined, undefined, undefined, undefined, undefined, value);
  }

  private trackEvent(
    type: number,
    trackId: number,
    tsNs: number,
    name: string | undefined,
    category: string | undefined,
    annotations: readonly TimelineAnnotation[] | undefined,
    flowIds: readonly number[] | undefined,
    terminatingFlowIds: readonly number[] | undefined,
    counterValue: number | undefined,
  ): void {
    if (!this.trackSequenceCleared) throw new Error('PerfettoWriter: start() first');
    const f = this.f;
    const nameIid = name !== undefined ? this.names.iid(name) : 0;
    const categoryIid = category !== undefined ? this.categories.iid(category) : 0;
    let annotationIids: number[] | undefined;
    if (annotations) annotationIids = annotations.map((a) => this.annotationNames.iid(a.name));
    const usesIids = nameIid !== 0 || categoryIid !== 0 || annotationIids !== undefined;

    const w = this.w;
    w.uint32(tag(f.traceEntry, WIRE_LEN)).fork();
    writeVarint64(w.uint32(tag(f.timestamp, WIRE_VARINT)), tsNs);
    w.uint32(tag(f.sequenceId, WIRE_VARINT)).uint32(SEQ_TRACKS);
    if (usesIids) {
      w.uint32(tag(f.sequenceFlags, WIRE_VARINT)).uint32(SEQ_NEEDS_INCREMENTAL_STATE);
      this.writeInterned();
    }
    w.uint32(tag(f.trackEvent, WIRE_LEN)).fork();
    w.uint32(tag(f.type, WIRE_VARINT)).uint32(type);
    w.uint32(tag(f.trackUuid, WIRE_VARINT)).uint32(trackId);
    if (nameIid !== 0) w.uint32(tag(f.nameIid, WIRE_VARINT)).uint32(nameIid);
    if (categoryIid !== 0) w.uint32(tag(f.categoryIids, WIRE_VARINT)).uint32(categoryIid);
    if (counterValue !== undefined) w.uint32(tag(f.counterValue, WIRE_VARINT)).int64(counterValue);
    if (annotations && annotationIids) {
      for (let i = 0; i < annotations.length; i++) {
        const a = annotations[i]!;
        w.uint32(tag(f.debugAnnotations, WIRE_LEN)).fork();
        w.uint32(tag(f.annotationNameIid, WIRE_VARINT)).uint32(annotationIids[i]!);
        if (typeof a.value === 'number') w.uint32(tag(f.annotationInt, WIRE_VARINT)).int64(a.value);
        else w.uint32(tag(f.annotationString, WIRE_LEN)).string(a.value);
        w.ldelim();
      }
    }
    // unpacked fixed64, one tag per id: what Perfetto's decoder expects for flow ids
    if (flowIds) for (const id of flowIds) w.uint32(tag(f.flowIds, WIRE_FIXED64)).fixed64(id);
    if (terminatingFlowIds) for (const id of terminatingFlowIds) w.uint32(tag(f.terminatingFlowIds, WIRE_FIXED64)).fixed64(id);
    w.ldelim();
    w.ldelim();
    this.lastTsNs = tsNs;
    this.eventsWritten++;
    this.maybeFlush();
  }

  /** The packet's interned_data: the strings this packet is the first to use. */
  private writeInterned(): void {
    if (this.names.pending.length + this.categories.pending.length + this.annotationNames.pending.length === 0) return;
    const tables: [InternTable, number][] = [
      [this.names, this.f.eventNames],
      [this.categories, this.f.eventCategories],
      [this.annotationNames, this.f.annotationNames],
    ];
    const w = this.w;
    const f = this.f;
    w.uint32(tag(f.internedData, WIRE_LEN)).fork();
    for (const [table, field] of tables) {
      for (const [iid, s] of table.pending) {
        w.uint32(tag(field, WIRE_LEN)).fork();
        w.uint32(tag(f.internedIid, WIRE_VARINT)).uint64(iid);
        w.uint32(tag(f.internedName, WIRE_LEN)).string(s);
        w.ldelim();
      }
      table.pending = [];
    }
    w.ldelim();
  }

  schedSwitch(cpu: number, tsNs: number, prevComm: string, prevPid: number, prevPrio: number, prevState: number, nextComm: string, nextPid: number, nextPrio: number): void {
    this.ftraceEvent(cpu, {
      timestamp: tsNs,
      pid: prevPid,
      schedSwitch: { prevComm, prevPid, prevPrio, prevState, nextComm, nextPid, nextPrio },
    });
  }

  schedWaking(cpu: number, tsNs: number, commonPid: number, comm: string, pid: number, prio: number, targetCpu: number): void {
    this.ftraceEvent(cpu, { timestamp: tsNs, pid: commonPid, schedWaking: { comm, pid, prio, success: 1, targetCpu } });
  }

  irqHandler(cpu: number, tsNs: number, commonPid: number, entry: boolean, irq: number, name: string, ret: number): void {
    if (entry) this.ftraceEvent(cpu, { timestamp: tsNs, pid: commonPid, irqHandlerEntry: { irq, name } });
    else this.ftraceEvent(cpu, { timestamp: tsNs, pid: commonPid, irqHandlerExit: { irq, ret } });
  }

  softirq(cpu: number, tsNs: number, commonPid: number, entry: boolean, vec: number): void {
    if (entry) this.ftraceEvent(cpu, { timestamp: tsNs, pid: commonPid, softirqEntry: { vec } });
    else this.ftraceEvent(cpu, { timestamp: tsNs, pid: commonPid, softirqExit: { vec } });
  }

  private ftraceEvent(cpu: number, e: FtraceEventObject): void {
    const buf = this.ftrace[cpu];
    if (!buf) return;
    buf.push(e);
    this.eventsWritten++;
    if (buf.length >= BUNDLE_EVENTS) this.flushBundle(cpu);
  }

  private flushBundle(cpu: number): void {
    const events = this.ftrace[cpu]!;
    if (events.length === 0) return;
    const w = this.w;
    const f = this.f;
    w.uint32(tag(f.traceEntry, WIRE_LEN)).fork();
    w.uint32(tag(f.sequenceId, WIRE_VARINT)).uint32(SEQ_KERNEL);
    this.types.bundle.encode({ cpu, event: events }, w.uint32(tag(f.ftraceEvents, WIRE_LEN)).fork()).ldelim();
    w.ldelim();
    this.ftrace[cpu] = [];
    this.maybeFlush();
  }

  finish(_endNs: number): void {
    for (let c = 0; c < this.ftrace.length; c++) this.flushBundle(c);
    this.flush();
  }

  private maybeFlush(): void {
    if (this.w.len >= CHUNK_BYTES) this.flush();
  }

  /** Hands the pending bytes to `out`; after it has failed once nothing more goes (a trace with a hole is no trace). */
  private flush(): void {
    if (this.w.len === 0) return;
    const chunk = this.w.finish();
    this.w = protobuf.Writer.create();
    if (this.outputError !== undefined) {
      this.bytesLost += chunk.length;
      return;
    }
    try {
      this.out(chunk);
      this.bytesWritten += chunk.length;
    } catch (e) {
      // like every exporter, it never throws into the simulation: the error is kept and counted
      this.outputError = e instanceof Error ? e : new Error(String(e));
      this.bytesLost += chunk.length;
    }
  }
}
