// Negentropy's items (an event's created_at and id) packed in one buffer, in the order NIP-77
// compares them: by date, then by id. An agent keeps up to 100,000 of them (store/known-ids.ts
// reads them from disk as they are), so nothing here makes an object per item unless asked for
// one; the storage over them hands nostr-tools' reconciliation the few it looks at.
import { createHash } from 'node:crypto'
import { endianness } from 'node:os'
import { NegentropyStorageVector } from 'nostr-tools/nip77'
import { isHex64 } from '../encoding.ts'

/** One item: its date (a float64, little-endian: any date a relay serves fits) and its 32-byte id. */
export const ITEM_BYTES = 40
const ID_AT = 8

type Item = { timestamp: number; id: Uint8Array }

export const itemCount = (items: Buffer) => items.length / ITEM_BYTES
export const dateAt = (items: Buffer, i: number) => items.readDoubleLE(i * ITEM_BYTES)
export const idAt = (items: Buffer, i: number) => items.subarray(i * ITEM_BYTES + ID_AT, (i + 1) * ITEM_BYTES)

/** Packs (hex id, date) pairs, sorted; what is not a lowercase hex id, or a pair seen already, is left out. */
export function packItems(pairs: Iterable<readonly [string, number]>): Buffer {
  const valid = [...pairs]
    .filter(([id]) => isHex64(id))
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .filter((pair, i, all) => i === 0 || pair[0] !== all[i - 1][0] || pair[1] !== all[i - 1][1])
  const items = Buffer.alloc(valid.length * ITEM_BYTES)
  valid.forEach(([id, at], i) => {
    items.writeDoubleLE(at, i * ITEM_BYTES)
    items.write(id, i * ITEM_BYTES + ID_AT, 32, 'hex')
  })
  return items
}

/** The first index in [begin, end) whose item is not below (at, id): `id` may be a prefix
 *  (a negentropy bound), below every id it begins. */
export function lowerBound(items: Buffer, at: number, id: Uint8Array, begin = 0, end = itemCount(items)): number {
  while (begin < end) {
    const mid = (begin + end) >>> 1
    if (compareItem(items, mid, at, id) < 0) begin = mid + 1
    else end = mid
  }
  return begin
}

/** Whether `id` (32 bytes) is one of the items' ids: a scan, for a few lookups (~1 ms at
 *  100,000 items), where an index would cost more to build. */
export function includesId(items: Buffer, id: Uint8Array): boolean {
  for (let at = items.indexOf(id); at >= 0; at = items.indexOf(id, at + 1)) if (at % ITEM_BYTES === ID_AT) return true
  return false
}

/** Item `i` against (at, id): negative when it sorts first. */
function compareItem(items: Buffer, i: number, at: number, id: Uint8Array): number {
  const date = dateAt(items, i)
  if (date !== at) return date < at ? -1 : 1
  const from = i * ITEM_BYTES + ID_AT
  return items.compare(id, 0, id.length, from, from + id.length) || 32 - id.length
}

/** nostr-tools' storage over packed items (sealed as it comes: they are sorted already), with
 *  fingerprints summed on 32-bit words: its own (two DataViews per id per bucket) took ~0.5 s
 *  a run at 50,000 ids. */
class PackedStorage extends NegentropyStorageVector {
  /** each item as 10 little-endian 32-bit words: its date (2), then its id (8) */
  private readonly words: Uint32Array

  constructor(private readonly packed: Buffer) {
    super()
    this.sealed = true
    const aligned = packed.byteOffset % 4 === 0 && endianness() === 'LE'
    this.words = aligned ? new Uint32Array(packed.buffer, packed.byteOffset, packed.length / 4) : wordsOf(packed)
  }

  size(): number {
    return itemCount(this.packed)
  }

  getItem(i: number): Item {
    if (i >= this.size()) throw new Error('out of range')
    return { timestamp: dateAt(this.packed, i), id: idAt(this.packed, i) }
  }

  iterate(begin: number, end: number, cb: (item: Item, i: number) => boolean): void {
    this._checkBounds(begin, end)
    for (let i = begin; i < end; i++) if (!cb(this.getItem(i), i)) break
  }

  findLowerBound(begin: number, end: number, bound: Item): number {
    this._checkBounds(begin, end)
    return lowerBound(this.packed, bound.timestamp, bound.id, begin, end)
  }

  /** negentropy's fingerprint: SHA-256 of the ids' sum (mod 2^256, little-endian) and their
   *  count (varint), first 16 bytes */
  fingerprint(begin: number, end: number): Uint8Array {
    this._checkBounds(begin, end)
    const limbs = new Array<number>(8).fill(0) // sums of up to 2^21 words stay exact in a double
    const words = ITEM_BYTES / 4
    for (let i = begin; i < end; i++) for (let w = 0; w < 8; w++) limbs[w] += this.words[i * words + ID_AT / 4 + w]
    const sum = Buffer.alloc(32)
    let carry = 0
    for (let w = 0; w < 8; w++) {
      const limb = limbs[w] + carry
      sum.writeUInt32LE(limb % 2 ** 32, w * 4)
      carry = Math.floor(limb / 2 ** 32)
    }
    const digest = createHash('sha256')
      .update(sum)
      .update(varint(end - begin))
      .digest()
    return new Uint8Array(digest.subarray(0, 16))
  }

  _checkBounds(begin: number, end: number): void {
    if (begin > end || end > this.size()) throw new Error('bad range')
  }
}

/** A sealed negentropy storage of packed items (packItems, or KnownIds' own). */
export const storageOf = (items: Buffer): NegentropyStorageVector => new PackedStorage(items)

function wordsOf(packed: Buffer): Uint32Array {
  const words = new Uint32Array(packed.length / 4)
  for (let w = 0; w < words.length; w++) words[w] = packed.readUInt32LE(w * 4)
  return words
}

function varint(n: number): Uint8Array {
  const out = [n & 0x7f]
  for (let rest = Math.floor(n / 128); rest > 0; rest = Math.floor(rest / 128)) out.unshift((rest & 0x7f) | 0x80)
  return Uint8Array.from(out)
}
