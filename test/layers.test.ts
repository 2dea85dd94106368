// The layering of lib/ (docs/architecture.md), checked on the source: each folder imports only
// the layers below it, so that protocol and transport never see the command line.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const LIB = resolve(import.meta.dirname, '../lib')
/** Leaf modules any layer may use. */
const LEAVES = ['errors.ts', 'limits.ts', 'timing.ts', 'encoding.ts', 'version.ts', 'invocation.ts', 'sanitize.ts']
/** What each folder may import from, besides itself and the leaves. */
const ALLOWED: Record<string, string[]> = {
  nostr: [],
  store: ['nostr'],
  calls: ['store', 'nostr'],
  ui: ['calls', 'store', 'nostr'],
  session: ['ui', 'calls', 'store', 'nostr'],
  commands: ['session', 'ui', 'calls', 'store', 'nostr'],
  cli: ['commands', 'session', 'ui', 'calls', 'store', 'nostr'],
}

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))

/** Every lib/ module a file imports, as a path relative to lib/. */
const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)].map((m) => relative(LIB, resolve(dirname(file), m[1])))

describe('the layers of lib/', () => {
  const files = filesUnder(LIB).map((f) => relative(LIB, f))

  it('has no module outside a layer folder but the leaves', () => {
    expect(files.filter((f) => !f.includes('/') && !LEAVES.includes(f))).toEqual([])
  })

  it('imports only downwards: the protocol never sees the command line', () => {
    const wrong: string[] = []
    for (const file of files) {
      const layer = file.split('/')[0]
      const allowed = LEAVES.includes(file) ? [] : [layer, ...(ALLOWED[layer] ?? [])]
      for (const target of importsOf(join(LIB, file))) {
        if (LEAVES.includes(target)) continue
        if (!allowed.includes(target.split('/')[0])) wrong.push(`${file} imports ${target}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('has no import cycle, types included: what several modules share lives in one below them', () => {
    const graph = new Map(files.map((f) => [f, importsOf(join(LIB, f)).filter((t) => files.includes(t))]))
    const cycles: string[] = []
    const seen = new Map<string, 'open' | 'done'>()
    const visit = (file: string, path: string[]): void => {
      if (seen.get(file) === 'done') return
      if (seen.get(file) === 'open') return void cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '))
      seen.set(file, 'open')
      for (const target of graph.get(file) ?? []) visit(target, [...path, file])
      seen.set(file, 'done')
    }
    for (const file of files) visit(file, [])
    expect(cycles).toEqual([])
  })

  it('keeps every module under about 250 lines', () => {
    const long = files.filter((f) => readFileSync(join(LIB, f), 'utf8').split('\n').length > 260)
    expect(long).toEqual([])
  })
})
