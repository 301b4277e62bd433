// The network in the Perfetto timeline: tcp_sendmsg / tcp_recvmsg slices on the tasks' tracks,
// and per-connection counter tracks (the peer's window, ours, cwnd, the send and receive queues
// against sk_sndbuf and sk_rcvbuf, the window free space allows), so a window closing shows as a
// counter falling to 0 beside the task that stopped reading.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PerfettoWriter, loadPerfettoSchema } from '../../exporters/perfetto.js';
import { TraceRecorder } from '../../probes/recorder.js';
import { prepareRun } from '../../tui/run.js';
import { parseScenario } from '../../tui/scenario.js';
import { checkPerfettoTrace } from '../helpers/perfetto-check.js';

const schema = loadPerfettoSchema();

function record(): Uint8Array {
  const r = parseScenario(
    {
      name: 'net',
      duration: '30ms',
      machine: { cpus: 2, memory: '256m', devices: [{ name: 'nvme0n1', type: 'nvme', capacity: '1g' }] },
      // a reader slower than its sender: the sender's view of the window falls to 0
      events: [
        { at: '0', run: 'sink 9000 --rate 20m --bs 16k' },
        { at: '1ms', run: 'client 127.0.0.1:9000 --size 16m' },
      ],
    },
    'net.json',
  );
  if (!r.ok) throw new Error('scenario');
  const m = prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs });
  const chunks: Uint8Array[] = [];
  const recorder = new TraceRecorder(m, new PerfettoWriter((c) => chunks.push(c.slice()), schema));
  recorder.start();
  m.run(r.scenario.durationNs);
  recorder.stop(m.env.nowNs);
  return Buffer.concat(chunks);
}

test('a TCP transfer: tcp_sendmsg and tcp_recvmsg slices, window counters per connection, a valid trace', () => {
  const bytes = record();
  const { issues, summary } = checkPerfettoTrace(bytes);
  assert.deepEqual(issues, []);
  const names = [...summary.tracks.values()].map((t) => t.name ?? '');
  const tcp = names.filter((n) => n.startsWith('TCP :')).sort();
  // both ends of the one connection: the sink's (port 9000) and the client's, eight tracks each
  assert.equal(tcp.length, 16, tcp.join('\n'));
  assert.ok(tcp.some((n) => /^TCP :9000 -> :\d+ rcv_wnd \(our window\)$/.test(n)));
  const kinds = [...summary.tracks.values()].filter((t) => (t.name ?? '').startsWith('TCP :')).map((t) => t.kind);
  assert.ok(kinds.every((k) => k === 'counter'));
  const sliceNames = new Set(summary.slices.map((s) => s.name));
  assert.ok(sliceNames.has('tcp_sendmsg') && sliceNames.has('tcp_recvmsg'), [...sliceNames].join(','));
  // the sink reads 20 MiB/s against a 16 MiB send: its receive buffer fills and the window it
  // offers closes; the client sees that on the ACKs (snd_wnd, the peer's window, falls to 0).
  // tcp_probe samples on arriving segments, so the sink's own track shows the windows it offered
  // when data came
  const offered = counterValues(bytes, /^TCP :9000 -> :\d+ rcv_wnd/);
  const seen = counterValues(bytes, /^TCP :\d+ -> :9000 snd_wnd/);
  assert.equal(offered[0], 65535, 'the SYN offers 65535, unscaled');
  assert.equal(seen[0], 65535);
  assert.ok(seen.includes(0), `the client saw a zero window: ${seen.slice(0, 20).join(',')}`);
  // 0 only where rounding to the scale unit cut the last bytes of a promise the sender still fills
  // (the segment is taken: the promised edge stands), at most once here
  assert.ok(offered.length > 2 && offered.filter((v) => v === 0).length <= 1, offered.join(','));
  // the sink's receive queue fills to its sk_rcvbuf and the window free space allows falls to 0;
  // the client's send queue reaches its sk_sndbuf (send() blocks there)
  const rcvbuf = Math.max(...counterValues(bytes, /^TCP :9000 -> :\d+ sk_rcvbuf$/));
  const queued = Math.max(...counterValues(bytes, /^TCP :9000 -> :\d+ receive queue/));
  assert.ok(queued > rcvbuf - 1448 && queued <= rcvbuf, `receive queue ${queued} of ${rcvbuf}`);
  assert.ok(counterValues(bytes, /^TCP :9000 -> :\d+ free receive window/).includes(0));
  const sndbuf = counterValues(bytes, /^TCP :\d+ -> :9000 sk_sndbuf$/);
  const sendQueue = counterValues(bytes, /^TCP :\d+ -> :9000 send queue/);
  assert.ok(Math.max(...sendQueue) >= sndbuf.at(-1)!, `send queue ${Math.max(...sendQueue)} of ${sndbuf.join(',')}`);
});

/** The values written on the counter track whose name matches, in order. */
function counterValues(bytes: Uint8Array, trackName: RegExp): number[] {
  const trace = schema.lookupType('perfetto.protos.Trace').decode(bytes).toJSON() as {
    packet: { trackDescriptor?: { uuid: string; name?: string }; trackEvent?: { type?: string; trackUuid?: string; counterValue?: string | number; doubleCounterValue?: number } }[];
  };
  let uuid: string | undefined;
  const out: number[] = [];
  for (const p of trace.packet) {
    if (p.trackDescriptor?.name !== undefined && trackName.test(p.trackDescriptor.name)) uuid = p.trackDescriptor.uuid;
    const e = p.trackEvent;
    if (e?.type === 'TYPE_COUNTER' && e.trackUuid === uuid) out.push(Number(e.counterValue ?? e.doubleCounterValue));
  }
  return out;
}

test('the network timeline is byte-identical run to run', () => {
  assert.deepEqual(record(), record());
});
