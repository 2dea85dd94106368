// Signature checks for the relays the tests run in their own process. @nostr-relay/common checks
// each incoming event with @noble/curves' JavaScript Schnorr (1.5-4 ms an event here), as do
// nostr-tools' verifyEvent and so the policies of the policy relay: across the suite that was
// tens of seconds of CPU taken from the CLI runs the tests time. The same BIP-340 check by
// libsecp256k1 (nostr-wasm, as the CLI itself verifies) gives the same answers in ~0.1 ms.
import { EventUtils } from '@nostr-relay/common'
import type { Event } from 'nostr-tools/pure'
import { initNostrWasm } from 'nostr-wasm'

const wasm = await initNostrWasm()

/** Whether the event's id is its hash and its signature is its author's. */
export function validEvent(event: Event): boolean {
  try {
    wasm.verifyEvent(event as Parameters<typeof wasm.verifyEvent>[0])
    return true
  } catch {
    return false
  }
}

/** @nostr-relay/common's check of an event's signature, by the faster verifier: isSigValid is
 *  asked only after isIdValid agreed, so checking the id again changes no answer. */
EventUtils.isSigValid = (event) => validEvent(event as Event)
