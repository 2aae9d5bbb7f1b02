import { AttributeError, resolveMeshOptions, type PageContext, type SharedAttributes } from '../config';
import type { MeshHandle, MeshOptions, MeshRoom, MeshStatus, PeerInfo, PeerLeave } from '../mesh';
// The swarm is loaded on first use (gallery, music), so a chat-only page never downloads it.
import type { Swarm, SwarmOptions } from '../swarm';
import type { WireStats } from '../wire';
import type { P2pErrorCode } from './error-codes';

/** What a feature is handed to open itself in a joined room. */
export interface FeatureContext {
  /** The joined mesh room (shared with the page's other widgets in the same room). */
  mesh: MeshRoom;
  /** The resolved options the room was joined with (`userName` included). */
  options: MeshOptions;
  /** `${appId}\n${room}`: the room's name in signed records (see the identity module). */
  roomKey: string;
  /**
   * The room's content swarm, created on first call and shared with the page's other widgets in
   * the room (its cache cap is the largest they ask for; destroyed with the last of them: see
   * `Swarm.acquire`). Its errors reach `error`.
   */
  swarm(options?: SwarmOptions): Promise<Swarm>;
}

/** A feature opened in a room: something the connection destroys when the widget leaves or reconnects. */
export interface Feature {
  /** Stops the feature: its timers, listeners and requests; it is not used again. */
  destroy(): void;
}

/** What a widget hears from its {@link RoomConnection}. Every handler is optional. */
export interface RoomConnectionHandlers<F extends Feature> {
  /** The mesh status changed (also called once with the current status on join). */
  status?(status: MeshStatus): void;
  /** The member list changed (also called once on join): connected peers, then (partial mesh) members reached through others, `indirect`. */
  roster?(peers: PeerInfo[]): void;
  /** A page entered the room (the mesh's `memberJoin`). */
  peerJoin?(peer: PeerInfo): void;
  /** A page left the room (the mesh's `memberLeave`). */
  peerLeave?(peer: PeerInfo, leave: PeerLeave): void;
  /** An error to show in the widget and emit as `p2pError`: from the attributes, the mesh, the swarm or the feature. */
  error(code: P2pErrorCode, message: string): void;
  /**
   * The feature is open: subscribe to it here; the returned functions are called on disconnect.
   * Not called when the widget was removed or reconnected while the feature was opening.
   */
  opened?(feature: F, mesh: MeshRoom): Array<() => void>;
}

/**
 * The connect/disconnect sequence every widget shares, once: resolve the shared attributes
 * (plus the widget's own checks), join the page's mesh room for them (reference-counted, see
 * `joinMesh`), relay its status, roster and errors, open the widget's feature, and undo it all on
 * disconnect. A generation counter makes a connect that a newer connect or a disconnect overtook
 * release what it got instead of installing it. `ready()` resolves when the feature is open
 * (no polling).
 *
 * Errors: attribute problems are reported as `bad-attribute` (status `failed`), a room already
 * open with another password as `room-conflict`, a feature that failed to open as `join-error`.
 */
export class RoomConnection<F extends Feature> {
  private handle: MeshHandle | null = null;
  private current: F | null = null;
  private generation = 0;
  private offs: Array<() => void> = [];
  private waiters: Array<(feature: F | null) => void> = [];
  private failed = false;
  /** Drops this widget's hold on the room's swarm (after its feature is destroyed). */
  private releaseSwarm: (() => void) | null = null;

  /**
   * @param open - opens the widget's feature in the joined room (e.g. `GalleryWall.open`); may throw
   * @param handlers - what the widget does with status, roster, errors and the opened feature
   */
  constructor(
    private readonly open: (context: FeatureContext) => Promise<F>,
    private readonly handlers: RoomConnectionHandlers<F>,
  ) {}

  /** The joined mesh room, or null before joining / after disconnect. */
  get mesh(): MeshRoom | null {
    return this.handle?.room ?? null;
  }

  /** The open feature, or null. */
  get feature(): F | null {
    return this.current;
  }

  /** Inbound wire counters of the room, or null when not joined. */
  wireStats(): WireStats | null {
    return this.handle?.room.wireStats() ?? null;
  }

  /**
   * Connects with these attributes. `check` runs the widget's own attribute checks after the
   * shared ones and throws {@link AttributeError} for a bad value. Never throws: failures go to
   * `handlers.error` (and a `failed` status for bad attributes).
   */
  async connect(attributes: SharedAttributes, page: PageContext, check?: () => void): Promise<void> {
    const generation = ++this.generation;
    this.failed = false;
    let options: MeshOptions;
    try {
      options = resolveMeshOptions(attributes, page);
      check?.();
    } catch (err) {
      this.fail(err instanceof AttributeError ? 'bad-attribute' : 'join-error', errorMessage(err), true);
      this.handlers.status?.({ state: 'failed', reason: errorMessage(err) });
      return;
    }
    let handle: MeshHandle;
    // The mesh (and with it the signaling code) loads here, not with the widget: the widget renders
    // its first frame ("Connecting…") without it (bench/widget-bytes.mjs counts what loads before).
    let joinMesh: typeof import('../mesh/join-mesh').joinMesh;
    try {
      ({ joinMesh } = await import('../mesh/join-mesh'));
    } catch (err) {
      if (generation === this.generation) this.fail('join-error', errorMessage(err), true);
      return;
    }
    if (generation !== this.generation) return;
    try {
      handle = await joinMesh(options);
    } catch (err) {
      this.fail('room-conflict', errorMessage(err).replace(/^room-conflict: /, ''), true);
      return;
    }
    if (generation !== this.generation) return void handle.release();
    this.handle = handle;
    const mesh = handle.room;
    const h = this.handlers;
    h.status?.(mesh.status);
    // The widget lists members: in a full mesh the connected peers; in a partial mesh also pages reached through others.
    h.roster?.(mesh.memberList());
    this.offs.push(
      mesh.on('status', s => h.status?.(s)),
      mesh.on('members', p => h.roster?.(p)),
      mesh.on('memberJoin', p => h.peerJoin?.(p)),
      mesh.on('memberLeave', (p, l) => h.peerLeave?.(p, l)),
      mesh.on('error', e => this.fail(e.code, e.message)),
    );
    if (mesh.status.state === 'failed') this.fail('relay-unreachable', mesh.status.reason);
    if (!mesh.selfId) return this.settle(null); // the strategy failed to load: the status says why
    let swarm: Promise<Swarm> | null = null;
    let feature: F;
    try {
      feature = await this.open({
        mesh,
        options,
        roomKey: `${options.appId}\n${options.room}`,
        swarm: swarmOptions =>
          (swarm ??= import('../swarm').then(async ({ Swarm }) => {
            const hold = await Swarm.acquire(mesh.bulkLinks(), swarmOptions);
            // Released with the widget (or at once when it was removed meanwhile): the last release destroys the swarm.
            if (generation !== this.generation) hold.release();
            else {
              this.releaseSwarm = hold.release;
              this.offs.push(hold.swarm.on('error', e => this.fail(e.code, e.message)));
            }
            return hold.swarm;
          })),
      });
    } catch (err) {
      // Removed from the page while opening (the room was left under it): nothing to report then.
      if (generation === this.generation) {
        this.fail('join-error', errorMessage(err), true);
      }
      return;
    }
    if (generation !== this.generation) {
      feature.destroy();
      return;
    }
    this.current = feature;
    this.offs.push(...(h.opened?.(feature, mesh) ?? []));
    this.settle(feature);
  }

  /** Changes the visitor's name: the peers hear it at once (`presence`). */
  setUserName(name: string): void {
    this.handle?.room.setUserName(name);
  }

  /**
   * The open feature, once the room is joined and the feature open; null when the connection
   * failed or after `timeoutMs` (ms).
   */
  ready(timeoutMs = 30_000): Promise<F | null> {
    if (this.current) return Promise.resolve(this.current);
    if (this.failed || this.mesh?.status.state === 'failed') return Promise.resolve(null);
    return new Promise(resolve => {
      const timer = setTimeout(() => done(null), timeoutMs);
      const done = (feature: F | null) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter(w => w !== done);
        resolve(feature);
      };
      this.waiters.push(done);
    });
  }

  /**
   * Undoes `connect`: unsubscribes, destroys the feature and releases the room (which lingers a
   * moment for a widget added back, see `LINGER_MS`; not awaited).
   */
  disconnect(): void {
    this.generation++;
    this.offs.splice(0).forEach(off => off());
    this.current?.destroy();
    this.current = null;
    this.releaseSwarm?.();
    this.releaseSwarm = null;
    const handle = this.handle;
    this.handle = null;
    void handle?.release();
  }

  /**
   * Reports an error. `final`: this connect attempt ended (bad attribute, room conflict, feature
   * that failed to open). An unreachable relay may come back, so it only answers who waits now;
   * other errors (one peer's, storage) do not end anything.
   */
  private fail(code: P2pErrorCode, message: string, final = false): void {
    if (final) this.failed = true;
    if (final || code === 'relay-unreachable') this.settle(null);
    this.handlers.error(code, message);
  }

  private settle(feature: F | null): void {
    this.waiters.slice().forEach(w => w(feature));
  }
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
