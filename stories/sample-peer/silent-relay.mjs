/**
 * A "relay" that accepts WebSocket connections and never answers: what a widget meets
 * when a relay is overloaded or a proxy swallows traffic. The Connecting story uses it.
 */
import { WebSocketServer } from 'ws';

/**
 * Starts the silent relay on 127.0.0.1.
 * @param {number} [port] 0 (default) picks a free port
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export function startSilentRelay(port = 0) {
  return new Promise((resolve, reject) => {
    const server = new WebSocketServer({ host: '127.0.0.1', port });
    server.once('error', reject);
    server.once('listening', () => {
      const address = /** @type {import('node:net').AddressInfo} */ (server.address());
      resolve({
        url: `ws://127.0.0.1:${address.port}`,
        close: () =>
          new Promise(done => {
            for (const client of server.clients) client.terminate();
            server.close(() => done());
          }),
      });
    });
  });
}
