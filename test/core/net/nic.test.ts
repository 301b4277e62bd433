// Two hosts on one simulated network: raw skbs sent with dev_queue_xmit on host A reach the
// ptype handler on host B, the wire taking framing-aware bytes at the link's rate plus the
// propagation delay; TSO and software GSO cut a 64 KB skb into MSS frames; a NIC's scatter-gather
// limit forces one copy (linearize); coalescing trades interrupts for latency; NAPI keeps its
// weight and netdev_budget; a full tx ring stops the queue and the qdisc holds the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootNetwork, type HostSpec, type Machine, type MachineSpec, type NicSpec } from '../../../core/index.js';
import { ipv4 } from '../../../core/net/netdevice.js';
import { ETH_P_IP, TCPHDR, type PayloadSource, type SkBuff, type SkbFrag } from '../../../core/net/skbuff.js';
import { allocSkb } from '../../../core/net/core/skbuff.js';
import { devForDaddr, devQueueXmit, qdiscBacklog, softnetData } from '../../../core/net/core/dev.js';
import { wireBytes } from '../../../core/hw/nic/link.js';
import { Priority } from '../../../core/sim/engine.js';

const MiB = 2 ** 20;
const A = ipv4('10.0.0.1');
const B = ipv4('10.0.0.2');
/** Ethernet + IPv4 + TCP with timestamps. */
const HDR = 14 + 20 + 32;
const MSS = 1448;

function nic(addr: number, extra: Partial<NicSpec> = {}): NicSpec {
  // GRO off unless a test turns it on: each frame reaches the handler as its own skb
  return { name: 'eth0', addr, prefixLen: 24, queues: 1, gro: false, ...extra };
}

function machine(addr: number, extra: Partial<NicSpec> = {}): MachineSpec {
  return { cpus: 1, memoryBytes: 256 * MiB, devices: [], nics: [nic(addr, extra)] };
}

interface Arrival {
  readonly ns: number;
  readonly skb: SkBuff;
}

/** Host A (main) and host B (remote); B records every packet its IP handler receives. */
function pair(a: Partial<NicSpec> = {}, b: Partial<NicSpec> = {}, network?: { bitsPerSec: number; propagationNs: number }): { a: Machine; b: Machine; got: Arrival[] } {
  const hosts: HostSpec[] = [{ name: 'b', machine: machine(B, b) }];
  const m = bootNetwork(machine(A, a), 1, hosts, network);
  const hb = m.hosts[0]!;
  const got: Arrival[] = [];
  hb.k.net.addPack(ETH_P_IP, (skb) => {
    got.push({ ns: hb.env.nowNs, skb });
    return 0;
  });
  return { a: m, b: hb, got };
}

/** A page source whose bytes are `fill` until changed. */
class Page implements PayloadSource {
  constructor(public fill: number) {}
  read(_off: number, len: number): Uint8Array {
    return new Uint8Array(len).fill(this.fill);
  }
}

/** An skb of `payload` bytes in page frags of at most 4096 (none: header only), TCP seq `seq`. */
function skbOf(m: Machine, payload: number, opts: { gso?: boolean; frags?: number; source?: PayloadSource; seq?: number; sport?: number } = {}): SkBuff {
  const skb = allocSkb(m.k, m.k.newIoId(), { saddr: A, daddr: B, sport: opts.sport ?? 40000, dport: 80 });
  const nFrags = payload === 0 ? 0 : (opts.frags ?? Math.ceil(payload / 4096));
  const frags: SkbFrag[] = [];
  for (let i = 0; i < nFrags; i++) {
    const len = i === nFrags - 1 ? payload - Math.floor(payload / nFrags) * (nFrags - 1) : Math.floor(payload / nFrags);
    frags.push({ pfn: 1000 + i, offsetBytes: 0, lenBytes: len, ...(opts.source === undefined ? {} : { source: opts.source, sourceOffsetBytes: 0 }) });
  }
  skb.frags = frags;
  skb.lenBytes = HDR + payload;
  skb.dataLenBytes = payload;
  skb.headerBytes = HDR;
  skb.dev = devForDaddr(m.k, B);
  skb.tcp = { seq: opts.seq ?? 1000, endSeq: (opts.seq ?? 1000) + payload, ackSeq: 1, tcpFlags: TCPHDR.ACK | TCPHDR.PSH, windowBytes: 65535, whenNs: 0, retrans: 0 };
  if (opts.gso === true && payload > MSS) {
    skb.gsoSize = MSS;
    skb.gsoSegs = Math.ceil(payload / MSS);
  }
  return skb;
}

function sendAt(m: Machine, atNs: number, make: () => SkBuff): void {
  m.env.at(atNs, Priority.NORMAL, () => {
    devQueueXmit(m.k, make(), m.k.sched.cpu(0));
  }, undefined);
}

const NO_COALESCE = { coalesce: { rxUsecs: 0, rxFrames: 1, txUsecs: 0, txFrames: 1 } };

test('wire time: framing-aware bytes at the link rate plus propagation (1 GbE vs 10 GbE, 1 us vs 5 us)', () => {
  assert.equal(wireBytes(1514), 1538, 'a full frame: +FCS +preamble +IFG');
  assert.equal(wireBytes(34), 84, 'a short frame is padded to 64 bytes, plus preamble and IFG');
  const arrive = (bitsPerSec: number, propagationNs: number): number => {
    const { a, got } = pair(NO_COALESCE, NO_COALESCE, { bitsPerSec, propagationNs });
    sendAt(a, 0, () => skbOf(a, 1000, { frags: 1 }));
    a.env.run(1_000_000);
    assert.equal(got.length, 1);
    return got[0]!.skb.tstampNs;
  };
  const tenG = arrive(10e9, 1000);
  const oneG = arrive(1e9, 1000);
  const far = arrive(10e9, 5000);
  const bytes = wireBytes(HDR + 1000);
  assert.equal(bytes, 1090);
  // a slower NIC and switch serialize the frame twice as long (once out of A, once into B: cut-through
  // overlaps them), so only the difference in one serialization shows
  assert.equal(oneG - tenG, Math.ceil((bytes * 8) / 1) - Math.ceil((bytes * 8) / 10), `1g - 10g = ${oneG - tenG} ns`);
  assert.equal(far - tenG, 4000, 'propagation adds one for one');
});

test('back-to-back MTU frames arrive one serialization time apart (1538 B at 10 Gb/s = 1230.4 ns)', () => {
  const { a, got } = pair({ ...NO_COALESCE, tso: true }, NO_COALESCE);
  sendAt(a, 0, () => skbOf(a, 100 * MSS, { gso: true, frags: 17 }));
  a.env.run(5_000_000);
  assert.equal(got.length, 100);
  const span = got[99]!.skb.tstampNs - got[0]!.skb.tstampNs;
  assert.ok(Math.abs(span / 99 - 1230.4) < 1, `${span / 99} ns per frame`);
});

test('TSO: the NIC cuts a 64000-byte skb into 45 MSS frames with advancing sequence numbers; without TSO, GSO does it in software', () => {
  for (const tso of [true, false]) {
    const { a, got } = pair({ ...NO_COALESCE, tso }, NO_COALESCE);
    sendAt(a, 0, () => skbOf(a, 64000, { gso: true, seq: 5000 }));
    a.env.run(5_000_000);
    assert.equal(got.length, 45, `tso=${tso}`);
    got.forEach((g, i) => {
      assert.equal(g.skb.tcp!.seq, 5000 + i * MSS);
      assert.equal(g.skb.lenBytes - g.skb.headerBytes, i < 44 ? MSS : 64000 - 44 * MSS);
      assert.equal((g.skb.tcp!.tcpFlags & TCPHDR.PSH) !== 0, i === 44, 'PSH on the last segment only');
    });
    assert.equal(a.nics[0]!.nic.stats.tsoPackets, tso ? 1 : 0);
    assert.equal(a.nics[0]!.nic.stats.txPackets, tso ? 1 : 45);
  }
});

test('scatter-gather limit: 16 page frags on a NIC taking 8 buffers are linearized (one copy, counted); 17 fit', () => {
  for (const [maxFrags, copied] of [[17, 0], [8, 64000]] as const) {
    const { a, got } = pair({ ...NO_COALESCE, maxFrags }, NO_COALESCE);
    sendAt(a, 0, () => skbOf(a, 64000, { gso: true, frags: 16 }));
    a.env.run(5_000_000);
    assert.equal(got.length, 45);
    assert.equal(a.k.net.copies.linearizeBytes, copied, `max_frags=${maxFrags}`);
    assert.equal(a.nics[0]!.linearized, copied > 0 ? 1 : 0);
  }
});

test('the NIC reads a referenced page at DMA time: a change before then goes out; a linearized copy does not see it', () => {
  for (const [maxFrags, expect] of [[17, 2], [1, 1]] as const) {
    const { a, got } = pair({ ...NO_COALESCE, maxFrags }, NO_COALESCE);
    const page = new Page(1);
    sendAt(a, 0, () => skbOf(a, 1400, { frags: 2, source: page }));
    // the sender reuses its buffer 100 ns after send() returned: before the DMA (500 ns round trip)
    a.env.at(100, Priority.NORMAL, () => (page.fill = 2), undefined);
    a.env.run(1_000_000);
    assert.equal(got.length, 1);
    const content = got[0]!.skb.headContent!;
    assert.equal(content.length, 1400);
    assert.ok(content.every((b) => b === expect), `max_frags=${maxFrags}: wire shows ${content[0]}`);
  }
});

test('coalescing: rx-frames and rx-usecs cut interrupts per packet and add latency', () => {
  const run = (coalesce: NicSpec['coalesce']): { irqs: number; meanLatencyNs: number } => {
    const { a, b, got } = pair(NO_COALESCE, { coalesce });
    for (let i = 0; i < 40; i++) sendAt(a, i * 10_000, () => skbOf(a, 100, { frags: 1 }));
    a.env.run(2_000_000);
    assert.equal(got.length, 40);
    const lat = got.reduce((s, g) => s + (g.ns - g.skb.tstampNs), 0) / got.length;
    return { irqs: b.nics[0]!.nic.interruptsOf(0), meanLatencyNs: lat };
  };
  const none = run({ rxUsecs: 0, rxFrames: 1 });
  const usecs = run({ rxUsecs: 45, rxFrames: 128 });
  const frames = run({ rxUsecs: 1000, rxFrames: 4 });
  assert.equal(none.irqs, 40, 'one interrupt per packet');
  // packets every 10 us, a 45 us window from the first: 5 per interrupt
  assert.equal(usecs.irqs, 8);
  assert.equal(frames.irqs, 10, 'an interrupt every 4 frames');
  // the 45 us window waits 45 us for the first packet, 5 us for the fifth: mean 25 us more
  assert.ok(Math.abs(usecs.meanLatencyNs - none.meanLatencyNs - 25_000) < 1000, `${usecs.meanLatencyNs - none.meanLatencyNs}`);
  assert.ok(Math.abs(frames.meanLatencyNs - none.meanLatencyNs - 15_000) < 1000, `${frames.meanLatencyNs - none.meanLatencyNs}`);
});

test('NAPI: 1000 frames pending at one interrupt are polled 64 at a time, at most netdev_budget per NET_RX run', () => {
  const { a, b, got } = pair(NO_COALESCE, { coalesce: { rxUsecs: 2000, rxFrames: 1024 } });
  const drv = b.nics[0]!;
  const works: number[] = [];
  const poll = drv.napiPoll.bind(drv);
  drv.napiPoll = (ch, budget, cpu) => {
    const r = poll(ch, budget, cpu);
    works.push(r.workDone);
    return r;
  };
  for (let i = 0; i < 1000; i++) sendAt(a, 0, () => skbOf(a, 0, { sport: 1000 + i }));
  a.env.run(5_000_000);
  assert.equal(got.length, 1000);
  assert.equal(drv.nic.interruptsOf(0), 1);
  assert.ok(works.every((w) => w <= 64));
  assert.deepEqual(works.slice(0, 16), [...Array(15).fill(64), 40]);
  // 300-packet budget: runs of 5 polls (320 >= 300), three of them squeezed before the last
  assert.equal(softnetData(b.k, b.k.sched.cpu(0)).timeSqueeze, 3);
});

test('a full tx ring stops the queue; the qdisc holds the rest; tx completions wake it and every packet goes out', () => {
  const { a, got } = pair({ txRingSize: 64 }, NO_COALESCE, { bitsPerSec: 1e9, propagationNs: 1000 });
  const dev = a.nics[0]!.dev;
  let stoppedSeen = false;
  let backlogSeen = 0;
  a.env.at(0, Priority.NORMAL, () => {
    for (let i = 0; i < 100; i++) devQueueXmit(a.k, skbOf(a, 1000, { frags: 1, seq: 1000 + i * 1000 }), a.k.sched.cpu(0));
    stoppedSeen = dev.txQueueStopped[0] === true;
    backlogSeen = qdiscBacklog(a.k, dev, 0);
  }, undefined);
  a.env.run(10_000_000);
  assert.ok(stoppedSeen, 'queue stopped once the ring had no room for a worst-case packet');
  // 64 descriptors, 2 per packet, stop when fewer than 19 are free: 23 posted, 77 in the qdisc
  assert.equal(backlogSeen, 77);
  assert.equal(got.length, 100);
  assert.deepEqual(got.map((g) => g.skb.tcp!.seq), Array.from({ length: 100 }, (_, i) => 1000 + i * 1000), 'in order');
  assert.equal(dev.txQueueStopped[0], false);
  assert.equal(qdiscBacklog(a.k, dev, 0), 0);
});

test('same seed, same run: arrival times and interrupts are identical', () => {
  const once = (): string => {
    const { a, b, got } = pair({ queues: 2 } as Partial<NicSpec>, { queues: 2 } as Partial<NicSpec>);
    for (let i = 0; i < 50; i++) sendAt(a, i * 3000, () => skbOf(a, 3000, { gso: true, sport: 2000 + (i % 7) }));
    a.env.run(3_000_000);
    return JSON.stringify([got.map((g) => [g.ns, g.skb.tstampNs, g.skb.queueMapping]), b.nics[0]!.nic.interruptsOf(0), b.nics[0]!.nic.interruptsOf(1)]);
  };
  assert.equal(once(), once());
});

test('tracepoints: net_dev_queue/start_xmit/xmit, kiotrace:nic_tx_dma and consume_skb on the sender, the mlx5_comp vector, napi_poll and netif_receive_skb on the receiver', () => {
  const { a, b } = pair(NO_COALESCE, NO_COALESCE);
  const seen = (m: Machine, name: string): Record<string, unknown>[] => {
    const hits: Record<string, unknown>[] = [];
    m.k.registry.get(name)!.attach((h) => hits.push({ ...h.fields }));
    return hits;
  };
  const queued = seen(a, 'tracepoint:net:net_dev_queue');
  const start = seen(a, 'tracepoint:net:net_dev_start_xmit');
  const xmit = seen(a, 'tracepoint:net:net_dev_xmit');
  const consumed = seen(a, 'tracepoint:skb:consume_skb');
  const dma = seen(a, 'tracepoint:kiotrace:nic_tx_dma');
  const irqs = seen(b, 'tracepoint:irq:irq_handler_entry');
  const polls = seen(b, 'tracepoint:napi:napi_poll');
  const received = seen(b, 'tracepoint:net:netif_receive_skb');
  assert.equal(b.k.registry.get('tracepoint:net:net_dev_queue')!.enabled, false, 'a host nobody traces pays nothing');
  let addr = 0;
  sendAt(a, 0, () => {
    const skb = skbOf(a, 64000, { gso: true });
    addr = skb.kaddr;
    return skb;
  });
  a.env.run(2_000_000);
  assert.deepEqual(queued, [{ skbaddr: addr, len: HDR + 64000, name: 'eth0' }]);
  assert.equal(start[0]!['gso_size'], MSS);
  assert.equal(start[0]!['gso_segs'], 45);
  assert.equal(start[0]!['data_len'], 64000);
  assert.deepEqual(xmit, [{ skbaddr: addr, len: HDR + 64000, rc: 0, name: 'eth0' }]);
  assert.deepEqual(consumed.map((c) => c['skbaddr']), [addr], 'freed on its tx completion');
  assert.equal(dma.length, 1);
  assert.equal(dma[0]!['bytes'], HDR + 64000);
  assert.equal(dma[0]!['nr_bufs'], 16);
  assert.equal(dma[0]!['frames'], 45);
  // 500 ns round trip + 64066 B at 7.9 B/ns
  assert.equal(dma[0]!['duration_ns'], Math.ceil(500 + (HDR + 64000) / 7.9));
  assert.equal(received.length, 45);
  assert.equal(received[0]!['len'], 20 + 32 + MSS, 'rx skb->len: the IP packet, the Ethernet header pulled');
  assert.ok(irqs.length > 0 && irqs.every((i) => i['name'] === 'mlx5_comp0@pci:0000:3b:00.0'), JSON.stringify(irqs[0]));
  assert.ok(polls.every((p) => p['dev_name'] === 'eth0' && p['budget'] === 64 && (p['work'] as number) <= 64));
  assert.equal(polls.reduce((s, p) => s + (p['work'] as number), 0), 45);
});

test('adaptive-rx: a slow trickle moves the receiver to the lowest-latency profile, a 10 GbE stream to a long one', () => {
  const profile = (gapNs: number, gso: boolean, n: number): number => {
    const { a, b } = pair(NO_COALESCE, { coalesce: { adaptiveRx: true } });
    for (let i = 0; i < n; i++) sendAt(a, i * gapNs, () => skbOf(a, gso ? 64000 : 100, { gso, frags: gso ? 16 : 1, sport: 3000 + i }));
    a.env.run(n * gapNs + 1_000_000);
    return b.nics[0]!.nic.coalesce.rxUsecs;
  };
  assert.equal(profile(20_000, false, 100), 1, '50 kpps: 1 us');
  // 45 frames every 53 us: ~850 kpps, the 128 us profile
  assert.equal(profile(53_000, true, 60), 128);
});

test('GRO: a TSO burst of 45 segments reaches IP as one 64000-byte skb (gso_segs 45); PSH ends a train; other flows stay apart', () => {
  const { a, got } = pair(NO_COALESCE, { gro: true, coalesce: { rxUsecs: 100, rxFrames: 128 } });
  sendAt(a, 0, () => skbOf(a, 64000, { gso: true, seq: 7000, source: new Page(9) }));
  sendAt(a, 0, () => skbOf(a, 3 * MSS, { gso: true, seq: 1, sport: 41000 }));
  a.env.run(2_000_000);
  assert.deepEqual(got.map((g) => [g.skb.flow.sport, g.skb.tcp!.seq, g.skb.lenBytes - g.skb.headerBytes, g.skb.gsoSegs]), [
    [40000, 7000, 64000, 45],
    [41000, 1, 3 * MSS, 3],
  ]);
  assert.equal(got[0]!.skb.tcp!.endSeq, 7000 + 64000);
  assert.equal(got[0]!.skb.gsoSize, MSS);
  assert.ok(got[0]!.skb.headContent!.length === 64000 && got[0]!.skb.headContent!.every((b) => b === 9), 'the payload joined in order');
});

test('netdev_budget_usecs bounds a NET_RX run by CPU time: at 10 us every 64-packet poll (~19 us) ends the run', () => {
  const { a, b, got } = pair(NO_COALESCE, { coalesce: { rxUsecs: 2000, rxFrames: 1024 } });
  b.k.net.sysctl = { ...b.k.net.sysctl, netdevBudgetUsecs: 10 };
  for (let i = 0; i < 1000; i++) sendAt(a, 0, () => skbOf(a, 0, { sport: 1000 + i }));
  a.env.run(5_000_000);
  assert.equal(got.length, 1000);
  // 16 polls (15 full, one of 40): a squeeze after each full one
  assert.equal(softnetData(b.k, b.k.sched.cpu(0)).timeSqueeze, 15);
});

test('tx coalescing: tx-frames 32 gives one tx-completion interrupt per 32 packets; without it NAPI masking alone batches about two', () => {
  const irqsFor = (txFrames: number): number => {
    const { a, got } = pair({ coalesce: { rxUsecs: 0, rxFrames: 1, txUsecs: 1000, txFrames } }, NO_COALESCE);
    a.env.at(0, Priority.NORMAL, () => {
      for (let i = 0; i < 128; i++) devQueueXmit(a.k, skbOf(a, 100, { frags: 1, sport: 100 + i }), a.k.sched.cpu(0));
    }, undefined);
    a.env.run(3_000_000);
    assert.equal(got.length, 128);
    return a.nics[0]!.nic.interruptsOf(0);
  };
  // a completion every ~150 ns on the wire; the vector stays masked while NAPI runs (~1.5 us)
  assert.equal(irqsFor(1), 61);
  assert.equal(irqsFor(32), 4);
});

test('A15: a TSO stream saturates 10 GbE at 9.41 Gb/s of TCP payload (1448 of every 1538 wire bytes)', () => {
  const { a, got } = pair({ coalesce: { rxUsecs: 8, rxFrames: 128, txUsecs: 16, txFrames: 32 } }, NO_COALESCE);
  a.env.at(0, Priority.NORMAL, () => {
    for (let i = 0; i < 40; i++) devQueueXmit(a.k, skbOf(a, 45 * MSS, { gso: true, frags: 16, seq: 1 + i * 45 * MSS }), a.k.sched.cpu(0));
  }, undefined);
  a.env.run(5_000_000);
  assert.equal(got.length, 40 * 45);
  const spanNs = got[got.length - 1]!.skb.tstampNs - got[0]!.skb.tstampNs;
  const gbps = ((got.length - 1) * MSS * 8) / spanNs;
  assert.ok(Math.abs(gbps - 9.4148) < 0.01, `${gbps} Gb/s`);
});

test('a full qdisc (txqueuelen 1000) drops: kfree_skb with reason QDISC_DROP (64), the socket\'s destructor still run', () => {
  const { a, got } = pair({ txRingSize: 64 }, NO_COALESCE);
  const reasons: unknown[] = [];
  a.k.registry.get('tracepoint:skb:kfree_skb')!.attach((h) => reasons.push(h.fields['reason']));
  let destructed = 0;
  a.env.at(0, Priority.NORMAL, () => {
    for (let i = 0; i < 1100; i++) {
      const skb = skbOf(a, 100, { frags: 1, sport: i });
      skb.destructor = () => destructed++;
      devQueueXmit(a.k, skb, a.k.sched.cpu(0));
    }
  }, undefined);
  a.env.run(5_000_000);
  // 23 on the ring, 1000 in the qdisc, the rest dropped
  assert.equal(reasons.length, 77);
  assert.ok(reasons.every((r) => r === 64));
  assert.equal(got.length, 1023);
  assert.equal(destructed, 1100);
});

test('ethtool -c/-C through dev->ethtool_ops: reads the moderation, sets it on the fly, refuses what the CQ cannot hold', () => {
  const { a, b, got } = pair(NO_COALESCE, NO_COALESCE);
  const dev = b.nics[0]!.dev;
  assert.deepEqual(dev.ethtoolOps!.getCoalesce(dev), { rxUsecs: 0, rxFrames: 1, txUsecs: 0, txFrames: 1, useAdaptiveRx: false });
  assert.equal(dev.ethtoolOps!.setCoalesce(dev, { rxUsecs: 5000 }), -22);
  for (let i = 0; i < 20; i++) sendAt(a, i * 10_000, () => skbOf(a, 100, { frags: 1 }));
  // halfway through, rx-frames 5 with a long timer: the last 10 packets take 2 interrupts
  b.env.at(100_000, Priority.NORMAL, () => assert.equal(dev.ethtoolOps!.setCoalesce(dev, { rxUsecs: 1000, rxFrames: 5 }), 0), undefined);
  a.env.run(1_000_000);
  assert.equal(got.length, 20);
  assert.equal(b.nics[0]!.nic.interruptsOf(0), 12);
});

test('one vector, two periods: a receive behind a pending tx completion fires at its own rx-usecs, not the longer tx-usecs', () => {
  const { a, b } = pair({ coalesce: { rxUsecs: 8, rxFrames: 128, txUsecs: 100, txFrames: 128 } }, NO_COALESCE);
  const gotA: Arrival[] = [];
  a.k.net.addPack(ETH_P_IP, (skb) => {
    gotA.push({ ns: a.env.nowNs, skb });
    return 0;
  });
  sendAt(a, 0, () => skbOf(a, 100, { frags: 1 }));
  b.env.at(0, Priority.NORMAL, () => {
    const skb = allocSkb(b.k, b.k.newIoId(), { saddr: B, daddr: A, sport: 80, dport: 40000 });
    skb.lenBytes = HDR;
    skb.headerBytes = HDR;
    skb.dev = b.nics[0]!.dev;
    devQueueXmit(b.k, skb, b.k.sched.cpu(0));
  }, undefined);
  a.env.run(1_000_000);
  assert.equal(gotA.length, 1);
  const waitNs = gotA[0]!.ns - gotA[0]!.skb.tstampNs;
  assert.ok(waitNs >= 8000 && waitNs < 10_000, `${waitNs} ns from DMA to the handler`);
});

test('the switch: two senders to one receiver share its port (incast): 90 frames take twice one sender\'s 45', () => {
  const C = ipv4('10.0.0.3');
  const hosts: HostSpec[] = [{ name: 'b', machine: machine(B, NO_COALESCE) }, { name: 'c', machine: machine(C, NO_COALESCE) }];
  const m = bootNetwork(machine(A, NO_COALESCE), 1, hosts, undefined);
  const [hb, hc] = [m.hosts[0]!, m.hosts[1]!];
  const got: SkBuff[] = [];
  hb.k.net.addPack(ETH_P_IP, (skb) => {
    got.push(skb);
    return 0;
  });
  sendAt(m, 0, () => skbOf(m, 64000, { gso: true }));
  hc.env.at(0, Priority.NORMAL, () => {
    const skb = skbOf(hc, 64000, { gso: true, sport: 50000 });
    skb.flow = { ...skb.flow, saddr: C };
    skb.dev = hc.nics[0]!.dev;
    devQueueXmit(hc.k, skb, hc.k.sched.cpu(0));
  }, undefined);
  m.env.run(2_000_000);
  assert.equal(got.length, 90);
  const span = got[89]!.tstampNs - got[0]!.tstampNs;
  // 89 frames after the first, each 1538 wire bytes (the last ones shorter) back to back at 10 Gb/s
  assert.ok(span > 85 * 1230 && span < 90 * 1231, `${span} ns`);
  assert.equal(m.network!.dropped, 0);
});
