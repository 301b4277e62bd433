// iperf3 as scenario events over loopback: the server reads each client to the end, the clients
// report what they sent; -w fixes the buffers (no autotuning) and is slower; a closed port is
// refused.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE } from '../../../core/index.js';
import { findCommand } from '../../../core/userspace/commands.js';

test('iperf3 -s -1 and two clients over lo: 64 MiB at tens of Gbit/s, -w 64K slower, a closed port refused', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  const lines: [number, string][] = [
    [0, 'iperf3 -s -p 8080 -1'],
    [1_000_000, 'iperf3 -c 127.0.0.1 -p 8080 -n 64M'],
    [20_000_000, 'iperf3 -s -p 8081 -1'],
    [21_000_000, 'iperf3 -c 127.0.0.1 -p 8081 -n 16M -l 4K -w 64K'],
    [60_000_000, 'iperf3 -c 127.0.0.1 -p 9 -n 1K'],
  ];
  m.scheduleEvents(lines.map(([atNs, line]) => ({ kind: 'run', atNs, argv: line.split(/\s+/) })));
  m.run(100_000_000);
  const ev = m.report('t', 1).events ?? [];
  const out = ev.map((e) => `${e.status} ${e.output.split('\n').pop()}`);
  const rate = (s: string): number => {
    const m2 = /([\d.]+) (G|M)bits\/sec/.exec(s)!;
    return Number(m2[1]) * (m2[2] === 'G' ? 1000 : 1);
  };
  assert.match(out[0]!, /^0 \[ {2}4\] {3}0\.00-0\.01 {2}sec {2}64\.00 MBytes {2}[\d.]+ Gbits\/sec {2}receiver$/);
  assert.match(out[1]!, /^0 .*64\.00 MBytes .* sender$/);
  assert.match(out[3]!, /^0 .*16\.00 MBytes .* sender$/);
  // fixed 128 KiB buffers and 4 KiB writes: slower than the autotuned 128 KiB-write stream
  assert.ok(rate(out[3]!) < rate(out[1]!) * 0.75, `${out[3]} vs ${out[1]}`);
  assert.equal(out[4], '1 iperf3: error - unable to connect to server: Connection refused');
  assert.equal(findCommand('iperf3')!.check(['-c', '300.1.1.1']), '-c needs an IPv4 address like 127.0.0.1 (got 300.1.1.1)');
  assert.equal(findCommand('iperf3')!.check([]), 'needs -s (server) or -c HOST (client)');
});
