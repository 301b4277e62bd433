// Models: a printer on a slow serial line (an RS-232 dot-matrix printer, 8N1): the host's UART
// (a 16550A) holds up to 16 bytes in its transmit FIFO and shifts them onto the line one character
// time apart (10 bits each: start, 8 data, stop, at the line's baud rate); it interrupts when the
// FIFO has run empty (THRE), so the driver can refill it. What crosses the line is what comes out
// of the printer: its paper, kept byte for byte.
// SIMPLIFICATION: the printer never signals busy or paper-out (no flow control): it prints at line rate.
// SIMPLIFICATION: THRE fires when the last byte of a fill has left the line (a 16550 raises it one
// character earlier, when that byte moves into the shift register).

import { Priority, type Environment } from '../sim/engine.js';

/** The 16550A's transmit FIFO. */
export const UART_TX_FIFO_BYTES = 16;
/** Bits on the line per byte with 8N1 framing: a start bit, 8 data bits, a stop bit. */
export const LINE_BITS_PER_BYTE = 10;

export interface SerialPrinterConfig {
  /** Line speed in bits per second (9600, 19200, 115200, ...). */
  readonly baud: number;
}

export class SerialPrinter {
  /** One character time on the line, in ns. */
  readonly charNs: number;
  /** Bytes in the FIFO or on the line, not yet printed. */
  private inFlightBytes = 0;
  private readonly paperChunks: Uint8Array[] = [];
  private paperLen = 0;
  /** The line is busy until then. */
  private lineFreeAtNs = 0;
  /** Called (device context) when the FIFO has run empty: the THRE interrupt. */
  onTxEmpty: () => void = () => undefined;

  constructor(
    private readonly env: Environment,
    readonly config: SerialPrinterConfig,
  ) {
    this.charNs = Math.round((LINE_BITS_PER_BYTE * 1e9) / config.baud);
  }

  /** Bytes per second the line carries. */
  get bytesPerSec(): number {
    return 1e9 / this.charNs;
  }

  /** Room in the transmit FIFO now. */
  get fifoFreeBytes(): number {
    return UART_TX_FIFO_BYTES - this.inFlightBytes;
  }

  /** Bytes printed so far. */
  get printedBytes(): number {
    return this.paperLen;
  }

  /**
   * The driver writes bytes into the transmit FIFO (outb to the THR): as many as fit are taken
   * and go out on the line after what is already there. Returns how many were taken.
   */
  transmit(bytes: Uint8Array): number {
    const n = Math.min(bytes.length, this.fifoFreeBytes);
    if (n === 0) return 0;
    const chunk = bytes.slice(0, n);
    this.inFlightBytes += n;
    const startNs = Math.max(this.env.nowNs, this.lineFreeAtNs);
    this.lineFreeAtNs = startNs + n * this.charNs;
    this.env.at(this.lineFreeAtNs, Priority.NORMAL, printed, { printer: this, chunk });
    return n;
  }

  /** @internal a fill has crossed the line: it is on paper, and the FIFO may be empty. */
  landed(chunk: Uint8Array): void {
    this.paperChunks.push(chunk);
    this.paperLen += chunk.length;
    this.inFlightBytes -= chunk.length;
    if (this.inFlightBytes === 0) this.onTxEmpty();
  }

  /** Everything printed, in order. */
  paper(): Uint8Array {
    const out = new Uint8Array(this.paperLen);
    let off = 0;
    for (const c of this.paperChunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }
}

function printed(a: { printer: SerialPrinter; chunk: Uint8Array }): void {
  a.printer.landed(a.chunk);
}
