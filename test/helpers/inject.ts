// Raw protocol messages for e2e tests: a gift wrap published as a hostile (or simply other)
// program would, and a call set up between two fresh agents.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { finalizeEvent, getPublicKey } from 'nostr-tools/pure'
import { hexToBytes } from 'nostr-tools/utils'
import { expect } from 'vitest'
import { type Sign, wrapRumor } from '../../lib/nostr/nip59.ts'
import { buildRumor, type P2PMessage } from '../../lib/nostr/p2p.ts'
import { RelaySocket } from '../../lib/nostr/relay/socket.ts'
import { whoami } from './agents.ts'
import { type Agent, agent } from './cli.ts'

export const now = () => Math.floor(Date.now() / 1000)
export const secretOf = (a: Agent) => hexToBytes(JSON.parse(readFileSync(join(a.home, 'p2p-identity.json'), 'utf8')).secretKey)
export { whoami } from './agents.ts'

/** Publishes a gift wrap to `url` as a hostile program would: any author, any sealer, any time
 *  (`at` the rumor's; `wrapAt` the seal's and the wrap's, else a random time NIP-59 allows). */
export async function inject(
  url: string,
  msg: P2PMessage,
  opts: { author: Uint8Array; sealer?: Uint8Array; to: string; at?: number; wrapAt?: number },
) {
  const rumor = buildRumor(msg, getPublicKey(opts.author), opts.to, opts.at ?? now(), 'mallory')
  const socket = new RelaySocket(url, { log: () => {} })
  await socket.connect(2_000)
  const { wrapAt } = opts
  const sign: Sign = wrapAt === undefined ? finalizeEvent : (t, key) => finalizeEvent({ ...t, created_at: wrapAt }, key)
  const status = await socket.publish(wrapRumor(rumor, opts.sealer ?? opts.author, opts.to, sign), Date.now() + 2_000)
  socket.close()
  expect(status.ok).toBe(true)
}

/** Two new agents on `relays`, in an active call that alice placed and bob accepted. */
export async function callBetween(relays: string[]): Promise<{ alice: Agent; bob: Agent; callId: string; bobKey: string }> {
  const alice = agent(relays)
  const bob = agent(relays)
  await bob.run(['status'])
  const callId = (await alice.run(['call', (await whoami(bob)).npub, 'a call', '--json'])).json().call.id
  await bob.run(['poll'])
  expect((await bob.run(['answer', 'accept'])).code).toBe(0)
  await alice.run(['poll'])
  return { alice, bob, callId, bobKey: (await whoami(bob)).pubkey }
}
