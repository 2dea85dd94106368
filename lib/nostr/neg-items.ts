// Negentropy's items (an event's created_at and id) packed in one buffer, in the order NIP-77
// compares them: by date, then by id. An agent keeps up to 100,000 of them (store/known-ids.ts
// reads them from disk as they are), so nothing here makes an object per item; nip77.ts holds
// the reconciliation's storage over them. Only the layout: the store loads this on every run.
import { isHex64 } from '../encoding.ts'

/** One item: its date (a float64, little-endian: any date a relay serves fits) and its 32-byte id. */
export const ITEM_BYTES = 40
/** where an item's id starts */
export const ID_AT = 8

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
