/**
 * The shape of a live broadcast's relay tree: who receives the stream from whom. The broadcaster
 * keeps it and tells each viewer its parent; no DOM, no network here.
 *
 * Placement follows P2P-Live-Web (seed 003: children placed breadth first, so the tree stays
 * shallow), with what it lacked: a fan-out per role (the broadcaster's uplink carries at most
 * `rootFanOut` copies whatever the audience), a viewer takes a child only while its measured upload
 * carries one more copy, and a viewer whose parent leaves is placed again at once with its whole
 * subtree (nobody reconnects by hand).
 */

/** Fan-out and stream rate of a {@link RelayTree}. */
export interface RelayTreeOptions {
  /** Most viewers the broadcaster sends to directly; default 4 (issue 14). */
  rootFanOut?: number;
  /** Most viewers a viewer forwards to; default 3 (issue 14). */
  relayFanOut?: number;
  /** The stream's rate, bits per second: with a viewer's measured upload, how many copies it can forward; default 2 000 000. */
  streamBitsPerSecond?: number;
}

/** Where a viewer was placed: its parent (the broadcaster or another viewer) and its depth (1: fed by the broadcaster). */
export interface Placement {
  /** The viewer's peer id. */
  viewer: string;
  /** The peer id it receives the stream from. */
  parent: string;
  /** Hops from the broadcaster (1 for its direct children). */
  depth: number;
}

interface TreeNode {
  id: string;
  parent: string | null;
  children: string[];
  /** Measured upload, bits per second (undefined: not measured yet, assumed enough). */
  uploadBps?: number;
  /** Order of arrival (ties between equally good parents go to the earlier). */
  order: number;
}

/**
 * Share of a viewer's measured upload that forwarded copies may use (the rest is headroom for
 * retransmissions and the page's other traffic).
 */
export const UPLOAD_HEADROOM = 0.8;

/** The relay tree of one broadcast, rooted at the broadcaster. */
export class RelayTree {
  private readonly nodes = new Map<string, TreeNode>();
  private arrivals = 0;
  private readonly rootFanOut: number;
  private readonly relayFanOut: number;
  private readonly streamBps: number;

  constructor(
    /** The broadcaster's peer id. */
    readonly root: string,
    options: RelayTreeOptions = {},
  ) {
    this.rootFanOut = Math.max(1, Math.floor(options.rootFanOut ?? 4));
    this.relayFanOut = Math.max(0, Math.floor(options.relayFanOut ?? 3));
    this.streamBps = options.streamBitsPerSecond ?? 2_000_000;
    this.nodes.set(root, { id: root, parent: null, children: [], order: this.arrivals++ });
  }

  /** Viewers in the tree (the broadcaster not counted). */
  get size(): number {
    return this.nodes.size - 1;
  }

  /** Whether `id` is the broadcaster or a placed viewer. */
  has(id: string): boolean {
    return this.nodes.has(id);
  }

  /** The peer `id` receives from (null for the broadcaster or an unknown id). */
  parentOf(id: string): string | null {
    return this.nodes.get(id)?.parent ?? null;
  }

  /** The viewers `id` sends to, in the order they were placed. */
  childrenOf(id: string): readonly string[] {
    return this.nodes.get(id)?.children ?? [];
  }

  /** Hops from the broadcaster (0 for it; -1 for an unknown id). */
  depthOf(id: string): number {
    if (!this.nodes.has(id)) return -1;
    let depth = 0;
    for (let n = this.nodes.get(id)!; n.parent !== null; n = this.nodes.get(n.parent)!) depth++;
    return depth;
  }

  /**
   * Places a viewer (or returns its place, when it has one): under the shallowest node with a free
   * slot (its fan-out, and its measured upload carrying one more copy); among equals, the one with
   * fewer children, then the earlier. Null when no node has room (every viewer's upload is spent):
   * the viewer waits and asks again.
   * @param uploadBitsPerSecond the viewer's measured upload, if known (bounds how many it may feed)
   */
  place(viewer: string, uploadBitsPerSecond?: number): Placement | null {
    const held = this.nodes.get(viewer);
    if (held) {
      if (uploadBitsPerSecond !== undefined) held.uploadBps = uploadBitsPerSecond;
      return held.parent === null ? null : { viewer, parent: held.parent, depth: this.depthOf(viewer) };
    }
    const parent = this.bestParent(new Set());
    if (!parent) return null;
    this.nodes.set(viewer, { id: viewer, parent: parent.id, children: [], uploadBps: uploadBitsPerSecond, order: this.arrivals++ });
    parent.children.push(viewer);
    return { viewer, parent: parent.id, depth: this.depthOf(viewer) };
  }

  /** Records a viewer's measured upload (bits per second); it takes no new child beyond what it carries. */
  setUpload(viewer: string, uploadBitsPerSecond: number): void {
    const n = this.nodes.get(viewer);
    if (n && n.parent !== null) n.uploadBps = uploadBitsPerSecond;
  }

  /**
   * Removes a viewer that left. Each of its children moves, with its whole subtree, under the
   * shallowest node with room outside that subtree (as {@link RelayTree.place} chooses); a child for
   * which no node has room is removed with its subtree (they ask again).
   * @returns the new placements of the children that moved (their subtrees keep their parents)
   */
  remove(viewer: string): Placement[] {
    const gone = this.nodes.get(viewer);
    if (!gone || gone.parent === null) return [];
    const parent = this.nodes.get(gone.parent)!;
    parent.children = parent.children.filter(c => c !== viewer);
    this.nodes.delete(viewer);
    const moved: Placement[] = [];
    for (const child of gone.children) {
      const node = this.nodes.get(child)!;
      const subtree = this.subtree(child);
      const next = this.bestParent(subtree);
      if (!next) {
        for (const id of subtree) this.nodes.delete(id);
        continue;
      }
      node.parent = next.id;
      next.children.push(child);
      moved.push({ viewer: child, parent: next.id, depth: this.depthOf(child) });
    }
    return moved;
  }

  /** Every placed viewer with its parent and depth, breadth first. */
  placements(): Placement[] {
    const out: Placement[] = [];
    const queue: [string, number][] = [[this.root, 0]];
    while (queue.length) {
      const [id, depth] = queue.shift()!;
      for (const child of this.childrenOf(id)) {
        out.push({ viewer: child, parent: id, depth: depth + 1 });
        queue.push([child, depth + 1]);
      }
    }
    return out;
  }

  /** How many children `n` may have: its role's fan-out, and for a viewer with a measured upload, the copies it carries. */
  private capacity(n: TreeNode): number {
    if (n.parent === null) return this.rootFanOut;
    if (n.uploadBps === undefined) return this.relayFanOut;
    return Math.min(this.relayFanOut, Math.floor((n.uploadBps * UPLOAD_HEADROOM) / this.streamBps));
  }

  /** The node a new child goes under (breadth first; see {@link RelayTree.place}), outside `excluded`. */
  private bestParent(excluded: Set<string>): TreeNode | null {
    let level: TreeNode[] = [this.nodes.get(this.root)!];
    while (level.length) {
      const open = level.filter(n => !excluded.has(n.id) && n.children.length < this.capacity(n));
      if (open.length) return open.sort((a, b) => a.children.length - b.children.length || a.order - b.order)[0];
      level = level.flatMap(n => n.children.filter(c => !excluded.has(c)).map(c => this.nodes.get(c)!));
    }
    return null;
  }

  /** `id` and every viewer below it. */
  private subtree(id: string): Set<string> {
    const out = new Set<string>();
    const stack = [id];
    while (stack.length) {
      const n = stack.pop()!;
      out.add(n);
      stack.push(...this.childrenOf(n));
    }
    return out;
  }
}
