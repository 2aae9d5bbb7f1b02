import { describe, expect, it } from 'vitest';
import { RtcBulkLink } from './bulk-link';

/** A stand-in for one negotiated RTCDataChannel: records what is sent, opens and delivers on demand. */
class FakeChannel {
  readyState: RTCDataChannelState = 'connecting';
  bufferedAmount = 0;
  bufferedAmountLowThreshold = 0;
  binaryType = 'blob';
  readonly sent: unknown[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: (() => void) | null = null;
  onbufferedamountlow: (() => void) | null = null;
  send(data: unknown): void {
    if (this.readyState !== 'open') throw new Error('InvalidStateError: channel not open');
    this.sent.push(data);
  }
  close(): void {
    this.readyState = 'closed';
  }
  open(): void {
    this.readyState = 'open';
    this.onopen?.();
  }
}

function link() {
  const channels: FakeChannel[] = [];
  const connection = { createDataChannel: () => channels[channels.push(new FakeChannel()) - 1] } as unknown as RTCPeerConnection;
  const l = new RtcBulkLink('peer', connection, 'HELLO');
  const [control, data] = channels;
  return { l, control, data };
}

describe('RtcBulkLink when the peer’s hello arrives before this side’s channel fires open', () => {
  it('sends what was queued while the channel was still connecting as soon as it opens', () => {
    const { l, control } = link();
    let ready = false;
    l.on('ready', () => (ready = true));
    // Chromium delivered the peer's hello on a negotiated channel whose open event has not run yet.
    control.onmessage!({ data: 'HELLO' });
    expect(ready).toBe(true);
    l.sendControl('{"t":"index-q","v":1}');
    expect(control.sent).toEqual([]);
    control.open();
    expect(control.sent).toEqual(['HELLO', '{"t":"index-q","v":1}']);
  });

  it('a data frame sent then waits for the data channel to open instead of failing as closed', async () => {
    const { l, control, data } = link();
    control.onmessage!({ data: 'HELLO' });
    const sending = l.sendData(new Uint8Array([1, 2, 3]));
    await new Promise(r => setTimeout(r, 10));
    expect(data.sent).toEqual([]);
    data.open();
    await sending;
    expect(data.sent).toHaveLength(1);
  });
});
