// Retransmission and resets: a SYN the full accept queue drops is retransmitted after the initial
// RTO (1 s, then 2 s: tcp:tcp_retransmit_skb, kprobe:tcp_retransmit_skb) and connects once the
// server accepts; a connect to a port nobody listens on is refused by a RST
// (tcp:tcp_send_reset, tcp:tcp_receive_reset, -ECONNREFUSED).
import test from 'node:test';
import assert from 'node:assert/strict';
import { attach } from '../../../probes/attach.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import { netMachine, tcpAccept, tcpConnect, tcpListen } from '../../helpers/net.js';

const PORT = 8000;

test('listen backlog 0: the second SYN is dropped and retransmitted at 1 s and 3 s until accept makes room', () => {
  const m = netMachine(1);
  const r: Record<string, number> = {};
  m.spawn(
    'server',
    false,
    (t) =>
      (function* () {
        const lfd = yield* tcpListen(m, t, PORT, 0);
        yield* nanosleep(m.k, t, 2_500_000_000);
        r['first'] = yield* tcpAccept(m, t, lfd);
        r['second'] = yield* tcpAccept(m, t, lfd);
        r['secondAtMs'] = Math.round(m.k.env.nowNs / 1e6);
      })(),
    m.init,
  );
  for (const name of ['c1', 'c2'])
    m.spawn(
      name,
      false,
      (t) =>
        (function* () {
          r[name] = yield* tcpConnect(m, t, PORT);
          r[`${name}AtMs`] = Math.round(m.k.env.nowNs / 1e6);
        })(),
      m.init,
    );
  const retrans: { ms: number; state: number; dport: number }[] = [];
  attach(m, 'tracepoint:tcp:tcp_retransmit_skb', (h) => {
    retrans.push({ ms: Math.round(h.timeNs / 1e6), state: h.fields['state'] as number, dport: h.fields['dport'] as number });
  });
  let kprobes = 0;
  attach(m, 'kprobe:tcp_retransmit_skb', () => kprobes++);
  m.run(5_000_000_000);
  assert.equal(r['c1'], 3);
  assert.equal(r['c1AtMs'], 0);
  // SYN_SENT (2) retransmissions at the initial RTO, then doubled; the 3 s one gets in
  assert.deepEqual(retrans, [
    { ms: 1000, state: 2, dport: PORT },
    { ms: 3000, state: 2, dport: PORT },
  ]);
  assert.equal(kprobes, 2);
  assert.equal(r['c2AtMs'], 3000);
  assert.ok(r['first']! > 0 && r['second']! > 0);
  assert.equal(r['secondAtMs'], 3000);
});

test('connect to a closed port: RST, ECONNREFUSED, both reset tracepoints', () => {
  const m = netMachine(1);
  let ret = 0;
  m.spawn(
    'client',
    false,
    (t) =>
      (function* () {
        ret = yield* tcpConnect(m, t, 9);
      })(),
    m.init,
  );
  const seen: string[] = [];
  attach(m, 'tracepoint:tcp:tcp_send_reset', (h) => seen.push(`send_reset reason=${h.fields['reason']}`));
  attach(m, 'tracepoint:tcp:tcp_receive_reset', (h) => seen.push(`receive_reset dport=${h.fields['dport']}`));
  attach(m, 'tracepoint:sock:inet_sock_set_state', (h) => seen.push(`${h.fields['oldstate']}>${h.fields['newstate']}`));
  m.run(100_000_000);
  assert.equal(ret, -111);
  assert.deepEqual(seen, ['7>2', 'send_reset reason=1', 'receive_reset dport=9', '2>7']);
});
