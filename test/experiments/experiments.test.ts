// The experiments in traces/experiments/: each job file runs as shipped and shows its phenomenon in
// the direction and about the size its README paragraph says. Numbers come from the model's
// mechanisms (dies, NCQ, the elevator, queues, syscalls, copies); the assertions bound them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { JobReport, Machine, ProbeHit, RunReport } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { runScript } from '../../probes/script.js';
import { loadMachineFile, renderDiagnostic, type LoadOptions } from '../../tui/scenario.js';
import { scriptOptions } from '../helpers/script.js';
import { readFileSync } from 'node:fs';
import { bootExperiment, EXPERIMENTS_DIR as DIR } from '../helpers/experiment.js';



/** Runs a job file to its end (the run stops when its jobs have exited). */
function runJobFile(file: string, opts: LoadOptions = {}, before?: (m: Machine) => void): RunReport {
  const { m, durationNs, name } = bootExperiment(file, opts);
  before?.(m);
  m.run(durationNs);
  assert.ok(m.allJobsDone, `${file}: every job ended within ${durationNs} ns`);
  return m.report(name, 1);
}

function job(r: RunReport, name: string): JobReport {
  const j = r.jobs.find((x) => x.name === name);
  assert.ok(j, `job ${name}`);
  return j;
}

const meanLatNs = (j: JobReport): number => j.read.lat.meanNs;

test('queue depth on NVMe: IOPS rises with iodepth until the dies are busy, then latency grows; Little\'s law holds within 1%', () => {
  // time-averaged SQEs in flight per job (io_uring_submit_req .. io_uring_complete), from probes
  const inflight = new Map<number, { n: number; lastNs: number; areaNs: number; firstNs: number; done: number; sojournNs: number }>();
  const step = (h: ProbeHit, delta: number): void => {
    const s = inflight.get(h.pid) ?? { n: 0, lastNs: h.timeNs, areaNs: 0, firstNs: h.timeNs, done: 0, sojournNs: 0 };
    s.areaNs += s.n * (h.timeNs - s.lastNs);
    s.n += delta;
    s.lastNs = h.timeNs;
    inflight.set(h.pid, s);
  };
  // completions are posted from interrupt context: match them to the submitter by the SQE's ioId
  const owner = new Map<number, { pid: number; submitNs: number }>();
  const r = runJobFile('queue-depth-nvme.fio', {}, (m) => {
    attach(m, 'tracepoint:io_uring:io_uring_submit_req', (h) => {
      owner.set(h.ioId, { pid: h.pid, submitNs: h.timeNs });
      step(h, +1);
    });
    attach(m, 'tracepoint:io_uring:io_uring_complete', (h) => {
      const o = owner.get(h.ioId);
      if (o === undefined) return;
      owner.delete(h.ioId);
      step({ pid: o.pid, timeNs: h.timeNs } as ProbeHit, -1);
      const s = inflight.get(o.pid)!;
      s.done++;
      s.sojournNs += h.timeNs - o.submitNs;
    });
  });
  const depths = [1, 2, 4, 8, 16, 32, 64, 128];
  const iops = depths.map((d) => job(r, `qd${d}`).read.iops);
  const lat = depths.map((d) => meanLatNs(job(r, `qd${d}`)));
  for (let i = 1; i < 7; i++) assert.ok(iops[i]! > iops[i - 1]!, `IOPS rises from qd${depths[i - 1]} to qd${depths[i]}: ${iops.map(Math.round).join(', ')}`);
  assert.ok(iops[1]! / iops[0]! > 1.9, `qd2 nearly doubles qd1: ${iops[1]} / ${iops[0]}`);
  assert.ok(iops[6]! / iops[0]! > 15, `qd64 gives over 15x the IOPS of qd1: ${iops[6]} / ${iops[0]}`);
  // saturation: twice the depth, the same IOPS, about twice the latency
  assert.ok(iops[7]! / iops[6]! < 1.05, `qd128 adds under 5%: ${iops[7]} / ${iops[6]}`);
  assert.ok(lat[7]! / lat[6]! > 1.5, `qd128's latency is over 1.5x qd64's: ${lat[7]} / ${lat[6]}`);
  assert.ok(lat[1]! / lat[0]! < 1.05, `below saturation depth costs no latency: ${lat[1]} / ${lat[0]}`);
  // Little's law per job, from the kernel's side (an SQE from io_uring_submit_req to its CQE): the
  // time-averaged SQEs in flight L against throughput x mean time in the kernel, lambda x W
  for (const d of depths) {
    const j = job(r, `qd${d}`);
    const s = inflight.get(j.pid)!;
    const windowNs = s.lastNs - s.firstNs;
    const measuredL = s.areaNs / windowNs;
    const littleL = (s.done / windowNs) * (s.sojournNs / s.done);
    assert.ok(Math.abs(measuredL / littleL - 1) < 0.01, `qd${d}: in flight ${measuredL.toFixed(3)} vs IOPS x latency ${littleL.toFixed(3)}`);
    assert.ok(measuredL <= d + 1e-9, `qd${d}: never more than iodepth in flight (${measuredL})`);
  }
});

test('queue depth on a disk: throughput rises with depth (NCQ, then the elevator past NCQ\'s 32); mq-deadline only differs once requests wait beyond NCQ', () => {
  const run = (sched: string): RunReport => {
    const loaded = loadMachineFile(join(DIR, `hdd-${sched}.json`));
    if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
    return runJobFile('hdd-queue-depth.fio', { machine: loaded.machine });
  };
  const none = run('none');
  const deadline = run('mq-deadline');
  const depths = [1, 4, 16, 64];
  for (const r of [none, deadline]) {
    const iops = depths.map((d) => job(r, `qd${d}`).read.iops);
    for (let i = 1; i < depths.length; i++) assert.ok(iops[i]! > iops[i - 1]!, `IOPS rises with depth: ${iops.map(Math.round).join(', ')}`);
    assert.ok(iops[3]! / iops[0]! > 4, `qd64 gives over 4x qd1: ${iops.map(Math.round).join(', ')}`);
  }
  // up to 32 requests the drive's NCQ holds them all: the elevator has nothing to sort
  for (const d of [1, 4, 16]) assert.equal(job(deadline, `qd${d}`).read.ios, job(none, `qd${d}`).read.ios, `qd${d}: the same I/Os with either scheduler`);
  // past it, mq-deadline hands the disk sector-sorted batches: more reads in the same time
  assert.ok(job(deadline, 'qd64').read.iops > job(none, 'qd64').read.iops * 1.015, `qd64: mq-deadline ${job(deadline, 'qd64').read.iops} vs none ${job(none, 'qd64').read.iops}`);
});

test('open-loop Poisson arrivals: the rate is held, and the mean latency grows much faster than the load near saturation', () => {
  const r = runJobFile('open-loop.fio');
  const rates = [50, 100, 150, 200, 250, 275, 300];
  const lat = rates.map((k) => meanLatNs(job(r, `rate${k}k`)));
  for (const k of rates) {
    const got = job(r, `rate${k}k`).read.iops;
    assert.ok(Math.abs(got / (k * 1000) - 1) < 0.05, `rate${k}k holds its arrival rate: ${got}`);
  }
  for (let i = 1; i < rates.length; i++) assert.ok(lat[i]! > lat[i - 1]!, `latency rises with load: ${lat.map(Math.round).join(', ')}`);
  // non-linear: the last 50k IOPS cost more latency than the 200k before them
  assert.ok(lat[6]! - lat[4]! > lat[4]! - lat[0]!, `latency ${lat.map(Math.round).join(', ')}`);
  assert.ok(lat[6]! / lat[0]! > 4, `near saturation a read takes over 4x its unloaded time: ${lat[6]} / ${lat[0]}`);
});

test('io_uring vs psync: syscalls per I/O far below 1 with batches, 0 bytes copied with O_DIRECT and registered buffers (the shipped script shows both)', () => {
  const { m, durationNs, name } = bootExperiment('io-uring-vs-psync.fio');
  let out = '';
  const text = readFileSync(join(DIR, 'syscalls-copies.bt'), 'utf8');
  const result = runScript(m, scriptOptions(text, durationNs, (s, stream) => {
    if (stream === 'stdout') out += s;
  }));
  assert.equal(result.exitCode, 0, out);
  const r = m.report(name, 1);
  const value = (map: string, comm: string): number => Number(new RegExp(`^@${map}\\[${comm}\\]: (\\d+)$`, 'm').exec(out)?.[1] ?? 0);
  const ios = (j: string): number => job(r, j).read.ios;
  // psync: one pread per I/O (plus the job's set-up: open, mmap, ...); io_uring: one enter per batch
  assert.ok(value('syscalls', 'psync-direct') / ios('psync-direct') >= 1, out);
  assert.ok(value('syscalls', 'uring-fixed') / ios('uring-fixed') < 0.2, `${value('syscalls', 'uring-fixed')} syscalls for ${ios('uring-fixed')} I/Os`);
  assert.equal(value('sqes', 'uring-fixed'), ios('uring-fixed'));
  // copies per byte: 1 through the page cache, 0 with O_DIRECT (psync or registered buffers)
  assert.equal(value('copied_bytes', 'psync-buffered'), job(r, 'psync-buffered').read.bytes);
  assert.equal(value('copied_bytes', 'psync-direct'), 0);
  assert.equal(value('copied_bytes', 'uring-fixed'), 0);
  // io_uring's buffered misses are copied by its io-wq workers
  const workerCopies = [...out.matchAll(/^@copied_bytes\[iou-wrk-\d+\]: (\d+)$/gm)].reduce((n, x) => n + Number(x[1]), 0);
  assert.ok((workerCopies + value('copied_bytes', 'uring-buffered')) / job(r, 'uring-buffered').read.bytes > 0.99, out);
  assert.ok(job(r, 'uring-fixed').read.iops > 10 * job(r, 'psync-direct').read.iops);
});
