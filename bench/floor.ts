// The floor for an online command: a bare nostr-tools script that connects to the relays
// given as arguments, sends one REQ, waits for EOSE and publishes one event, then exits.

import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import WebSocket from 'ws'

useWebSocketImplementation(WebSocket)
const sk = generateSecretKey()
await Promise.all(
  process.argv.slice(2).map(async (url) => {
    const relay = await Relay.connect(url)
    await new Promise<void>((resolve) => {
      const sub = relay.subscribe([{ kinds: [30078], '#t': ['openclaw-p2p'], since: Math.floor(Date.now() / 1000) - 300 }], {
        onevent: () => {},
        oneose: () => {
          sub.close()
          resolve()
        },
      })
    })
    await relay.publish(finalizeEvent({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: 'floor' }, sk))
    relay.close()
  }),
)
