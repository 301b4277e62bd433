// One I/O from the inspector as a Perfetto trace: a group track for the I/O and one track per
// layer (the layers overlap without nesting, as a bio outlives submit_bio), in waterfall order.

import { fsErrorText } from '../output-files.js';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
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

/** Where an export went (an absolute path), or why it could not be written. */
export type WriteIoResult = { readonly ok: true; readonly path: string; readonly text: string } | { readonly ok: false; readonly text: string };

/** Writes one I/O to `path` as a Perfetto trace; an existing file is never written over. */
export function writeIoFile(io: IoRecord, path: string): WriteIoResult {
  const chunks: Uint8Array[] = [];
  writeIoPerfetto(io, (c) => chunks.push(c.slice()));
  const full = resolve(path);
  try {
    // 'wx': fail rather than replace what is there
    writeFileSync(full, Buffer.concat(chunks), { flag: 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' ? 'it exists already; give another name' : code === 'ENOENT' ? 'no such directory' : fsErrorText(e);
    return { ok: false, text: `not written: ${full}: ${why}` };
  }
  return { ok: true, path: full, text: `wrote ${full} (${io.layers.length} layers); open it at https://ui.perfetto.dev` };
}
