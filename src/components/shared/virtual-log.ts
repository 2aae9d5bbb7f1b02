import { elementScroll, measureElement, observeElementOffset, observeElementRect, Virtualizer, type VirtualItem } from '@tanstack/virtual-core';

/** What a {@link VirtualLog} asks of its widget. */
export interface VirtualLogHost {
  /** The scrolling element (the log), once rendered. */
  scrollElement(): HTMLDivElement | undefined;
  /** How many rows there are. */
  count(): number;
  /** The key of row `i` (stable across renders, so the virtualizer keeps its measured height). */
  keyOf(i: number): string | number;
  /** The virtual rows changed: render again. */
  changed(): void;
  /** The reader reached the newest row. */
  atEnd(): void;
  /** The reader scrolled near the top (within 300 px): load older rows if there are any. */
  nearTop(): void;
}

/**
 * A virtualized log (rows come and go as it scrolls; @tanstack/virtual-core) that keeps a reader
 * at the newest row pinned there as rows arrive, also when older history lands before it, until
 * the reader scrolls away with the wheel, a touch, a key or the pointer (the virtualizer's own
 * adjustments never unpin it). DOM only: the chat widget's message list.
 */
export class VirtualLog {
  /** The reader is at the newest row (or has not scrolled away from it). */
  pinnedToEnd = true;
  private virtualizer: Virtualizer<HTMLDivElement, HTMLLIElement> | null = null;
  private unmount: (() => void) | null = null;
  /** When the reader last used the wheel, a touch, a key or the pointer on the list (ms since epoch). */
  private userScrollAt = 0;

  constructor(private readonly host: VirtualLogHost) {}

  /** The rows to render now. */
  rows(): VirtualItem[] {
    return this.virtualizer?.getVirtualItems() ?? [];
  }

  /** Height of all rows, px. */
  totalSize(): number {
    return this.virtualizer?.getTotalSize() ?? 0;
  }

  /** Whether the newest row is in view (within `threshold` px). */
  isAtEnd(threshold = 40): boolean {
    return this.virtualizer?.isAtEnd(threshold) ?? true;
  }

  /** Measures a rendered row (its `ref`). */
  measure(el: HTMLLIElement): void {
    this.virtualizer?.measureElement(el);
  }

  /** Creates or updates the virtualizer for the current rows; `scrollToEnd` also shows the newest. */
  sync(scrollToEnd: boolean): void {
    if (!this.host.scrollElement()) return;
    const options = {
      count: this.host.count(),
      getScrollElement: () => this.host.scrollElement() ?? null,
      estimateSize: () => 64,
      overscan: 8,
      gap: 8,
      paddingStart: 8,
      paddingEnd: 8,
      anchorTo: 'end' as const,
      followOnAppend: true,
      scrollEndThreshold: 40,
      getItemKey: (i: number) => this.host.keyOf(i),
      observeElementRect,
      observeElementOffset,
      scrollToFn: elementScroll,
      measureElement,
      onChange: () => this.host.changed(),
    };
    if (!this.virtualizer) {
      this.virtualizer = new Virtualizer<HTMLDivElement, HTMLLIElement>(options);
      this.unmount = this.virtualizer._didMount();
    } else {
      this.virtualizer.setOptions({ ...this.virtualizer.options, ...options });
    }
    this.virtualizer._willUpdate();
    if (scrollToEnd) this.scrollToEnd();
    this.host.changed();
  }

  /** The rows changed: a pinned reader stays at the newest, scrolled after the render (when the virtualizer has applied its own adjustment). */
  rowsChanged(): void {
    this.sync(false);
    if (this.pinnedToEnd && this.host.count()) requestAnimationFrame(() => this.pinnedToEnd && this.scrollToEnd());
  }

  /** Call after every render. */
  rendered(): void {
    this.virtualizer?._willUpdate();
  }

  /** Shows the newest row and pins the reader there. */
  jumpToNewest(): void {
    this.pinnedToEnd = true;
    this.scrollToEnd();
  }

  /** Wire to the list's wheel, touchmove, keydown and pointerdown. */
  readonly onUserScroll = () => {
    this.userScrollAt = Date.now();
  };

  /** Wire to the list's scroll. */
  readonly onScroll = () => {
    const el = this.host.scrollElement();
    if (!this.virtualizer || !el) return;
    const atEnd = this.virtualizer.isAtEnd(40);
    if (atEnd) this.host.atEnd();
    // Only the reader's own scrolling (not the virtualizer's adjustments) unpins or pins the list.
    if (Date.now() - this.userScrollAt < 1500) this.pinnedToEnd = atEnd;
    if (el.scrollTop < 300) this.host.nearTop();
  };

  /** Releases the virtualizer's observers (the widget left the page). */
  destroy(): void {
    this.unmount?.();
    this.unmount = null;
    this.virtualizer = null;
  }

  private scrollToEnd(): void {
    const count = this.host.count();
    if (count) this.virtualizer?.scrollToIndex(count - 1, { align: 'end' });
  }
}
