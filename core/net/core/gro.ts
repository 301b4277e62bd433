// Models: net/core/gro.c (napi_gro_receive, napi_gro_flush) with net/ipv4/tcp_offload.c's
// tcp_gro_receive: in a NAPI poll, consecutive in-order TCP segments of one flow are merged into one
// large skb (gso_size = the MSS, gso_segs = segments) before the stack sees them, so IP and TCP run
// once per train instead of once per frame. A segment that is not the next in sequence, carries a
// different ACK or flags that end a train (PSH, FIN, SYN, RST, URG), or is shorter than the MSS ends
// the train (after joining it, when it fits); a train stops at 64 KiB (gro_max_size).
// SIMPLIFICATION: every held train is flushed when the poll ends (napi_complete_done's flush; Linux
// keeps trains across polls that used their whole budget until they are a jiffy old).

import type { Kernel } from '../../kernel/kernel.js';
import type { Cpu } from '../../kernel/sched/core.js';
import type { NapiStruct } from '../netdevice.js';
import { TCPHDR, type SkBuff } from '../skbuff.js';
import { netifReceiveSkb } from './dev.js';

/** GRO_MAX_SIZE: the largest merged skb. */
export const GRO_MAX_SIZE = 65536;
/** MAX_GRO_SKBS: trains held per NAPI instance. */
const MAX_GRO_SKBS = 8;
/** dev_gro_receive + tcp_gro_receive per frame: flow match and the merge. */
const GRO_RECEIVE_NS = 70;
/** Flags that end a train. */
const TRAIN_END = TCPHDR.PSH | TCPHDR.FIN | TCPHDR.SYN | TCPHDR.RST | TCPHDR.URG;

/** A held train: its skb, the MSS of its first segment and the payload parts to join at flush. */
interface GroTrain {
  readonly skb: SkBuff;
  readonly mss: number;
  parts: Uint8Array[] | undefined;
}

const trains = new WeakMap<NapiStruct, GroTrain[]>();

function heldOf(napi: NapiStruct): GroTrain[] {
  let held = trains.get(napi);
  if (held === undefined) {
    held = [];
    trains.set(napi, held);
  }
  return held;
}

function payloadOf(skb: SkBuff): number {
  return skb.lenBytes - skb.headerBytes;
}

function sameFlow(a: SkBuff, b: SkBuff): boolean {
  return a.flow.saddr === b.flow.saddr && a.flow.daddr === b.flow.daddr && a.flow.sport === b.flow.sport && a.flow.dport === b.flow.dport;
}

/** napi_gro_complete: the train goes up the stack as one skb. Returns CPU ns. */
function complete(k: Kernel, t: GroTrain, cpu: Cpu): number {
  if (t.skb.gsoSegs === 1) {
    // a train of one goes up as the plain segment it was
    t.skb.gsoSize = 0;
    t.skb.gsoSegs = 0;
  }
  if (t.parts !== undefined) {
    const out = new Uint8Array(payloadOf(t.skb));
    let at = 0;
    for (const p of t.parts) {
      out.set(p, at);
      at += p.length;
    }
    t.skb.headContent = out;
  }
  return netifReceiveSkb(k, t.skb, cpu);
}

/** napi_gro_receive: merges `skb` into its flow's train or holds/delivers it. Returns CPU ns. */
export function napiGroReceive(k: Kernel, napi: NapiStruct, skb: SkBuff, cpu: Cpu): number {
  const dev = napi.dev;
  if (k.tp.napi_gro_receive_entry.enabled) k.tp.napi_gro_receive_entry.emit(cpu, skb.ioId, skb, dev, napi);
  let ns = GRO_RECEIVE_NS;
  const held = heldOf(napi);
  const cb = skb.tcp;
  const len = payloadOf(skb);
  const i = held.findIndex((t) => sameFlow(t.skb, skb));
  const train = i < 0 ? undefined : held[i];
  if (cb === undefined || len === 0) {
    // not for GRO: what the flow holds goes first, then this one
    if (train !== undefined) ns += complete(k, held.splice(i, 1)[0]!, cpu);
    return ns + netifReceiveSkb(k, skb, cpu);
  }
  if (train !== undefined) {
    const tcb = train.skb.tcp!;
    const fits = tcb.endSeq === cb.seq && tcb.ackSeq === cb.ackSeq && (cb.tcpFlags & (TCPHDR.SYN | TCPHDR.RST | TCPHDR.URG | TCPHDR.CWR)) === 0 && len <= train.mss && payloadOf(train.skb) + len <= GRO_MAX_SIZE - train.skb.headerBytes;
    if (fits) {
      const t = train.skb;
      if (train.parts !== undefined || t.headContent !== undefined || skb.headContent !== undefined) {
        train.parts ??= [t.headContent ?? new Uint8Array(payloadOf(t))];
        train.parts.push(skb.headContent ?? new Uint8Array(len));
      }
      t.lenBytes += len;
      t.gsoSegs++;
      t.tcp = { ...tcb, endSeq: cb.endSeq, tcpFlags: tcb.tcpFlags | (cb.tcpFlags & (TCPHDR.PSH | TCPHDR.FIN)) };
      if (len < train.mss || (cb.tcpFlags & TRAIN_END) !== 0) ns += complete(k, held.splice(i, 1)[0]!, cpu);
      return ns;
    }
    ns += complete(k, held.splice(i, 1)[0]!, cpu);
  }
  if ((cb.tcpFlags & TRAIN_END) !== 0) return ns + netifReceiveSkb(k, skb, cpu);
  if (held.length >= MAX_GRO_SKBS) ns += complete(k, held.shift()!, cpu);
  skb.gsoSize = len;
  skb.gsoSegs = 1;
  held.push({ skb, mss: len, parts: undefined });
  return ns;
}

/** napi_gro_flush: every held train goes up (end of the poll). Returns CPU ns. */
export function napiGroFlush(k: Kernel, napi: NapiStruct, cpu: Cpu): number {
  const held = trains.get(napi);
  if (held === undefined || held.length === 0) return 0;
  let ns = 0;
  for (const t of held.splice(0, held.length)) ns += complete(k, t, cpu);
  return ns;
}
