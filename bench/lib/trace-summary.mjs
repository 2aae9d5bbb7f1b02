/**
 * Where a renderer's main thread spent its time, from a Chromium trace (Playwright's
 * `browser.startTracing` / `stopTracing` with the `devtools.timeline` categories).
 */

/**
 * Summaries of every renderer main thread (`CrRendererMain`) in `traceEvents` that ran script:
 * `[{ pid, tasksMs, self: [[event name, ms, count]…], callbacks: [[label, ms, count]…], longTasks }]`, where
 * `self` is each complete event's duration minus its children's on the same thread (ms), and
 * `callbacks` totals FunctionCall / TimerFire / FireAnimationFrame / EventDispatch events by
 * function name, script and line (ms, inclusive), and `longTasks` the 10 longest tasks in time order
 * (`{ atMs, ms, top: [[label, ms]…] }`, the events inside each that took longest). Sorted by time, longest first.
 */
export function mainThreadSummaries(traceEvents) {
  const mains = traceEvents.filter(e => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  const out = [];
  for (const main of mains) {
    const onMain = traceEvents.filter(e => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur);
    if (!onMain.some(e => e.name === 'FunctionCall')) continue;
    onMain.sort((x, y) => x.ts - y.ts || y.dur - x.dur);
    const stack = [];
    const self = new Map();
    const count = new Map();
    for (const e of onMain) {
      while (stack.length && stack[stack.length - 1].ts + stack[stack.length - 1].dur <= e.ts) stack.pop();
      if (stack.length) self.set(stack[stack.length - 1].name, (self.get(stack[stack.length - 1].name) ?? 0) - e.dur / 1000);
      self.set(e.name, (self.get(e.name) ?? 0) + e.dur / 1000);
      count.set(e.name, (count.get(e.name) ?? 0) + 1);
      stack.push(e);
    }
    const callbacks = new Map();
    for (const e of onMain.filter(e => ['FunctionCall', 'TimerFire', 'FireAnimationFrame', 'EventDispatch'].includes(e.name))) {
      const d = e.args?.data ?? {};
      const key = `${e.name} ${d.functionName || d.type || ''} ${(d.url || '').replace(/^.*\//, '').replace(/\?.*$/, '')}:${d.lineNumber ?? ''}`;
      const x = callbacks.get(key) ?? [key, 0, 0];
      x[1] += e.dur / 1000;
      x[2]++;
      callbacks.set(key, x);
    }
    // The longest tasks, each with the callbacks (and other events) that took most of it.
    const tasks = onMain.filter(e => e.name === 'RunTask').sort((x, y) => y.dur - x.dur).slice(0, 10);
    const t0 = onMain[0]?.ts ?? 0;
    const longTasks = tasks
      .map(task => {
        const inside = new Map();
        for (const e of onMain) {
          if (e === task || e.ts < task.ts || e.ts + e.dur > task.ts + task.dur || e.name === 'RunTask') continue;
          const d = e.args?.data ?? {};
          const label = `${e.name} ${d.functionName || d.type || ''} ${(d.url || '').replace(/^.*\//, '').replace(/\?.*$/, '')}${d.lineNumber ? `:${d.lineNumber}` : ''}`.trim();
          inside.set(label, Math.max(inside.get(label) ?? 0, e.dur / 1000));
        }
        return { atMs: (task.ts - t0) / 1000, ms: task.dur / 1000, top: [...inside].sort((x, y) => y[1] - x[1]).slice(0, 4) };
      })
      .sort((x, y) => x.atMs - y.atMs);
    out.push({
      pid: main.pid,
      longTasks,
      tasksMs: onMain.filter(e => e.name === 'RunTask').reduce((n, e) => n + e.dur / 1000, 0),
      self: [...self].map(([k, ms]) => [k, ms, count.get(k)]).sort((x, y) => y[1] - x[1]),
      callbacks: [...callbacks.values()].sort((x, y) => y[1] - x[1]),
    });
  }
  return out.sort((x, y) => y.tasksMs - x.tasksMs);
}

/** Prints {@link mainThreadSummaries}' output: the `top` longest self-time events and callbacks per thread. */
export function printMainThreadSummaries(summaries, top = 15, log = console.log) {
  for (const s of summaries) {
    log(`renderer ${s.pid}: main thread ${s.tasksMs.toFixed(0)} ms in tasks; self time by event (ms, count):`);
    for (const [k, ms, n] of s.self.slice(0, top)) log(`  ${ms.toFixed(1).padStart(8)} ${String(n).padStart(6)}  ${k}`);
    log('  callbacks (ms inclusive, count):');
    for (const [k, ms, n] of s.callbacks.slice(0, top)) log(`  ${ms.toFixed(1).padStart(8)} ${String(n).padStart(6)}  ${k}`);
    log("  longest tasks (ms from the thread's first traced event, duration; what took most of each):");
    for (const t of s.longTasks) log(`  ${t.atMs.toFixed(0).padStart(8)} +${t.ms.toFixed(0)}  ${t.top.map(([k, ms]) => `${k} ${ms.toFixed(0)}`).join(' · ')}`);
  }
}

/**
 * Self time per function of a V8 sampling profile (CDP `Profiler.stop`'s `profile`): a map from
 * "<function> <script file>:<line>" to ms, idle samples left out (each sample counts the time to
 * the next, from `timeDeltas`, µs).
 */
export function profileSelfTimes(profile) {
  const byId = new Map(profile.nodes.map(n => [n.id, n]));
  const self = new Map();
  profile.samples.forEach((id, i) => {
    const f = byId.get(id).callFrame;
    if (f.functionName === '(idle)') return;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\//, '').replace(/\?.*$/, '') || '(native)'}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return self;
}

/**
 * Inclusive time (ms) per function inside the calls of functions named `root` in a V8 sampling
 * profile: for each sample whose stack passes through `root`, every distinct function above it on
 * that stack is charged the sample's time. Shows what a callback (e.g. Stencil's `flush`) spends its
 * time in. Returns `[label, ms][]`, largest first, with the root itself first.
 */
export function profileInclusiveUnder(profile, root) {
  const byId = new Map(profile.nodes.map(n => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = f => `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\//, '').replace(/\?.*$/, '') || '(native)'}:${f.lineNumber + 1}`;
  const total = new Map();
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000;
    const stack = [];
    for (let n = id; n !== undefined; n = parent.get(n)) stack.push(byId.get(n).callFrame);
    const at = stack.findIndex(f => f.functionName === root);
    if (at < 0) return;
    for (const key of new Set(stack.slice(0, at + 1).map(label))) total.set(key, (total.get(key) ?? 0) + dt);
  });
  return [...total].sort((a, b) => b[1] - a[1]);
}
