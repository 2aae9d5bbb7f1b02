import { createNanoEvents, Unsubscribe } from 'nanoevents';
import { DeviceIdentity, fromBase64Url, toBase64Url } from '../identity';
import type { FeatureMesh } from '../mesh';
import { P2pDatabase, StorageError, StoredGalleryRecord, toStorageError } from '../store';
import type { Download, Swarm, TransferProgress } from '../swarm';
import { galleryQueryMessage, galleryRecordMessage, galleryWallMessage, PROTOCOL_VERSION, type GalleryRecordWire, type ImageType } from '../wire';
import { signGalleryRecord, UnsignedGalleryRecord, verifyGalleryRecord } from './gallery-record';
import { isAcceptableThumbnail } from '../wire/image-check';
import { prepareImage, type PreparedImage } from './image-prepare';
import { openRoomStorage, recordKey, targetKey } from '../records';

/** Records kept per room on this device (all authors): a bound on what strangers can make us store. */
const MAX_ENTRIES = 5000;

/** A picture on the wall. */
export interface GalleryPicture {
  /** `author:seq` of its `pic` record. */
  key: string;
  author: string;
  seq: number;
  /** Sharer's display name. */
  userName: string;
  /** When it was shared, ms since epoch. */
  ts: number;
  cid: string;
  size: number;
  mime: ImageType;
  width: number;
  height: number;
  alt: string;
  /** WebP thumbnail bytes. */
  thumb: Uint8Array;
  own: boolean;
  /** The full picture is on this device. */
  cached: boolean;
  /** Peers currently holding the full picture. */
  holders: number;
}

/** Why a gallery record was refused. */
export type GalleryRefusal = 'bad-signature' | 'too-many' | 'bad-thumbnail' | 'duplicate';

/** Events of a {@link GalleryWall}. */
export interface GalleryWallEvents {
  change: (pictures: readonly GalleryPicture[]) => void;
  /** A picture appeared (shared here or by a peer). */
  add: (picture: GalleryPicture) => void;
  error: (error: StorageError) => void;
}

/** How a gallery wall is opened: the room key (`${appId}\n${room}`) and the visitor's name. */
export interface GalleryWallOptions {
  room: string;
  userName: string;
  /** Pictures one author may have on the wall; more are refused. Default 200. */
  maxPerAuthor?: number;
  database?: P2pDatabase | null;
  now?: () => number;
}

interface Entry {
  pic: StoredGalleryRecord | null;
  alt: StoredGalleryRecord | null;
  removed: StoredGalleryRecord | null;
}

/**
 * The shared picture wall of a room: signed `pic` records (with a thumbnail) that
 * every peer keeps and passes on, full pictures moved by the swarm, alt text and
 * removal by the owner only. A picture is shown while it is this device's own,
 * cached here, or held by a peer in the room.
 */
export class GalleryWall {
  /** Records refused from peers, by reason. */
  readonly refused: Record<GalleryRefusal, number> = { 'bad-signature': 0, 'too-many': 0, 'bad-thumbnail': 0, duplicate: 0 };
  /** Set when the database could not be opened: the feature then works in memory only (nothing survives a reload). */
  storageError: StorageError | null = null;
  private readonly entries = new Map<string, Entry>();
  private readonly emitter = createNanoEvents<GalleryWallEvents>();
  private readonly offs: Unsubscribe[] = [];
  private pictures: GalleryPicture[] = [];
  private readonly maxPerAuthor: number;
  private readonly now: () => number;
  private queue: Promise<unknown> = Promise.resolve();
  /** Pictures `add` was emitted for. */
  private readonly announced = new Set<string>();

  private constructor(
    private readonly mesh: FeatureMesh,
    readonly swarm: Swarm,
    private readonly identity: DeviceIdentity,
    private readonly db: P2pDatabase | null,
    private readonly options: GalleryWallOptions,
  ) {
    this.maxPerAuthor = options.maxPerAuthor ?? 200;
    this.now = options.now ?? (() => Date.now());
  }

  /** Opens the wall of a room: loads what this device stored, then asks the peers for theirs. */
  static async open(mesh: FeatureMesh, swarm: Swarm, options: GalleryWallOptions): Promise<GalleryWall> {
    const { db, storageError, identity } = await openRoomStorage(options.room, options.database);
    const wall = new GalleryWall(mesh, swarm, identity, db, options);
    wall.storageError = storageError;
    if (db) {
      try {
        for (const r of await db.galleryRecords.where('room').equals(options.room).toArray()) wall.apply(r);
      } catch (err) {
        wall.storageError ??= toStorageError(err);
      }
    }
    wall.start();
    return wall;
  }

  /** Subscribes to an event (see {@link GalleryWallEvents}); returns the unsubscribe function. */
  on<E extends keyof GalleryWallEvents>(event: E, handler: GalleryWallEvents[E]): Unsubscribe {
    return this.emitter.on(event, handler);
  }

  /** The visible pictures, newest first. */
  list(): readonly GalleryPicture[] {
    return this.pictures;
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
   * Shares a picture: checks and prepares it (see `prepareImage`), adds it to the swarm
   * (pinned: the user's own), signs and announces its record.
   * @throws ImageRefusedError in plain words
   */
  async share(file: Blob, options: { keepMetadata?: boolean; maxBytes: number; alt?: string }): Promise<{ picture: GalleryPicture; metadataRemoved: boolean }> {
    return this.sharePrepared(await prepareImage(file, options), options.alt);
  }

  /**
   * Shares a picture already prepared (re-encoded, thumbnail made: see `prepareImage`, which needs a
   * browser): adds it to the swarm (pinned), signs and announces its record. `alt` is cut at 1000 characters.
   */
  async sharePrepared(prepared: PreparedImage, alt = ''): Promise<{ picture: GalleryPicture; metadataRemoved: boolean }> {
    const manifest = await this.swarm.add(prepared.blob, { mime: prepared.mime, pinned: true });
    const record = await this.author({
      kind: 'pic',
      name: this.options.userName,
      cid: manifest.cid,
      size: manifest.size,
      mime: prepared.mime,
      width: prepared.width,
      height: prepared.height,
      alt: alt.slice(0, 1000),
      thumb: toBase64Url(prepared.thumb),
    });
    const picture = this.pictures.find(p => p.key === recordKey(record))!;
    return { picture, metadataRemoved: prepared.metadataRemoved };
  }

  /** Starts fetching the full picture (or finds it here). */
  open(key: string): Download | null {
    const pic = this.entries.get(key)?.pic;
    if (!pic?.cid) return null;
    if (this.swarm.isComplete(pic.cid)) return null;
    return this.swarm.download(pic.cid);
  }

  /** The full picture as a Blob, waiting for its download. */
  async fullImage(key: string, onProgress?: (p: TransferProgress) => void): Promise<Blob> {
    const pic = this.entries.get(key)?.pic;
    if (!pic?.cid || !pic.size) throw new Error('unknown picture');
    const download = this.open(key);
    if (download) {
      const off = onProgress ? download.on('progress', onProgress) : null;
      try {
        await download.done;
      } finally {
        off?.();
      }
    }
    const bytes = await this.swarm.read(pic.cid, 0, pic.size);
    this.refresh();
    return new Blob([bytes as BlobPart], { type: pic.mime });
  }

  /** Changes the alt text of one of this device's pictures. */
  async setAlt(key: string, alt: string): Promise<void> {
    const pic = this.entries.get(key)?.pic;
    if (!pic || pic.author !== this.identity.publicKey) throw new Error('only the owner can change the alt text');
    await this.author({ kind: 'alt', target: pic.seq, alt: alt.slice(0, 1000) });
  }

  /** Removes one of this device's pictures for everyone (a signed removal; peers stop serving it). */
  async remove(key: string): Promise<void> {
    const pic = this.entries.get(key)?.pic;
    if (!pic || pic.author !== this.identity.publicKey) throw new Error('only the owner can remove a picture');
    await this.author({ kind: 'remove', target: pic.seq });
  }

  /** Counters of refused records. */
  stats() {
    return { refused: { ...this.refused } };
  }

  /** Stops listening and releases timers and subscriptions; the data stays stored. Idempotent. */
  destroy(): void {
    this.offs.splice(0).forEach(off => off());
    this.emitter.events = {};
  }

  private start(): void {
    this.offs.push(
      this.mesh.channel(galleryRecordMessage).onMessage(({ record }) => void this.ingest(record)),
      this.mesh.channel(galleryWallMessage).onMessage(({ records }) => records.forEach(r => void this.ingest(r))),
      this.mesh.channel(galleryQueryMessage).onMessage((_, peerId) => void this.answerQuery(peerId)),
      this.mesh.on('peerJoin', peer => void this.mesh.channel(galleryQueryMessage).send({ v: PROTOCOL_VERSION }, peer.id)),
      this.swarm.on('index', () => this.refresh()),
      this.swarm.on('complete', () => this.refresh()),
    );
    for (const peerId of this.mesh.peers.keys()) void this.mesh.channel(galleryQueryMessage).send({ v: PROTOCOL_VERSION }, peerId);
    this.refresh();
  }

  private async author(fields: DistributiveOmitSig): Promise<GalleryRecordWire> {
    const unsigned = { ...fields, author: this.identity.publicKey, seq: await this.identity.nextSeq(), ts: this.now() } as UnsignedGalleryRecord;
    const record = await signGalleryRecord(this.options.room, this.identity, unsigned);
    await this.ingest(record);
    await this.mesh.channel(galleryRecordMessage).send({ v: PROTOCOL_VERSION, record });
    return record;
  }

  /** Applies the rules to a record from anywhere; never throws (refusals are counted). */
  ingest(record: GalleryRecordWire): Promise<boolean> {
    const run = this.queue.then(() => this.ingestNow(record));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async ingestNow(record: GalleryRecordWire): Promise<boolean> {
    const key = recordKey(record);
    const entryKey = record.kind === 'pic' ? key : targetKey(record);
    const entry = this.entries.get(entryKey);
    const held = record.kind === 'pic' ? entry?.pic : record.kind === 'alt' ? entry?.alt : entry?.removed;
    if (held && held.seq >= record.seq) {
      this.refused.duplicate++;
      return false;
    }
    if (!(await verifyGalleryRecord(this.options.room, record))) {
      this.refused['bad-signature']++;
      return false;
    }
    if (record.kind === 'pic') {
      const count = [...this.entries.values()].filter(e => e.pic?.author === record.author && !e.removed).length;
      if (count >= this.maxPerAuthor || this.entries.size >= MAX_ENTRIES) {
        this.refused['too-many']++;
        return false;
      }
      let thumbOk = false;
      try {
        thumbOk = await isAcceptableThumbnail(fromBase64Url(record.thumb));
      } catch {
        thumbOk = false;
      }
      if (!thumbOk) {
        this.refused['bad-thumbnail']++;
        return false;
      }
    }
    const stored: StoredGalleryRecord = { ...record, room: this.options.room };
    try {
      await this.db?.galleryRecords.put(stored);
    } catch (err) {
      this.emitter.emit('error', toStorageError(err));
    }
    this.apply(stored);
    if (record.kind === 'remove' && entry?.pic?.cid) {
      const cid = entry.pic.cid;
      const stillUsed = [...this.entries.values()].some(e => e.pic?.cid === cid && !e.removed);
      if (!stillUsed && this.swarm.localFile(cid)) await this.swarm.drop(cid).catch(() => undefined);
    }
    this.refresh();
    return true;
  }

  private apply(r: StoredGalleryRecord): void {
    const entryKey = r.kind === 'pic' ? recordKey(r) : targetKey(r);
    const entry = this.entries.get(entryKey) ?? { pic: null, alt: null, removed: null };
    if (r.kind === 'pic') entry.pic = r;
    if (r.kind === 'alt' && (!entry.alt || entry.alt.seq < r.seq)) entry.alt = r;
    if (r.kind === 'remove') entry.removed = r;
    this.entries.set(entryKey, entry);
  }

  private refresh(): void {
    const pictures: GalleryPicture[] = [];
    for (const [key, e] of this.entries) {
      const r = e.pic;
      if (!r || e.removed || !r.cid) continue;
      const own = r.author === this.identity.publicKey;
      const cached = this.swarm.isComplete(r.cid);
      const holders = this.swarm.holders(r.cid).length;
      if (!own && !cached && holders === 0) continue;
      pictures.push({
        key,
        author: r.author,
        seq: r.seq,
        userName: r.name ?? '',
        ts: r.ts,
        cid: r.cid,
        size: r.size ?? 0,
        mime: r.mime as ImageType,
        width: r.width ?? 0,
        height: r.height ?? 0,
        alt: e.alt?.alt ?? r.alt ?? '',
        thumb: fromBase64Url(r.thumb ?? ''),
        own,
        cached,
        holders,
      });
    }
    pictures.sort((a, b) => b.ts - a.ts || (a.key < b.key ? -1 : 1));
    this.pictures = pictures;
    this.emitter.emit('change', pictures);
    // A picture becomes visible when its record or a holder's index arrives, in either order: announce it once.
    for (const p of pictures) {
      if (this.announced.has(p.key)) continue;
      this.announced.add(p.key);
      this.emitter.emit('add', p);
    }
  }

  /** Sends the asker the records of pictures this device holds (own or cached), and removals, in batches. */
  private async answerQuery(peerId: string): Promise<void> {
    const records: GalleryRecordWire[] = [];
    for (const e of this.entries.values()) {
      const r = e.pic;
      if (!r?.cid) continue;
      if (e.removed) {
        records.push(toWire(e.removed));
        continue;
      }
      const holds = r.author === this.identity.publicKey || this.swarm.isComplete(r.cid);
      if (!holds) continue;
      records.push(toWire(r));
      if (e.alt) records.push(toWire(e.alt));
    }
    for (let i = 0; i < records.length; i += 12) {
      await this.mesh.channel(galleryWallMessage).send({ v: PROTOCOL_VERSION, records: records.slice(i, i + 12) }, peerId);
    }
  }
}

type DistributiveOmitSig = UnsignedGalleryRecord extends infer U ? (U extends unknown ? Omit<U, 'author' | 'seq' | 'ts'> : never) : never;

function toWire(r: StoredGalleryRecord): GalleryRecordWire {
  const { room: _room, ...rest } = r;
  void _room;
  return rest as GalleryRecordWire;
}
