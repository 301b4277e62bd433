// Models: kernel/dma/mapping.c (dma_map_sg_attrs): a request's bio vectors become a
// scatter-gather list of bus addresses, adjacent pages coalescing into one entry, as the IOMMU /
// direct mapping does. The cost is charged per entry.

import type { HitContext } from '../../trace/probe.js';
import type { Kernel } from '../kernel.js';
import type { Request } from '../../block/blkdev.js';
import type { SgEntry } from '../../hw/device.js';
import { DMA_MAP_SG_ENTRY_NS } from '../../hw/cpu.js';
import type { CpuCost } from '../../block/blk-mq.js';

/** DMA_TO_DEVICE = 1, DMA_FROM_DEVICE = 2 (enum dma_data_direction). */
export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
/** Where host memory starts on the bus (identity map of physical memory, offset for realism). */
const DMA_BASE = 0x1_0000_0000;
/** dma_get_max_seg_size default: 64 KiB per segment. */
const MAX_SEG_BYTES = 65536;

/** dma_map_sg over a request's bios. */
export function dmaMapSg(k: Kernel, ctx: HitContext, ioId: number, dev: number, rq: Request, toDevice: boolean, cost: CpuCost): SgEntry[] {
  const sg: SgEntry[] = [];
  let curAddr = -1;
  let curLen = 0;
  for (const bio of rq.bios) {
    for (const v of bio.vecs) {
      const addr = DMA_BASE + v.pfn * 4096 + v.offsetBytes;
      if (curAddr >= 0 && curAddr + curLen === addr && curLen + v.lenBytes <= MAX_SEG_BYTES) {
        curLen += v.lenBytes;
      } else {
        if (curAddr >= 0) sg.push({ dmaAddr: curAddr, lenBytes: curLen });
        curAddr = addr;
        curLen = v.lenBytes;
      }
    }
  }
  if (curAddr >= 0) sg.push({ dmaAddr: curAddr, lenBytes: curLen });
  const fn = k.fn.dma_map_sg;
  if (fn.entry.enabled) fn.enter(ctx, ioId, dev, sg.length, toDevice ? DMA_TO_DEVICE : DMA_FROM_DEVICE);
  cost.ns += DMA_MAP_SG_ENTRY_NS * Math.max(1, sg.length);
  if (fn.ret.enabled) fn.exit(ctx, ioId, sg.length);
  return sg;
}
