// Schnorr signatures with libsecp256k1 compiled to WASM (nostr-wasm): ~0.3 ms an event once its
// ~20 ms start-up is paid, where nostr-tools' pure JavaScript takes ~1.2 ms an event after a
// ~27 ms precomputation on first use. Only a run that has nothing to check or sign pays neither.
import { existsSync, readFileSync } from 'node:fs'
import { type Event, type EventTemplate, validateEvent } from 'nostr-tools/pure'
import { isHex64 } from '../encoding.ts'

interface NostrWasm {
  getPublicKey(secretKey: Uint8Array): Uint8Array
  verifyEvent(event: Event): void
  finalizeEvent(event: Event, secretKey: Uint8Array): void
}
let wasm: Promise<NostrWasm> | undefined

function nostrWasm(): Promise<NostrWasm> {
  wasm ??= loadWasm()
  return wasm
}

/** The built CLI ships the module as dist/nostr.wasm (scripts/build.mjs), where the package's
 *  own loader decodes it from base64 a character at a time (~16 ms); from source (the unit
 *  tests), that loader. */
async function loadWasm(): Promise<NostrWasm> {
  const { NostrWasm, initNostrWasm } = await import('nostr-wasm')
  const file = new URL('./nostr.wasm', import.meta.url)
  const start = existsSync(file) ? () => NostrWasm(readFileSync(file)) : initNostrWasm
  return (await withoutFetch(start)) as unknown as NostrWasm
}

/** Runs `start` with `Response` standing for a class nothing is an instance of. nostr-wasm asks
 *  whether its bytes are a fetch `Response`, and reading that global makes Node load its fetch
 *  implementation (undici, ~30 ms). The check is synchronous, so the global is restored before
 *  anything else can run. */
function withoutFetch<T>(start: () => Promise<T>): Promise<T> {
  const lazy = Object.getOwnPropertyDescriptor(globalThis, 'Response')
  if (!lazy?.get) return start() // loaded already (or not there): nothing to spare
  Object.defineProperty(globalThis, 'Response', { configurable: true, writable: true, value: class NotAResponse {} })
  try {
    return start()
  } finally {
    Object.defineProperty(globalThis, 'Response', lazy)
  }
}

/** The x-only public key (hex) of a secret key. */
export async function publicKeyOf(secretKey: Uint8Array): Promise<string> {
  const nw = await nostrWasm()
  return Buffer.from(nw.getPublicKey(secretKey)).toString('hex')
}

/** A signer (`finalizeEvent`'s shape) backed by the WASM. */
export async function signerFor(): Promise<(template: EventTemplate, secretKey: Uint8Array) => Event> {
  const nw = await nostrWasm()
  return (template, secretKey) => {
    const event = { ...template, id: '', pubkey: '', sig: '' }
    nw.finalizeEvent(event, secretKey)
    return event
  }
}

/** Whether the fields the WASM copies into fixed-size slots fit them: it checks no lengths, and
 *  a longer `sig` or `pubkey` (a peer's seal can say anything) overwrites its memory, breaking
 *  every later signature of the run. */
const fitsWasm = (e: Event) => validateEvent(e) && isHex64(e.id) && typeof e.sig === 'string' && /^[0-9a-f]{128}$/.test(e.sig)

/** For each event, whether its id and signature are valid. */
export async function verifyAll(events: Event[]): Promise<boolean[]> {
  if (events.length === 0) return []
  const nw = await nostrWasm()
  return events.map((e) => {
    if (!fitsWasm(e)) return false
    try {
      nw.verifyEvent(e)
      return true
    } catch {
      return false
    }
  })
}
