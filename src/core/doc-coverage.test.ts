import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/** The repository root (reports name files relative to it). */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SRC = path.join(ROOT, 'src');

/**
 * Every source under src/ whose declarations must be documented: .ts and .tsx, not tests
 * (`*.test.ts`, `*.e2e.ts`), not declaration files (`*.d.ts`, which includes the generated
 * src/components.d.ts).
 */
function sources(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);
    if (!/\.tsx?$/.test(entry.name) || /\.(test|e2e)\.tsx?$/.test(entry.name) || entry.name.endsWith('.d.ts')) return [];
    return [full];
  });
}

/**
 * The checker is used only to find the interface and base-class members a class member stands
 * for. `noResolve` keeps the program to the given files (imports between them still resolve;
 * node_modules are never parsed) and the only library is ES5's (for `Pick` and the like; not
 * lib.dom), so it is built and checked in a second or two.
 */
const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  jsx: ts.JsxEmit.React,
  experimentalDecorators: true,
  noResolve: true,
  lib: ['lib.es5.d.ts'],
  types: [],
};

/** A JSDoc comment with some text or at least one tag (an empty `/** *\/` does not count; `//` comments never do). */
function hasDoc(node: ts.Node): boolean {
  return ts.getJSDocCommentsAndTags(node).some(doc => !ts.isJSDoc(doc) || Boolean(ts.getTextOfJSDocComment(doc.comment)?.trim()) || Boolean(doc.tags?.length));
}

/** A member of a class or an interface. */
type Member = ts.ClassElement | ts.TypeElement;

/** A member's name as written, or undefined for members without one (index and call signatures, static blocks). */
function memberName(member: Member): string | undefined {
  const name = member.name;
  if (!name) return undefined;
  if (ts.isIdentifier(name) || ts.isStringLiteral(name) || ts.isNumericLiteral(name) || ts.isPrivateIdentifier(name)) return name.text;
  return name.getText();
}

/** `private`, `protected` or `#private`: not part of the public surface. */
function isHidden(node: ts.Node & { name?: ts.Node }): boolean {
  if (node.name && ts.isPrivateIdentifier(node.name)) return true;
  return (ts.getCombinedModifierFlags(node as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) !== 0;
}

/** A `static` member. */
function isStatic(member: Member): boolean {
  return (ts.getCombinedModifierFlags(member as ts.Declaration) & ts.ModifierFlags.Static) !== 0;
}

/**
 * Exemption: a class or interface member documented where it comes from. True when a member of
 * the same name in an interface the class `implements`, a class it `extends`, or an interface an
 * interface `extends` is documented (or is itself covered this way). Reason: editors show the
 * inherited comment, and repeating it would let the two drift apart. Static members inherit nothing
 * here (they implement no interface).
 */
function documentedUpstream(member: Member | ts.ParameterDeclaration, checker: ts.TypeChecker, depth = 0): boolean {
  const owner = ts.isParameter(member) ? member.parent.parent : member.parent;
  const name = ts.isParameter(member) ? (ts.isIdentifier(member.name) ? member.name.text : undefined) : memberName(member);
  if (!name || depth > 10 || (!ts.isParameter(member) && isStatic(member)) || !(ts.isClassLike(owner) || ts.isInterfaceDeclaration(owner))) return false;
  for (const clause of owner.heritageClauses ?? []) {
    for (const heritage of clause.types) {
      const property = checker.getTypeAtLocation(heritage).getProperty(name);
      for (const declaration of property?.declarations ?? []) {
        if (declaration.parent === owner) continue;
        if (hasDoc(declaration)) return true;
        const inherits = ts.isClassElement(declaration) || ts.isTypeElement(declaration) || (ts.isParameter(declaration) && ts.isParameterPropertyDeclaration(declaration, declaration.parent));
        if (inherits && documentedUpstream(declaration as Member | ts.ParameterDeclaration, checker, depth + 1)) return true;
      }
    }
  }
  return false;
}

/**
 * `file:line name` for every public declaration without a JSDoc comment in `files` of `program`.
 * Public: exported functions, classes, interfaces, type aliases, enums and variables (with
 * `export` or in a local `export { … }` list), and in exported classes and interfaces every member
 * that is not `private`, `protected` or `#private`, constructor parameter properties included.
 * A comment counts when TypeScript attaches it to the declaration (what editors show): a `/** … *\/`
 * on the line before, or before a parameter; not one on the line of the token before (`{ /** x *\/ a`).
 *
 * Exemptions, each with its reason:
 * - overloads need one comment, on the first signature: editors show it for every call;
 * - a getter and its setter need one between them: TypeScript shows them as one property;
 * - a member documented upstream (see {@link documentedUpstream}): the editor shows that comment.
 *   Stencil lifecycle methods (`render`, `componentDidLoad`, …) have no exemption of their own:
 *   they pass only through this one, when the base class (components/shared/p2p-widget.tsx)
 *   documents the method they override;
 * - constructors: the class comment says how to make one, and parameter properties are checked;
 * - members without a name (index and call signatures, static blocks): there is nothing to name,
 *   and src/ has none;
 * - enum members: not asked for (the enum's comment describes them).
 */
function undocumented(program: ts.Program, files: readonly string[], root: string): string[] {
  const checker = program.getTypeChecker();
  const found: string[] = [];
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`not in the program: ${file}`);
    const where = (node: ts.Node, name: string) => {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
      found.push(`${path.relative(root, file).split(path.sep).join('/')}:${line + 1} ${name}`);
    };

    const listed = new Set<string>();
    for (const statement of source.statements) {
      if (ts.isExportDeclaration(statement) && !statement.moduleSpecifier && statement.exportClause && ts.isNamedExports(statement.exportClause)) {
        for (const element of statement.exportClause.elements) listed.add((element.propertyName ?? element.name).text);
      }
      if (ts.isExportAssignment(statement) && ts.isIdentifier(statement.expression)) listed.add(statement.expression.text);
    }
    const exported = (node: ts.Declaration, name: string | undefined) =>
      (ts.getCombinedModifierFlags(node) & ts.ModifierFlags.Export) !== 0 || (name !== undefined && listed.has(name));

    const members = (owner: ts.ClassDeclaration | ts.InterfaceDeclaration, ownerName: string) => {
      const seen = new Set<string>();
      const list: readonly Member[] = owner.members;
      for (const member of list) {
        if (ts.isConstructorDeclaration(member)) {
          for (const parameter of member.parameters) {
            if (ts.isParameterPropertyDeclaration(parameter, member) && !isHidden(parameter) && !hasDoc(parameter) && !documentedUpstream(parameter, checker)) where(parameter, `${ownerName}.${parameter.name.getText(source)}`);
          }
          continue;
        }
        const name = memberName(member);
        if (name === undefined || isHidden(member)) continue;
        const key = `${isStatic(member) ? 'static ' : ''}${name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const group = list.filter(m => !ts.isConstructorDeclaration(m) && memberName(m) === name && isStatic(m) === isStatic(member));
        const accessors = group.filter(m => ts.isGetAccessor(m) || ts.isSetAccessor(m));
        const documented = accessors.length ? accessors.some(hasDoc) : hasDoc(member);
        if (!documented && !documentedUpstream(member, checker)) where(member, `${ownerName}.${name}`);
      }
    };

    let previousFunction: string | undefined;
    for (const statement of source.statements) {
      const isFunction = ts.isFunctionDeclaration(statement);
      const overload = isFunction && statement.name !== undefined && statement.name.text === previousFunction;
      previousFunction = isFunction ? statement.name?.text : undefined;
      if (ts.isVariableStatement(statement)) {
        for (const declaration of statement.declarationList.declarations) {
          const name = declaration.name.getText(source);
          if (exported(declaration, name) && !hasDoc(declaration)) where(declaration, name);
        }
        continue;
      }
      if (!(isFunction || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement))) continue;
      const name = statement.name?.text ?? 'default';
      if (!exported(statement, statement.name?.text)) continue;
      if (!overload && !hasDoc(statement)) where(statement, name);
      if (ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement)) members(statement, name);
    }
  }
  return found;
}

/** A program over in-memory files (`name → code`) under `/virtual`, for checking the check. */
function virtualProgram(files: Record<string, string>): { program: ts.Program; names: string[] } {
  const names = Object.keys(files).map(name => `/virtual/${name}`);
  const host = ts.createCompilerHost(OPTIONS, true);
  const { directoryExists, fileExists, readFile, getSourceFile } = host;
  const code = (file: string) => (file.startsWith('/virtual/') ? files[file.slice('/virtual/'.length)] : undefined);
  host.directoryExists = dir => dir === '/virtual' || (directoryExists?.call(host, dir) ?? false);
  host.fileExists = file => code(file) !== undefined || fileExists.call(host, file);
  host.readFile = file => code(file) ?? readFile.call(host, file);
  host.getSourceFile = (file, language, ...rest) => {
    const text = code(file);
    return text === undefined ? getSourceFile.call(host, file, language, ...rest) : ts.createSourceFile(file, text, language, true);
  };
  return { program: ts.createProgram(names, OPTIONS, host), names };
}

describe('documentation coverage', () => {
  it('finds the sources (and no tests or generated declarations)', () => {
    const files = sources().map(file => path.relative(SRC, file).split(path.sep).join('/'));
    expect(files).toEqual(expect.arrayContaining(['core/mesh/mesh-room.ts', 'components/shared/p2p-widget.tsx', 'index.ts']));
    expect(files.filter(file => /\.(test|e2e|d)\.tsx?$/.test(file))).toEqual([]);
  });

  it('every public declaration in src/ has a JSDoc comment', () => {
    const files = sources();
    const program = ts.createProgram(files, OPTIONS);
    const found = undocumented(program, files, ROOT);
    expect(found, `${found.length} public declarations without a JSDoc comment:\n${found.join('\n')}\n`).toEqual([]);
  });

  it('would notice a missing comment, and applies only the stated exemptions (the check itself works)', () => {
    const { program, names } = virtualProgram({
      'a.ts': [
        '/** Doc. */',
        'export interface Shape {',
        '  /** Area, m². */',
        '  area(): number;',
        '  sides: number;',
        '}',
        'export function bare(): void {}',
        '/** Overloaded. */',
        'export function twice(x: string): string;',
        'export function twice(x: number): number;',
        'export function twice(x: unknown) { return x; }',
        'export const constant = 1;',
        '// A line comment is not documentation.',
        'export type Alias = string;',
        '/** Doc. */',
        'export abstract class Base {',
        '  /** Doc. */',
        '  render(): void {}',
        '  tick(): void {}',
        '}',
        'function internal(): void {}',
        'interface Internal { x: number }',
        'export function late(x: string): string;',
        '/** Doc on the implementation only. */',
        'export function late(x: unknown) { return x; }',
        '/** Doc. */',
        'export interface Named {',
        '  /** Doc. */',
        '  readonly name: string;',
        '}',
        // TypeScript takes a comment on the line of the token before as that token's, not the next
        // declaration's: editors do not show it, so it does not count.
        'export interface Inline { /** Not leading. */ x: number }',
      ].join('\n'),
      'b.ts': [
        "import { Shape, Base, Named } from './a';",
        '/** Doc. */',
        'export class Square extends Base implements Shape {',
        '  constructor(readonly side: number, private hidden: number, /** Doc. */ public label: string, plain: number) { super(); }',
        '  area() { return this.side ** 2; }',
        '  sides = 4;',
        '  render() {}',
        '  tick() {}',
        '  private secret = 1;',
        '  protected guarded = 2;',
        '  #hash = 3;',
        '  /** Doc. */',
        '  get size() { return 1; }',
        '  set size(_v: number) {}',
        '  get other() { return 1; }',
        '  /** Doc. */',
        '  static make(): Square;',
        "  static make(side?: number): Square { return new Square(side ?? 1, 0, '', 0); }",
        '}',
        'class Listed { x = 1 }',
        'export { Listed };',
        '/** Doc. */',
        'export enum Kind { A }',
        '/** Doc. */',
        'export class Person implements Named {',
        '  constructor(readonly name: string, readonly age: number) {}',
        '}',
      ].join('\n'),
    });
    expect(undocumented(program, names, '/virtual')).toEqual([
      'a.ts:5 Shape.sides',
      'a.ts:7 bare',
      'a.ts:12 constant',
      'a.ts:14 Alias',
      'a.ts:19 Base.tick',
      'a.ts:23 late',
      'a.ts:31 Inline',
      'a.ts:31 Inline.x',
      'b.ts:4 Square.side',
      'b.ts:6 Square.sides',
      'b.ts:8 Square.tick',
      'b.ts:15 Square.other',
      'b.ts:20 Listed',
      'b.ts:20 Listed.x',
      'b.ts:26 Person.age',
    ]);
  });
});
