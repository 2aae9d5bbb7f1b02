import * as v from 'valibot';
import { defineMessage, PROTOCOL_VERSION } from './message-definition';
import { displayName } from './message-schemas';

/**
 * Wire shapes of the partial mesh (src/core/overlay): HyParView membership and Plumtree
 * broadcast, after Leitão, Pereira and Rodrigues, "HyParView: a membership protocol for reliable
 * gossip-based broadcast" (DSN 2007) and "Epidemic broadcast trees" (SRDS 2007).
 */

/** Trystero peer ids are 20 characters of [0-9A-Za-z]; we accept 1–64 of the URL-safe alphabet. */
export const OVERLAY_PEER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Most peer ids in one shuffle, shuffle reply or join reply (HyParView's ka + kp + 1, with room). */
export const MAX_SHUFFLE_PEERS = 32;
/** Longest random walk a `forward-join` or `shuffle` may ask for (HyParView's ARWL is 6). */
export const MAX_WALK_TTL = 8;
/** Hard bound on a broadcast's hop count: a `gossip` that claims more is dropped, one that reaches it is not forwarded. */
export const MAX_BROADCAST_HOPS = 16;
/** Most message ids in one `ihave` or `graft`. */
export const MAX_IDS_PER_MESSAGE = 256;
/** Longest broadcast body (UTF-16 code units of the inner message's JSON text): the largest `flood` message (a music record, 128 KiB) fits. */
export const MAX_BROADCAST_BODY = 128 * 1024;

const version = v.literal(PROTOCOL_VERSION);
const peerId = v.pipe(v.string(), v.regex(OVERLAY_PEER_ID_PATTERN));
const peerList = v.pipe(v.array(peerId), v.maxLength(MAX_SHUFFLE_PEERS));
const ttl = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_WALK_TTL));
/** A broadcast message id: chosen by the publisher (a record key, `author:seq`, for signed records). */
const messageId = v.pipe(v.string(), v.minLength(1), v.maxLength(160));
const hops = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_BROADCAST_HOPS));
const topic = v.pipe(v.string(), v.regex(/^[a-z0-9-]{1,32}$/));

/**
 * `overlay-view`: HyParView membership, between neighbours (or over a link being opened):
 * - `join`: a newcomer asks its contact to take it into the overlay; the contact answers `join-reply`
 *   with peers it knows (the newcomer's first passive view) and starts `forward-join` walks
 * - `forward-join`: random walk announcing `peer` (`ttl` hops left): at 0 the holder links to it,
 *   at the passive random walk length it keeps the id in its passive view
 * - `neighbor` / `neighbor-reply`: ask to be in the receiver's active view (`high` priority when the
 *   asker's active view is below its minimum); the answer accepts or refuses
 * - `disconnect`: the sender dropped the receiver from its active view (the link closes next)
 * - `shuffle` / `shuffle-reply`: exchange of peer ids for the passive views
 * Limits: 2 KiB, 20/s with a burst of 40 per peer.
 */
export const membershipMessage = defineMessage({
  channel: 'overlay-view',
  schema: v.variant('t', [
    v.strictObject({ t: v.literal('join'), v: version }),
    v.strictObject({ t: v.literal('join-reply'), v: version, peers: peerList }),
    v.strictObject({ t: v.literal('forward-join'), v: version, peer: peerId, ttl }),
    v.strictObject({ t: v.literal('neighbor'), v: version, priority: v.picklist(['high', 'low']) }),
    v.strictObject({ t: v.literal('neighbor-reply'), v: version, accept: v.boolean() }),
    v.strictObject({ t: v.literal('disconnect'), v: version }),
    v.strictObject({ t: v.literal('shuffle'), v: version, peers: peerList }),
    v.strictObject({ t: v.literal('shuffle-reply'), v: version, peers: peerList }),
  ]),
  maxBytes: 2048,
  rate: { ratePerSecond: 20, burst: 40 },
});

/** A membership message (decoded). */
export type MembershipMessage = v.InferOutput<typeof membershipMessage.schema>;

/**
 * `overlay-push`: Plumtree broadcast:
 * - `gossip`: a message pushed eagerly: `topic` names the feature channel whose own spec validates
 *   `body` (JSON text) at every hop; `id` is unique per message, `origin` is its first sender,
 *   `hops` how many links it crossed (bounded by {@link MAX_BROADCAST_HOPS})
 * - `ihave`: lazy push, "I have these" (`[id, origin, hops]`), batched every 250 ms
 * - `graft`: "push to me" (for `origin`'s messages) and send these ids
 * - `prune`: "stop pushing `origin`'s messages to me eagerly"
 * Limits: 264 KiB (a body at its limit, JSON-escaped: at most twice its length, and the envelope),
 * 200/s with a burst of 400 per peer (a busy room forwards every message once per link); every byte
 * also counts against the sender's flood budget.
 */
export const broadcastMessage = defineMessage({
  channel: 'overlay-push',
  schema: v.variant('t', [
    v.strictObject({ t: v.literal('gossip'), v: version, topic, id: messageId, origin: peerId, hops, body: v.pipe(v.string(), v.maxLength(MAX_BROADCAST_BODY)) }),
    v.strictObject({ t: v.literal('ihave'), v: version, ids: v.pipe(v.array(v.tuple([messageId, peerId, hops])), v.minLength(1), v.maxLength(MAX_IDS_PER_MESSAGE)) }),
    v.strictObject({ t: v.literal('graft'), v: version, origin: peerId, ids: v.pipe(v.array(messageId), v.maxLength(MAX_IDS_PER_MESSAGE)) }),
    v.strictObject({ t: v.literal('prune'), v: version, origin: peerId }),
  ]),
  maxBytes: 264 * 1024,
  rate: { ratePerSecond: 200, burst: 400 },
});

/** A broadcast message (decoded). */
export type BroadcastMessage = v.InferOutput<typeof broadcastMessage.schema>;

/** Most members in one `room-members` snapshot. */
export const MAX_SNAPSHOT_MEMBERS = 128;
/** Oldest age a snapshot entry may claim, ms (older entries would already have expired: see core/mesh/room-members). */
export const MAX_MEMBER_AGE_MS = 10 * 60_000;

/**
 * `room-presence`: "I am in this room, under this name", flooded to the whole room over the partial
 * mesh (a `flood` channel: forwarded by Plumtree, checked at every hop, rate-limited per origin).
 * Sent when a page enters the overlay, every 20 s (so pages that are not its neighbours keep it in
 * their lists), when its name changes, and with `bye: true` when it leaves. Shape:
 * `{ v: 1, name: string(1..64), bye?: true }`. Limits: 512 bytes, 1/s with a burst of 4 per origin.
 * Not used in a full mesh, where every member is a neighbour and `presence` says the same.
 */
export const roomPresenceMessage = defineMessage({
  channel: 'room-presence',
  schema: v.strictObject({ v: version, name: displayName, bye: v.optional(v.literal(true)) }),
  maxBytes: 512,
  rate: { ratePerSecond: 1, burst: 4 },
  flood: true,
});

/** A `room-presence` message (decoded). */
export type RoomPresenceMessage = v.InferOutput<typeof roomPresenceMessage.schema>;

/**
 * `room-members`: the members a page knows, sent to a new neighbour once its link is up, so a
 * newcomer lists everyone in the room at once rather than after their next `room-presence`.
 * `members`: up to {@link MAX_SNAPSHOT_MEMBERS} `[peerId, name or null, ageMs]` (ms since the sender
 * last heard of it, at most {@link MAX_MEMBER_AGE_MS}). A neighbour's word only: a member learnt this
 * way that is never heard itself expires (core/mesh/room-members). Limits: 48 KiB, 1/s with a burst of 3.
 */
export const roomMembersMessage = defineMessage({
  channel: 'room-members',
  schema: v.strictObject({
    v: version,
    members: v.pipe(
      v.array(v.tuple([peerId, v.nullable(displayName), v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_MEMBER_AGE_MS))])),
      v.maxLength(MAX_SNAPSHOT_MEMBERS),
    ),
  }),
  maxBytes: 48 * 1024,
  rate: { ratePerSecond: 1, burst: 3 },
});

/** A `room-members` message (decoded). */
export type RoomMembersMessage = v.InferOutput<typeof roomMembersMessage.schema>;
