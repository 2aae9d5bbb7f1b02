import { FunctionalComponent, h } from '@stencil/core';
import type { ConnectionStats, MeshRoom, MeshStatus } from '../../core/runtime';
import { formatBytes, Lang, Strings } from '../../core/i18n';
import { statusText } from './widget-status';

/** How often the open panel re-reads `getStats()`, ms. */
export const PANEL_REFRESH_MS = 2000;

/**
 * The connection panel's state for one widget: open or closed, and the last figures read while
 * open (re-read every {@link PANEL_REFRESH_MS}). `rerender` asks the widget to render again.
 */
export class ConnectionPanelController {
  /** Whether the panel is shown. */
  open = false;
  /** The figures last read while open; null before the first read. */
  stats: ConnectionStats | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly room: () => MeshRoom | null,
    private readonly rerender: () => void,
  ) {}

  /** Figures now (the widget's `getConnectionStats()`); empty before the widget has joined its room. */
  async read(): Promise<ConnectionStats> {
    const room = this.room();
    return room ? room.connectionStats() : { at: Date.now(), peers: [], relays: [], relaysDown: false };
  }

  /** Opens or closes the panel: while open, the figures are re-read every {@link PANEL_REFRESH_MS}. */
  toggle(): void {
    this.open = !this.open;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.open) {
      void this.refresh();
      this.timer = setInterval(() => void this.refresh(), PANEL_REFRESH_MS);
    }
    this.rerender();
  }

  /** Stops the refresh (the widget left the page). */
  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.open = false;
  }

  private async refresh(): Promise<void> {
    this.stats = await this.read().catch(() => this.stats);
    if (this.open) this.rerender();
  }
}

/** The header button that opens and closes the panel (`id` of the panel it controls). */
export const ConnectionToggle: FunctionalComponent<{ panel: ConnectionPanelController; t: Strings; controls: string }> = ({ panel, t, controls }) => (
  <button type="button" class="link" part="connection-toggle" aria-expanded={panel.open ? 'true' : 'false'} aria-controls={panel.open ? controls : undefined} onClick={() => panel.toggle()}>
    {t.connectionToggle}
  </button>
);

/** A line under the header while every relay is lost: who is here stays, nobody new can join. */
export const RelayNotice: FunctionalComponent<{ status: MeshStatus; t: Strings }> = ({ status, t }) =>
  (status.state === 'connected' || status.state === 'waiting') && status.relaysDown ? (
    <p part="relay-notice" class="relay-notice" role="status">
      {t.relaysDown}
    </p>
  ) : null;

/** The panel: one row per peer (path, round trip, bytes, rate, age) and one line per relay. */
export const ConnectionPanel: FunctionalComponent<{ panel: ConnectionPanelController; t: Strings; lang: Lang; id: string }> = ({ panel, t, lang, id }) => {
  if (!panel.open) return null;
  const stats = panel.stats;
  const c = t.connectionColumns;
  const kbit = (bps: number) => t.bitrate(Math.round(bps / 1000));
  return (
    <section id={id} part="connection-panel" class="connection-panel" aria-label={t.connectionHeading}>
      <h3>{t.connectionPeers}</h3>
      {!stats || stats.peers.length === 0 ? (
        <p>{t.connectionNoPeers}</p>
      ) : (
        <div class="table-scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">{c.peer}</th>
                <th scope="col">{c.path}</th>
                <th scope="col">{c.rtt}</th>
                <th scope="col">{c.sent}</th>
                <th scope="col">{c.received}</th>
                <th scope="col">{c.rate}</th>
                <th scope="col">{c.age}</th>
              </tr>
            </thead>
            <tbody>
              {stats.peers.map(p => (
                <tr key={p.peerId} data-peer-id={p.peerId}>
                  <th scope="row">{p.name ?? t.someone}</th>
                  <td data-path={p.path}>{t.connectionPath[p.path]}</td>
                  <td>{p.rttMs === null ? '—' : t.rtt(p.rttMs)}</td>
                  <td>{formatBytes(p.bytesSent, lang)}</td>
                  <td>{formatBytes(p.bytesReceived, lang)}</td>
                  <td>{`${kbit(p.receiveBitrate)} / ${kbit(p.sendBitrate)}`}</td>
                  <td>{t.secondsShort(Math.round(p.connectedForMs / 1000))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h3>{t.connectionRelays}</h3>
      <ul>
        {(stats?.relays ?? []).map(r => (
          <li key={r.url} data-relay-state={r.state}>
            <span class="relay-url">{r.url}</span>
            {': '}
            {t.relayState[r.state]}
            {r.state === 'retired' && r.reason ? ` (${t.relayRetiredBecause(r.reason)})` : null}
            {r.state !== 'connected' && r.retryAtMs ? ` · ${t.relayRetryIn(Math.max(0, Math.ceil((r.retryAtMs - (stats?.at ?? Date.now())) / 1000)))}` : null}
          </li>
        ))}
      </ul>
    </section>
  );
};

/** The start of every widget's header: the status dot, the status line (a `role="status"` live region) and the panel's toggle. */
export const HeaderStatus: FunctionalComponent<{ status: MeshStatus; panel: ConnectionPanelController; t: Strings }> = ({ status, panel, t }) => [
  <span class={`dot ${status.state}`} aria-hidden="true"></span>,
  <span part="status" role="status" class="status">
    {statusText(status, t)}
  </span>,
  <ConnectionToggle panel={panel} t={t} controls="connection-panel" />,
];
