import WebSocket from 'ws';

/**
 * Gives Node a browser-like global `WebSocket` (from `ws`) for Trystero's relay sockets, unless one
 * exists. Node's `ws` throws on 'error' events nobody listens to, where browsers only log them:
 * this one listens, so a relay that refuses the connection is an event, not a crash.
 */
export function installNodeWebSocket(): void {
  (globalThis as any).WebSocket ??= class extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      this.on('error', () => undefined);
    }
  };
}
