// Models: the NVMe SSD of core/hw/nvme/ under its former single-file name: the controller
// (controller.ts), the FTL (ftl.ts) and the NAND back end (nand.ts), re-exported for importers.

export * from './nvme/controller.js';
export * from './nvme/ftl.js';
export * from './nvme/nand.js';
