import { Component, Element, Event, EventEmitter, h, Host, Listen, Method, Prop, State } from '@stencil/core';
import { parseByteSize } from '../../core/config';
import { RoomConnection, type TransferProgress } from '../../core/runtime';
import { ImageRefusedError, MAX_IMAGE_BYTES, openGalleryWall, type GalleryPicture, type GalleryWall } from '../../core/gallery/gallery-loader';
import { formatBytes } from '../../core/i18n';
import { ConnectionPanel, HeaderStatus, RelayNotice } from '../shared/connection-panel';
import { P2pWidget } from '../shared/p2p-widget';
import type { P2pImageDetail, P2pGalleryErrorDetail, P2pGalleryStats } from './gallery-event-details';
import { toDetail } from './gallery-event-details';
import { AddFilesButton } from '../shared/add-files-button';
import { Lightbox, PictureWall } from './gallery-views';

/** Parses `max-size` (see `parseByteSize`), at most {@link MAX_IMAGE_BYTES}. */
const parseSize = (value: string) => parseByteSize(value, 'max-size', '20MB', MAX_IMAGE_BYTES);

/**
 * A shared picture wall. Visitors add pictures (picker, drag-and-drop, paste);
 * everyone in the room sees the thumbnails at once; the full picture comes from
 * whoever holds it, verified chunk by chunk, when someone opens it. Location and
 * camera metadata are removed before anything leaves the device.
 *
 * @part header - the top bar with the connection state and the add button
 * @part status - the connection state text
 * @part connection-toggle - the header button that opens the connection panel
 * @part connection-panel - the connection panel: peers (path, round trip, bytes, rate, age) and relays
 * @part relay-notice - the line shown while every signaling relay is lost
 * @part note - the metadata note
 * @part grid - the picture grid
 * @part tile - one picture on the grid
 * @part lightbox - the dialog showing one full picture
 * @part toolbar - the lightbox's top bar (who shared it, previous, next, zoom, download, close)
 * @part error - the error line
 */
@Component({ tag: 'p2p-gallery', styleUrls: ['../shared/theme.css', 'p2p-gallery.css'], shadow: true })
export class P2pGallery extends P2pWidget<GalleryWall> {
  @Element() el!: HTMLElement;

  /** Largest picture a visitor may share: bytes, or e.g. `20MB`. */
  @Prop() maxSize = '20MB';
  /** Share pictures as they are, with their location and camera metadata (off: metadata is removed). */
  @Prop() keepMetadata = false;
  /** Number of grid columns; default: as many 160 px columns as fit. */
  @Prop() columns?: number;

  /** The visible pictures, newest first. */
  @State() pictures: readonly GalleryPicture[] = [];
  /** Key (`author:seq`) of the picture open in the lightbox; null when it is closed. */
  @State() openKey: string | null = null;
  /** Object URL of the open picture's full bytes; null while they are fetched. */
  @State() fullUrl: string | null = null;
  /** Fetch progress of the open picture; null when none is running. */
  @State() progress: TransferProgress | null = null;
  /** The lightbox shows the picture at its actual size (else fitted to the screen). */
  @State() zoomActual = false;
  /** The alt text being edited in the lightbox. */
  @State() altDraft = '';
  /** Files being prepared and shared now. */
  @State() busy = 0;
  /** Files are being dragged over the widget. */
  @State() dragging = false;

  /** A picture appeared on the wall (shared here or by a peer). Detail: {@link P2pImageDetail}. */
  @Event() p2pImageAdd!: EventEmitter<P2pImageDetail>;
  /** A picture was opened in the lightbox. Detail: {@link P2pImageDetail}. */
  @Event() p2pImageOpen!: EventEmitter<P2pImageDetail>;
  /** Something went wrong. Detail: {@link P2pGalleryErrorDetail}. */
  @Event() p2pError!: EventEmitter<P2pGalleryErrorDetail>;

  /** The room and the wall in it (see core/runtime): joined on connect, left on disconnect. */
  protected readonly link = new RoomConnection<GalleryWall>(
    async ({ mesh, options, roomKey, swarm }) => openGalleryWall(mesh, await swarm(), { room: roomKey, userName: options.userName }),
    {
      status: s => (this.status = s),
      roster: p => (this.peers = p),
      error: (code, message) => this.fail(code, message),
      opened: wall => {
        this.pictures = wall.list();
        if (wall.storageError) this.fail(wall.storageError.code, wall.storageError.message);
        return [
          wall.on('change', pictures => (this.pictures = pictures)),
          wall.on('add', picture => this.p2pImageAdd.emit(toDetail(picture))),
          wall.on('error', e => this.fail(e.code, e.message)),
        ];
      },
    },
  );
  private thumbUrls = new Map<string, string>();
  private dialogEl?: HTMLElement;
  /** The tile button that opened the lightbox: focus goes back to it on close. */
  private opener: HTMLElement | null = null;

  /**
   * Shares pictures as if the visitor had picked them.
   * @returns the content ids of the pictures shared
   * @throws Error when not connected; refused files are reported as `p2pError` and skipped
   */
  @Method()
  async addPictures(files: File[] | FileList): Promise<string[]> {
    return this.share([...files]);
  }

  /** Counters of refused gallery records and wire drops. */
  @Method()
  async getStats(): Promise<P2pGalleryStats> {
    return { refused: { ...(this.wall?.stats().refused ?? {}) }, wire: this.link.wireStats(), swarm: this.wall ? { ...this.wall.swarm.stats } : null };
  }

  private maxBytes(): number {
    try {
      return parseSize(this.maxSize ?? '20MB');
    } catch {
      return 20e6;
    }
  }

  /** `max-size` must be a byte size. */
  protected checkAttributes(): void {
    parseSize(this.maxSize ?? '20MB');
  }

  private get wall(): GalleryWall | null {
    return this.link.feature;
  }

  protected async disconnect() {
    await super.disconnect();
    this.thumbUrls.forEach(url => URL.revokeObjectURL(url));
    this.thumbUrls.clear();
    this.closeLightbox();
  }

  private async share(files: File[]): Promise<string[]> {
    // Files picked or dropped while the widget is still joining the room wait for it (up to 30 s).
    const wall = await this.link.ready();
    if (!wall) {
      this.fail('not-connected', this.t.statusFailed(this.error ?? this.t.statusConnecting));
      return [];
    }
    const cids: string[] = [];
    this.busy += files.length;
    this.error = null;
    for (const file of files) {
      try {
        const { picture } = await wall.share(file, { keepMetadata: this.keepMetadata, maxBytes: this.maxBytes() });
        cids.push(picture.cid);
      } catch (err) {
        if (err instanceof ImageRefusedError) this.fail(err.code, this.t.fileProblem(file.name, this.refusal(err, file)));
        else this.fail('storage-failed', err instanceof Error ? err.message : String(err));
      } finally {
        this.busy--;
      }
    }
    return cids;
  }

  /** Why a file was refused, in the widget's language (the core's English message for codes it does not know). */
  private refusal(err: ImageRefusedError, file: File): string {
    const t = this.t;
    if (err.code === 'not-an-image') return t.notAPicture;
    if (err.code === 'undecodable') return t.pictureUnreadable;
    if (err.code === 'too-large') return t.pictureTooLarge(formatBytes(file.size, this.uiLang), formatBytes(this.maxBytes(), this.uiLang));
    return err.message;
  }

  private thumbUrl(p: GalleryPicture): string {
    let url = this.thumbUrls.get(p.key);
    if (!url) {
      url = URL.createObjectURL(new Blob([p.thumb as BlobPart], { type: 'image/webp' }));
      this.thumbUrls.set(p.key, url);
    }
    return url;
  }

  /** Pasted pictures (files on the clipboard) are shared, as if picked. */
  @Listen('paste')
  onPaste(event: ClipboardEvent) {
    const files = [...(event.clipboardData?.files ?? [])];
    if (!files.length) return;
    event.preventDefault();
    void this.share(files);
  }

  private onDrop = (event: DragEvent) => {
    event.preventDefault();
    this.dragging = false;
    const files = [...(event.dataTransfer?.files ?? [])];
    if (files.length) void this.share(files);
  };

  private async openPicture(key: string) {
    const wall = this.wall;
    const picture = this.pictures.find(p => p.key === key);
    if (!wall || !picture) return;
    const opener = this.openKey ? this.opener : (this.el.shadowRoot?.activeElement as HTMLElement | null);
    this.closeLightbox();
    this.opener = opener;
    this.openKey = key;
    this.altDraft = picture.alt;
    this.zoomActual = false;
    this.progress = null;
    this.p2pImageOpen.emit(toDetail(picture));
    requestAnimationFrame(() => this.dialogEl?.focus());
    try {
      const blob = await wall.fullImage(key, p => {
        if (this.openKey === key) this.progress = p;
      });
      if (this.openKey !== key) return;
      this.fullUrl = URL.createObjectURL(blob);
    } catch (err) {
      if (this.openKey === key) this.fail('unavailable', this.t.unavailable + (err instanceof Error ? ` (${err.message})` : ''));
    }
  }

  /**
   * Makes an owner's change to a picture (its alt text, its removal). A refusal (the wall's bounds, a
   * picture no longer this visitor's) is shown in the widget and emitted as `p2pError` (`send-failed`).
   */
  private async change(op: (wall: GalleryWall) => Promise<void>) {
    const wall = this.wall;
    if (!wall) return this.fail('not-connected', this.t.statusFailed(this.error ?? this.t.statusConnecting));
    try {
      await op(wall);
    } catch (err) {
      this.fail('send-failed', err instanceof Error ? err.message : String(err), this.t.changeFailed);
    }
  }

  private closeLightbox() {
    if (this.fullUrl) URL.revokeObjectURL(this.fullUrl);
    this.fullUrl = null;
    this.openKey = null;
    this.progress = null;
  }

  /** Closes the lightbox and gives the keyboard focus back to the tile it was opened from (or its first neighbour). */
  private closeAndReturn() {
    const key = this.openKey;
    this.closeLightbox();
    const opener = this.opener;
    this.opener = null;
    requestAnimationFrame(() => {
      const tile = key ? this.el.shadowRoot?.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"] button`) : null;
      (tile ?? (opener?.isConnected ? opener : null) ?? this.el.shadowRoot?.querySelector<HTMLElement>('.thumb'))?.focus();
    });
  }

  private step(delta: number) {
    const i = this.pictures.findIndex(p => p.key === this.openKey);
    const next = this.pictures[i + delta];
    if (next) void this.openPicture(next.key);
  }

  private onDialogKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      this.closeAndReturn();
    } else if (event.key === 'Tab') {
      // Modal: Tab and Shift+Tab cycle through the dialog's own controls.
      const focusable = [...(this.dialogEl?.querySelectorAll<HTMLElement>('button:not([disabled]), a[href], input:not([disabled])') ?? [])];
      if (!focusable.length) return;
      const active = this.el.shadowRoot?.activeElement;
      const first = focusable[0];
      const last = focusable[focusable.length - 1];
      if (event.shiftKey && (active === first || active === this.dialogEl)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && active === last) {
        event.preventDefault();
        first.focus();
      }
    } else if (event.key === 'ArrowRight') {
      event.preventDefault();
      this.step(1);
    } else if (event.key === 'ArrowLeft') {
      event.preventDefault();
      this.step(-1);
    }
  };

  private renderLightbox() {
    const picture = this.pictures.find(p => p.key === this.openKey);
    if (!picture) return null;
    const index = this.pictures.indexOf(picture);
    return (
      <Lightbox
        picture={picture}
        first={index <= 0}
        last={index >= this.pictures.length - 1}
        t={this.t}
        lang={this.uiLang}
        progress={this.progress}
        fullUrl={this.fullUrl}
        thumbUrl={this.thumbUrl(picture)}
        zoomActual={this.zoomActual}
        altDraft={this.altDraft}
        dialogRef={el => (this.dialogEl = el)}
        on={{
          key: this.onDialogKey,
          close: () => this.closeAndReturn(),
          step: delta => this.step(delta),
          zoom: () => (this.zoomActual = !this.zoomActual),
          altInput: text => (this.altDraft = text),
          saveAlt: () => void this.change(wall => wall.setAlt(picture.key, this.altDraft)),
          remove: () => {
            void this.change(wall => wall.remove(picture.key));
            this.closeAndReturn();
          },
        }}
      />
    );
  }

  /** Header (status, add button), panels, the metadata note, the busy and error lines, the wall and the lightbox. */
  render() {
    const t = this.t;
    const lang = this.uiLang;
    return (
      <Host lang={lang}>
        <div
          class={{ gallery: true, dragging: this.dragging, 'has-lightbox': !!this.openKey }}
          onDragOver={e => {
            e.preventDefault();
            this.dragging = true;
          }}
          onDragLeave={() => (this.dragging = false)}
          onDrop={this.onDrop}
          style={this.columns ? { '--p2p-columns': String(this.columns) } : {}}
        >
          <header part="header">
            <HeaderStatus status={this.status} panel={this.connection} t={t} />
            <AddFilesButton label={t.addPictures} accept="image/jpeg,image/png,image/webp,image/gif,image/avif" disabled={!this.wall} onFiles={files => void this.share(files)} />
          </header>
          <RelayNotice status={this.status} t={t} />
          <ConnectionPanel panel={this.connection} t={t} lang={lang} id="connection-panel" />
          <p part="note" class="note">
            {this.keepMetadata ? t.metadataKeptNote : t.metadataNote} {t.dropHere}
          </p>
          {this.busy > 0 ? <p class="busy" role="status">{t.sharing(this.busy)}</p> : null}
          {this.error ? (
            <p part="error" class="error" role="alert">
              {this.error}
            </p>
          ) : null}
          <PictureWall pictures={this.pictures} lang={lang} t={t} thumbUrl={p => this.thumbUrl(p)} onOpen={key => void this.openPicture(key)} />
          {this.openKey ? this.renderLightbox() : null}
        </div>
      </Host>
    );
  }
}
