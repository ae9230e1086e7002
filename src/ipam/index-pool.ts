/**
 * The core shared by the address and host-subnet allocators: which of `size` numbered slots are
 * taken, a rotating cursor for the next dynamic pick, and a quarantine of recently freed slots.
 *
 * Slots below `windowSize` live in a bitmap and can be handed out dynamically. Slots above it (only
 * reachable in huge IPv6 ranges such as a /64) can still be taken explicitly and are kept in a Set,
 * so an IPv6 subnet costs no more memory than a million-address bitmap.
 *
 * Quarantine: a freed slot keeps its bit set and sits in a FIFO (insertion-ordered Map) until it is
 * pushed out by `maxSize`, ages past `maxAgeMs`, or the pool has nothing else free. That is what
 * keeps a freed address (or a removed node's subnet) from being handed out again at once, while
 * ARP caches, conntrack entries or stale NB rows may still point at it.
 */
import { Bitmap } from './bitmap.js';

export interface QuarantineOptions {
  /** Most freed slots held back; the oldest leaves first. Default 4096; Infinity = unbounded. */
  maxSize?: number;
  /** Milliseconds a freed slot is held back. Default Infinity (only size or exhaustion frees it). */
  maxAgeMs?: number;
}

export interface IndexPoolOptions {
  quarantine?: QuarantineOptions;
  /** Clock for quarantine ages (injectable for tests); default Date.now. */
  now?: () => number;
  /** Largest bitmap; slots beyond it are explicit-only. Default 2^20. */
  maxBitmapSize?: number;
}

export type SlotState = 'free' | 'taken' | 'quarantined';

export const DEFAULT_MAX_BITMAP_SIZE = 1 << 20;
export const DEFAULT_QUARANTINE_SIZE = 4096;

export class IndexPool {
  readonly windowSize: number;
  private bits: Bitmap;
  private readonly beyond = new Set<bigint>();
  /**
   * The quarantine FIFO: parallel arrays from `qHead` on (slot, time freed, sequence number), and
   * `qMember` (slot -> sequence number) for membership. A slot taken out of the middle only leaves
   * `qMember`; its queue entry is skipped as stale later. (An insertion-ordered Map looked ideal but
   * V8 keeps deleted entries until a rehash, so always deleting from the front made each scan O(n).)
   */
  private qSlots: number[] = [];
  private qTimes: number[] = [];
  private qSeqs: number[] = [];
  private qHead = 0;
  private qNextSeq = 0;
  private readonly qMember = new Map<number, number>();
  private cursor = 0;
  private readonly maxQuarantine: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    readonly size: bigint,
    options: IndexPoolOptions = {},
  ) {
    const maxBitmap = options.maxBitmapSize ?? DEFAULT_MAX_BITMAP_SIZE;
    this.windowSize = size < BigInt(maxBitmap) ? Number(size) : maxBitmap;
    this.bits = new Bitmap(this.windowSize);
    this.maxQuarantine = options.quarantine?.maxSize ?? DEFAULT_QUARANTINE_SIZE;
    this.maxAgeMs = options.quarantine?.maxAgeMs ?? Infinity;
    this.now = options.now ?? Date.now;
  }

  /** Slots taken (owned or blocked), quarantined ones not counted. */
  get takenCount(): number {
    this.expire();
    return this.bits.count - this.qMember.size + this.beyond.size;
  }

  get quarantinedCount(): number {
    this.expire();
    return this.qMember.size;
  }

  /** Quarantined slots, oldest first. */
  quarantined(): number[] {
    this.expire();
    const out: number[] = [];
    for (let k = this.qHead; k < this.qSlots.length; k++) {
      if (this.qMember.get(this.qSlots[k]!) === this.qSeqs[k]) out.push(this.qSlots[k]!);
    }
    return out;
  }

  state(slot: bigint): SlotState {
    if (slot >= BigInt(this.windowSize)) return this.beyond.has(slot) ? 'taken' : 'free';
    const i = Number(slot);
    this.expire();
    if (this.qMember.has(i)) return 'quarantined';
    return this.bits.get(i) ? 'taken' : 'free';
  }

  /** Takes a free or quarantined slot explicitly. Taking a taken slot is a caller bug. */
  take(slot: bigint): void {
    this.checkSlot(slot);
    if (slot >= BigInt(this.windowSize)) {
      if (this.beyond.has(slot)) throw new Error(`slot ${slot} is already taken`);
      this.beyond.add(slot);
      return;
    }
    const i = Number(slot);
    if (this.qMember.delete(i)) return; // its bit is still set
    if (!this.bits.set(i)) throw new Error(`slot ${slot} is already taken`);
  }

  /**
   * Takes the next free slot at or after the cursor (wrapping). When none is free and
   * `reuseQuarantined` (default true), the oldest quarantined slot is reused instead.
   */
  takeNext(reuseQuarantined = true): number | null {
    this.expire();
    const i = this.bits.findClear(this.cursor);
    if (i >= 0) {
      this.bits.set(i);
      this.cursor = i + 1 < this.windowSize ? i + 1 : 0;
      return i;
    }
    if (!reuseQuarantined) return null;
    const oldest = this.popOldest();
    return oldest === undefined ? null : oldest;
  }

  /** Frees a taken slot, into the quarantine or straight back to free. */
  free(slot: bigint, quarantine: boolean): void {
    this.checkSlot(slot);
    if (slot >= BigInt(this.windowSize)) {
      // Never handed out dynamically, so there is nothing to hold back.
      this.beyond.delete(slot);
      return;
    }
    const i = Number(slot);
    if (!this.bits.get(i) || this.qMember.has(i)) throw new Error(`slot ${slot} is not taken`);
    if (quarantine && this.maxQuarantine > 0) {
      const seq = this.qNextSeq++;
      this.qSlots.push(i);
      this.qTimes.push(this.maxAgeMs === Infinity ? 0 : this.now());
      this.qSeqs.push(seq);
      this.qMember.set(i, seq);
      this.expire();
    } else {
      this.bits.clear(i);
    }
  }

  /** Where the next dynamic search starts (after a rebuild: past the highest restored slot). */
  setCursor(slot: number): void {
    this.cursor = slot >= 0 && slot < this.windowSize ? slot : 0;
  }

  /** Lets slots go that are past the size or age limit, oldest first. */
  private expire(): void {
    if (this.qMember.size === 0) {
      this.compact();
      return;
    }
    const now = this.maxAgeMs === Infinity ? 0 : this.now();
    while (this.qHead < this.qSlots.length) {
      const k = this.qHead;
      const slot = this.qSlots[k]!;
      if (this.qMember.get(slot) === this.qSeqs[k]) {
        if (this.qMember.size <= this.maxQuarantine && now - this.qTimes[k]! < this.maxAgeMs) break;
        this.qMember.delete(slot);
        this.bits.clear(slot);
      }
      this.qHead++;
    }
    this.compact();
  }

  /** Removes and returns the oldest quarantined slot (its bit stays set: the caller takes it). */
  private popOldest(): number | undefined {
    while (this.qHead < this.qSlots.length) {
      const k = this.qHead++;
      const slot = this.qSlots[k]!;
      if (this.qMember.get(slot) === this.qSeqs[k]) {
        this.qMember.delete(slot);
        this.compact();
        return slot;
      }
    }
    this.compact();
    return undefined;
  }

  /** Rewrites the queue without consumed and stale entries once they make up most of it. */
  private compact(): void {
    const garbage = this.qSlots.length - this.qMember.size;
    if (garbage < 1024 || garbage * 2 < this.qSlots.length) {
      if (this.qMember.size === 0 && this.qSlots.length > 0) this.resetQueue();
      return;
    }
    const slots: number[] = [];
    const times: number[] = [];
    const seqs: number[] = [];
    for (let k = this.qHead; k < this.qSlots.length; k++) {
      if (this.qMember.get(this.qSlots[k]!) !== this.qSeqs[k]) continue;
      slots.push(this.qSlots[k]!);
      times.push(this.qTimes[k]!);
      seqs.push(this.qSeqs[k]!);
    }
    this.qSlots = slots;
    this.qTimes = times;
    this.qSeqs = seqs;
    this.qHead = 0;
  }

  private resetQueue(): void {
    this.qSlots = [];
    this.qTimes = [];
    this.qSeqs = [];
    this.qHead = 0;
  }

  private checkSlot(slot: bigint): void {
    if (slot < 0n || slot >= this.size) throw new RangeError(`slot ${slot} outside pool of ${this.size}`);
  }
}
