// The backpressure experiment (traces/experiments/backpressure.*): the seed's reverse proxy. Its
// slow upstream's window closes and the send buffer to it fills; its log's dirty pages pass the
// freerun ceiling; balance_dirty_pages pauses its write() and with it the event loop; its
// clients' receive buffers fill and they get a zero window. backpressure.bt prints each step once,
// in that order, and the clients' rate falls from what the network takes to what the disk writes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { attach } from '../../probes/attach.js';
import { startScript } from '../../probes/script.js';
import { parseScenarioText, renderDiagnostic } from '../../tui/scenario.js';
import { bootExperiment, EXPERIMENTS_DIR, oncePerFile } from '../helpers/experiment.js';
import { scriptOptions } from '../helpers/script.js';
import { PerfettoWriter, loadPerfettoSchema } from '../../exporters/perfetto.js';
import { TraceRecorder } from '../../probes/recorder.js';
import { checkPerfettoTrace } from '../helpers/perfetto-check.js';

const MS = 1_000_000;
/** The window the rates are read over once throttling has set in. */
const THROTTLED_FROM_NS = 20 * MS;

const run = oncePerFile((file: string) => {
  const { m, durationNs } = bootExperiment(file);
  // independent of the script: what the proxy read from its clients and what the disk wrote, by time
  const clientBytes: [number, number][] = [];
  let proxyRecv = false;
  attach(m, 'kprobe:tcp_recvmsg', (h) => {
    proxyRecv = h.comm === 'proxy';
  });
  attach(m, 'kretprobe:tcp_recvmsg', (h) => {
    if (proxyRecv && h.retval! > 0) clientBytes.push([h.timeNs, h.retval!]);
  });
  const diskBytes: [number, number][] = [];
  attach(m, 'tracepoint:block:block_rq_complete', (h) => {
    diskBytes.push([h.timeNs, Number(h.fields['nr_sector']) * 512]);
  });
  // the script and, on the same run, a program on the probes bpftrace's tcp tools use
  let out = '';
  let tools = '';
  const text = readFileSync(join(EXPERIMENTS_DIR, 'backpressure.bt'), 'utf8');
  const script = startScript(m, scriptOptions(text, durationNs, (t, stream) => void (stream === 'stdout' ? (out += t) : undefined), { quiet: true, sourceName: 'backpressure.bt' }));
  const toolScript = startScript(m, scriptOptions(TCP_TOOLS, durationNs, (t, stream) => void (stream === 'stdout' ? (tools += t) : undefined), { quiet: true }));
  assert.ok('finish' in script && 'finish' in toolScript, out + tools);
  m.run(durationNs);
  assert.equal(script.finish().exitCode, 0, out);
  assert.equal(toolScript.finish().exitCode, 0, tools);
  return { out, tools, clientBytes, diskBytes, durationNs };
});

/** What tcpconnect, tcpaccept, tcplife and tcpretrans print, from the probes they attach to. */
const TCP_TOOLS = `
kprobe:tcp_connect { $sk = (struct sock *)arg0;
  printf("connect %s %s:%d -> %s:%d\\n", comm, ntop($sk->__sk_common.skc_rcv_saddr), $sk->__sk_common.skc_num,
    ntop($sk->__sk_common.skc_daddr), bswap($sk->__sk_common.skc_dport)); }
kretprobe:inet_csk_accept /retval != 0/ { $sk = (struct sock *)retval;
  printf("accept %s %s:%d <- %s:%d\\n", comm, ntop($sk->__sk_common.skc_rcv_saddr), $sk->__sk_common.skc_num,
    ntop($sk->__sk_common.skc_daddr), bswap($sk->__sk_common.skc_dport)); }
kprobe:tcp_set_state { $sk = (struct sock *)arg0;
  if (arg1 < 4 && @birth[$sk] == 0) { @birth[$sk] = nsecs; }
  if (arg1 == 7 && @birth[$sk] != 0) { $tp = (struct tcp_sock *)$sk;
    printf("close :%d tx %d rx %d ms %d\\n", $sk->__sk_common.skc_num, $tp->bytes_acked / 1024, $tp->bytes_received / 1024,
      (nsecs - @birth[$sk]) / 1000000); delete(@birth, $sk); } }
kprobe:tcp_retransmit_skb { printf("retransmit\\n"); }
END { clear(@birth); }
`;

/** The script's step lines: step number -> [time ns, the line]. */
function steps(out: string): Map<number, [number, string]> {
  const s = new Map<number, [number, string]>();
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+)\.(\d{3})\s+(\d) (.*)$/.exec(line);
    if (m === null) continue;
    assert.ok(!s.has(Number(m[3])), `step ${m[3]} printed once`);
    s.set(Number(m[3]), [Number(m[1]) * MS + Number(m[2]) * 1000, m[4]!]);
  }
  return s;
}

const bytesPerSec = (xs: readonly [number, number][], fromNs: number, toNs: number): number =>
  (xs.filter(([t]) => t >= fromNs && t < toNs).reduce((a, [, b]) => a + b, 0) * 1e9) / (toNs - fromNs);

test('backpressure: upstream window, send buffer, dirty pages, the throttle, the clients\' zero window, in that order', () => {
  const r = run('backpressure.json');
  const s = steps(r.out);
  assert.deepEqual([...s.keys()], [1, 2, 3, 4, 5], r.out);
  const at = [1, 2, 3, 4, 5].map((n) => s.get(n)![0]);
  for (let i = 1; i < at.length; i++) assert.ok(at[i]! > at[i - 1]!, `step ${i + 1} at ${at[i]} ns after step ${i} at ${at[i - 1]} ns`);
  // the shortest run that shows it: the whole cascade within 15 ms of the proxy starting
  assert.ok(at[4]! < 15 * MS, `client zero window at ${at[4]} ns`);

  // each step's sizes
  const num = (step: number, re: RegExp): number => Number(re.exec(s.get(step)![1])![1]);
  assert.ok(num(1, /window: (\d+) bytes/) < 1448, s.get(1)![1]);
  assert.ok(num(2, /: (\d+) of/) >= num(2, /of (\d+) bytes/), s.get(2)![1]);
  // dirty_bytes 8 MiB, dirty_background_bytes 4 MiB: freerun is their mean, 6 MiB
  assert.equal(num(3, /freerun ceiling (\d+) KiB/), 6144);
  assert.ok(num(3, /dirty memory (\d+) KiB/) > 6144, s.get(3)![1]);
  assert.ok(num(4, /write\(\) (\d+) ms/) >= 1, s.get(4)![1]);
  // the zero window comes while the proxy sleeps in balance_dirty_pages, not from a busy proxy
  assert.match(s.get(5)![1], /10\.0\.0\.3:\d+ gets a zero window: its \d+-byte receive buffer is full \(the proxy sleeps in balance_dirty_pages\)/);

  // the event loop's longest stall is a balance_dirty_pages sleep
  const gap = /longest epoll_wait gap: (\d+) us from \d+ ms, (\d+) ms of it in balance_dirty_pages/.exec(r.out);
  assert.ok(gap !== null, r.out);
  assert.ok(Number(gap[1]) >= 3000 && Number(gap[2]) * 1000 >= Number(gap[1]) * 0.7, gap[0]);
});

test('backpressure: the clients\' rate falls from what the network takes to what the disk writes', () => {
  const r = run('backpressure.json');
  const at4 = steps(r.out).get(4)![0];
  const free = bytesPerSec(r.clientBytes, 2 * MS, at4);
  const throttled = bytesPerSec(r.clientBytes, THROTTLED_FROM_NS, r.durationNs);
  const disk = bytesPerSec(r.diskBytes, THROTTLED_FROM_NS, r.durationNs);
  // before the throttle the proxy takes about 400 MB/s; after it, what the write-through disk writes
  assert.ok(free > 350e6, `before the throttle ${free / 1e6} MB/s`);
  assert.ok(throttled < free / 1.5, `throttled ${throttled / 1e6} MB/s vs ${free / 1e6} MB/s`);
  assert.ok(Math.abs(throttled / disk - 1) < 0.15, `clients ${throttled / 1e6} MB/s, disk ${disk / 1e6} MB/s`);
  // the script's periodic lines say the same
  const lines = [...r.out.matchAll(/clients->proxy (\d+) MB\/s/g)].map((m) => Number(m[1]));
  assert.equal(lines.length, 3);
  assert.ok(lines[0]! > 1.5 * Math.max(...lines.slice(1)), lines.join(' '));
});

test('backpressure: what bpftrace\'s tcp tools see: one connect to the upstream, three accepts, the short client\'s 1 MiB, no retransmits', () => {
  const r = run('backpressure.json');
  const lines = r.tools.split('\n').filter((l) => l !== '');
  assert.deepEqual(lines.filter((l) => l.startsWith('connect')), ['connect proxy 10.0.0.1:44146 -> 10.0.0.2:9000']);
  const accepts = lines.filter((l) => l.startsWith('accept'));
  assert.equal(accepts.length, 3, r.tools);
  assert.ok(accepts.every((l) => /^accept proxy 10\.0\.0\.1:8080 <- 10\.0\.0\.3:\d+$/.test(l)), accepts.join('\n'));
  // the client that sends 1 MiB from 20 ms: its connection lives while the throttled proxy drains it
  const closes = lines.filter((l) => l.startsWith('close'));
  assert.equal(closes.length, 1, r.tools);
  const m = /^close :8080 tx 0 rx 1024 ms (\d+)$/.exec(closes[0]!);
  assert.ok(m !== null && Number(m[1]) >= 5, closes[0]);
  assert.ok(!lines.includes('retransmit'), r.tools);
});

test('a device\'s cache_type: "write through" only on a disk, and only the two sysfs values', () => {
  const bad = (device: string): string => {
    const l = parseScenarioText(`{"machine": {"devices": [${device}]}, "jobs": []}`, 'cache.json');
    assert.ok(!l.ok);
    return l.diagnostics.map(renderDiagnostic).join('\n');
  };
  assert.match(bad('{"name": "sda", "type": "hdd", "cache_type": "write around"}'), /unknown cache_type "write around" \(expected "write back" or "write through"\)/);
  assert.match(bad('{"name": "nvme0n1", "type": "nvme", "cache_type": "write through"}'), /only a device of type "hdd" has it/);
});

/** The counter events on the tracks whose name matches: [time ns, value], in file order. */
function counters(schema: ReturnType<typeof loadPerfettoSchema>, bytes: Uint8Array, trackName: RegExp): [number, number][] {
  const trace = schema.lookupType('perfetto.protos.Trace').decode(bytes).toJSON() as {
    packet: { timestamp?: string; trackDescriptor?: { uuid: string; name?: string }; trackEvent?: { type?: string; trackUuid?: string; counterValue?: string | number } }[];
  };
  const uuids = new Set<string>();
  const out: [number, number][] = [];
  for (const p of trace.packet) {
    if (p.trackDescriptor?.name !== undefined && trackName.test(p.trackDescriptor.name)) uuids.add(p.trackDescriptor.uuid);
    const e = p.trackEvent;
    if (e?.type === 'TYPE_COUNTER' && uuids.has(e.trackUuid ?? '')) out.push([Number(p.timestamp), Number(e.counterValue)]);
  }
  return out;
}

test('backpressure in one Perfetto trace: the send queue at sk_sndbuf, Dirty past freerun, balance_dirty_pages slices, a client window at 0 inside one', () => {
  const { m } = bootExperiment('backpressure.json');
  const schema = loadPerfettoSchema();
  const chunks: Uint8Array[] = [];
  const recorder = new TraceRecorder(m, new PerfettoWriter((c) => chunks.push(c.slice()), schema));
  recorder.start();
  // the cascade is complete by 10 ms
  m.run(12 * MS);
  recorder.stop(m.env.nowNs);
  const bytes = Buffer.concat(chunks);
  const { issues, summary } = checkPerfettoTrace(bytes);
  assert.deepEqual(issues, []);

  // the upstream connection: its send queue reaches sk_sndbuf
  const sndbuf = Math.max(...counters(schema, bytes, /^TCP :\d+ -> :9000 sk_sndbuf$/).map(([, v]) => v));
  const sendQueue = Math.max(...counters(schema, bytes, /^TCP :\d+ -> :9000 send queue/).map(([, v]) => v));
  assert.ok(sendQueue >= sndbuf, `upstream send queue ${sendQueue} of ${sndbuf}`);
  // what balance_dirty_pages counts as dirty (Dirty + Writeback) passes freerun (6 MiB) and stays
  // under the 8 MiB limit it reports
  const latest = new Map<string, number>();
  let dirty = 0;
  const series = [...counters(schema, bytes, /^Dirty$/).map(([t, v]) => [t, v, 'd'] as const), ...counters(schema, bytes, /^Writeback$/).map(([t, v]) => [t, v, 'w'] as const)];
  for (const [, v, which] of series.sort((a, b) => a[0] - b[0])) {
    latest.set(which, v);
    dirty = Math.max(dirty, (latest.get('d') ?? 0) + (latest.get('w') ?? 0));
  }
  assert.ok(dirty > 6 * 2 ** 20 && dirty <= 8 * 2 ** 20, `dirty + writeback ${dirty}`);
  assert.deepEqual(counters(schema, bytes, /^Dirty limit/).map(([, v]) => v), [8 * 2 ** 20]);
  // the proxy's pauses, as slices on its thread
  const pauses = summary.slices.filter((x) => x.name === 'balance_dirty_pages');
  assert.ok(pauses.length >= 1 && pauses.every((x) => x.endTs !== undefined && Number(x.endTs - x.ts) >= 1 * MS), `${pauses.length} pauses`);
  // a client connection's window falls to 0 while the proxy sleeps in one
  const zero = counters(schema, bytes, /^TCP :8080 -> :\d+ free receive window/).filter(([, v]) => v === 0);
  assert.ok(zero.length > 0, 'a client window at 0');
  const [t0] = zero[0]!;
  assert.ok(pauses.some((x) => Number(x.ts) <= t0 && t0 < Number(x.endTs)), `zero window at ${t0} inside a pause`);
});
