// The ids already taken, kept beside the state (lib/store/known-ids.ts) in negentropy's packed
// order (lib/nostr/neg-items.ts): lookups and merges against a plain model, the file and its
// generations, and the store's kill-safety: the state always names the ids it was written with.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { dateAt, ITEM_BYTES, idAt, itemCount, packItems } from '../lib/nostr/neg-items.ts'
import { homePaths } from '../lib/store/home.ts'
import { KnownIds, readKnown, writeKnown } from '../lib/store/known-ids.ts'
import { StateStore } from '../lib/store/state.ts'

const id = () => randomBytes(32).toString('hex')
const T = 1_800_000_000

/** The packed items as [hex id, date] pairs, in their order. */
const unpack = (items: Buffer) =>
  Array.from({ length: itemCount(items) }, (_, i) => [Buffer.from(idAt(items, i)).toString('hex'), dateAt(items, i)])

describe('KnownIds', () => {
  it('keeps every id once, sorted by date then id, whatever order they came in', () => {
    const pairs = Array.from({ length: 500 }, () => [id(), T - Math.floor(Math.random() * 50)] as [string, number])
    const known = new KnownIds(packItems(pairs.slice(0, 300)))
    for (const [i, at] of pairs.slice(300)) expect(known.add(i, at)).toBe(true)
    for (const [i, at] of pairs.slice(250, 350)) expect(known.add(i, at + 1)).toBe(false) // the first date stays
    expect(known.size).toBe(500)
    const model = [...pairs].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    expect(unpack(known.packed())).toEqual(model)
    expect(pairs.every(([i]) => known.has(i))).toBe(true)
    expect(known.has(id())).toBe(false)
  })

  it('answers lookups by scanning, then by an index, the same', () => {
    const pairs = Array.from({ length: 2_000 }, (_, n) => [id(), T + (n % 10) * 1_000] as [string, number])
    const known = new KnownIds(packItems(pairs))
    const strangers = Array.from({ length: 40 }, id)
    // the first lookups scan the items, later ones use the index: both ways, both answers
    for (let n = 0; n < 40; n++) {
      expect(known.has(pairs[n * 37][0])).toBe(true)
      expect(known.has(strangers[n])).toBe(false)
    }
    // forgetting keeps the index true: the forgotten are not found, the rest are
    known.forget(T + 5_000, 10_000)
    expect([known.has(pairs[0][0]), known.has(pairs[4][0]), known.has(pairs[5][0]), known.has(pairs[9][0])]).toEqual([
      false,
      false,
      true,
      true,
    ])
    expect(known.size).toBe(1_000)
    // an id's bytes found across two items (a date's tail and the next id's head) are not an id
    const straddling = Buffer.concat([idAt(known.packed(), 0).subarray(16), known.packed().subarray(ITEM_BYTES, ITEM_BYTES + 16)])
    expect(new KnownIds(known.packed()).has(straddling.toString('hex'))).toBe(false)
  })

  it('keeps other ids (file ids) by their hash', () => {
    const known = new KnownIds()
    expect(known.add('ab12cd34', T)).toBe(true)
    expect(known.add('ab12cd34', T)).toBe(false)
    expect(known.has('ab12cd34')).toBe(true)
    expect(known.has('ab12cd35')).toBe(false)
    expect(unpack(known.packed())).toEqual([[createHash('sha256').update('ab12cd34').digest('hex'), T]])
  })

  it('forgets by date, in batches an hour apart, and by count; cuts windows by date', () => {
    const pairs = Array.from({ length: 100 }, (_, n) => [id(), T + n * 60] as [string, number])
    const known = new KnownIds(packItems(pairs))
    expect(itemCount(known.between(T + 600, T + 1_199))).toBe(10)
    expect(unpack(known.between(T + 600, T + 1_199))[0]).toEqual(pairs[10])
    known.forget(T + 3_000, 1_000) // the oldest is not an hour past yet: nothing goes, nothing to write
    expect([known.size, known.changed]).toEqual([100, false])
    known.forget(T + 5_400, 1_000)
    expect(known.size).toBe(10)
    expect(known.has(pairs[89][0])).toBe(false)
    expect(known.changed).toBe(true)
    known.forget(0, 5) // over the cap: the newest stay, whatever their dates
    expect(unpack(known.packed())).toEqual(pairs.slice(95))
    known.add(pairs[0][0], T + 9_000) // one that came back
    expect(unpack(known.between(T + 99 * 60, Number.POSITIVE_INFINITY))).toEqual([pairs[99], [pairs[0][0], T + 9_000]])
  })

  it('is left out of the JSON', () => {
    expect(JSON.stringify({ a: 1, seen: KnownIds.of({ [id()]: T }) })).toBe('{"a":1}')
  })
})

describe('the ids file', () => {
  it('holds both sets, and is refused when it is not one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'p2p-known-'))
    const seen = KnownIds.of({ [id()]: T, [id()]: T + 1 })
    const rumorIds = KnownIds.of({ [id()]: T + 2 })
    writeKnown(dir, 7, { seen, rumorIds })
    const back = readKnown(dir, 7)
    expect(back.seen.packed()).toEqual(seen.packed())
    expect(back.rumorIds.packed()).toEqual(rumorIds.packed())
    const file = join(dir, '7.bin')
    writeFileSync(file, readFileSync(file).subarray(0, 50)) // torn
    expect(() => readKnown(dir, 7)).toThrow(/not a file of known ids/)
    expect(() => readKnown(dir, 8)).toThrow()
  })
})

describe('the store and the ids file', () => {
  const fresh = () => {
    const paths = homePaths({ P2P_HOME: mkdtempSync(join(tmpdir(), 'p2p-store-')) })
    const warnings: string[] = []
    return { paths, warnings, open: () => new StateStore(paths, (w) => warnings.push(w)) }
  }

  it('writes the ids beside the state, a new generation only when they change, and keeps one', async () => {
    const { paths, open } = fresh()
    const a = id()
    await open().update((s) => s.seen.add(a, T))
    const state = JSON.parse(readFileSync(paths.state, 'utf8'))
    expect(state.seen).toBeUndefined()
    expect(state.knownIds).toBe(1)
    await open().update((s) => {
      s.nextSeq = 5 // no id changed
    })
    expect(JSON.parse(readFileSync(paths.state, 'utf8')).knownIds).toBe(1)
    await open().update((s) => s.rumorIds.add('cafe0001', T))
    expect(readdirSync(paths.known)).toEqual(['2.bin'])
    const read = await open().read()
    expect([read.seen.has(a), read.rumorIds.has('cafe0001')]).toEqual([true, true])
  })

  it('a kill after the new ids file and before the state: the state keeps the ids it names', async () => {
    const { paths, open } = fresh()
    const [a, b] = [id(), id()]
    await open().update((s) => s.seen.add(a, T))
    // what a run killed between its two writes leaves: generation 2, with b, named by nothing
    writeKnown(paths.known, 2, { seen: KnownIds.of({ [a]: T, [b]: T }), rumorIds: new KnownIds() })
    const store = open()
    const state = await store.read()
    expect([state.seen.has(a), state.seen.has(b)]).toEqual([true, false]) // b was never taken
    await store.update((s) => s.seen.add(id(), T))
    expect(readdirSync(paths.known)).toEqual(['2.bin'])
    expect((await open().read()).seen.has(b)).toBe(false)
  })

  it('an unreadable ids file: a warning, a fresh start, and a good file with the next write', async () => {
    const { paths, warnings, open } = fresh()
    await open().update((s) => s.seen.add(id(), T))
    writeFileSync(join(paths.known, '1.bin'), 'junk')
    const store = open()
    expect((await store.read()).seen.size).toBe(0)
    expect(warnings.join()).toMatch(/ids already taken were unreadable/)
    await store.update(() => {})
    expect(existsSync(join(paths.known, '2.bin'))).toBe(true)
    expect(readKnown(paths.known, 2).seen.size).toBe(0)
  })

  it('an ids file that cannot be read for another reason (I/O, permissions) is an error, not a fresh start', async () => {
    const { paths, open } = fresh()
    const a = id()
    await open().update((s) => s.seen.add(a, T))
    const file = join(paths.known, '1.bin')
    const kept = readFileSync(file)
    rmSync(file)
    mkdirSync(file) // reading it fails with EISDIR
    const store = open()
    await expect(store.update((s) => s.seen.add(id(), T))).rejects.toThrow(/EISDIR/)
    rmSync(file, { recursive: true })
    writeFileSync(file, kept) // the trouble passes: nothing was written over it
    expect((await open().read()).seen.has(a)).toBe(true)
  })

  it('moves the ids of a version 2 state into the file', async () => {
    const { paths, open } = fresh()
    const [w, r] = [id(), id()]
    writeFileSync(paths.state, JSON.stringify({ version: 2, seen: { [w]: T }, rumorIds: { [r]: T, 'file-1': T } }))
    const store = open()
    await store.update(() => {})
    const state = JSON.parse(readFileSync(paths.state, 'utf8'))
    expect([state.seen, state.rumorIds, state.knownIds]).toEqual([undefined, undefined, 1])
    const known = readKnown(paths.known, 1)
    expect([known.seen.has(w), known.rumorIds.has(r), known.rumorIds.has('file-1'), known.rumorIds.has(w)]).toEqual([
      true,
      true,
      true,
      false,
    ])
  })
})
