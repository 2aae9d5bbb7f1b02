import { createNanoEvents, Unsubscribe } from 'nanoevents';
import { DeviceIdentity, fromBase64Url } from '../identity';
import type { FeatureMesh } from '../mesh';
import { P2pDatabase, StorageError, StoredMusicRecord, toStorageError } from '../store';
import type { Swarm } from '../swarm';
import { musicListMessage, musicQueryMessage, musicRecordMessage, PROTOCOL_VERSION, type AudioType, type MusicRecordWire } from '../wire';
import { isAcceptableThumbnail } from '../wire/image-check';
import type { ByteSource } from './streaming-player';
import { prepareTrack, type PreparedTrack } from './track-prepare';
import { signMusicRecord, UnsignedMusicRecord, verifyMusicRecord } from './track-record';
import { openRoomStorage, recordKey, targetKey } from '../records';

/** A track in the room's lists (one per content id, with every holder). */
export interface MusicTrack {
  /** `author:seq` of the first `track` record seen for this content id. */
  key: string;
  cid: string;
  author: string;
  /** Name of the peer whose list it is in. */
  sharedBy: string;
  title: string;
  artist: string;
  album: string;
  fileName: string;
  duration: number;
  size: number;
  mime: AudioType;
  cover?: Uint8Array;
  lyrics?: string;
  own: boolean;
  /** The whole track is on this device. */
  cached: boolean;
  /** Kept regardless of the cache cap (own, or "keep a copy"). */
  kept: boolean;
  /** Peers holding (some of) it now. */
  holders: string[];
  /** No holder is online and it is not here: listed from a remembered list, not playable. */
  offline: boolean;
}

/** Events of a {@link MusicLibrary}. */
export interface MusicLibraryEvents {
  change: (tracks: readonly MusicTrack[]) => void;
  add: (track: MusicTrack) => void;
  error: (error: StorageError) => void;
}

/** How a music library is opened: the room key (`${appId}\n${room}`) and the visitor's name. */
export interface MusicLibraryOptions {
  room: string;
  userName: string;
  database?: P2pDatabase | null;
  maxTrackBytes?: number;
}

/** Records kept per room (all authors). */
const MAX_RECORDS = 10_000;

/**
 * The music room's lists: each device's own tracks (signed `track` records, bytes in
 * the swarm, pinned), the tracks it keeps a copy of, and what peers hold. A peer's
 * list is sent to whoever asks (`music-q` → `music-list`, to the asker only); new
 * records are broadcast as they happen. A track is listed once per content id with
 * all its holders; it stays while someone holds it, or offline while its author's
 * list is remembered.
 */
export class MusicLibrary {
  /** Records refused since the library opened, by reason (counts). */
  readonly refused = { 'bad-signature': 0, duplicate: 0, 'too-many': 0, 'bad-cover': 0 };
  /** Set when the database could not be opened: the feature then works in memory only (nothing survives a reload). */
  storageError: StorageError | null = null;
  private readonly records = new Map<string, StoredMusicRecord>();
  /** The `track-meta` and `untrack` records per track they target (`author:seq`): lookups, not scans. */
  private readonly amendments = new Map<string, StoredMusicRecord[]>();
  /** The peers' ids and names at the last refresh: a roster event that changes neither (an RTT update) does not refresh. */
  private rosterNames = '';
  private readonly emitter = createNanoEvents<MusicLibraryEvents>();
  private readonly offs: Unsubscribe[] = [];
  private list: MusicTrack[] = [];
  private readonly remembered = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly mesh: FeatureMesh,
    readonly swarm: Swarm,
    private readonly identity: DeviceIdentity,
    private readonly db: P2pDatabase | null,
    private readonly options: MusicLibraryOptions,
  ) {}

  /** Opens the music room of a room: loads what this device stored, then asks the peers for theirs. */
  static async open(mesh: FeatureMesh, swarm: Swarm, options: MusicLibraryOptions): Promise<MusicLibrary> {
    const { db, storageError, identity } = await openRoomStorage(options.room, options.database);
    const library = new MusicLibrary(mesh, swarm, identity, db, options);
    library.storageError = storageError;
    if (db) {
      try {
        for (const r of await db.musicRecords.where('room').equals(options.room).toArray()) library.remember(r);
        const settings = await db.roomSettings.get(`music\n${options.room}`);
        settings?.rememberedLists?.forEach(a => library.remembered.add(a));
      } catch (err) {
        library.storageError ??= toStorageError(err);
      }
    }
    library.start();
    return library;
  }

  /** Subscribes to an event (see {@link MusicLibraryEvents}); returns the unsubscribe function. */
  on<E extends keyof MusicLibraryEvents>(event: E, handler: MusicLibraryEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** The tracks listed now, once per content id, oldest first. */
  tracks(): readonly MusicTrack[] {
    return this.list;
  }

  /** This device's public key in the room (base64url, P-256): the `author` of its records. */
  get publicKey(): string {
    return this.identity.publicKey;
  }

  /** The name put in what this visitor shares from now on (peers hear it through the mesh's `presence`). */
  setUserName(name: string): void {
    this.options.userName = name;
  }

  /**
   * Adds a track of this device: reads its tags and duration, stores its bytes (pinned) and announces it.
   * @throws TrackRefusedError in plain words
   */
  async add(file: File): Promise<MusicTrack> {
    return this.addPrepared(file, await prepareTrack(file, this.options.maxTrackBytes ?? 200e6));
  }

  /**
   * Adds a track whose tags and duration are already read (see `prepareTrack`, which needs a
   * browser): stores its bytes (pinned, 64 KiB chunks) and announces its signed record.
   */
  async addPrepared(file: Blob, prepared: PreparedTrack): Promise<MusicTrack> {
    const manifest = await this.swarm.add(file, { mime: prepared.mime, pinned: true, chunkSize: 64 * 1024 });
    await this.author({ kind: 'track', name: this.options.userName, cid: manifest.cid, size: manifest.size, ...prepared });
    return this.list.find(t => t.cid === manifest.cid)!;
  }

  /** Attaches or replaces the cover and/or lyrics of one of this device's tracks. */
  async attach(key: string, meta: { cover?: string; lyrics?: string }): Promise<void> {
    const r = this.records.get(key);
    if (!r || r.author !== this.identity.publicKey || r.kind !== 'track') throw new Error('only the owner can change a track');
    await this.author({ kind: 'track-meta', target: r.seq, ...(meta.cover ? { cover: meta.cover } : {}), ...(meta.lyrics !== undefined ? { lyrics: meta.lyrics } : {}) });
  }

  /** Removes one of this device's tracks from its list (stops announcing it; the bytes are dropped). */
  async untrack(key: string): Promise<void> {
    const r = this.records.get(key);
    if (!r || r.author !== this.identity.publicKey) throw new Error('only the owner can remove a track');
    await this.author({ kind: 'untrack', target: r.seq });
    if (r.kind === 'track') await this.swarm.drop(r.cid).catch(() => undefined);
    this.refresh();
  }

  /** "Keep a copy": downloads the whole track and keeps it (it then plays offline and is served to others). */
  async keepCopy(cid: string): Promise<void> {
    const download = this.swarm.isComplete(cid) ? null : this.swarm.download(cid);
    await download?.done;
    await this.swarm.pin(cid, true);
    this.refresh();
  }

  /** "Remove local copy": drops the bytes; the track stays listed while someone holds it. */
  async dropCopy(cid: string): Promise<void> {
    const own = [...this.records.values()].some(r => r.kind === 'track' && r.cid === cid && r.author === this.identity.publicKey && !this.untracked(r));
    if (own) throw new Error('this is your own track: remove it from your list instead');
    await this.swarm.drop(cid);
    this.refresh();
  }

  /** Remembers (or forgets) an author's list, so it stays listed (offline) when nobody holding it is online. */
  async rememberList(author: string, on: boolean): Promise<void> {
    if (on) this.remembered.add(author);
    else this.remembered.delete(author);
    try {
      await this.db?.roomSettings.put({ room: `music\n${this.options.room}`, rememberedLists: [...this.remembered] });
    } catch (err) {
      this.emitter.emit('error', toStorageError(err));
    }
    this.refresh();
  }

  /** Whether this device keeps listing `author`'s tracks while nobody online holds them. */
  isRemembered(author: string): boolean {
    return this.remembered.has(author);
  }

  /** The track's bytes for the player: reads start (and steer) the swarm download. */
  source(cid: string): ByteSource {
    const track = this.list.find(t => t.cid === cid);
    if (!track) throw new Error('unknown track');
    // Playback starts at the beginning: make the first chunks urgent before the scheduler's first round.
    if (!this.swarm.isComplete(cid)) this.swarm.download(cid).setUrgent(0);
    return { size: track.size, read: (start, end) => this.swarm.read(cid, start, end) };
  }

  /** Stops listening and releases timers and subscriptions; the data stays stored. Idempotent. */
  destroy(): void {
    this.offs.splice(0).forEach(off => off());
    this.emitter.events = {};
  }

  private start(): void {
    this.offs.push(
      this.mesh.channel(musicRecordMessage).onMessage(({ record }) => void this.ingest(record)),
      this.mesh.channel(musicListMessage).onMessage(({ records }) => records.forEach(r => void this.ingest(r))),
      this.mesh.channel(musicQueryMessage).onMessage((_, peerId) => void this.answerQuery(peerId)),
      this.mesh.on('peerJoin', peer => void this.mesh.channel(musicQueryMessage).send({ v: PROTOCOL_VERSION }, peer.id)),
      this.mesh.on('roster', peers => {
        const names = peers.map(p => `${p.id}\u0000${p.name ?? ''}`).join('\n');
        if (names === this.rosterNames) return;
        this.rosterNames = names;
        this.refresh();
      }),
      this.swarm.on('index', () => this.refresh()),
      this.swarm.on('complete', () => this.refresh()),
    );
    for (const peerId of this.mesh.peers.keys()) void this.mesh.channel(musicQueryMessage).send({ v: PROTOCOL_VERSION }, peerId);
    this.refresh();
  }

  private async author(fields: OmitAuthored): Promise<MusicRecordWire> {
    const unsigned: UnsignedMusicRecord = { ...fields, author: this.identity.publicKey, seq: await this.identity.nextSeq(), ts: Date.now() };
    const record = await signMusicRecord(this.options.room, this.identity, unsigned);
    await this.ingest(record);
    await this.mesh.channel(musicRecordMessage).send({ v: PROTOCOL_VERSION, record });
    return record;
  }

  /** Applies a record from anywhere: verified, deduplicated, bounded, stored. Never throws. */
  ingest(record: MusicRecordWire): Promise<boolean> {
    const run = this.queue.then(async () => {
      const key = recordKey(record);
      if (this.records.has(key)) {
        this.refused.duplicate++;
        return false;
      }
      if (this.records.size >= MAX_RECORDS) {
        this.refused['too-many']++;
        return false;
      }
      if (!(await verifyMusicRecord(this.options.room, record))) {
        this.refused['bad-signature']++;
        return false;
      }
      // A cover is decoded by the page: refuse one that is not a small picture, checked on its header first.
      const cover = record.kind === 'untrack' ? undefined : record.cover;
      if (cover && !(await isAcceptableThumbnail(safeBytes(cover) ?? new Uint8Array()))) {
        this.refused['bad-cover']++;
        return false;
      }
      const stored: StoredMusicRecord = { ...record, room: this.options.room };
      this.remember(stored);
      try {
        await this.db?.musicRecords.put(stored);
      } catch (err) {
        this.emitter.emit('error', toStorageError(err));
      }
      const before = new Set(this.list.map(t => t.cid));
      this.refresh();
      if (record.kind === 'track' && !before.has(record.cid)) {
        const track = this.list.find(t => t.cid === record.cid);
        if (track) this.emitter.emit('add', track);
      }
      return true;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Keeps a record in memory and in the per-target index. */
  private remember(r: StoredMusicRecord): void {
    this.records.set(recordKey(r), r);
    if (r.kind === 'track') return;
    const target = targetKey(r);
    const list = this.amendments.get(target);
    if (list) list.push(r);
    else this.amendments.set(target, [r]);
  }

  /** The `track-meta` and `untrack` records its author made for track `r`. */
  private amendmentsOf(r: StoredMusicRecord): StoredMusicRecord[] {
    return this.amendments.get(recordKey(r)) ?? [];
  }

  private untracked(r: StoredMusicRecord): boolean {
    return this.amendmentsOf(r).some(a => a.kind === 'untrack');
  }

  private refresh(): void {
    const names = new Map(this.mesh.peerList().map(p => [p.id, p.name ?? '']));
    const byCid = new Map<string, MusicTrack>();
    const records = [...this.records.values()].filter((r): r is StoredTrackRecord => r.kind === 'track' && !this.untracked(r)).sort((a, b) => a.ts - b.ts);
    for (const r of records) {
      const cid = r.cid;
      const own = r.author === this.identity.publicKey;
      const local = this.swarm.localFile(cid);
      const holders = this.swarm.holders(cid).map(id => names.get(id) || id.slice(0, 6));
      const cached = this.swarm.isComplete(cid);
      const existing = byCid.get(cid);
      if (existing) {
        existing.own ||= own;
        continue;
      }
      if (!own && !cached && holders.length === 0 && !this.remembered.has(r.author)) continue;
      const meta = this.amendmentsOf(r)
        .filter((m): m is Extract<StoredMusicRecord, { kind: 'track-meta' }> => m.kind === 'track-meta')
        .sort((a, b) => b.seq - a.seq);
      const cover = meta.find(m => m.cover)?.cover ?? r.cover;
      const lyrics = meta.find(m => m.lyrics !== undefined)?.lyrics ?? r.lyrics;
      byCid.set(cid, {
        key: recordKey(r),
        cid,
        author: r.author,
        sharedBy: r.name,
        title: r.title,
        artist: r.artist,
        album: r.album,
        fileName: r.fileName,
        duration: r.duration,
        size: r.size,
        mime: r.mime,
        cover: cover ? safeBytes(cover) : undefined,
        lyrics,
        own,
        cached,
        kept: local?.pinned ?? false,
        holders,
        offline: !own && !cached && holders.length === 0,
      });
    }
    this.list = [...byCid.values()];
    this.emitter.emit('change', this.list);
  }

  /** Sends the asker the records of the tracks this device holds, with their metadata. */
  private async answerQuery(peerId: string): Promise<void> {
    const out: MusicRecordWire[] = [];
    for (const r of this.records.values()) {
      if (r.kind !== 'track' || this.untracked(r)) continue;
      const holds = r.author === this.identity.publicKey || this.swarm.isComplete(r.cid);
      if (!holds) continue;
      out.push(toWire(r));
      for (const m of this.amendmentsOf(r)) out.push(toWire(m));
    }
    // Batches of at most 8 records and well under the message's 1 MiB.
    let batch: MusicRecordWire[] = [];
    let bytes = 0;
    for (const record of out) {
      const size = new TextEncoder().encode(JSON.stringify(record)).byteLength;
      if (batch.length && (batch.length >= 8 || bytes + size > 900 * 1024)) {
        await this.mesh.channel(musicListMessage).send({ v: PROTOCOL_VERSION, records: batch }, peerId);
        batch = [];
        bytes = 0;
      }
      batch.push(record);
      bytes += size;
    }
    if (batch.length) await this.mesh.channel(musicListMessage).send({ v: PROTOCOL_VERSION, records: batch }, peerId);
  }
}

type StoredTrackRecord = Extract<StoredMusicRecord, { kind: 'track' }>;

type OmitAuthored = UnsignedMusicRecord extends infer U ? (U extends unknown ? Omit<U, 'author' | 'seq' | 'ts'> : never) : never;

function toWire(r: StoredMusicRecord): MusicRecordWire {
  const { room: _room, ...rest } = r;
  void _room;
  return rest;
}

function safeBytes(b64: string): Uint8Array | undefined {
  try {
    return fromBase64Url(b64);
  } catch {
    return undefined;
  }
}
