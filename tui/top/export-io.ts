// One I/O from the inspector as a Perfetto trace: a group track for the I/O and one track per
// layer (the layers overlap without nesting, as a bio outlives submit_bio), in waterfall order.

import { PerfettoWriter } from '../../exporters/perfetto.js';
import { SIMULATED_KERNEL_RELEASE } from '../../probes/recorder.js';
import type { IoRecord } from './inspector.js';

export function writeIoPerfetto(io: IoRecord, out: (chunk: Uint8Array) => void): void {
  const w = new PerfettoWriter(out);
  w.start({ cpus: 1, memoryBytes: 0, pageSizeBytes: 4096, kernelRelease: SIMULATED_KERNEL_RELEASE, machineName: 'kiotrace' });
  w.processes(io.startNs, [{ pid: io.pid, tgid: io.pid, ppid: 0, comm: io.task, kthread: false }]);
  const group = 1;
  w.defineTrack(group, `I/O ${io.ioId}: ${io.origin} by ${io.task}${io.device ? ` on ${io.device}` : ''}`, undefined);
  const width = String(io.layers.length).length;
  io.layers.forEach((l, i) => w.defineTrack(group + 1 + i, `${String(i + 1).padStart(width, '0')} ${'  '.repeat(l.depth)}${l.name}`, group));
  // events in time order across the tracks; at equal times ends go first, except the end of a
  // zero-length layer, which must follow its own begin
  const events: { ts: number; track: number; begin: boolean; i: number; order: number }[] = [];
  io.layers.forEach((l, i) => {
    events.push({ ts: l.startNs, track: group + 1 + i, begin: true, i, order: 1 });
    events.push({ ts: l.endNs, track: group + 1 + i, begin: false, i, order: l.endNs === l.startNs ? 2 : 0 });
  });
  events.sort((a, b) => a.ts - b.ts || a.order - b.order || a.i - b.i);
  for (const e of events) {
    const l = io.layers[e.i]!;
    if (e.begin) w.sliceBegin(e.track, e.ts, l.name, 'io', [{ name: 'ioid', value: io.ioId }, ...(l.detail ? [{ name: 'detail', value: l.detail }] : [])]);
    else w.sliceEnd(e.track, e.ts);
  }
  w.finish(io.startNs + io.durationNs);
}
