import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const COMPONENTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../components');

/** Every component source (.tsx) under src/components (not their tests). */
function componentSources(): { file: string; code: string }[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && entry.name !== 'test') walk(full);
      else if (entry.name.endsWith('.tsx')) files.push(full);
    }
  };
  walk(COMPONENTS);
  return files.map(file => ({
    file: path.relative(COMPONENTS, file),
    code: readFileSync(file, 'utf8'),
  }));
}

/** Words: Latin letters or CJK ideographs (symbols such as ★ ♪ ↓ · are not words). */
const WORD = /[A-Za-z\u4e00-\u9fff]/;

/** Attributes a person reads or hears. */
const READ_ATTRIBUTES = new Set(['aria-label', 'aria-description', 'aria-valuetext', 'aria-roledescription', 'aria-placeholder', 'title', 'placeholder', 'alt', 'label']);

/**
 * Literal words in what a person reads: JSX text, string or template literals given as JSX
 * children, and literals in read-out attributes (parsed with the TypeScript compiler, TSX).
 */
function literals(code: string): string[] {
  const source = ts.createSourceFile('x.tsx', code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  /** The literal text parts of a string or template expression (not the values put into it). */
  const literalParts = (node: ts.Node): string[] => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return [node.text];
    if (ts.isTemplateExpression(node)) return [node.head.text, ...node.templateSpans.map(span => span.literal.text)];
    if (ts.isConditionalExpression(node)) return [...literalParts(node.whenTrue), ...literalParts(node.whenFalse)];
    if (ts.isParenthesizedExpression(node)) return literalParts(node.expression);
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) return [...literalParts(node.left), ...literalParts(node.right)];
    return [];
  };
  const visit = (node: ts.Node) => {
    if (ts.isJsxText(node) && WORD.test(node.text)) found.push(`text "${node.text.trim()}"`);
    if (ts.isJsxExpression(node) && node.expression && (ts.isJsxElement(node.parent) || ts.isJsxFragment(node.parent))) {
      for (const part of literalParts(node.expression)) if (WORD.test(part)) found.push(`child "${part}"`);
    }
    if (ts.isJsxAttribute(node) && READ_ATTRIBUTES.has(node.name.getText(source)) && node.initializer) {
      const value = ts.isJsxExpression(node.initializer) ? node.initializer.expression : node.initializer;
      for (const part of value ? literalParts(value) : []) if (WORD.test(part)) found.push(`${node.name.getText(source)}="${part}"`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('components', () => {
  const sources = componentSources();

  it('are found', () => {
    expect(sources.map(s => s.file).sort()).toEqual(expect.arrayContaining(['p2p-chat/p2p-chat.tsx', 'p2p-gallery/p2p-gallery.tsx', 'p2p-music/p2p-music.tsx']));
  });

  it('take every user-visible word from src/core/i18n (no literal text, aria-label, title, placeholder or alt)', () => {
    const offenders = sources.flatMap(({ file, code }) => literals(code).map(l => `${file}: ${l}`));
    expect(offenders).toEqual([]);
  });

  it('would notice a literal (the check itself works)', () => {
    expect(literals('<button aria-label="Close">{t.close}</button>')).toEqual(['aria-label="Close"']);
    expect(literals('<p class="x">No pictures yet</p>')).toEqual(['text "No pictures yet"']);
    expect(literals('<span>{n} 条</span>')).toEqual(['text "条"']);
    expect(literals('<input placeholder={`Say hi`} />')).toEqual(['placeholder="Say hi"']);
    expect(literals('<b title={ok ? t.yes : `No ${n}`}>{`${n} left`}</b>')).toEqual(['title="No "', 'child " left"']);
    expect(literals('<span class="flag" aria-hidden="true">★</span><i>{t.x} · {y}</i>')).toEqual([]);
  });
});
