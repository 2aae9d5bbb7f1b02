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
      await held.room.leave();
    },
  };
}

/** Number of mesh rooms currently open on this page (for tests and diagnostics). */
export function openMeshCount(): number {
  return rooms.size;
}
