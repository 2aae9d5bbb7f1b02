import { fromBase64Url, toBase64Url } from '../identity';

/**
 * A have-map: which chunks of a file a peer holds, as a bitfield (bit i, most
 * significant bit first, = chunk i), like BitTorrent's `bitfield` message (BEP 3).
 */
export class HaveMap {
  /** One bit per chunk, chunk 0 in the most significant bit of byte 0 (as BitTorrent's bitfield, BEP 3). */
  readonly bits: Uint8Array;
  private held = 0;

  constructor(
    /** Chunks in the file (bits in the map). */
    readonly count: number,
    bits?: Uint8Array,
  ) {
    this.bits = new Uint8Array(Math.ceil(count / 8));
    if (bits) {
      this.bits.set(bits.subarray(0, this.bits.length));
      // clear padding bits a peer may have set
      if (count % 8) this.bits[this.bits.length - 1] &= 0xff << (8 - (count % 8));
      for (let i = 0; i < count; i++) if (this.has(i)) this.held++;
    }
  }

  /** Decodes a base64url bitfield; malformed input gives an empty map. */
  static decode(count: number, encoded: string): HaveMap {
    try {
      return new HaveMap(count, fromBase64Url(encoded));
    } catch {
      return new HaveMap(count);
    }
  }

  /** A map with every chunk held. */
  static full(count: number): HaveMap {
    const map = new HaveMap(count);
    for (let i = 0; i < count; i++) map.add(i);
    return map;
  }

  /** Whether chunk `i` is held (false outside 0..count-1). */
  has(i: number): boolean {
    return i >= 0 && i < this.count && (this.bits[i >> 3] & (0x80 >> (i & 7))) !== 0;
  }

  /** Sets chunk `i`; returns false if it was already set or is out of range. */
  add(i: number): boolean {
    if (i < 0 || i >= this.count || this.has(i)) return false;
    this.bits[i >> 3] |= 0x80 >> (i & 7);
    this.held++;
    return true;
  }

  /** Marks chunk `i` as not held. */
  delete(i: number): void {
    if (!this.has(i)) return;
    this.bits[i >> 3] &= ~(0x80 >> (i & 7));
    this.held--;
  }

  /** How many chunks are held. */
  get size(): number {
    return this.held;
  }

  /** Whether every chunk is held. */
  get complete(): boolean {
    return this.held === this.count;
  }

  /** The bits as base64url (the wire form in `have` messages; see {@link HaveMap.decode}). */
  encode(): string {
    return toBase64Url(this.bits);
  }

  /** Indices not held, ascending. */
  missing(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) if (!this.has(i)) out.push(i);
    return out;
  }
}
