import { describe, expect, it } from 'vitest';
import { HINT_TTL_MS, HolderHints, MAX_HINTED_FILES, MAX_HOLDERS_PER_FILE } from './holder-hints';

describe('HolderHints', () => {
  it('lists who said they hold a file, most recent first, and forgets a page that left', () => {
    const hints = new HolderHints(() => 0);
    hints.add('f', 'a');
    hints.add('f', 'b');
    hints.add('f', 'a');
    expect(hints.get('f')).toEqual(['a', 'b']);
    hints.forget('a');
    expect(hints.get('f')).toEqual(['b']);
    expect(hints.get('unknown')).toEqual([]);
  });

  it('drops hints older than the time-to-live', () => {
    let now = 0;
    const hints = new HolderHints(() => now);
    hints.add('f', 'a');
    now = HINT_TTL_MS / 2;
    hints.add('f', 'b');
    now = HINT_TTL_MS + 1;
    expect(hints.get('f')).toEqual(['b']);
  });

  it('is bounded in holders per file and in files (a flood of made-up hints costs bounded memory)', () => {
    const hints = new HolderHints(() => 0);
    for (let i = 0; i < MAX_HOLDERS_PER_FILE + 5; i++) hints.add('f', `p${i}`);
    expect(hints.get('f')).toHaveLength(MAX_HOLDERS_PER_FILE);
    expect(hints.get('f')[0]).toBe(`p${MAX_HOLDERS_PER_FILE + 4}`);
    for (let i = 0; i < MAX_HINTED_FILES + 10; i++) hints.add(`file${i}`, 'x');
    expect(hints.get('f')).toEqual([]);
    expect(hints.get('file10')).toEqual(['x']);
    expect(hints.get(`file${MAX_HINTED_FILES + 9}`)).toEqual(['x']);
  });
});
