/** Markdown pieces of the bench reports (bench/results/*.md). */

/**
 * A Markdown table padded to column width: the first column left-aligned, every other column
 * right-aligned (separator `---:`). Cells are stringified with `String`; lines joined by '\n',
 * no trailing newline.
 * @param {string[]} headers
 * @param {unknown[][]} rows one array of cells per row, as many cells as `headers`
 * @returns {string}
 */
export function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map(r => String(r[i]).length)));
  const line = cells => `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  return [line(headers), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

/**
 * The closing "Notes:" block of a report, as lines: `['Notes:', '- note 1', …, '']`, or `[]`
 * when there are no notes (spread it into the report's lines).
 * @param {string[]} notes
 * @returns {string[]}
 */
export function notesSection(notes) {
  return notes.length ? ['Notes:', ...notes.map(n => `- ${n}`), ''] : [];
}
