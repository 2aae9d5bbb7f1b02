import { h, type FunctionalComponent } from '@stencil/core';
import type { GalleryPicture } from '../../core/gallery/gallery-loader';
import { formatBytes, formatDay, formatRelativeTime, type Lang, type Strings } from '../../core/i18n';
import type { TransferProgress } from '../../core/runtime';

/** What the lightbox's controls do (the component's handlers). */
export interface LightboxHandlers {
  /** A key pressed in the dialog (Escape, Tab, arrows). */
  key(e: KeyboardEvent): void;
  /** Closes the lightbox. */
  close(): void;
  /** Opens the next (`1`) or previous (`-1`) picture. */
  step(delta: number): void;
  /** Switches between fitted and actual size. */
  zoom(): void;
  /** The alt text field changed. */
  altInput(text: string): void;
  /** Saves the alt text (owner only). */
  saveAlt(): void;
  /** Removes the picture for everyone (owner only). */
  remove(): void;
}

/**
 * The open picture: who shared it and when, close / previous / next / zoom / download, the full
 * picture (or its thumbnail and the download progress while it comes), and for the owner the alt
 * text and removal. A modal dialog: the component moves focus into it and back.
 */
export const Lightbox: FunctionalComponent<{
  picture: GalleryPicture;
  first: boolean;
  last: boolean;
  t: Strings;
  lang: Lang;
  progress: TransferProgress | null;
  fullUrl: string | null;
  thumbUrl: string;
  zoomActual: boolean;
  altDraft: string;
  dialogRef(el: HTMLDivElement | undefined): void;
  on: LightboxHandlers;
}> = ({ picture, first, last, t, lang, progress, fullUrl, thumbUrl, zoomActual, altDraft, dialogRef, on }) => {
  const percent = progress && progress.size ? Math.floor((100 * progress.bytes) / progress.size) : 0;
  return (
    <div part="lightbox" class="lightbox" role="dialog" aria-modal="true" aria-label={t.pictureBy(picture.userName)} tabindex="-1" ref={dialogRef} onKeyDown={on.key}>
      <div part="toolbar" class="toolbar">
        <span class="who">
          {t.sharedBy(picture.userName)} · <time dateTime={new Date(picture.ts).toISOString()}>{formatRelativeTime(picture.ts, Date.now(), lang)}</time> · {formatBytes(picture.size, lang)}
        </span>
        <button type="button" class="close" onClick={on.close}>
          {t.close}
        </button>
        <button type="button" onClick={() => on.step(-1)} disabled={first}>
          {t.previous}
        </button>
        <button type="button" onClick={() => on.step(1)} disabled={last}>
          {t.next}
        </button>
        <button type="button" aria-pressed={zoomActual ? 'true' : 'false'} onClick={on.zoom}>
          {zoomActual ? t.zoomFit : t.zoomActual}
        </button>
        {fullUrl ? (
          <a href={fullUrl} download={`picture-${picture.cid.slice(0, 8)}.${picture.mime.split('/')[1]}`}>
            {t.download}
          </a>
        ) : null}
      </div>
      <div class={{ stage: true, actual: zoomActual }}>
        {fullUrl ? (
          <img class="full" src={fullUrl} alt={picture.alt} width={picture.width} height={picture.height} />
        ) : (
          <div class="loading">
            <img class="preview" src={thumbUrl} alt={picture.alt} />
            <progress max={100} value={percent} aria-label={t.fetching(percent, progress?.peers ?? 0)}></progress>
            <span>{t.fetching(percent, progress?.peers ?? 0)}</span>
          </div>
        )}
      </div>
      {picture.own ? (
        <form
          class="owner"
          onSubmit={e => {
            e.preventDefault();
            on.saveAlt();
          }}
        >
          <label>
            {t.altLabel}
            <input type="text" value={altDraft} maxLength={1000} onInput={e => on.altInput((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">{t.saveAlt}</button>
          <button type="button" class="danger" onClick={on.remove}>
            {t.remove}
          </button>
        </form>
      ) : null}
    </div>
  );
};

/**
 * The picture wall: pictures grouped by the day they were shared (in the visitor's language),
 * each tile a button that opens the lightbox, with who shared it and whether a copy is kept here.
 */
export const PictureWall: FunctionalComponent<{ pictures: readonly GalleryPicture[]; lang: Lang; t: Strings; thumbUrl(p: GalleryPicture): string; onOpen(key: string): void }> = ({
  pictures,
  lang,
  t,
  thumbUrl,
  onOpen,
}) => {
  const groups = new Map<string, GalleryPicture[]>();
  for (const p of pictures) {
    const label = formatDay(p.ts, lang);
    groups.set(label, [...(groups.get(label) ?? []), p]);
  }
  return (
    <section part="grid" class="wall" aria-label={t.wallLabel}>
      {pictures.length === 0 ? <p class="empty">{t.emptyWall}</p> : null}
      {[...groups.entries()].map(([label, group]) => (
        <div class="group">
          <h3>{label}</h3>
          <ul class="grid" aria-label={label}>
            {group.map(p => (
              <li part="tile" class="tile" key={p.key} data-cid={p.cid} data-key={p.key}>
                <button type="button" class="thumb" aria-label={t.openPicture(p.userName, p.alt)} onClick={() => onOpen(p.key)}>
                  <img src={thumbUrl(p)} alt={p.alt} loading="lazy" width={p.width} height={p.height} />
                </button>
                <span class="caption">
                  {p.own ? t.selfLabel(p.userName) : t.sharedBy(p.userName)}
                  {p.cached && !p.own ? <span class="cached"> · {t.cachedHere}</span> : null}
                </span>
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
};
