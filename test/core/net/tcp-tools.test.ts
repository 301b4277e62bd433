// What bpftrace's TCP tools read, through the script runtime: kprobe:tcp_connect's struct sock
// (tcpconnect), kprobe:tcp_set_state with the tcp_sock's byte counters (tcplife),
// kprobe:tcp_retransmit_skb with skc_state (tcpretrans). The scripts are written here in the
// tools' style; addresses and ports are printed raw, as the kernel stores them (__be32, __be16).
import test from 'node:test';
import assert from 'node:assert/strict';
import { runScript } from '../../../probes/script.js';
import { sysClose } from '../../../core/fs/open.js';
import { sysSendto } from '../../../core/net/socket.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import { netMachine, recvAll, tcpAccept, tcpConnect, tcpListen, userBuffer } from '../../helpers/net.js';
import { scriptOptions } from '../../helpers/script.js';

const PORT = 8080;

/** Two clients send 300000 bytes each to a server with listen backlog 0 that starts accepting at 1.5 s. */
function scenario(script: string): string {
  const m = netMachine(1);
  m.spawn(
    'server',
    false,
    (t) =>
      (function* () {
        const lfd = yield* tcpListen(m, t, PORT, 0);
        const buf = yield* userBuffer(m, t, 1 << 20);
        yield* nanosleep(m.k, t, 1_500_000_000);
        for (let i = 0; i < 2; i++) {
          const fd = yield* tcpAccept(m, t, lfd);
          yield* recvAll(m, t, fd, buf);
          yield* sysClose(m.k, t, fd);
        }
      })(),
    m.init,
  );
  for (const comm of ['curl', 'wget'])
    m.spawn(
      comm,
      false,
      (t) =>
        (function* () {
          const buf = yield* userBuffer(m, t, 1 << 20);
          const fd = yield* tcpConnect(m, t, PORT);
          yield* sysSendto(m.k, t, fd, buf, 300_000);
          yield* sysClose(m.k, t, fd);
        })(),
      m.init,
    );
  let out = '';
  const r = runScript(m, scriptOptions(script, 5_000_000_000, (s) => void (out += s)));
  assert.equal(r.exitCode, 0, out);
  return out.split('\n').slice(1).join('\n');
}

const LO_BE32 = 0x0100007f; // 127.0.0.1 as a __be32 read little-endian

test('tcpconnect-style: kprobe:tcp_connect sees the bound source, the destination and the port', () => {
  const out = scenario(`
kprobe:tcp_connect {
  $sk = (struct sock *)arg0;
  if ($sk.__sk_common.skc_family == 2) {
    $dport = $sk.__sk_common.skc_dport;
    printf("%s %x %d %x %d\\n", comm, $sk.__sk_common.skc_rcv_saddr, $sk.__sk_common.skc_num,
           $sk.__sk_common.skc_daddr, (($dport & 0xff) << 8) | ($dport >> 8));
  }
}`);
  const lines = out.trim().split('\n');
  assert.equal(lines.length, 2);
  for (const [i, comm] of ['curl', 'wget'].entries()) {
    const [c, saddr, sport, daddr, dport] = lines[i]!.split(' ');
    assert.equal(c, comm);
    assert.equal(parseInt(saddr!, 16), LO_BE32);
    assert.equal(parseInt(daddr!, 16), LO_BE32);
    assert.ok(Number(sport) >= 32768 && Number(sport) <= 60999);
    assert.equal(Number(dport), PORT);
  }
});

test('tcplife-style: birth to TCP_CLOSE (enum tcp_state names from BTF) with bytes_acked / bytes_received from the tcp_sock', () => {
  const out = scenario(`
kprobe:tcp_set_state {
  $sk = (struct sock *)arg0;
  $newstate = arg1;
  if ($newstate < TCP_FIN_WAIT1 && @birth[$sk] == 0) { @birth[$sk] = nsecs; }
  if ($newstate == TCP_SYN_SENT) { @skcomm[$sk] = comm; }
  if ($newstate == TCP_CLOSE && @birth[$sk]) {
    $tp = (struct tcp_sock *)$sk;
    $comm = @skcomm[$sk];
    if ($comm == "") { $comm = comm; }
    printf("%s %d %d %d %d\\n", $comm, $sk.__sk_common.skc_num, $tp.bytes_acked, $tp.bytes_received, (nsecs - @birth[$sk]) / 1000000);
    delete(@birth, $sk);
    delete(@skcomm, $sk);
  }
}
END { clear(@birth); clear(@skcomm); }`);
  const rows = out
    .trim()
    .split('\n')
    .map((l) => l.split(' '));
  // two client sessions, two server sessions; as in Linux the SYN and FIN count in bytes_acked and
  // the FIN in bytes_received (the tools show KiB)
  const clients = rows.filter((r) => r[0] === 'curl' || r[0] === 'wget');
  const servers = rows.filter((r) => r[1] === String(PORT));
  assert.equal(clients.length, 2, out);
  assert.equal(servers.length, 2, out);
  // (an orphaned client is CLOSE once its FIN is acked, before the server's FIN comes)
  for (const c of clients) assert.deepEqual([c[2], c[3]], ['300002', '0']);
  for (const s of servers) assert.deepEqual([s[2], s[3]], ['1', '300001']);
  // curl got in at once and waited for accept (1.5 s); wget's SYN was retried until 3 s
  assert.deepEqual(clients.map((c) => `${c[0]} ${c[4]}`).sort(), ['curl 1500', 'wget 3000']);
});

test('tcpretrans-style: the dropped SYN retransmitted in SYN_SENT at 1 s and 3 s', () => {
  const out = scenario(`
BEGIN { @tcp_states[2] = "SYN_SENT"; @tcp_states[1] = "ESTABLISHED"; }
kprobe:tcp_retransmit_skb {
  $sk = (struct sock *)arg0;
  printf("%d %s %d\\n", nsecs / 1000000, @tcp_states[$sk.__sk_common.skc_state], pid);
}
END { clear(@tcp_states); }`);
  assert.deepEqual(out.trim().split('\n'), ['1000 SYN_SENT 0', '3000 SYN_SENT 0']);
});

test('tcpaccept-style: kretprobe:inet_csk_accept casts retval back to the accepted struct sock', () => {
  const out = scenario(`
kretprobe:inet_csk_accept {
  $sk = ((struct sock *) retval);
  $dport = $sk->__sk_common.skc_dport;
  printf("%s %s %d %d\\n", comm, ntop($sk->__sk_common.skc_daddr), $sk->__sk_common.skc_num, bswap($dport) > 32767);
}`);
  assert.deepEqual(out.trim().split('\n'), ['server 127.0.0.1 8080 1', 'server 127.0.0.1 8080 1']);
});
