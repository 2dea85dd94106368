// The ids an agent has already taken: gift wraps (`seen`, with their dates) and rumors
// (`rumorIds`, with when they were taken), up to 100,000 each. They live beside the JSON state,
// packed and sorted as NIP-77 compares them (nostr/neg-items.ts): a quiet run reads them as two
// buffers, hands the window's slice to the reconciliation as it is, forgets old ones by cutting
// the front off, and makes no object per id. The file is written whole, under a new number,
// before the state that names it (store/state.ts): a kill between the two leaves the state
// with the file it was written with.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { isHex64, sha256Hex } from '../encoding.ts'
import { MAX_SEEN, SCANS_BEFORE_INDEX } from '../limits.ts'
import { dateAt, ITEM_BYTES, idAt, includesId, itemCount, lowerBound, packItems } from '../nostr/neg-items.ts'
import { FORGET_SLACK_S } from '../timing.ts'
import { writeAtomic } from './home.ts'

/** What an id is kept as: an event id's own 32 bytes; anything else (a file id) its SHA-256. */
const keyOf = (id: string): string => (isHex64(id) ? id : sha256Hex(id))

export class KnownIds {
  /** ids added since the items were last packed, by key */
  private added = new Map<string, number>()
  /** the items' keys (latin1 strings of their bytes), once lookups are many */
  private index?: Set<string>
  private scans = 0
  /** whether anything was added or forgotten since it was loaded or saved */
  changed = false

  constructor(private items: Buffer = Buffer.alloc(0)) {}

  /** From the records of state files before version 3 (and tests). */
  static of(record: Record<string, number>): KnownIds {
    const known = new KnownIds()
    for (const id in record) if (Number.isFinite(record[id])) known.add(id, record[id])
    return known
  }

  get size(): number {
    return itemCount(this.items) + this.added.size
  }

  has(id: string): boolean {
    const key = keyOf(id)
    if (this.added.has(key)) return true
    const bytes = Buffer.from(key, 'hex')
    if (this.index) return this.index.has(bytes.toString('latin1'))
    if (++this.scans > SCANS_BEFORE_INDEX) {
      this.index = new Set()
      for (let i = 0; i < itemCount(this.items); i++) this.index.add(idAt(this.items, i).toString('latin1'))
      return this.index.has(bytes.toString('latin1'))
    }
    return includesId(this.items, bytes)
  }

  /** Remembers `id` at `at`, unless it is known already. True when it was not. */
  add(id: string, at: number): boolean {
    if (this.has(id)) return false
    this.added.set(keyOf(id), at)
    this.changed = true
    return true
  }

  /** Forgets the ids dated before `before`, once the oldest is FORGET_SLACK_S past it (so that
   *  runs do not rewrite the file for the few ids that age out between them); at most `max`
   *  stay, the newest. */
  forget(before: number, max: number): void {
    this.pack()
    const count = itemCount(this.items)
    const due = count > 0 && dateAt(this.items, 0) < before - FORGET_SLACK_S
    const drop = Math.max(due ? lowerBound(this.items, before, new Uint8Array()) : 0, count - max)
    if (drop <= 0) return
    for (let i = 0; i < drop && this.index; i++) this.index.delete(idAt(this.items, i).toString('latin1'))
    this.items = this.items.subarray(drop * ITEM_BYTES)
    this.changed = true
  }

  /** The items dated from `since` to `until`, packed: a view, safe to keep while this changes
   *  (items are never written once made: a merge makes new ones, forgetting cuts a view). */
  between(since: number, until: number): Buffer {
    this.pack()
    const from = lowerBound(this.items, since, new Uint8Array())
    const to = lowerBound(this.items, until + 1, new Uint8Array(), from)
    return this.items.subarray(from * ITEM_BYTES, to * ITEM_BYTES)
  }

  /** Every item, packed. */
  packed(): Buffer {
    this.pack()
    return this.items
  }

  /** Kept in a file of its own, never in the state's JSON. */
  toJSON(): undefined {
    return undefined
  }

  /** Merges the added ids into the items, each where it sorts. */
  private pack(): void {
    if (!this.added.size) return
    const extra = packItems(this.added)
    for (let i = 0; i < itemCount(extra); i++) this.index?.add(idAt(extra, i).toString('latin1'))
    const merged = Buffer.alloc(this.items.length + extra.length)
    let from = 0
    let out = 0
    for (let i = 0; i < itemCount(extra); i++) {
      const to = lowerBound(this.items, dateAt(extra, i), idAt(extra, i), from)
      out += this.items.copy(merged, out, from * ITEM_BYTES, to * ITEM_BYTES)
      out += extra.copy(merged, out, i * ITEM_BYTES, (i + 1) * ITEM_BYTES)
      from = to
    }
    this.items.copy(merged, out, from * ITEM_BYTES)
    this.items = merged
    this.added.clear()
  }
}

/** The file: "P2PK", its format (1), the count of wrap ids, then of rumor ids, each a 32-bit
 *  little-endian number; then the items of each, in that order. */
const MAGIC = 0x4b503250
const FORMAT = 1
const HEADER_BYTES = 16
/** The largest file of known ids there is: anything larger is not read (a 2 GiB one could not
 *  even be; a smaller one would still cost the run its memory). */
const MAX_KNOWN_BYTES = HEADER_BYTES + 2 * MAX_SEEN * ITEM_BYTES

interface Known {
  seen: KnownIds
  rumorIds: KnownIds
}

const fileOf = (dir: string, generation: number) => join(dir, `${generation}.bin`)

/** Writes the ids as generation `generation` (a temp file and a rename) into `dir`, which the
 *  caller made (store/home.ts: ownDir). */
export function writeKnown(dir: string, generation: number, known: Known): void {
  const seen = known.seen.packed()
  const rumors = known.rumorIds.packed()
  const header = Buffer.alloc(HEADER_BYTES)
  header.writeUInt32LE(MAGIC, 0)
  header.writeUInt32LE(FORMAT, 4)
  header.writeUInt32LE(itemCount(seen), 8)
  header.writeUInt32LE(itemCount(rumors), 12)
  writeAtomic(fileOf(dir, generation), Buffer.concat([header, seen, rumors]))
}

/** A file of known ids that is missing or not one of ours (a fresh start will do); any other
 *  failure to read it (permissions, I/O) is thrown as it is, and nothing is written over it. */
export class UnreadableIds extends Error {}

/** Reads generation `generation`. */
export function readKnown(dir: string, generation: number): Known {
  const path = fileOf(dir, generation)
  let file: Buffer
  try {
    const { size } = statSync(path)
    if (size > MAX_KNOWN_BYTES) {
      throw new UnreadableIds(
        `${path} is ${size} bytes, more than any file of known ids (${MAX_KNOWN_BYTES}): not read; the next write replaces it`,
      )
    }
    file = readFileSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UnreadableIds(`${path} is missing`)
    throw err
  }
  const seenCount = file.length >= HEADER_BYTES ? file.readUInt32LE(8) : 0
  const rumorCount = file.length >= HEADER_BYTES ? file.readUInt32LE(12) : 0
  const ok =
    file.length === HEADER_BYTES + (seenCount + rumorCount) * ITEM_BYTES &&
    file.readUInt32LE(0) === MAGIC &&
    file.readUInt32LE(4) === FORMAT
  if (!ok) throw new UnreadableIds(`${fileOf(dir, generation)} is not a file of known ids`)
  const split = HEADER_BYTES + seenCount * ITEM_BYTES
  return { seen: new KnownIds(file.subarray(HEADER_BYTES, split)), rumorIds: new KnownIds(file.subarray(split)) }
}

/** Removes every generation but `generation`, and temp files a killed run left; what cannot
 *  be removed now is left for the next write (the state is saved already). */
export function removeOtherKnown(dir: string, generation: number): void {
  let names: string[] = []
  try {
    names = readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    try {
      if (name !== `${generation}.bin`) rmSync(join(dir, name), { force: true })
    } catch {
      // a folder someone put there, a file in use: not ours to insist on
    }
  }
}
