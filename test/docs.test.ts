// The documentation's links, checked on the files: the README is a front door that links every
// file under docs/, and no relative link (to a file, or to a heading in it) leads nowhere.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '..')
const DOCS = join(ROOT, 'docs')
/** The files the README's "Where to read on" names: a doc deleted is caught, not just unlinked. */
const EXPECTED_DOCS = ['architecture.md', 'performance.md', 'protocol.md', 'relays.md', 'threat-model.md', 'usage.md']
const README_MAX_LINES = 300

const docFiles = (): string[] =>
  readdirSync(DOCS)
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(DOCS, f))
const checked = (): string[] => [...['README.md', 'CHANGELOG.md', 'SKILL.md', 'SKILL.zh.md'].map((f) => join(ROOT, f)), ...docFiles()]

/** The file's lines outside fenced code blocks (a `#` or a `[x](y)` in a code block is code). */
const prose = (text: string): string[] => {
  let fence: string | undefined
  const out: string[] = []
  for (const line of text.split('\n')) {
    const open = /^\s*(`{3,}|~{3,})/.exec(line)
    if (open && (fence === undefined || open[1].startsWith(fence))) {
      fence = fence === undefined ? open[1] : undefined
      continue
    }
    if (fence === undefined) out.push(line)
  }
  return out
}

/** GitHub's anchor for a heading's text (github-slugger): the rendered text in lower case,
 *  punctuation and symbols dropped, each space a '-'; a repeated slug gets -1, -2, … */
const slugs = (headings: string[]): string[] => {
  const taken = new Map<string, number>()
  return headings.map((heading) => {
    const text = heading
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link renders as its text
      .replace(/<[^>]+>/g, '') // HTML tags render as nothing
      .replace(/`/g, '')
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-')
    let slug = base
    while (taken.has(slug)) {
      const n = (taken.get(base) ?? 0) + 1
      taken.set(base, n)
      slug = `${base}-${n}`
    }
    taken.set(slug, 0)
    return slug
  })
}

const headingsOf = (file: string): string[] =>
  prose(readFileSync(file, 'utf8')).flatMap((line) => {
    const m = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)
    return m ? [m[1]] : []
  })

/** Every link target in the file's prose: inline links and images, and reference definitions. */
const linksOf = (file: string): string[] => {
  const text = prose(readFileSync(file, 'utf8'))
    .join('\n')
    .replace(/(`+)[\s\S]*?\1/g, '') // inline code is not a link
  const inline = [...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g)].map((m) => m[1])
  const defs = [...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1])
  return [...inline, ...defs]
}

const isRelative = (target: string): boolean => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('//')

/** What is wrong with each relative link of the file (empty when every one leads somewhere). */
const brokenLinks = (file: string): string[] => {
  const name = relative(ROOT, file)
  const wrong: string[] = []
  for (const target of linksOf(file).filter(isRelative)) {
    const hash = target.indexOf('#')
    const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash))
    const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1))
    const to = path === '' ? file : resolve(dirname(file), path)
    if (!existsSync(to)) {
      wrong.push(`${name}: ${target}: no file ${relative(ROOT, to)}`)
      continue
    }
    if (anchor === undefined || anchor === '') continue
    if (statSync(to).isDirectory() || !to.endsWith('.md')) {
      wrong.push(`${name}: ${target}: an anchor into what is not a Markdown file`)
      continue
    }
    if (!slugs(headingsOf(to)).includes(anchor)) wrong.push(`${name}: ${target}: no heading #${anchor} in ${relative(ROOT, to)}`)
  }
  return wrong
}

describe('the documentation', () => {
  it('computes anchors as GitHub does, repeated headings included', () => {
    expect(
      slugs(['Calls: the rules', 'With agents of the original skill: NIP-04 (legacy on)', '`poll`, for cron', 'Tests', 'Tests', 'Tests']),
    ).toEqual(['calls-the-rules', 'with-agents-of-the-original-skill-nip-04-legacy-on', 'poll-for-cron', 'tests', 'tests-1', 'tests-2'])
    expect(slugs(['a', 'a-1', 'a'])).toEqual(['a', 'a-1', 'a-2'])
  })

  it('has no relative link to a missing file or heading', () => {
    const files = checked()
    expect(files.length).toBeGreaterThanOrEqual(4 + EXPECTED_DOCS.length)
    // the parser sees the links (a parser that found none would pass vacuously)
    expect(files.flatMap(linksOf).filter((t) => isRelative(t) && t.includes('#')).length).toBeGreaterThanOrEqual(10)
    expect(files.flatMap(brokenLinks)).toEqual([])
  })

  it('keeps the README a front door', () => {
    const text = readFileSync(join(ROOT, 'README.md'), 'utf8')
    expect(text.split('\n').length - (text.endsWith('\n') ? 1 : 0)).toBeLessThanOrEqual(README_MAX_LINES)
  })

  it('links every file under docs/ from the README', () => {
    const readme = join(ROOT, 'README.md')
    const linked = new Set(
      linksOf(readme)
        .filter(isRelative)
        .map((t) => resolve(ROOT, decodeURIComponent(t.split('#')[0]))),
    )
    const docs = docFiles()
    expect(docs.map((f) => relative(DOCS, f)).sort()).toEqual(expect.arrayContaining(EXPECTED_DOCS))
    expect(docs.filter((f) => !linked.has(f)).map((f) => relative(ROOT, f))).toEqual([])
  })
})
