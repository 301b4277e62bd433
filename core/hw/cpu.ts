// Models: the CPU cost of kernel work, in nanoseconds of simulated CPU time per operation. Tasks
// really consume these on a simulated CPU, so they show up as run time, preemption and latency.
// Sources: ../shared/reference/kernel-model-facts.md §0, §17.4 (syscall, context switch, fault,
// memcpy, IRQ-to-wakeup figures), §7 and A7 (faults, fault-around, TLB); each constant says which.

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
export const ELEVATOR_BFQ_NS = 1_900;
/** Kyber has no published per-request figure; its lists are simpler than mq-deadline's sort tree [mem]. */
export const ELEVATOR_KYBER_NS = 500;
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
// A page fault's parts (a minor fault with fault-around of 16 pages totals ~1 µs, §7, §17.4, A7):
/** The #PF exception's entry (asm_exc_page_fault: hardware delivery, error_entry saving the
 *  registers, CR2 read) into exc_page_fault. Dearer than a syscall's entry. */
export const PAGE_FAULT_ENTRY_NS = 180;
/** irqentry_exit and the IRET back to the faulting instruction. */
export const PAGE_FAULT_EXIT_NS = 80;
/** lock_vma_under_rcu: the maple-tree walk to the VMA of the faulting address. */
export const FAULT_VMA_LOOKUP_NS = 50;
/** __handle_mm_fault down to the PTE: the pgd/p4d/pud/pmd walk and the fault's set-up. */
export const HANDLE_MM_FAULT_NS = 100;
/** One PTE installed for a cached folio (filemap_map_pages / finish_fault: folio trylock and
 *  checks, folio ref, rmap (mapcount), set_pte_at). */
export const PTE_INSTALL_NS = 30;
/** A TLB miss: the hardware page walk after a store or load to a page the TLB does not hold
 *  (the PTE's cache line usually cached: a few dozen cycles). */
export const TLB_MISS_NS = 20;
/** Second-level TLB entries for 4 KiB pages (Skylake's STLB: 1536). */
export const STLB_ENTRIES = 1536;
/** Flushing the TLB entries of a range: INVLPG per page up to tlb_single_page_flush_ceiling
 *  pages, beyond it one full flush (flush_tlb_mm_range). */
export const TLB_FLUSH_PAGE_NS = 40;
export const TLB_FLUSH_ALL_NS = 200;
export const TLB_SINGLE_PAGE_FLUSH_CEILING = 33;
/** zap_pte_range per present PTE: clear it, drop the rmap and the folio reference. */
export const ZAP_PTE_NS = 15;
/** User-space work per I/O in a fio-like job loop (fio's own accounting, buffer handling). */
export const USER_IO_OVERHEAD_NS = 800;
/** Dirtying a page in the page cache (folio_mark_dirty, inode dirty bookkeeping). */
export const MARK_DIRTY_NS = 80;
/** Per-page writeback setup in ->writepages (folio_start_writeback, bio add). */
export const WRITEPAGE_NS = 150;

// poll(2) and epoll (fs/select.c, fs/eventpoll.c). No published per-step figures; sized against the
// syscall entry above and a few cache lines touched per step [mem].
/** One ->poll call through vfs_poll (do_pollfd's fdget + f_op->poll, or ep_item_poll). */
export const VFS_POLL_NS = 40;
/** poll_wait registering on one wait queue (poll_get_entry / ep_ptable_queue_proc + add_wait_queue). */
export const POLL_WAIT_ENTRY_NS = 30;
/** epoll_ctl's own work: ep_find in the rb-tree plus, for ADD, the epitem's allocation and insert. */
export const EPOLL_CTL_NS = 250;
/** epoll_put_uevent: one struct epoll_event copied to user memory. */
export const EP_PUT_UEVENT_NS = 10;

/** memcpy between the page cache and user memory (or user to user through a mapping), per byte
 *  at COPY_BYTES_PER_NS: read()'s copy_to_user costs this, per byte, on every call. */
export function copyNs(bytes: number): number {
  return Math.ceil(bytes / COPY_BYTES_PER_NS);
}

// ---- the network stack (per packet and per call; the copies are copyNs per byte) ----
/** lock_sock, size goal, skb allocation around one send/recv call (tcp_sendmsg / tcp_recvmsg). */
export const TCP_SENDMSG_NS = 250;
export const TCP_RECVMSG_NS = 250;
/** tcp_transmit_skb + ip_queue_xmit + dev_queue_xmit for one skb (a GSO skb counts once). */
export const TCP_XMIT_SKB_NS = 700;
/** ip_rcv + tcp_v4_rcv + tcp_rcv_established for one received skb (data or ACK). */
export const TCP_RCV_SKB_NS = 800;
/** loopback_xmit: skb_orphan, netif_rx's enqueue to the backlog. */
export const LOOPBACK_XMIT_NS = 150;
/** A TCP timer's handler (retransmit, delayed ACK, zero-window probe), before what it sends. */
export const TCP_TIMER_NS = 300;
