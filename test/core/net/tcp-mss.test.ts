// The handshake's MSS option: each side advertises its MTU less 40 (tcp_advertise_mss) and sends
// no segment larger than the other advertised, so hosts with different MTUs on one Ethernet talk
// TCP without a frame the smaller one would drop.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { parseScenario } from '../../../tui/scenario.js';
import { prepareRun } from '../../../tui/run.js';
import { tcpHashinfo } from '../../../core/net/ipv4/tcp_ipv4.js';

function transfer(serverMtu: number, clientMtu: number) {
  const r = parseScenario(
    {
      name: 'mss',
      duration: '15ms',
      machine: {
        cpus: 2,
        memory: '256m',
        nics: [{ name: 'eth0', address: '10.0.0.1/24', mtu: serverMtu }],
        devices: [{ name: 'nvme0n1', type: 'nvme', capacity: '1g', mount: '/data' }],
      },
      hosts: [{ name: 'client', nics: [{ name: 'eth0', address: '10.0.0.2/24', mtu: clientMtu }] }],
      jobs: [{ name: 'warm', filename: '/data/file', rw: 'read', size: '1m', bs: '1m' }],
      events: [
        { at: '5ms', run: 'file-server 80 --file /data/file --mode sendfile' },
        { at: '6ms', host: 'client', run: 'fetch 10.0.0.1:80' },
      ],
    },
    'mss.json',
  );
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  const m = prepareRun(r.scenario, { seed: 1, durationNs: r.scenario.durationNs });
  // each side's MSS while its socket is in the established hash (mid-transfer)
  m.run(6_300_000);
  const mss = [m.k, m.hosts[0]!.k].flatMap((k) => [...tcpHashinfo(k).established.values()].map((tp) => tp.mssCache));
  m.run(r.scenario.durationNs);
  const fetchOut = (m.report('mss', 1).events ?? [])[1]!.output;
  return { fetchOut, mss, rxMissed: m.hosts[0]!.nics[0]!.nic.stats.rxMissed + m.nics[0]!.nic.stats.rxMissed };
}

test('a 9000-MTU server sends a 1500-MTU client 1448-byte segments: the transfer completes, no frame dropped', () => {
  const r = transfer(9000, 1500);
  assert.match(r.fetchOut, /fetch: received 1048576 bytes/);
  assert.equal(r.rxMissed, 0);
  assert.deepEqual(r.mss, [1448, 1448]);
});

test('two 9000-MTU hosts use 8948-byte segments', () => {
  const r = transfer(9000, 9000);
  assert.match(r.fetchOut, /fetch: received 1048576 bytes/);
  assert.equal(r.rxMissed, 0);
  assert.deepEqual(r.mss, [8948, 8948]);
});
