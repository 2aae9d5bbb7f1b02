import { MeshOptions, MeshRoom } from './mesh-room';

/** A widget's hold on a shared {@link MeshRoom}; call `release()` when the widget leaves the DOM. */
export interface MeshHandle {
  /** The shared room (started: its strategy loaded and the Trystero room joined, or `status` says why not). */
  room: MeshRoom;
  /**
   * Drops this hold. After the last release the room stays joined for {@link LINGER_MS}, then
   * the Trystero room is left; resolves when it has been left, or at once when another widget
   * took the room over in the meantime. Idempotent.
   */
  release(): Promise<void>;
}

/**
 * How long (ms) a room stays joined after the last widget using it left the DOM. A widget added
 * back within it (a host page re-rendering, an SPA route change, switching stories) reuses the
 * room and its peer connections. Leaving and joining at once does not work with Trystero 0.25.4:
 * a peer that saw us leave a moment after connecting sometimes ignores the same peer id coming
 * back for 30–60 s (observed in the Storybook tests).
 */
export const LINGER_MS = 1500;

interface Entry {
  room: MeshRoom;
  refs: number;
  started: Promise<void>;
  password: string;
  /** The options it was joined with (JSON): a lingering room is reused only with the same. */
  settings: string;
  /** Set while the room lingers after its last release. */
  linger?: { timer: ReturnType<typeof setTimeout>; done: () => void };
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
  const settings = JSON.stringify(options);
  let entry = rooms.get(key);
  // A lingering room joined with other settings (relays, ICE servers, name, …) is left now.
  if (entry?.linger && entry.settings !== settings) {
    leaveNow(key, entry);
    entry = undefined;
  }
  // Never join while the last leave of the same room is still running: Trystero would hand back
  // the room being left (it keeps one room object per app id and room), and it would stay dead.
  while (!entry && leaving.has(key)) {
    await leaving.get(key);
    entry = rooms.get(key);
  }
  if (entry && entry.password !== (options.password ?? '')) {
    throw new Error('room-conflict: this room is already open on the page with a different password');
  }
  if (!entry) {
    const room = new MeshRoom(options);
    entry = { room, refs: 0, started: room.start(), password: options.password ?? '', settings };
    rooms.set(key, entry);
  }
  if (entry.linger) {
    // Taken over while lingering: the previous holder's release resolves, the room stays.
    clearTimeout(entry.linger.timer);
    entry.linger.done();
    entry.linger = undefined;
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
      await new Promise<void>(done => {
        held.linger = { done, timer: setTimeout(() => leaveNow(key, held), LINGER_MS) };
      });
    },
  };
}

/** Ends a lingering room: leaves the Trystero room; the last holder's release resolves once it has left. */
function leaveNow(key: string, entry: Entry): void {
  const linger = entry.linger;
  if (!linger) return;
  clearTimeout(linger.timer);
  entry.linger = undefined;
  if (rooms.get(key) === entry) rooms.delete(key);
  const left = entry.room.leave().catch(() => undefined);
  leaving.set(key, left);
  void left.then(() => {
    if (leaving.get(key) === left) leaving.delete(key);
    linger.done();
  });
}

/** Number of mesh rooms currently open on this page (for tests and diagnostics). */
export function openMeshCount(): number {
  return rooms.size;
}
