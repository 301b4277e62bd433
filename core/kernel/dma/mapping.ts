// Models: kernel/dma/mapping.c (dma_map_sg_attrs): a request's bio vectors become a
// scatter-gather list of bus addresses, adjacent pages coalescing into one entry, as the IOMMU /
// direct mapping does. The cost is charged per entry.

import type { HitContext } from '../../trace/probe.js';
import type { Kernel } from '../kernel.js';
import type { Request } from '../../block/blkdev.js';
import type { SgEntry } from '../../hw/device.js';
import { DMA_MAP_SG_ENTRY_NS } from '../../hw/cpu.js';
import type { CpuCost } from '../../block/blk-mq.js';
import { forEachPhysSegment } from '../../block/blk-merge.js';

/** DMA_TO_DEVICE = 1, DMA_FROM_DEVICE = 2 (enum dma_data_direction). */
export const DMA_TO_DEVICE = 1;
export const DMA_FROM_DEVICE = 2;
/** Where host memory starts on the bus (identity map of physical memory, offset for realism). */
const DMA_BASE = 0x1_0000_0000;

function pushSgEntry(sg: SgEntry[], addr: number, lenBytes: number): void {
  sg.push({ dmaAddr: DMA_BASE + addr, lenBytes });
}

/** dma_map_sg over a request's bios. */
export function dmaMapSg(k: Kernel, ctx: HitContext, ioId: number, dev: number, rq: Request, toDevice: boolean, cost: CpuCost): SgEntry[] {
  const sg: SgEntry[] = [];
  forEachPhysSegment(rq.bios, pushSgEntry, sg);
  const fn = k.fn.dma_map_sg;
  if (fn.entry.enabled) fn.enter(ctx, ioId, dev, sg.length, toDevice ? DMA_TO_DEVICE : DMA_FROM_DEVICE);
  cost.ns += DMA_MAP_SG_ENTRY_NS * Math.max(1, sg.length);
  if (fn.ret.enabled) fn.exit(ctx, ioId, sg.length);
  return sg;
}
