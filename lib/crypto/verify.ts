// Schnorr signature checks in bulk. A handful of events is checked with nostr-tools' pure
// JavaScript; many at once (a sync after a busy day, a file) with libsecp256k1 compiled to
// WASM (nostr-wasm), about four times faster once its ~20 ms start-up is paid.
import { verifyEvent as verifyPure, type Event } from 'nostr-tools/pure'

/** Below this many events, loading the WASM costs more than it saves. */
const WASM_FROM = 24

let wasm: Promise<{ verifyEvent(event: Event): void }> | undefined

async function loadWasm() {
  const { initNostrWasm } = await import('nostr-wasm')
  return initNostrWasm()
}

/** For each event, whether its id and signature are valid. */
export async function verifyAll(events: Event[]): Promise<boolean[]> {
  if (events.length < WASM_FROM) return events.map((e) => verifyPure(e))
  const nw = await (wasm ??= loadWasm())
  return events.map((e) => {
    try {
      nw.verifyEvent(e)
      return true
    } catch {
      return false
    }
  })
}
