// Models: the byte-moving half of net/core/datagram.c and lib/iov_iter.c as the stream sockets use
// it: copy_from_iter of a send (skb_copy_to_page_nocache: the bytes the user buffer holds at the
// time of the call go into the skb), skb_copy_datagram_iter of a receive (the skb's bytes land in
// the reader's buffer), and zerocopy_fill_skb_from_iter (MSG_ZEROCOPY / SEND_ZC: the user pages
// themselves become skb frags, read by whoever reads the frag, when it reads it).
// SIMPLIFICATION: user memory holds bytes only where a program put them (MmStruct.userBytes, keyed
// by a buffer's start); a range no entry covers has no modelled content, and a send from it
// carries none.

import type { MmStruct } from '../../mm/mm_types.js';
import type { PayloadSource, SkBuff } from '../skbuff.js';
import { skbPayloadNow } from './skbuff.js';

/** The userBytes entry that holds [va, va + lenBytes): its start and bytes, or undefined. */
function userEntryCovering(mm: MmStruct, va: number, lenBytes: number): { startVa: number; bytes: Uint8Array } | undefined {
  const exact = mm.userBytes.get(va);
  if (exact !== undefined && exact.length >= lenBytes) return { startVa: va, bytes: exact };
  for (const [startVa, bytes] of mm.userBytes) {
    if (startVa <= va && va + lenBytes <= startVa + bytes.length) return { startVa, bytes };
  }
  return undefined;
}

/**
 * copy_from_user of [va, va + lenBytes): a snapshot of what the buffer holds now (later stores to
 * the buffer do not change it), or undefined when the range has no modelled content.
 */
export function copyFromUser(mm: MmStruct | undefined, va: number, lenBytes: number): Uint8Array | undefined {
  if (mm === undefined || mm.userBytes.size === 0 || lenBytes <= 0) return undefined;
  const e = userEntryCovering(mm, va, lenBytes);
  if (e === undefined) return undefined;
  const at = va - e.startVa;
  return e.bytes.slice(at, at + lenBytes);
}

/**
 * The reader's buffer [va, va + lenBytes) as bytes a receive may write into: the entry that covers
 * it, or a new one for the buffer (zeros, as a fresh anonymous mapping reads).
 */
export function userBufferFor(mm: MmStruct, va: number, lenBytes: number): { startVa: number; bytes: Uint8Array } {
  const e = userEntryCovering(mm, va, lenBytes);
  if (e !== undefined) return e;
  const bytes = new Uint8Array(lenBytes);
  const old = mm.userBytes.get(va);
  if (old !== undefined) bytes.set(old.subarray(0, lenBytes));
  mm.userBytes.set(va, bytes);
  return { startVa: va, bytes };
}

/** Does the skb carry content (a copied head, or frags whose pages are modelled)? */
export function skbHasContent(skb: SkBuff): boolean {
  if (skb.headContent !== undefined) return true;
  for (const f of skb.frags) if (f.source !== undefined) return true;
  return false;
}

/**
 * skb_copy_datagram_iter's bytes: payload [offsetBytes, offsetBytes + lenBytes) of `skb` into the
 * reader's memory at `va` (frags read now). Nothing happens when the skb carries no content.
 */
export function skbCopyDatagramToUser(mm: MmStruct | undefined, skb: SkBuff, offsetBytes: number, va: number, lenBytes: number, bufVa: number, bufLenBytes: number): void {
  if (mm === undefined || lenBytes <= 0 || !skbHasContent(skb)) return;
  const payload = skbPayloadNow(skb);
  if (payload === undefined) return;
  const buf = userBufferFor(mm, bufVa, bufLenBytes);
  buf.bytes.set(payload.subarray(offsetBytes, offsetBytes + lenBytes), va - buf.startVa);
}

const userSources = new WeakMap<MmStruct, PayloadSource>();

/**
 * A process's memory as a frag's page source: sourceOffsetBytes is the user address. Reads see
 * what the buffer holds at the time of the read (zeros where nothing was put).
 */
export function userMemorySource(mm: MmStruct): PayloadSource {
  let s = userSources.get(mm);
  if (s === undefined) {
    s = {
      read(va: number, lenBytes: number): Uint8Array {
        const e = userEntryCovering(mm, va, lenBytes);
        if (e === undefined) return new Uint8Array(lenBytes);
        const at = va - e.startVa;
        return e.bytes.subarray(at, at + lenBytes);
      },
    };
    userSources.set(mm, s);
  }
  return s;
}
