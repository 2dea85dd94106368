// Puts events on a relay directly, as another Nostr program would.
import { type Event, type EventTemplate, finalizeEvent } from 'nostr-tools/pure'
import { RelaySocket } from '../../lib/nostr/relay/socket.ts'

export async function publishTo(url: string, event: Event): Promise<void> {
  const socket = new RelaySocket(url, { log: () => {} })
  try {
    await socket.connect(2_000)
    const status = await socket.publish(event, Date.now() + 2_000)
    if (!status.ok) throw new Error(`relay refused the event: ${status.reason}`)
  } finally {
    socket.close()
  }
}

export const signed = (template: EventTemplate, secretKey: Uint8Array): Event => finalizeEvent(template, secretKey)
