// Schnorr signatures in bulk. A handful of events is signed or checked with nostr-tools' pure
// JavaScript; many at once (a sync after a busy day, a file) with libsecp256k1 compiled to
// WASM (nostr-wasm), about four times faster once its ~20 ms start-up is paid.
import { verifyEvent as verifyPure, finalizeEvent as signPure, type Event, type EventTemplate } from 'nostr-tools/pure'

/** Below this many events, loading the WASM costs more than it saves. */
const WASM_FROM = 24

interface NostrWasm {
  verifyEvent(event: Event): void
  finalizeEvent(event: Event, secretKey: Uint8Array): void
}
let wasm: Promise<NostrWasm> | undefined

async function loadWasm() {
  const { initNostrWasm } = await import('nostr-wasm')
  return (await initNostrWasm()) as unknown as NostrWasm
}

/** A signer for `count` events: pure JavaScript for a few, WASM for many. */
export async function signerFor(count: number): Promise<(template: EventTemplate, secretKey: Uint8Array) => Event> {
  if (count < WASM_FROM) return signPure
  const nw = await (wasm ??= loadWasm())
  return (template, secretKey) => {
    const event = { ...template, id: '', pubkey: '', sig: '' }
    nw.finalizeEvent(event, secretKey)
    return event
  }
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
