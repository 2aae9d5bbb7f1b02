import { h, type FunctionalComponent } from '@stencil/core';
import type { ChatItem, ChatMessage, ChatSession } from '../../core/chat/chat-loader';
import { formatDateTime, formatDuration, formatTime, type Lang, type Strings } from '../../core/i18n';
import type { PeerInfo } from '../../core/runtime';
import type { VirtualLog } from '../shared/virtual-log';

/** Retention choices of the settings view, ms (0 = forever). */
const RETENTION_CHOICES = [3_600_000, 12 * 3_600_000, 86_400_000, 7 * 86_400_000, 30 * 86_400_000, 90 * 86_400_000, 365 * 86_400_000, 0];

/** What a rendered message may do (the component's handlers). */
export interface MessageActions {
  /** Whether a retracted message's text is shown anyway (the reader asked to). */
  revealed(key: string): boolean;
  /** Shows or hides again the text of the retracted message `key`. */
  toggleReveal(key: string): void;
  /** Marks or unmarks a message (`inMarkedView`: the marked list is re-read after). */
  toggleMark(item: ChatMessage, inMarkedView: boolean): void;
  /** Retracts one of this device's messages. */
  retract(key: string): void;
}

/** One message: author, time, mark, its text as text and safe links (never HTML), and its actions. */
export const MessageView: FunctionalComponent<{ item: ChatMessage; lang: Lang; t: Strings; actions: MessageActions; inMarkedView?: boolean }> = ({ item, lang, t, actions, inMarkedView = false }) => {
  const hidden = item.retracted && !actions.revealed(item.key);
  return (
    <div class={{ message: true, own: item.own, retracted: item.retracted, burn: item.burn, marked: item.marked }} part="message" data-id={item.key}>
      <div class="meta">
        <span class="author">{item.own ? t.selfLabel(item.userName) : item.userName}</span>
        <time dateTime={new Date(item.timestamp).toISOString()} title={formatDateTime(item.timestamp, lang)}>
          {formatTime(item.timestamp, lang, inMarkedView)}
        </time>
        {item.marked ? <span class="mark-flag" aria-label={t.markedView}>★</span> : null}
      </div>
      {item.retracted ? (
        <div class="retracted-note">
          {t.retracted}{' '}
          <button type="button" class="link" aria-expanded={hidden ? 'false' : 'true'} onClick={() => actions.toggleReveal(item.key)}>
            {hidden ? t.showRetracted : t.hideRetracted}
          </button>
        </div>
      ) : null}
      {hidden ? null : (
        <div class="text">
          {item.segments.map(segment =>
            segment.kind === 'link' ? (
              <a href={segment.href} target="_blank" rel="noopener noreferrer">
                {segment.text}
              </a>
            ) : (
              segment.text
            ),
          )}
        </div>
      )}
      {item.burn ? null : (
        <div class="actions" role="group" aria-label={t.messageActions}>
          <button type="button" class="link" aria-pressed={item.marked ? 'true' : 'false'} onClick={() => actions.toggleMark(item, inMarkedView)}>
            {item.marked ? t.unmark : t.mark}
          </button>
          {item.own && !item.retracted ? (
            <button type="button" class="link" onClick={() => actions.retract(item.key)}>
              {t.retract}
            </button>
          ) : null}
        </div>
      )}
    </div>
  );
};

/** One row of the log: a message, a join/leave notice, a burn-mode change or a tombstone. */
export const ChatItemView: FunctionalComponent<{ item: ChatItem; lang: Lang; t: Strings; actions: MessageActions }> = ({ item, lang, t, actions }) => {
  switch (item.kind) {
    case 'message':
      return <MessageView item={item} lang={lang} t={t} actions={actions} />;
    case 'notice':
      return <div class="notice">{item.event === 'join' ? t.joined(item.userName ?? t.someone) : t.left(item.userName ?? t.someone)}</div>;
    case 'mode':
      return <div class="notice mode">{item.burn ? t.burnOn(item.own) : t.burnOff(item.own)}</div>;
    case 'tombstone':
      return <div class="notice tombstone">{t.tombstone}</div>;
  }
};

/** The settings view: retention window and burn-after-reading. */
export const ChatSettings: FunctionalComponent<{ t: Strings; lang: Lang; retentionMs: number; burn: boolean; session: ChatSession | null; onRetention(ms: number): void }> = ({ t, lang, retentionMs, burn, session, onRetention }) => {
  const choices = RETENTION_CHOICES.includes(retentionMs) ? RETENTION_CHOICES : [...RETENTION_CHOICES, retentionMs];
  const label = (ms: number) =>
    ms === 0 ? t.retentionForever : ms % 86_400_000 === 0 ? formatDuration(ms / 86_400_000, 'day', lang) : ms % 3_600_000 === 0 ? formatDuration(ms / 3_600_000, 'hour', lang) : formatDuration(Math.round(ms / 60_000), 'minute', lang);
  return (
    <section part="settings" class="settings" aria-label={t.settings}>
      <label>
        {t.retentionLabel}
        <select onChange={e => onRetention(Number((e.target as HTMLSelectElement).value))}>
          {choices.map(ms => (
            <option value={String(ms)} selected={ms === retentionMs}>
              {label(ms)}
            </option>
          ))}
        </select>
      </label>
      <p class="help">{t.retentionHelp}</p>
      <label class="switch">
        <input type="checkbox" checked={burn} disabled={!session} onChange={e => void session?.setBurn((e.target as HTMLInputElement).checked)} />
        {t.burnLabel}
      </label>
    </section>
  );
};

/** The marked-messages view. */
export const MarkedList: FunctionalComponent<{ marked: readonly ChatMessage[]; t: Strings; lang: Lang; actions: MessageActions }> = ({ marked, t, lang, actions }) => (
  <section part="marked-list" class="marked" aria-label={t.markedView}>
    {marked.length === 0 ? (
      <p class="empty">{t.noMarked}</p>
    ) : (
      <ol>
        {marked.map(m => (
          <li key={m.key}>
            <MessageView item={m} lang={lang} t={t} actions={actions} inMarkedView />
          </li>
        ))}
      </ol>
    )}
  </section>
);

/** The people in the room: this visitor first, then each peer with its round trip (ms) when known; a member reached through others (partial mesh) says so. */
export const PeerList: FunctionalComponent<{ selfName: string; peers: readonly PeerInfo[]; t: Strings }> = ({ selfName, peers, t }) => (
  <section part="peer-list" class="peers" aria-label={t.peersHeading}>
    <ul aria-label={t.peersHeading}>
      <li class="self">{t.selfLabel(selfName)}</li>
      {peers.map(peer => (
        <li key={peer.id} data-peer-id={peer.id} class={peer.indirect ? 'indirect' : undefined} title={peer.indirect ? t.viaOthers : peer.rttMs === null ? '' : t.rtt(peer.rttMs)}>
          {peer.name ?? t.someone}
          {peer.rttMs !== null ? <span class="rtt"> · {t.rtt(peer.rttMs)}</span> : null}
          {peer.indirect ? <span class="via"> · {t.viaOthers}</span> : null}
        </li>
      ))}
    </ul>
  </section>
);

/**
 * The message log: a virtualized list (rows come and go as it scrolls), so it is not itself a live
 * region; new messages from others are read out once by the polite region rendered beside it.
 * `setScrollElement` hands the scrolling element to the component; the "new messages" button
 * appears while `unseen` > 0.
 */
export const MessageLog: FunctionalComponent<{
  items: readonly ChatItem[];
  log: VirtualLog;
  unseen: number;
  lang: Lang;
  t: Strings;
  actions: MessageActions;
  setScrollElement(el: HTMLDivElement | undefined): void;
  onJumpToNewest(): void;
}> = ({ items, log, unseen, lang, t, actions, setScrollElement, onJumpToNewest }) => [
  <div part="message-list" class="messages" role="log" aria-live="off" aria-label={t.messagesLabel} ref={setScrollElement}
    onScroll={log.onScroll}
    onWheel={log.onUserScroll}
    onTouchMove={log.onUserScroll}
    onKeyDown={log.onUserScroll}
    onPointerDown={log.onUserScroll}
    tabindex="0"
  >
    {items.length === 0 ? (
      <p class="empty">{t.emptyChat}</p>
    ) : (
      <ol class="rows" style={{ height: `${log.totalSize()}px` }}>
        {log.rows().map(vi => {
          const item = items[vi.index];
          if (!item) return null;
          return (
            <li key={item.key} data-index={vi.index} class={{ row: true, [`row-${item.kind}`]: true }} ref={el => el && log.measure(el)} style={{ transform: `translateY(${vi.start}px)` }}>
              <ChatItemView item={item} lang={lang} t={t} actions={actions} />
            </li>
          );
        })}
      </ol>
    )}
  </div>,
  unseen > 0 ? (
    <button type="button" class="jump" part="jump" onClick={onJumpToNewest}>
      {t.newMessages(unseen)} ↓
    </button>
  ) : null,
];

/**
 * The message box: Enter sends (Shift+Enter for a new line), a counter appears from 200 characters
 * (Unicode code points) left, and sending is disabled while over `maxLength` or not connected.
 */
export const MessageInput: FunctionalComponent<{ draft: string; maxLength: number; canSend: boolean; t: Strings; onDraft(text: string): void; onSend(): void }> = ({
  draft,
  maxLength,
  canSend,
  t,
  onDraft,
  onSend,
}) => {
  const remaining = maxLength - [...draft].length;
  const send = (event: Event) => {
    event.preventDefault();
    onSend();
  };
  return (
    <form part="input" class="input" onSubmit={send}>
      <textarea
        aria-label={t.messageLabel}
        placeholder={t.messageLabel}
        rows={2}
        value={draft}
        onInput={e => onDraft((e.target as HTMLTextAreaElement).value)}
        onKeyDown={e => e.key === 'Enter' && !e.shiftKey && !e.isComposing && send(e)}
        aria-invalid={remaining < 0 ? 'true' : 'false'}
      ></textarea>
      <button type="submit" disabled={!canSend || !draft.trim() || remaining < 0}>
        {t.send}
      </button>
      {remaining < 200 ? <span class={{ counter: true, over: remaining < 0 }}>{remaining < 0 ? t.tooLong(maxLength, [...draft].length) : t.charsLeft(remaining)}</span> : null}
    </form>
  );
};

/** The chat's view of the moment: the log, its settings or the marked messages. */
export type ChatView = 'chat' | 'settings' | 'marked';

/** The header's two view buttons (marked messages, settings); pressing the open one goes back to the chat. */
export const ViewButtons: FunctionalComponent<{ view: ChatView; t: Strings; onOpen(view: ChatView): void }> = ({ view, t, onOpen }) => (
  <span class="views">
    <button type="button" class="link" aria-pressed={view === 'marked' ? 'true' : 'false'} onClick={() => onOpen('marked')}>
      {t.markedView}
    </button>
    <button type="button" class="link" aria-pressed={view === 'settings' ? 'true' : 'false'} onClick={() => onOpen('settings')}>
      {view === 'settings' ? t.closeSettings : t.settings}
    </button>
  </span>
);

/** The latest messages from others, in a polite live region that screen readers read out (not shown). */
export const Announcements: FunctionalComponent<{ items: readonly { key: string; text: string }[] }> = ({ items }) => (
  <div class="visually-hidden" aria-live="polite" aria-relevant="additions">
    {items.map(a => (
      <p key={a.key}>{a.text}</p>
    ))}
  </div>
);

/** What the live region reads for a peer's new message: its author and text, cut after 200 characters (the list holds the whole). */
export function announcement(message: ChatMessage, t: Strings): { key: string; text: string } {
  const chars = [...message.text];
  return { key: message.key, text: t.announce(message.userName, chars.length > 200 ? `${chars.slice(0, 200).join('')}…` : message.text) };
}

/** The banner shown while burn after reading is on in the room: messages vanish `seconds` after they were shown. */
export const BurnBanner: FunctionalComponent<{ seconds: number; t: Strings }> = ({ seconds, t }) => (
  <p part="banner" class="banner" role="note">
    {t.burnBanner(seconds)}
  </p>
);
