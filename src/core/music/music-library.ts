import { fromBase64Url } from '../identity';
import type { FeatureMesh } from '../mesh';
import { toStorageError, type P2pDatabase, type StorageError } from '../store';
import type { Swarm } from '../swarm';
import { musicListMessage, musicQueryMessage, musicRecordMessage, type AudioType, type MusicRecordWire } from '../wire';
import { isAcceptableThumbnail } from '../wire/image-check';
import type { ByteSource } from './streaming-player';
import { prepareTrack, type PreparedTrack } from './track-prepare';
import { musicRecordKind } from './track-record';
import { RecordBook, RecordFeature, recordKey, type RecordRefusal } from '../records';

/** Why a music record was refused: the record book's reasons (see core/records) or a cover that is not a small picture. */
export type MusicRefusal = RecordRefusal | 'bad-cover';

/** A track in the room's lists (one per content id, with every holder). */
export interface MusicTrack {
  /** `author:seq` of the first `track` record seen for this content id. */
  key: string;
  /** Content id of the track's bytes (SHA-256 root hash, base64url). */
  cid: string;
  /** Public key of the author of that first record. */
  author: string;
  /** Name of the peer whose list it is in. */
  sharedBy: string;
  /** Title tag (or the file name), at most 200 characters. */
  title: string;
  /** Artist tag ('' when none), at most 200 characters. */
  artist: string;
  /** Album tag ('' when none), at most 200 characters. */
  album: string;
  /** The shared file's name. */
  fileName: string;
  /** Length, seconds (0 when the sharer's browser could not tell). */
  duration: number;
  /** Size, bytes. */
  size: number;
  /** The audio type, sniffed from the bytes when it was shared. */
  mime: AudioType;
  /** Cover picture (a small WebP): the newest the author attached, else the one from the tags. */
  cover?: Uint8Array;
  /** LRC lyrics: the newest the author attached, else those shared with the track. */
  lyrics?: string;
  /** Shared from this device (one of the records for this content id is its own). */
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
  /** The listed tracks changed (the new list). */
  change: (tracks: readonly MusicTrack[]) => void;
  /** A track whose content is new to the list arrived (shared here or by a peer). */
  add: (track: MusicTrack) => void;
  /** A write failed (quota, storage gone). */
  error: (error: StorageError) => void;
}

/** How a music library is opened: the room key (`${appId}\n${room}`) and the visitor's name. */
export interface MusicLibraryOptions {
  /** The room key: records are signed for it and stored under it. */
  room: string;
  /** The visitor's display name, put in each track it shares. */
  userName: string;
  /** undefined: the page's shared database; null: memory only. */
  database?: P2pDatabase | null;
  /** Largest track this visitor may add, bytes; default 200 MB (200 000 000). */
  maxTrackBytes?: number;
}

/** Records kept per room (all authors). */
const MAX_RECORDS = 10_000;
/** What the visitor is told when the library's own rules refused a change of theirs. */
const REFUSED = 'the music room refused this change';

/**
 * The music room's lists: each device's own tracks (signed `track` records, bytes in
 * the swarm, pinned), the tracks it keeps a copy of, and what peers hold. A peer's
 * list is sent to whoever asks (`music-q` → `music-list`, to the asker only); new
 * records are broadcast as they happen. A track is listed once per content id with
 * all its holders; it stays while someone holds it, or offline while its author's
 * list is remembered.
 */
export class MusicLibrary extends RecordFeature<MusicRecordWire, MusicRefusal, MusicLibraryEvents> {
  /** The peers' ids and names at the last refresh: a roster event that changes neither (an RTT update) does not refresh. */
  private rosterNames = '';
  private list: MusicTrack[] = [];
  private readonly remembered = new Set<string>();

  private constructor(
    private readonly mesh: FeatureMesh,
    /** The room's swarm: it holds and streams the tracks' bytes. */
    readonly swarm: Swarm,
    book: RecordBook<MusicRecordWire, MusicRefusal>,
    options: MusicLibraryOptions,
    remembered: readonly string[],
  ) {
    // Ask the holder: a joining peer is asked for its list; this device answers with the tracks it holds (`held`),
    // at most 8 records and well under the message's 1 MiB per batch.
    super({
      book,
      userName: options.userName,
      exchange: { mesh, messages: { record: musicRecordMessage, list: musicListMessage, query: musicQueryMessage }, batch: { maxRecords: 8, maxBytes: 900 * 1024 } },
    });
    this.maxTrackBytes = options.maxTrackBytes ?? 200e6;
    remembered.forEach(a => this.remembered.add(a));
    this.offs.push(
      mesh.on('roster', peers => {
        const names = peers.map(p => `${p.id}\u0000${p.name ?? ''}`).join('\n');
        if (names === this.rosterNames) return;
        this.rosterNames = names;
        this.refresh();
      }),
      swarm.on('index', () => this.refresh()),
      swarm.on('complete', () => this.refresh()),
    );
    this.refresh();
  }

  /** Largest track this visitor may add, bytes. */
  private readonly maxTrackBytes: number;

  /**
   * Opens the music room of a room: loads what this device stored, then asks the peers for theirs.
   * Tracks are `track` records; `track-meta` (cover, lyrics) and `untrack` amend their author's own track only.
   * @throws Error when WebCrypto cannot make or load the visitor's key pair
   */
  static async open(mesh: FeatureMesh, swarm: Swarm, options: MusicLibraryOptions): Promise<MusicLibrary> {
    const book = await RecordBook.open<MusicRecordWire, MusicRefusal>({
      feature: 'music',
      kind: musicRecordKind,
      room: options.room,
      database: options.database,
      maxRecords: MAX_RECORDS,
      amends: r => r.kind !== 'track',
      retires: r => r.kind === 'untrack',
      // A cover is decoded by the page: refuse one that is not a small picture, checked on its header first.
      check: async r => {
        const cover = r.kind === 'untrack' ? undefined : r.cover;
        return cover && !(await isAcceptableThumbnail(safeBytes(cover) ?? new Uint8Array()).catch(() => false)) ? 'bad-cover' : null;
      },
    });
    let remembered: string[] = [];
    try {
      remembered = (await book.database?.roomSettings.get(`music\n${options.room}`))?.rememberedLists ?? [];
    } catch (err) {
      book.storageError ??= toStorageError(err);
    }
    return new MusicLibrary(mesh, swarm, book, options, remembered);
  }

  /** The tracks listed now, once per content id, oldest first. */
  tracks(): readonly MusicTrack[] {
    return this.list;
  }

  /**
   * Adds a track of this device: reads its tags and duration, stores its bytes (pinned) and announces it.
   * @throws TrackRefusedError in plain words
   */
  async add(file: File): Promise<MusicTrack> {
    return this.addPrepared(file, await prepareTrack(file, this.maxTrackBytes));
  }

  /**
   * Adds a track whose tags and duration are already read (see `prepareTrack`, which needs a
   * browser): stores its bytes (pinned, 64 KiB chunks) and announces its signed record.
   */
  async addPrepared(file: Blob, prepared: PreparedTrack): Promise<MusicTrack> {
    const manifest = await this.swarm.add(file, { mime: prepared.mime, pinned: true, chunkSize: 64 * 1024 });
    await this.author({ kind: 'track', name: this.userName, cid: manifest.cid, size: manifest.size, ...prepared }, REFUSED);
    return this.list.find(t => t.cid === manifest.cid)!;
  }

  /** Attaches or replaces the cover and/or lyrics of one of this device's tracks. */
  async attach(key: string, meta: { cover?: string; lyrics?: string }): Promise<void> {
    const r = this.book.get(key);
    if (!r || r.author !== this.publicKey || r.kind !== 'track') throw new Error('only the owner can change a track');
    await this.author({ kind: 'track-meta', target: r.seq, ...(meta.cover ? { cover: meta.cover } : {}), ...(meta.lyrics !== undefined ? { lyrics: meta.lyrics } : {}) }, REFUSED);
  }

  /**
   * Removes one of this device's tracks from its list (stops announcing it; the bytes are dropped).
   * @throws Error when `key` is not one of this device's tracks (another author's, or not a `track` record)
   */
  async untrack(key: string): Promise<void> {
    const r = this.book.get(key);
    if (!r || r.author !== this.publicKey || r.kind !== 'track') throw new Error('only the owner can remove a track');
    await this.author({ kind: 'untrack', target: r.seq }, REFUSED);
    await this.swarm.drop(r.cid).catch(() => undefined);
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
    const own = [...this.book.all()].some(r => r.kind === 'track' && r.cid === cid && r.author === this.publicKey && !this.book.isRetired(recordKey(r)));
    if (own) throw new Error('this is your own track: remove it from your list instead');
    await this.swarm.drop(cid);
    this.refresh();
  }

  /** Remembers (or forgets) an author's list, so it stays listed (offline) when nobody holding it is online. */
  async rememberList(author: string, on: boolean): Promise<void> {
    if (on) this.remembered.add(author);
    else this.remembered.delete(author);
    try {
      await this.book.database?.roomSettings.put({ room: `music\n${this.book.room}`, rememberedLists: [...this.remembered] });
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

  /** A record was accepted: the list is rebuilt, and a track whose content is new to it is announced (`add`). */
  protected accepted(record: MusicRecordWire): void {
    const before = new Set(this.list.map(t => t.cid));
    this.refresh();
    if (record.kind === 'track' && !before.has(record.cid)) {
      const track = this.list.find(t => t.cid === record.cid);
      if (track) this.emitter.emit('add', track);
    }
  }

  private refresh(): void {
    const names = new Map(this.mesh.peerList().map(p => [p.id, p.name ?? '']));
    const byCid = new Map<string, MusicTrack>();
    const unheld: string[] = [];
    const records = [...this.book.all()].filter((r): r is TrackRecord => r.kind === 'track' && !this.book.isRetired(recordKey(r))).sort((a, b) => a.ts - b.ts);
    for (const r of records) {
      const cid = r.cid;
      const own = r.author === this.publicKey;
      const local = this.swarm.localFile(cid);
      const holders = this.swarm.holders(cid).map(id => names.get(id) || id.slice(0, 6));
      const cached = this.swarm.isComplete(cid);
      const existing = byCid.get(cid);
      if (existing) {
        existing.own ||= own;
        continue;
      }
      if (!own && !cached && holders.length === 0) {
        unheld.push(cid);
        if (!this.remembered.has(r.author)) continue;
      }
      const meta = this.book
        .amendmentsOf(recordKey(r))
        .filter((m): m is Extract<MusicRecordWire, { kind: 'track-meta' }> => m.kind === 'track-meta')
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
    // Partial mesh: holders may be further away than the links; asking the room lists their tracks when they answer.
    this.swarm.seekHolders(unheld);
    this.list = [...byCid.values()];
    this.emitter.emit('change', this.list);
  }

  /**
   * What this device answers a query with: the tracks it holds (own, or a kept copy), each with its
   * amendments; for a track its author removed, the removal alone (so a peer that missed it live drops
   * the track too, as the gallery does with its removals).
   */
  protected held(): MusicRecordWire[] {
    const out: MusicRecordWire[] = [];
    for (const r of this.book.all()) {
      const key = recordKey(r);
      if (r.kind !== 'track') continue;
      if (this.book.isRetired(key)) {
        out.push(...this.book.amendmentsOf(key).filter(a => a.kind === 'untrack'));
        continue;
      }
      if (r.author !== this.publicKey && !this.swarm.isComplete(r.cid)) continue;
      out.push(r, ...this.book.amendmentsOf(key));
    }
    return out;
  }
}

type TrackRecord = Extract<MusicRecordWire, { kind: 'track' }>;

function safeBytes(b64: string): Uint8Array | undefined {
  try {
    return fromBase64Url(b64);
  } catch {
    return undefined;
  }
}
