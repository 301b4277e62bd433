// io-uring-zc-send: IORING_OP_SEND_ZC posts two CQEs per send, the result (IORING_CQE_F_MORE) and,
// about a round trip later when the ACK frees the last skb holding the user pages, the
// notification (IORING_CQE_F_NOTIF). Refilling the one buffer after the result but before the
// notification puts the next message's bytes on the wire (the NIC reads the pages when it sends
// them); waiting for the notification keeps every message intact; a copying send (IORING_OP_SEND)
// is intact however early the buffer is reused; send(MSG_ZEROCOPY) has the same hazard as SEND_ZC.
import test from 'node:test';
import assert from 'node:assert/strict';
import { attach } from '../../probes/attach.js';
import { bootExperiment, oncePerFile } from '../helpers/experiment.js';
import { parseScenario } from '../../tui/scenario.js';

interface Cqe {
  readonly atNs: number;
  readonly ring: number;
  readonly userData: number;
  readonly res: number;
  readonly cflags: number;
}

const run = oncePerFile((file: string) => {
  const { m, durationNs, name } = bootExperiment(file);
  const rings: number[] = [];
  const cqes: Cqe[] = [];
  const ackAtNs = new Set<number>();
  attach(m, 'tracepoint:io_uring:io_uring_create', (h) => void rings.push(Number(h.fields.ctx)));
  attach(m, 'tracepoint:io_uring:io_uring_complete', (h) => {
    cqes.push({ atNs: h.timeNs, ring: rings.indexOf(Number(h.fields.ctx)), userData: Number(h.fields.user_data), res: Number(h.fields.res), cflags: Number(h.fields.cflags) });
  });
  attach(m, 'tracepoint:tcp:tcp_probe', (h) => void ackAtNs.add(h.timeNs));
  m.run(durationNs);
  const report = m.report(name, 1);
  const out = (run: string) => report.events!.find((e) => e.command.includes(run))!.output;
  return { cqes, ackAtNs, out };
});

const F_MORE = 2;
const F_NOTIF = 8;

test('SEND_ZC: two CQEs per send, the result (F_MORE) then the notification (F_NOTIF) about a round trip later, at an ACK', () => {
  const r = run('io-uring-zc-send.json');
  // ring 0: SEND_ZC waiting for each notification before refilling the buffer
  const ring = r.cqes.filter((c) => c.ring === 0);
  assert.equal(ring.length, 32, 'two CQEs for each of the 16 sends');
  for (let i = 0; i < 16; i++) {
    const mine = ring.filter((c) => c.userData === i);
    assert.deepEqual(mine.map((c) => c.cflags), [F_MORE, F_NOTIF], `send ${i}: result, then notification`);
    assert.equal(mine[0]!.res, 65536);
    assert.equal(mine[1]!.res, 0, 'IORING_SEND_ZC_REPORT_USAGE: the NIC read the pages, nothing copied');
    // the link is 50 us each way: nothing can be acknowledged sooner than 100 us after it is sent
    const afterNs = mine[1]!.atNs - mine[0]!.atNs;
    assert.ok(afterNs >= 100_000 && afterNs <= 500_000, `send ${i}: notification ${afterNs} ns after the result`);
    assert.ok(r.ackAtNs.has(mine[1]!.atNs), `send ${i}: the notification comes with an ACK`);
  }
  // a plain SEND (ring 2) has one CQE per send and no F_MORE
  const plain = r.cqes.filter((c) => c.ring === 2);
  assert.equal(plain.length, 16);
  assert.ok(plain.every((c) => c.cflags === 0 && c.res === 65536));
});

test('the reuse hazard: refilling the buffer before the notification corrupts what the receiver gets; after it, or with a copying send, every message is intact', () => {
  const r = run('io-uring-zc-send.json');
  const intact = (run: string) => {
    const m = /(\d+) of 16 messages intact, (\d+) corrupted/.exec(r.out(run));
    assert.ok(m, r.out(run));
    return Number(m[1]);
  };
  assert.equal(intact('zc-check 9001'), 16, 'SEND_ZC, buffer refilled after each notification');
  assert.equal(intact('zc-check 9003'), 16, 'SEND (copied at the call), buffer refilled at once');
  // only the last message, never overwritten, survives an early refill
  assert.equal(intact('zc-check 9002'), 1, 'SEND_ZC, buffer refilled after each result');
  assert.equal(intact('zc-check 9004'), 1, 'send(MSG_ZEROCOPY), buffer refilled as soon as send() returned');
  // the sender saw every notification, none of them a copy
  assert.match(r.out('zc-send 10.0.0.2:9002'), /16 notifications \(0 copied\)/);
  assert.match(r.out('zc-send 10.0.0.2:9004'), /16 notifications \(0 copied\)/);
});

test('zc-send and zc-check refuse bad command lines at load, with the reason and the usage', () => {
  const msg = (run: string) => {
    const r = parseScenario({ name: 'zc', duration: '1ms', machine: { cpus: 1, memory: '256m' }, events: [{ at: '0', run }] }, 'zc.json');
    return r.ok ? 'ok' : r.diagnostics.map((d) => d.message).join('\n');
  };
  const usage = '(usage: zc-send ADDR:PORT [--mode send|send-zc|msg-zerocopy|write] [--bs SIZE] [--count N] [--reuse early|notif])';
  assert.equal(msg('zc-send 10.0.0.2:9000 --mode splice'), `zc-send --mode must be send or send-zc or msg-zerocopy or write (got "splice") ${usage}`);
  assert.equal(msg('zc-send 10.0.0.2:9000 --count 0'), `zc-send --count must be a number of messages 1-999999 (got "0") ${usage}`);
  assert.equal(msg('zc-send 10.0.0.2'), `zc-send needs a server address like 10.0.0.2:9000 (got "10.0.0.2") ${usage}`);
  assert.equal(msg('zc-check 70000'), 'zc-check port must be 1-65535 (got "70000") (usage: zc-check PORT [--bs SIZE])');
  assert.equal(msg('zc-send 10.0.0.2:9000 --mode write --reuse early --bs 4k --count 3'), 'ok');
});
