// NVMe Command Retry Delay: a failed command whose status carries CRD is requeued at once
// (block_rq_requeue) but goes to the drive again only crdt[CRD - 1] * 100 ms later
// (nvme_retry_req), provided the controller reported CRDT and the host enabled ACRE.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, type Machine } from '../../../core/index.js';
import type { FaultSpec } from '../../../core/hw/fault-inject.js';
import { AT_FDCWD, sysClose, sysMmap, sysOpenat } from '../../../core/fs/open.js';
import { sysPread64 } from '../../../core/fs/read_write.js';
import { O } from '../../../core/fs/types.js';
import { MAP, PROT } from '../../../core/mm/mmap.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import { attach } from '../../../probes/attach.js';

const MS = 1e6;
/** Unrecovered Read Error (0x281) with CRD = 1 and CRD = 2 (status bits 12:11). */
const READ_ERROR_CRD1 = 0x281 | (1 << 11);
const READ_ERROR_CRD2 = 0x281 | (2 << 11);

const transient = (first: number, nvmeStatus: number): FaultSpec => ({ op: 'read', kind: 'transient', count: 2, firstSector: first, lastSector: first + 7, probability: 0, nvmeStatus });

/** APST off (pm_qos_latency_tolerance_us 0): the drive would otherwise sleep through a delay and add its exit latency. */
function nvmeMachine(faults: FaultSpec[], crdt?: readonly [number, number, number]): Machine {
  return bootMachine({ cpus: 2, memoryBytes: 2 ** 30, devices: [{ name: 'nvme0n1', kind: 'nvme', capacityBytes: 2 ** 30, scheduler: 'none', mount: '', faults, psMaxLatencyUs: 0, ...(crdt ? { ssd: { crdt } } : {}) }] }, 1);
}

interface Traced {
  /** [event, time ns, nvme status] in order. */
  readonly events: [string, number, number][];
  /** The pread's result and latency. */
  readonly result: number;
  readonly latencyNs: number;
}

/** One 4 KiB O_DIRECT read of /dev/nvme0n1 at `sector`, with its issues, completions and requeues. */
function tracedRead(m: Machine, sector: number): Traced {
  const k = m.k;
  const events: [string, number, number][] = [];
  attach(m, 'tracepoint:block:block_rq_issue', (h) => events.push(['issue', h.timeNs, 0]));
  attach(m, 'tracepoint:nvme:nvme_complete_rq', (h) => events.push(['nvme_complete_rq', h.timeNs, Number(h.fields['status'])]));
  attach(m, 'tracepoint:block:block_rq_requeue', (h) => events.push(['requeue', h.timeNs, 0]));
  attach(m, 'tracepoint:block:block_rq_complete', (h) => events.push(['complete', h.timeNs, Number(h.fields['error'])]));
  const out = { result: 0, latencyNs: 0 };
  m.spawn('crd-test', false, function* (t) {
    const buf = yield* sysMmap(k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
    const fd = yield* sysOpenat(k, t, AT_FDCWD, '/dev/nvme0n1', O.RDONLY | O.DIRECT, 0);
    const start = k.env.nowNs;
    out.result = yield* sysPread64(k, t, fd, buf, 4096, sector * 512);
    out.latencyNs = k.env.nowNs - start;
    yield* sysClose(k, t, fd);
  }, m.init);
  m.run(3e9);
  return { events, ...out };
}

test('CRD 1 with CRDT1 = 1: each retry waits 100 ms after its requeue; the read succeeds 200 ms late', () => {
  const r = tracedRead(nvmeMachine([transient(64, READ_ERROR_CRD1)], [1, 5, 0]), 64);
  assert.equal(r.result, 4096);
  assert.deepEqual(r.events.map(([e, , s]) => `${e}${s ? ` ${s.toString(16)}` : ''}`), [
    'issue', 'nvme_complete_rq a81', 'requeue',
    'issue', 'nvme_complete_rq a81', 'requeue',
    'issue', 'nvme_complete_rq', 'complete',
  ]);
  const t = (i: number): number => r.events[i]![1];
  // requeued in the completion's interrupt, issued again crdt[0] * 100 ms later
  assert.equal(t(2), t(1));
  assert.equal(t(3) - t(2), 100 * MS);
  assert.equal(t(6) - t(5), 100 * MS);
  // two waits, and three short device reads besides
  assert.ok(r.latencyNs > 200 * MS && r.latencyNs < 201 * MS, `${r.latencyNs / MS} ms`);
});

test('CRD 2 selects CRDT2 (500 ms); without CRDT the host leaves ACRE off, the drive clears CRD and retries go at once', () => {
  const two = tracedRead(nvmeMachine([transient(64, READ_ERROR_CRD2)], [1, 5, 0]), 64);
  assert.equal(two.result, 4096);
  assert.ok(two.latencyNs > 1000 * MS && two.latencyNs < 1001 * MS, `${two.latencyNs / MS} ms`);
  // the 970 PRO default: CRDT 0, 0, 0
  const none = tracedRead(nvmeMachine([transient(64, READ_ERROR_CRD2)]), 64);
  assert.equal(none.result, 4096);
  assert.deepEqual(none.events.filter(([e]) => e === 'nvme_complete_rq').map(([, , s]) => s), [0x281, 0x281, 0]);
  assert.ok(none.latencyNs < 1 * MS, `${none.latencyNs / MS} ms`);
});

test('the requeue work is one delayed work per queue: a later, shorter retry delay brings an earlier, longer one forward (mod_delayed_work)', () => {
  const m = nvmeMachine([{ ...transient(64, READ_ERROR_CRD2), count: 1 }, { ...transient(4096, READ_ERROR_CRD1), count: 1 }], [1, 5, 0]);
  const k = m.k;
  const issues = new Map<number, number[]>();
  attach(m, 'tracepoint:block:block_rq_issue', (h) => {
    const s = Number(h.fields['sector']);
    issues.set(s, [...(issues.get(s) ?? []), h.timeNs]);
  });
  // the CRD 2 read first, the CRD 1 read 10 us behind it
  for (const [sector, delayNs] of [[64, 0], [4096, 10_000]] as const) {
    m.spawn(`r${sector}`, false, function* (t) {
      const buf = yield* sysMmap(k, t, 0, 4096, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
      const fd = yield* sysOpenat(k, t, AT_FDCWD, '/dev/nvme0n1', O.RDONLY | O.DIRECT, 0);
      if (delayNs > 0) yield* nanosleep(k, t, delayNs);
      assert.equal(yield* sysPread64(k, t, fd, buf, 4096, sector * 512), 4096);
      yield* sysClose(k, t, fd);
    }, m.init);
  }
  m.run(2e9);
  const [a0, a1] = issues.get(64)!;
  const [b0, b1] = issues.get(4096)!;
  // the second kick (100 ms) re-arms the work that the first (500 ms) had armed: both go at once
  assert.equal(a1, b1);
  assert.ok(b1! - b0! > 100 * MS && b1! - b0! < 100.1 * MS, `CRD 1 retry after ${(b1! - b0!) / MS} ms`);
  assert.ok(a1! - a0! < 101 * MS, `CRD 2 retry after ${(a1! - a0!) / MS} ms, not 500`);
});
