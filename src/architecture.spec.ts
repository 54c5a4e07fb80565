import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The module boundaries of DESIGN.md "Layout", read from the import statements of every file under
 * src/ (specs included: a spec that reaches across a boundary couples the folders just the same).
 * A folder is a top-level folder of src/; the files directly in src/ (main.ts, app.module.ts, …)
 * are the composition root and may import anything.
 */

const SRC = __dirname;

/** The shared layer and what each of its folders may import besides itself: never a feature. */
const SHARED: Record<string, readonly string[]> = {
  /** Typed configuration: the bottom of the graph. */
  config: [],
  /** Correlation id, request context, errors, links, pagination, idempotency, validation. */
  common: ['config'],
  /** The mail categories: a leaf. */
  catalog: [],
  /** The lease runner knows no queue: handlers register with it. */
  queue: ['config'],
};

/** Imports between features that would turn the graph around, with why. */
const FORBIDDEN: ReadonlyArray<{ from: string; to: string; why: string }> = [
  {
    from: 'webhooks',
    to: 'mails',
    why: 'webhooks consume the outbox mails write (mails → events → webhooks): they render mail events through common/events/event-views.ts',
  },
  {
    from: 'mails',
    to: 'delivery',
    why: 'the worker side (delivery/) works the rows the API side (mails/) writes, never the reverse',
  },
];

/**
 * Folders that take part in no cycle check: they compose the others (database/ lists every
 * entity for the data source; scripts/ builds the OpenAPI document from the whole app).
 */
const COMPOSITION = new Set(['database', 'scripts']);

/**
 * The cycle between folders that remains; the spec fails when it is gone too, so that it leaves
 * this list.
 * - auth ↔ rate-limit: the auth guard counts failed logins in rate-limit's counters, and
 *   rate-limit reads the caller and the route's access from auth/.
 */
const KNOWN_CYCLES: string[][] = [['auth', 'rate-limit']];

interface Import {
  file: string;
  from: string;
  to: string;
  /** The imported path, from src/. */
  target: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** `import … from`, `export … from`, `import '…'`, `import('…')`, `require('…')`: relative ones only. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)['"](\.{1,2}\/[^'"]*)['"]/g;

/** The top-level folder of a path under src/, or null for a file of the composition root. */
function folderOf(pathFromSrc: string): string | null {
  const parts = pathFromSrc.split(/[\\/]/);
  return parts.length > 1 ? parts[0] : null;
}

const imports: Import[] = sourceFiles(SRC).flatMap((path) => {
  const file = relative(SRC, path);
  const from = folderOf(file);
  if (from === null) return [];
  return [...readFileSync(path, 'utf8').matchAll(SPECIFIER)].flatMap(([, specifier]) => {
    const target = relative(SRC, resolve(dirname(path), specifier));
    if (target.startsWith('..')) return [];
    const to = folderOf(target) ?? '(root)';
    return to === from ? [] : [{ file, from, to: to === '(root)' ? target : to, target }];
  });
});

const describeImport = (i: Import) => `${i.file} imports ${i.target}`;

/** Strongly connected components of more than one folder (Tarjan), each sorted. */
function cycles(edges: Array<[string, string]>): string[][] {
  const next = new Map<string, Set<string>>();
  for (const [a, b] of edges) {
    if (!next.has(a)) next.set(a, new Set());
    if (!next.has(b)) next.set(b, new Set());
    next.get(a)!.add(b);
  }
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const to of next.get(node)!) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) {
        low.set(node, Math.min(low.get(node)!, index.get(to)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of [...next.keys()].sort()) if (!index.has(node)) visit(node);
  return found.sort((a, b) => a.join().localeCompare(b.join()));
}

describe('module boundaries (src/)', () => {
  it('reads the imports of the source tree', () => {
    expect(imports.length).toBeGreaterThan(100);
  });

  it.each(Object.entries(SHARED))('%s/ imports only the shared folders below it', (folder, allowed) => {
    const outside = imports.filter((i) => i.from === folder && !allowed.includes(i.to));
    expect(outside.map(describeImport)).toEqual([]);
  });

  it.each(FORBIDDEN.map((rule) => [rule.from, rule.to, rule.why]))('%s/ does not import %s/ (%s)', (from, to) => {
    const found = imports.filter((i) => i.from === from && i.to === to);
    expect(found.map(describeImport)).toEqual([]);
  });

  it('has no import cycle between folders but the known ones', () => {
    const edges = imports
      .filter((i) => !COMPOSITION.has(i.from) && !COMPOSITION.has(i.to) && !i.to.endsWith('.ts'))
      .map((i): [string, string] => [i.from, i.to]);
    const found = cycles(edges).map((component) => ({
      folders: component,
      through: imports
        .filter((i) => component.includes(i.from) && component.includes(i.to))
        .map(describeImport)
        .sort(),
    }));
    const known = KNOWN_CYCLES.map((c) => c.join(' ↔ '));
    expect(found.filter((c) => !known.includes(c.folders.join(' ↔ ')))).toEqual([]);
    expect(found.map((c) => c.folders)).toEqual(KNOWN_CYCLES);
  });
});
