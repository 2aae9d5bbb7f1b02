import { describe, expect, it } from 'vitest';
import { BanList, loadPatternEngine } from './ban-list';

// Its own file: the pattern engine is loaded once per module instance, and this test needs it not loaded yet.
describe('BanList before the pattern engine has loaded', () => {
  it('hides every track while a pattern waits for the engine, then matches exactly once it has loaded', async () => {
    const words = BanList.parse('karaoke');
    expect(words.pending).toBe(false);
    expect(words.matches({ title: 'Evening' })).toBe(false);

    const early = BanList.parse('karaoke, /^live at/i, /bad[/');
    expect(early.pending).toBe(true);
    expect(early.size).toBe(3);
    expect(early.matches({ title: 'Evening' })).toBe(true);
    expect(early.problems).toEqual([]);

    await loadPatternEngine();
    const ready = BanList.parse('karaoke, /^live at/i, /bad[/');
    expect(ready.pending).toBe(false);
    expect(ready.matches({ title: 'Evening' })).toBe(false);
    expect(ready.matches({ title: 'Live at Leeds' })).toBe(true);
    expect(ready.problems.map(p => p.entry)).toEqual(['/bad[/']);
  });
});
