// Models: the device tree the buses build at boot (drivers/pci/probe.c: the host bridge, root
// ports and the devices behind them; drivers/ata/libata-transport.c: an AHCI controller's ports
// and their devices; drivers/scsi/sd.c and drivers/nvme/host/core.c: the disks), each device
// taking part in runtime PM as its driver sets it up: a SCSI disk with blk_pm_runtime_init
// (autosuspend delay -1 until user space sets one), ATA ports and the AHCI controller suspending
// when all their children are, an NVMe controller kept on (its power is APST's business:
// nvme_configure_apst at probe).
// SIMPLIFICATION: one AHCI controller (0000:00:17.0) with a port per disk; one root port per NVMe
// controller; PCI D3hot entry and exit take the 10 ms of pci_pm_d3hot_delay both ways.

import type { Kernel } from '../../kernel/kernel.js';
import type { RequestQueue } from '../../block/blk-mq.js';
import type { NvmeSsd } from '../../hw/nvme-ssd.js';
import { NvmeApst, SAMSUNG_970_PRO_POWER_STATES } from '../../hw/nvme-apst.js';
import { hddPmOps } from '../../hw/hdd-power.js';
import type { DevPmOps } from '../../power/runtime.js';
import type { PowerStateTime } from '../../power/power.js';
import { nvmeConfigureApst } from '../nvme/host/apst.js';
import type { NvmePciDriver } from '../nvme/host/pci.js';
import type { BlockDriverHost } from '../blk-host.js';
import { DEVICE_STATE_NAMES, DeviceState, type KDevice } from './core.js';

/** pci_pm_d3hot_delay: 10 ms into and out of D3hot. */
const PCI_D3HOT_DELAY_NS = 10_000_000;
const PCI_PM_OPS: DevPmOps = { suspendNs: PCI_D3HOT_DELAY_NS, resumeNs: PCI_D3HOT_DELAY_NS, idleW: 0, busyW: 0, suspendedW: 0 };
/** An ATA port's runtime PM (ata_port_runtime_suspend: link power management only). */
const ATA_PORT_PM_OPS: DevPmOps = { suspendNs: 0, resumeNs: 0, idleW: 0, busyW: 0, suspendedW: 0 };

/** The machine's buses: the PCI host bridge, and the AHCI controller once a disk needs it. */
export class Buses {
  readonly pciRoot: KDevice;
  private ahci: KDevice | undefined;
  private rootPorts = 0;

  constructor(private readonly k: Kernel) {
    this.pciRoot = k.devices.add('pci0000:00', 'pci-bus', undefined, 0, '0000:00');
  }

  /**
   * An NVMe SSD: root port -> controller (nvmeN, at 0000:0M:00.0) -> namespace (the disk). APST is
   * set up from the controller's power states unless `psMaxLatencyUs` is 0.
   */
  addNvme(q: RequestQueue, drv: NvmePciDriver, ssd: NvmeSsd, ctrlId: number, psMaxLatencyUs: number): KDevice {
    const k = this.k;
    const bus = ++this.rootPorts;
    const port = k.devices.add(`0000:00:1${bus.toString(16)}.0`, 'pci-bridge', this.pciRoot, 0, `0000:00:1${bus.toString(16)}.0`);
    k.power.rpm.enable(port, PCI_PM_OPS, 'auto', -1).useAutosuspend = false;
    const pciAddr = `0000:${bus.toString(16).padStart(2, '0')}:00.0`;
    const ctrl = k.devices.add(pciAddr, 'nvme', port, 0, pciAddr);
    // nvme's PCI device keeps runtime PM forbidden (power/control "on"): the port stays up
    k.power.rpm.enable(ctrl, PCI_PM_OPS, 'on', -1);
    const disk = k.devices.add(q.diskName, 'disk', ctrl, q.dev, pciAddr);
    this.attachDisk(q, disk, drv);
    const states = SAMSUNG_970_PRO_POWER_STATES;
    const table = nvmeConfigureApst(states, psMaxLatencyUs);
    if (table) ssd.apst = new NvmeApst(k.env, states, table, drv);
    k.power.devicePowerStates.set(disk, (): PowerStateTime[] =>
      states.map((ps, i) => {
        const timeNs = ssd.apst ? ssd.apst.timeInNs(i) : i === 0 ? k.env.nowNs : 0;
        return { state: `PS${i}`, timeNs, energyJ: (timeNs * ps.maxPowerW) / 1e9 };
      }),
    );
    return disk;
  }

  /** A SATA disk: AHCI controller -> port ataN -> the disk (ataN.00), with block-layer runtime PM. */
  addSataDisk(q: RequestQueue, drv: BlockDriverHost, port: number, control: 'auto' | 'on', autosuspendDelayMs: number): KDevice {
    const k = this.k;
    if (!this.ahci) {
      this.ahci = k.devices.add('0000:00:17.0', 'ahci', this.pciRoot, 0, '0000:00:17.0');
      k.power.rpm.enable(this.ahci, PCI_PM_OPS, 'auto', -1).useAutosuspend = false;
    }
    const ata = k.devices.add(`ata${port}`, 'ata-port', this.ahci, 0, `ata${port}`);
    k.power.rpm.enable(ata, ATA_PORT_PM_OPS, 'auto', -1).useAutosuspend = false;
    const disk = k.devices.add(q.diskName, 'disk', ata, q.dev, `ata${port}.00`);
    this.attachDisk(q, disk, drv);
    // blk_pm_runtime_init: requests pending refuse the suspend
    const ops = hddPmOps(() => q.inFlight > 0 || q.hctxs.some((h) => h.dispatchList.length > 0) || (q.elevator?.hasWork() ?? false));
    k.power.rpm.enable(disk, ops, control, autosuspendDelayMs);
    q.pmDev = disk;
    k.power.devicePowerStates.set(disk, (): PowerStateTime[] =>
      [DeviceState.BUSY, DeviceState.IDLE, DeviceState.SUSPENDED].map((s) => {
        const timeNs = disk.timeInStateNs(s, k.env.nowNs);
        const w = s === DeviceState.BUSY ? ops.busyW : s === DeviceState.IDLE ? ops.idleW : ops.suspendedW;
        return { state: s === DeviceState.SUSPENDED ? 'standby' : DEVICE_STATE_NAMES[s]!, timeNs, energyJ: (timeNs * w) / 1e9 };
      }),
    );
    return disk;
  }

  private attachDisk(q: RequestQueue, disk: KDevice, drv: BlockDriverHost): void {
    q.device = disk;
    disk.inProgress = () => drv.inProgress();
    disk.inFlight = () => q.inFlight;
  }
}
