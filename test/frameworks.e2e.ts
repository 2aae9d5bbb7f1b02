import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileScript, parse } from '@vue/compiler-sfc';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import ts from 'typescript';
import { build, resolveConfig } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, uniqueRoom, waitForPeers } from './harness/browser.mjs';
import { ROOT, startRelay, startStaticServer, type ServerProcess } from './harness/processes.mjs';

/**
 * The examples in `examples/` as a user would run them: each is type-checked with its own
 * tsconfig, built with its own vite.config.ts, served, and opened twice in one room (through
 * the local relay) to check that the widget renders and that the framework hears its events.
 */

const EXAMPLES = path.join(ROOT, 'examples');

/** Source files parsed by earlier type checks in this run (they do not change during it). */
const parsedFiles = new Map<string, ts.SourceFile | undefined>();

/**
 * Type-checks a project like `tsc --noEmit -p dir`. `virtualFiles` adds files that exist only
 * in memory (the TypeScript a Vue SFC compiles to, at `App.vue.ts`, which `import './App.vue'` resolves to).
 * @returns the formatted diagnostics ('' when clean) and the files the program checked
 */
function typeCheck(dir: string, virtualFiles = new Map<string, string>()): { diagnostics: string; files: string[] } {
  const formatHost: ts.FormatDiagnosticsHost = { getCanonicalFileName: f => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' };
  const parsed = ts.getParsedCommandLineOfConfigFile(path.join(dir, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: d => {
      throw new Error(ts.formatDiagnostic(d, formatHost));
    },
  })!;
  const host = ts.createCompilerHost(parsed.options);
  const { fileExists, readFile: read, getSourceFile } = host;
  host.fileExists = f => virtualFiles.has(f) || fileExists.call(host, f);
  host.readFile = f => virtualFiles.get(f) ?? read.call(host, f);
  host.getSourceFile = (f, language, ...rest) => {
    const text = virtualFiles.get(f);
    if (text !== undefined) return ts.createSourceFile(f, text, language);
    // The three examples share lib.dom and the package's types: parse those once.
    const key = `${f}\0${JSON.stringify(language)}`;
    if (!parsedFiles.has(key)) parsedFiles.set(key, getSourceFile.call(host, f, language, ...rest));
    return parsedFiles.get(key);
  };
  const program = ts.createProgram({ rootNames: [...parsed.fileNames, ...virtualFiles.keys()], options: parsed.options, host });
  const diagnostics = [...parsed.errors, ...ts.getPreEmitDiagnostics(program)];
  return { diagnostics: ts.formatDiagnostics(diagnostics, formatHost), files: program.getSourceFiles().map(s => path.relative(ROOT, s.fileName)) };
}

/**
 * Compiles `App.vue` the way @vitejs/plugin-vue does (script setup with the template inlined, using
 * the example's own `isCustomElement`) and returns the TypeScript, to be checked as `App.vue.ts`.
 * (A Vue project would run vue-tsc; it is not installed here.)
 */
async function compileVueApp(dir: string): Promise<Map<string, string>> {
  const config = await resolveConfig({ root: dir, configFile: path.join(dir, 'vite.config.ts'), configLoader: 'runner', logLevel: 'silent' }, 'build');
  const compilerOptions = config.plugins.find(p => p.name === 'vite:vue')!.api.options.template.compilerOptions;
  expect(compilerOptions.isCustomElement('p2p-chat')).toBe(true);
  const filename = path.join(dir, 'src/App.vue');
  const { descriptor, errors } = parse(await readFile(filename, 'utf8'), { filename, templateParseOptions: compilerOptions });
  expect(errors).toEqual([]);
  const script = compileScript(descriptor, { id: 'app', inlineTemplate: true, templateOptions: { compilerOptions } });
  // Custom element listeners keep their case ("on:p2pMessage" listens to "p2pMessage").
  expect(script.content).toContain('"on:p2pMessage": onMessage');
  return new Map([[`${filename}.ts`, script.content]]);
}

describe('framework examples', () => {
  let relay: ServerProcess;
  let browser: Browser;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    [relay, browser] = await Promise.all([startRelay(), launchChromium()]);
  });

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await relay?.stop();
  });

  /** Builds an example with Vite's JS API and its own vite.config.ts into a temporary directory, and serves it. */
  async function buildAndServe(name: string): Promise<ServerProcess> {
    const root = path.join(EXAMPLES, name);
    const outDir = await mkdtemp(path.join(tmpdir(), `p2p-widgets-${name}-`));
    cleanups.push(() => rm(outDir, { recursive: true, force: true }));
    // configLoader 'runner': load vite.config.ts without writing a bundled copy under node_modules/.vite-temp.
    await build({ root, configFile: path.join(root, 'vite.config.ts'), configLoader: 'runner', logLevel: 'silent', build: { outDir, emptyOutDir: true } });
    const server = await startStaticServer(outDir);
    cleanups.push(() => server.stop());
    return server;
  }

  /** Opens `url` in a fresh browser context (a separate visitor). */
  async function visit(url: string): Promise<Page> {
    const context: BrowserContext = await browser.newContext();
    cleanups.push(() => context.close());
    const page = await context.newPage();
    page.on('pageerror', err => console.error(`[page error] ${err.message}`));
    await page.goto(url);
    return page;
  }

  /** Sends `text` through the widget's own message box. */
  async function say(page: Page, text: string): Promise<void> {
    const box = page.locator('p2p-chat').getByRole('textbox', { name: 'Message' });
    await box.fill(text);
    await box.press('Enter');
  }

  /** What the host page (not the widget) lists as heard through `p2pMessage`. */
  const heard = (page: Page) => page.getByRole('list', { name: 'Heard in the room' }).getByRole('listitem').allInnerTexts();

  /** Two visitors of a built example meet, talk both ways, and each page's own code hears the other. */
  async function twoVisitorsTalk(server: ServerProcess, label: string): Promise<[Page, Page]> {
    const room = uniqueRoom(label);
    const url = (name: string) => `${server.url}/?${new URLSearchParams({ room, relay: relay.url, ice: '[]', name })}`;
    const [ann, bob] = await Promise.all([visit(url('Ann')), visit(url('Bob'))]);
    await Promise.all([waitForPeers(ann, 1, 0, 60_000), waitForPeers(bob, 1, 0, 60_000)]);
    await say(ann, `hello from ${label}`);
    await expect.poll(() => heard(bob)).toEqual([`Ann: hello from ${label}`]);
    await say(bob, 'hi Ann');
    await expect.poll(() => heard(ann)).toEqual(['Bob: hi Ann']);
    // The page's own list holds only the other visitor's messages (the listener skips `own`).
    expect(await heard(bob)).toEqual([`Ann: hello from ${label}`]);
    return [ann, bob];
  }

  it('plain HTML: the script tag loads the lazy loader, the page hears p2pMessage on document', async () => {
    const host = await startStaticServer('.');
    cleanups.push(() => host.stop());
    const room = uniqueRoom('plain-html');
    const open = async (name: string) => {
      const context = await browser.newContext();
      cleanups.push(() => context.close());
      const page = await context.newPage();
      page.on('pageerror', err => console.error(`[page error] ${err.message}`));
      // Point the example's <p2p-chat> at the local relay as the parser inserts it (before the module
      // loader upgrades it), so the file stays as users see it. (Rewriting the HTML with page.route
      // does not do: Chromium's local network access checks then block the page's ws://127.0.0.1.)
      await page.addInitScript(attributes => {
        new MutationObserver((_, observer) => {
          const chat = document.querySelector('p2p-chat');
          if (!chat) return;
          observer.disconnect();
          for (const [name, value] of Object.entries(attributes)) chat.setAttribute(name, value);
        }).observe(document, { childList: true, subtree: true });
      }, { room, 'user-name': name, 'relay-urls': relay.url, 'ice-servers': '[]' });
      await page.goto(`${host.url}/examples/plain-html/index.html`);
      return page;
    };
    const [ann, bob] = await Promise.all([open('Ann'), open('Bob')]);
    await Promise.all([waitForPeers(ann, 1, 0, 60_000), waitForPeers(bob, 1, 0, 60_000)]);
    // The lazy loader (not a bundle) defined the tag.
    expect(await ann.evaluate(() => [...document.scripts].map(s => s.src).filter(Boolean))).toEqual([`${host.url}/dist/p2p-widgets/p2p-widgets.esm.js`]);
    await say(ann, 'hello from plain HTML');
    await expect.poll(() => heard(bob)).toEqual(['Ann: hello from plain HTML']);
    await expect(bob.getByRole('alert').isHidden()).resolves.toBe(true);
  });

  it('bundler: type-checks, builds p2p-widgets/components/p2p-chat.js into the app, and the app hears typed events', async () => {
    const { diagnostics, files } = typeCheck(path.join(EXAMPLES, 'bundler'));
    expect(diagnostics).toBe('');
    // The package's own exports map resolved the import (dist-custom-elements and its types).
    expect(files).toContain('dist/components/p2p-chat.d.ts');
    const server = await buildAndServe('bundler');
    const [ann] = await twoVisitorsTalk(server, 'bundler');
    // Bundled, not lazy-loaded: one tag defined, from the app's own assets.
    expect(await ann.evaluate(() => ['p2p-chat', 'p2p-gallery', 'p2p-music'].map(t => customElements.get(t) !== undefined))).toEqual([true, false, false]);
  });

  it('React: typed JSX rejects wrong props, the app builds, and onp2pMessage updates React state', async () => {
    const { diagnostics, files } = typeCheck(path.join(EXAMPLES, 'react'));
    expect(diagnostics).toBe('');
    // The file of @ts-expect-error lines was checked: had the tags' types become `any`, its directives would be unused errors.
    expect(files).toContain('examples/react/src/wrong-props.typecheck.tsx');
    expect(files).toContain('dist/types/components.d.ts');
    const server = await buildAndServe('react');
    const [ann, bob] = await twoVisitorsTalk(server, 'react');
    // onp2pPeerJoin reached React too; camelCase props were set as properties on the element.
    for (const page of [ann, bob]) await expect.poll(() => page.getByRole('heading', { level: 2 }).innerText()).toBe('Heard in the room (1 peer)');
    expect(await ann.locator('p2p-chat').evaluate((el: any) => [el.maxLength, el.getAttribute('theme'), el.userName])).toEqual([500, 'light', 'Ann']);
  });

  it('Vue: the SFC type-checks, builds with isCustomElement, and @p2pMessage updates Vue state', async () => {
    const dir = path.join(EXAMPLES, 'vue');
    const { diagnostics, files } = typeCheck(dir, await compileVueApp(dir));
    expect(diagnostics).toBe('');
    expect(files).toContain('examples/vue/src/App.vue.ts');
    const server = await buildAndServe('vue');
    const [ann, bob] = await twoVisitorsTalk(server, 'vue');
    for (const page of [ann, bob]) await expect.poll(() => page.getByRole('heading', { level: 2 }).innerText()).toBe('Heard in the room (1 peer)');
    expect(await bob.locator('p2p-chat').evaluate((el: any) => [el.maxLength, el.userName, el.iceServers])).toEqual([500, 'Bob', '[]']);
  });
});
