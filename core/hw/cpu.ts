// Models: the CPU cost of kernel work, in nanoseconds of simulated CPU time per operation. Tasks
// really consume these on a simulated CPU, so they show up as run time, preemption and latency.
// Sources: ../shared/reference/kernel-model-facts.md §0, §17.4 (syscall, context switch, fault,
// memcpy, IRQ-to-wakeup figures); each constant says which.

/** Syscall entry + exit without KPTI (50–100 ns bare, §17.4). */
export const SYSCALL_ENTRY_NS = 60;
export const SYSCALL_EXIT_NS = 40;
/** fdget, rw_verify_area, fsnotify: the VFS dispatch around ->read_iter. */
export const VFS_DISPATCH_NS = 80;
/** One xarray walk for a page-cache lookup. */
export const PAGE_CACHE_LOOKUP_NS = 40;
/** Copying between the page cache and a user buffer: ~10 GB/s per core (§2, §17.4). */
export const COPY_BYTES_PER_NS = 10;
/** Allocating a folio and inserting it into the page cache and the LRU. */
export const FOLIO_ALLOC_NS = 250;
/** Mapping file blocks (extent-status cache hit). */
export const EXTENT_LOOKUP_NS = 60;
/** bio_alloc + bio_add_folio + submit_bio entry. */
export const BIO_SUBMIT_NS = 200;
/** blk_mq_submit_bio up to a request with a tag (merge attempts, tag allocation, rq init). */
export const BLK_MQ_GET_REQUEST_NS = 300;
/** Elevator insert + dispatch per request (mq-deadline ~0.7 µs vs BFQ 1.9 µs, §1.3). */
export const ELEVATOR_NONE_NS = 50;
export const ELEVATOR_DEADLINE_NS = 700;
/** nvme_queue_rq: nvme_setup_cmd, PRP/SGL setup, doorbell MMIO write. */
export const NVME_QUEUE_RQ_NS = 400;
/** AHCI/libata/SCSI command build and issue (ahci_qc_issue). */
export const AHCI_QUEUE_CMD_NS = 1_500;
/** dma_map_sg per scatter-gather entry (IOMMU map ~0.1–1 µs, §17.4). */
export const DMA_MAP_SG_ENTRY_NS = 100;
/** Hardirq entry/exit overhead plus the handler's fixed part. */
export const HARDIRQ_BASE_NS = 600;
/** Per completion reaped in an interrupt handler (CQE processing, blk_mq_end_request, bio_endio,
 *  and try_to_wake_up of the waiter). */
export const IRQ_PER_COMPLETION_NS = 350;
/** Softirq entry/exit overhead. */
export const SOFTIRQ_BASE_NS = 300;
/** A context switch (1–3.5 µs measured, §0). */
export const CONTEXT_SWITCH_NS = 1_500;
/** Waking a task on another CPU costs an IPI (~1 µs IRQ-to-wakeup order, §0). */
export const IPI_LATENCY_NS = 1_000;
/** Leaving an idle C1 state (SKX C1 exit 2 µs, §0). */
export const IDLE_EXIT_NS = 2_000;
/** A minor page fault: exception entry, VMA lookup, PTE install (0.5–1 µs, §7). */
export const FAULT_BASE_NS = 500;
/** Each extra PTE installed by fault-around. */
export const FAULT_AROUND_PTE_NS = 30;
/** User-space work per I/O in a fio-like job loop (fio's own accounting, buffer handling). */
export const USER_IO_OVERHEAD_NS = 800;
/** User code touching one already-mapped, cached page through an mmap (memcpy of 4 KiB). */
export const USER_PAGE_TOUCH_NS = 400;
/** Dirtying a page in the page cache (folio_mark_dirty, inode dirty bookkeeping). */
export const MARK_DIRTY_NS = 80;
/** Per-page writeback setup in ->writepages (folio_start_writeback, bio add). */
export const WRITEPAGE_NS = 150;

export function copyNs(bytes: number): number {
  return Math.ceil(bytes / COPY_BYTES_PER_NS);
}
