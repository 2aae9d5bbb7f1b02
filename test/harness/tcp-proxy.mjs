/**
 * A TCP proxy on 127.0.0.1 in front of a local server, for tests that cut one page's network path
 * to a relay (a laptop's Wi-Fi going away) while the relay stays up for everyone else.
 */
import net from 'node:net';

/**
 * Starts a proxy to 127.0.0.1:`targetPort`. `cut()` drops every open connection and refuses new
 * ones (as a dead network would); `blackhole()` refuses new ones and stops carrying bytes on the open
 * ones without closing them (a path that vanished: neither end hears anything, no FIN, no reset);
 * `restore()` lets new connections through again.
 * @param {number} targetPort
 * @returns {Promise<{ port: number, cut: () => void, blackhole: () => void, restore: () => void, close: () => Promise<void> }>}
 */
export async function startTcpProxy(targetPort) {
  const sockets = new Set();
  /** @type {Set<[net.Socket, net.Socket]>} */
  const pairs = new Set();
  let down = false;
  const server = net.createServer(client => {
    if (down) return client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
    const pair = /** @type {[net.Socket, net.Socket]} */ ([client, upstream]);
    pairs.add(pair);
    client.on('close', () => pairs.delete(pair));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    blackhole() {
      down = true;
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise(resolve => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
