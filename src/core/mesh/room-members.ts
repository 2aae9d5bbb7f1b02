import type { PeerInfo, PeerLeave } from './mesh-room';

/**
 * How often a page floods its `room-presence` in a partial mesh, ms (jittered ±10 %). Each page's
 * beacon reaches every page once (Plumtree), so a room of n pages carries n / 20 beacons per second.
 */
export const PRESENCE_INTERVAL_MS = 20_000;
/**
 * A member this page is not linked to, and has not heard of for this long, has left, ms: two and a
 * half beacon intervals (one beacon lost, one late, is not a leave). It is how long a page that
 * crashed stays in the lists of pages that were not its neighbours.
 */
export const MEMBER_TTL_MS = 50_000;
/**
 * Most members listed without a link. Presence is not signed and origins can be made up, so a
 * hostile forwarder could otherwise grow the list (and the widget's peer list) without bound;
 * beyond it, new unlinked members are ignored until some expire.
 */
export const MAX_UNLINKED_MEMBERS = 1000;

/** Where the member list's changes go (the mesh re-emits them as `memberJoin`, `memberLeave`, `members`). */
export interface RoomMemberEvents {
  /** A page entered the member list. */
  join(member: PeerInfo): void;
  /** A page left the member list, and why. */
  leave(member: PeerInfo, leave: PeerLeave): void;
  /** The member list changed (linked members first); called after `join` and `leave` too. */
  change(members: PeerInfo[]): void;
}

interface Member {
  info: PeerInfo;
  linked: boolean;
  /** When this page last heard of it (its beacon, a message it published, a neighbour's snapshot), ms. */
  heardAt: number;
}

/**
 * Who is in the room, as opposed to who this page is connected to. In a full mesh the two are the
 * same: every member is a linked peer ({@link linked} / {@link unlinked} mirror the roster). In a
 * partial mesh most members are reached through other pages; they are known from their flooded
 * `room-presence` beacons (every {@link PRESENCE_INTERVAL_MS}) and from a neighbour's `room-members`
 * snapshot when this page joins. Rules:
 * - a linked member stays while linked; a link the overlay closed (a goodbye with no `bye` beacon
 *   before it) leaves it a member, known through the overlay;
 * - a member's `bye` beacon, or the loss of its link without a goodbye (silent, connection lost,
 *   flood), is a leave;
 * - a member neither linked nor heard of for {@link MEMBER_TTL_MS} has left (`silent`); a snapshot's
 *   entry counts as heard `ageMs` ago, so a made-up id a neighbour reports expires unless the id
 *   itself is heard.
 */
export class RoomMembers {
  private readonly members = new Map<string, Member>();
  /** Pages that said `bye` in the last {@link MEMBER_TTL_MS} (a neighbour's snapshot does not bring them back), with when, ms. */
  private readonly gone = new Map<string, number>();
  /** The highest beacon number heard per page (its publish counter): an older or replayed beacon changes nothing. */
  private readonly beaconSeq = new Map<string, number>();

  constructor(
    private readonly selfId: string,
    private readonly events: RoomMemberEvents,
    private readonly now: () => number = Date.now,
  ) {}

  /** The members now (linked first), as the roster shows them. */
  list(): PeerInfo[] {
    const all = [...this.members.values()];
    return [...all.filter(m => m.linked), ...all.filter(m => !m.linked)].map(m => ({ ...m.info }));
  }

  /** Members listed now (this page not included). */
  get size(): number {
    return this.members.size;
  }

  /** Whether `peerId` is listed. */
  has(peerId: string): boolean {
    return this.members.has(peerId);
  }

  /** A peer is linked (roster join) or its linked info changed (name, round trip). */
  linked(peer: PeerInfo): void {
    this.gone.delete(peer.id);
    const member = this.members.get(peer.id);
    const info: PeerInfo = { ...peer, name: peer.name ?? member?.info.name ?? null };
    if (!member) {
      this.members.set(peer.id, { info, linked: true, heardAt: this.now() });
      this.events.join({ ...info });
    } else {
      member.linked = true;
      member.heardAt = this.now();
      member.info = { ...info, joinedAt: member.info.joinedAt };
    }
    this.changed();
  }

  /**
   * A link is gone. In a full mesh (`overlay` false) that is a leave; in a partial mesh a goodbye
   * with no `bye` before it is the overlay closing the link, and the page stays a member.
   */
  unlinked(peerId: string, leave: PeerLeave, overlay: boolean): void {
    const member = this.members.get(peerId);
    if (!member) return;
    if (overlay && leave.reason === 'goodbye') {
      member.linked = false;
      member.heardAt = this.now();
      member.info = { ...member.info, rttMs: null, indirect: true };
      this.changed();
      return;
    }
    this.remove(peerId, leave);
  }

  /**
   * A member's own `room-presence`: it is here, under `name`; `bye`: it left. `seq` is the beacon's
   * number (the page's publish counter, from the message id): beacons are applied in that order, so
   * a beacon sent before a bye and forwarded late does not bring the page back, and a later one does.
   * `direct`: it came over the page's own link, not forwarded. A forwarded `bye` for a page this page
   * is linked to is ignored (the link says when it goes): a neighbour cannot make up another's leave
   * for the pages linked to it. Presence is not signed, so beyond that a forwarder can make up
   * members or leaves (README, Known limits); a real page's next beacon (≤ 20 s) puts it back.
   */
  heard(peerId: string, name: string, bye: boolean, seq: number, direct: boolean): void {
    if (peerId === this.selfId) return;
    if (seq <= (this.beaconSeq.get(peerId) ?? -1)) return;
    if (bye && !direct && this.members.get(peerId)?.linked) return;
    // A bye for a page not listed changes nothing (and made-up ones cost no memory).
    if (bye && !this.members.has(peerId)) return;
    if (!this.members.has(peerId) && !this.roomForUnlinked()) return;
    this.beaconSeq.set(peerId, seq);
    if (bye) {
      this.gone.set(peerId, this.now());
      this.remove(peerId, { reason: 'goodbye' });
      return;
    }
    this.gone.delete(peerId);
    this.touch(peerId, name);
  }

  /** Something `peerId` published reached us (a chat record): it is still here. Does not add a member. */
  heardFrom(peerId: string): void {
    const member = this.members.get(peerId);
    if (member) member.heardAt = Math.max(member.heardAt, this.now());
  }

  /** A neighbour's snapshot: members it knows, each heard `ageMs` ago by it. Adds the ones this page does not know. */
  addSnapshot(entries: ReadonlyArray<readonly [string, string | null, number]>): void {
    const now = this.now();
    for (const [id, name, ageMs] of entries) {
      if (id === this.selfId || this.members.has(id) || this.gone.has(id) || ageMs >= MEMBER_TTL_MS || !this.roomForUnlinked()) continue;
      const info: PeerInfo = { id, name, rttMs: null, joinedAt: now, indirect: true };
      this.members.set(id, { info, linked: false, heardAt: now - ageMs });
      this.events.join({ ...info });
    }
    this.changed();
  }

  /** What this page knows, for a new neighbour (`[peerId, name, ageMs]`, at most `max`, freshest first), `except` the receiver. */
  snapshot(except: string, max: number): Array<[string, string | null, number]> {
    const now = this.now();
    return [...this.members.values()]
      .filter(m => m.info.id !== except)
      .map(m => [m.info.id, m.info.name, m.linked ? 0 : Math.max(0, now - m.heardAt)] as [string, string | null, number])
      .sort((a, b) => a[2] - b[2])
      .slice(0, max);
  }

  /** Expires members neither linked nor heard of for {@link MEMBER_TTL_MS}; forgets old `bye`s. */
  sweep(): void {
    const now = this.now();
    for (const [id, at] of this.gone) if (now - at > MEMBER_TTL_MS) this.gone.delete(id);
    for (const id of this.beaconSeq.keys()) if (!this.members.has(id) && !this.gone.has(id)) this.beaconSeq.delete(id);
    for (const [id, m] of this.members) if (!m.linked && now - m.heardAt > MEMBER_TTL_MS) this.remove(id, { reason: 'silent' });
  }

  private roomForUnlinked(): boolean {
    let unlinked = 0;
    for (const m of this.members.values()) if (!m.linked) unlinked++;
    return unlinked < MAX_UNLINKED_MEMBERS;
  }

  /** Forgets every member, `bye` and beacon number, without events (the room was left). */
  clear(): void {
    this.members.clear();
    this.gone.clear();
    this.beaconSeq.clear();
  }

  private touch(peerId: string, name: string): void {
    const member = this.members.get(peerId);
    if (!member) {
      const info: PeerInfo = { id: peerId, name, rttMs: null, joinedAt: this.now(), indirect: true };
      this.members.set(peerId, { info, linked: false, heardAt: this.now() });
      this.events.join({ ...info });
      this.changed();
      return;
    }
    member.heardAt = this.now();
    if (member.info.name !== name) {
      member.info = { ...member.info, name };
      this.changed();
    }
  }

  private remove(peerId: string, leave: PeerLeave): void {
    const member = this.members.get(peerId);
    if (!member) return;
    this.members.delete(peerId);
    this.events.leave({ ...member.info }, leave);
    this.changed();
  }

  private changed(): void {
    this.events.change(this.list());
  }
}
