import { describe, expect, it } from 'vitest';
import { DeviceIdentity, MemoryIdentityStore } from '../identity';
import { chatRecordKind } from '../chat/chat-record';
import { galleryRecordKind } from '../gallery/gallery-record';
import { musicRecordKind } from '../music/track-record';
import { defineRecordKind, recordKey, targetKey } from './signed-record';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('signed records', () => {
  it('pins the canonical bytes of every kind (peers and stored records depend on them)', () => {
    const base = { author: 'AUTHOR', seq: 3, ts: 1_700_000_000_000 };
    expect(text(chatRecordKind.signingBytes('app\nroom', { ...base, kind: 'msg', name: 'Ann', text: 'hi' }))).toBe('["p2p-widgets/chat-record/1","app\\nroom","AUTHOR",3,1700000000000,"msg","Ann","hi",null,null]');
    expect(text(chatRecordKind.signingBytes('r', { ...base, kind: 'retract', target: 1 }))).toBe('["p2p-widgets/chat-record/1","r","AUTHOR",3,1700000000000,"retract",null,null,null,1]');
    expect(text(galleryRecordKind.signingBytes('r', { ...base, kind: 'alt', target: 2, alt: 'a' }))).toBe('["p2p-widgets/gallery-record/1","r","AUTHOR",3,1700000000000,"alt",null,null,null,null,null,null,"a",null,2]');
    expect(text(musicRecordKind.signingBytes('r', { ...base, kind: 'track-meta', target: 2, lyrics: 'l' }))).toBe('["p2p-widgets/music-record/1","r","AUTHOR",3,1700000000000,"track-meta",null,null,null,null,null,null,null,null,null,null,"l",2]');
  });

  it('verifies its own signature, and refuses a changed field, another room and another author', async () => {
    const kind = defineRecordKind<{ author: string; seq: number; ts: number; kind: 'note'; body: string; sig: string }>('test/note/1', r => [r.body]);
    const me = await DeviceIdentity.forRoom('app\nroom', new MemoryIdentityStore());
    const other = await DeviceIdentity.forRoom('app\nroom', new MemoryIdentityStore());
    const record = await kind.sign('app\nroom', me, { author: me.publicKey, seq: 1, ts: 5, kind: 'note', body: 'hello' });
    expect(await kind.verify('app\nroom', record)).toBe(true);
    expect(await kind.verify('app\nroom', { ...record, body: 'hellO' })).toBe(false);
    expect(await kind.verify('app\nother', record)).toBe(false);
    expect(await kind.verify('app\nroom', { ...record, author: other.publicKey })).toBe(false);
    expect(await kind.verify('app\nroom', { ...record, sig: 'not base64url!' })).toBe(false);
    await expect(kind.sign('app\nroom', me, { author: other.publicKey, seq: 1, ts: 5, kind: 'note', body: 'x' })).rejects.toThrow(/own records/);
  });

  it('keys records and the records they target alike', () => {
    expect(recordKey({ author: 'A', seq: 4 })).toBe('A:4');
    expect(targetKey({ author: 'A', target: 4 })).toBe(recordKey({ author: 'A', seq: 4 }));
  });
});
