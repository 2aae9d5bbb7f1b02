/**
 * Connection statistics of a room, read from `RTCPeerConnection.getStats()` (W3C "Identifiers for
 * WebRTC's Statistics API": the transport's selected candidate pair and its local/remote
 * candidates) and from the signaling relays' states.
 */

/**
 * How a peer's packets travel, from the selected candidate pair (RFC 8445 §5.1.1 candidate types):
 * `direct` our host address; `stun` our server- or peer-reflexive address (through a NAT);
 * `turn` through a TURN relay (either side's candidate is `relay`); `unknown` before a pair is selected.
 */
export type ConnectionPath = 'direct' | 'stun' | 'turn' | 'unknown';

/** One connected peer. */
export interface PeerConnectionStats {
  /** Trystero peer id (random per page session). */
  peerId: string;
  /** Display name, null until the peer's `presence` arrives. */
  name: string | null;
  /** Round-trip time, ms: the selected candidate pair's `currentRoundTripTime`, else the last data-channel ping; null when unknown. */
  rttMs: number | null;
  /** See {@link ConnectionPath}. */
  path: ConnectionPath;
  /** Bytes sent to this peer on the connection (all data channels), bytes. */
  bytesSent: number;
  /** Bytes received from this peer on the connection, bytes. */
  bytesReceived: number;
  /** Sending rate since the previous `getConnectionStats()` call (or over the connection's life on the first call), bits/s. */
  sendBitrate: number;
  /** Receiving rate, likewise, bits/s. */
  receiveBitrate: number;
  /** Time since the peer joined, ms. */
  connectedForMs: number;
  /**
   * Time since anything (a heartbeat, a message) last arrived from the peer, ms; null until its
   * first heartbeat (a peer is dropped for silence only once it has sent one: see `PEER_TIMEOUT_MS`).
   */
  silentForMs: number | null;
}

/**
 * One signaling relay: `connected`; `connecting` (first attempt); `reconnecting` (lost, retrying:
 * `retryAtMs` says when); `retired` (the relay refused us: `reason` says why; retried later).
 */
export interface RelayConnectionStats {
  /** The relay's URL, as configured. */
  url: string;
  /** The socket's state now (see above). */
  state: 'connecting' | 'connected' | 'reconnecting' | 'retired';
  /** Why a relay is retired (the relay's own words), else null. */
  reason: string | null;
  /** When the next connection attempt is due, ms since epoch; null when none is scheduled. */
  retryAtMs: number | null;
}

/** What `getConnectionStats()` returns. */
export interface ConnectionStats {
  /** When the figures were read, ms since epoch. */
  at: number;
  /** Every connected peer, oldest first. */
  peers: PeerConnectionStats[];
  /** This room's signaling relays (all of Trystero's when no `relayUrls` were given). */
  relays: RelayConnectionStats[];
  /** True when no relay is connected: existing peers stay connected, but nobody new can join. */
  relaysDown: boolean;
}

/** What the selected candidate pair of one connection says. */
export interface TransportReading {
  /** How the packets travel (see {@link ConnectionPath}). */
  path: ConnectionPath;
  /** The pair's `currentRoundTripTime`, ms; null when the browser gives none. */
  rttMs: number | null;
  /** The pair's `bytesSent`: every data channel of the connection, bytes. */
  bytesSent: number;
  /** The pair's `bytesReceived`, bytes. */
  bytesReceived: number;
}

type StatsEntry = Record<string, unknown> & { type: string; id: string };

/** Reads path and RTT of a connection's selected candidate pair, and its byte counts (the DTLS transport's, else the pair's). */
export async function readTransport(pc: RTCPeerConnection): Promise<TransportReading> {
  const report = await pc.getStats();
  const byId = new Map<string, StatsEntry>();
  report.forEach((entry: StatsEntry) => byId.set(entry.id, entry));
  let pair: StatsEntry | undefined;
  let transport: StatsEntry | undefined;
  for (const entry of byId.values()) {
    if (entry.type === 'transport' && typeof entry.selectedCandidatePairId === 'string') {
      transport = entry;
      pair = byId.get(entry.selectedCandidatePairId);
    }
  }
  // Firefox has no transport.selectedCandidatePairId: the nominated, succeeded pair.
  pair ??= [...byId.values()].find(e => e.type === 'candidate-pair' && e.nominated === true && e.state === 'succeeded');
  if (!pair) return { path: 'unknown', rttMs: null, bytesSent: 0, bytesReceived: 0 };
  const local = byId.get(String(pair.localCandidateId));
  const remote = byId.get(String(pair.remoteCandidateId));
  // Our side's candidate decides (a remote `prflx` is often only a candidate learnt from a check
  // before its signaling arrived); a relayed remote makes the path TURN as well.
  const mine = local?.candidateType;
  const path: ConnectionPath =
    mine === 'relay' || remote?.candidateType === 'relay' ? 'turn' : mine === 'srflx' || mine === 'prflx' ? 'stun' : mine === 'host' ? 'direct' : 'unknown';
  const rtt = typeof pair.currentRoundTripTime === 'number' ? Math.round(pair.currentRoundTripTime * 1000) : null;
  // Bytes from the transport when it has them: Chromium can receive on one nominated pair while it
  // sends on the selected one (seen mid-transfer: the selected pair said 0 bytes received, the
  // transport 6.9 MB), so the pair's own counters miss what arrives on the other.
  const bytes = (name: 'bytesSent' | 'bytesReceived') => Number((typeof transport?.[name] === 'number' ? transport[name] : pair?.[name]) ?? 0);
  return { path, rttMs: rtt, bytesSent: bytes('bytesSent'), bytesReceived: bytes('bytesReceived') };
}
