import { MeshOptions, MeshRoom } from './mesh-room';

/** A widget's hold on a shared {@link MeshRoom}; call `release()` when the widget leaves the DOM. */
export interface MeshHandle {
  room: MeshRoom;
  /** Drops this hold; the last release leaves the Trystero room. Idempotent. */
  release(): Promise<void>;
}

interface Entry {
  room: MeshRoom;
  refs: number;
  started: Promise<void>;
  password: string;
}

const rooms = new Map<string, Entry>();
/** Leaves still running, per room key: a new join of that room waits for them (see joinMesh). */
const leaving = new Map<string, Promise<unknown>>();

/** Trystero keeps one room per (app id, room) per page; our key adds the strategy. */
function roomKey(o: MeshOptions): string {
  return JSON.stringify([o.strategy ?? 'nostr', o.appId, o.room]);
}

/**
 * Joins (or shares) the mesh room for these options. Widgets on one page that
 * name the same strategy, app id, room and password share one set of peer
 * connections; the room is left when the last handle is released.
 *
 * @throws Error with code-like message `room-conflict` when the same room is already
 *   joined on this page with a different password (Trystero allows one per page).
 */
export async function joinMesh(options: MeshOptions): Promise<MeshHandle> {
  const key = roomKey(options);
  let entry = rooms.get(key);
  // A widget removed and added again at once (a host page re-rendering, an SPA route change) must
  // not join while the last leave of the same room is still running: Trystero would hand back the
  // room being left (it keeps one room object per app id and room), and it would stay dead.
  while (!entry && leaving.has(key)) {
    await leaving.get(key);
    entry = rooms.get(key);
  }
  if (entry && entry.password !== (options.password ?? '')) {
    throw new Error('room-conflict: this room is already open on the page with a different password');
  }
  if (!entry) {
    const room = new MeshRoom(options);
    entry = { room, refs: 0, started: room.start(), password: options.password ?? '' };
    rooms.set(key, entry);
  }
  entry.refs++;
  await entry.started;
  const held = entry;
  let released = false;
  return {
    room: held.room,
    async release() {
      if (released) return;
      released = true;
      held.refs--;
      if (held.refs > 0) return;
      if (rooms.get(key) === held) rooms.delete(key);
      const left = held.room.leave().catch(() => undefined);
      leaving.set(key, left);
      await left;
      if (leaving.get(key) === left) leaving.delete(key);
    },
  };
}

/** Number of mesh rooms currently open on this page (for tests and diagnostics). */
export function openMeshCount(): number {
  return rooms.size;
}
