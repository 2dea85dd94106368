// Automatic replies (issue 23, points 4 and 5): a refusal goes where the stranger reads, but a
// stranger's relay list never makes us connect into our own machine or network, and a flood of
// callers cannot hold a command up past the replies' budget. The built CLI against real relays.
import { createServer, type Server } from 'node:net'
import { networkInterfaces } from 'node:os'
import { generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomHex } from '../lib/encoding.ts'
import { AUTO_REPLY_WINDOW } from '../lib/limits.ts'
import { inboxRelaysEvent } from '../lib/nostr/nip65.ts'
import { peerRelaysToUse, relayZone } from '../lib/nostr/relay-url.ts'
import { pollEvents } from './helpers/agents.ts'
import { agent } from './helpers/cli.ts'
import { inject, now, whoami } from './helpers/inject.ts'
import { publishTo, signed } from './helpers/publish.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(() => relay.stop())

/** This machine's address on its network (not loopback), where a service of that network would listen. */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i?.family === 'IPv4' && !i.internal)?.address

/** A TCP service on `host` that counts who connects. */
async function countingService(host: string): Promise<{ port: number; connections: () => number; server: Server }> {
  let connections = 0
  const server = createServer((socket) => {
    connections++
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, host, resolve))
  return { port: (server.address() as { port: number }).port, connections: () => connections, server }
}

describe('automatic replies', () => {
  it.skipIf(!lanAddress)('a stranger naming a relay on our network is answered, but never there (point 4)', async () => {
    const service = await countingService(lanAddress as string)
    try {
      const me = agent([relay.url])
      expect((await me.run(['config', 'set', 'accept', 'known'])).code).toBe(0)
      const meKey = (await whoami(me)).pubkey
      const stranger = generateSecretKey()
      // its inbox list: a port and path of its choosing on our network, then the relay we share
      const list = [`ws://${lanAddress}:${service.port}/admin?do=something`, relay.url]
      await publishTo(relay.url, signed(inboxRelaysEvent(list, now()), stranger))
      await inject(relay.url, { type: 'call-request', callId: randomHex(5), topic: 'let me in' }, { author: stranger, to: meKey })
      const r = await me.run(['poll', '--verbose'])
      expect(r.code, r.stderr).toBe(0)
      // refused by policy and told so, on the loopback relay it reads: our own relays are there too
      expect(r.stderr).toMatch(/automatic call-reject to \w+: delivered/)
      expect(service.connections()).toBe(0)
    } finally {
      service.server.close()
    }
  })

  it('stop at their budget: answer accept with many calls waiting (point 5)', async () => {
    const me = agent([relay.url])
    const meKey = (await whoami(me)).pubkey
    const callers = AUTO_REPLY_WINDOW + 4
    for (let i = 0; i < callers; i++) {
      await inject(
        relay.url,
        { type: 'call-request', callId: randomHex(5), topic: `caller ${i}` },
        { author: generateSecretKey(), to: meKey },
      )
    }
    const waiting = (await pollEvents(me)).filter((e) => e.type === 'call-request')
    expect(waiting).toHaveLength(callers)
    // a budget of 1 ms: the first window of replies starts, no more
    const r = await me.run(['answer', 'accept', '--call', waiting[0].callId, '--verbose'], { env: { P2P_TEST_AUTO_REPLY_MS: '1' } })
    expect(r.code, r.stderr).toBe(0)
    const tried = r.stderr.match(/automatic call-reject to/g)?.length ?? 0
    expect(tried).toBeLessThanOrEqual(AUTO_REPLY_WINDOW)
    expect(r.stderr).toContain(`${callers - 1 - tried} automatic replies not sent: over their 1 ms budget`)
  })
})

describe('which of a peer relays we connect to (point 4)', () => {
  const publicRelays = ['wss://relay.damus.io', 'wss://nos.lol']
  const local = [
    'ws://127.0.0.1:22',
    'ws://localhost:8080',
    'wss://[::1]/x',
    'ws://0x7f.1:631',
    'ws://[::ffff:127.0.0.1]:1',
    'wss://10.0.0.1',
    'wss://192.168.1.1/admin',
    'wss://169.254.169.254/latest/meta-data',
    'wss://[fd00::2]',
    'wss://[fe80::1]',
    'wss://router',
    'wss://nas.local',
    'wss://printer.home.arpa',
  ].map((u) => new URL(u).href.replace(/\/$/, ''))

  it('tells loopback, private and public hosts apart', () => {
    expect(local.map(relayZone).filter((z) => z === 'public')).toEqual([])
    expect(relayZone('ws://127.0.0.1:7777')).toBe('loopback')
    expect(relayZone('wss://relay.example.com/path')).toBe('public')
    expect(relayZone('wss://8.8.8.8')).toBe('public')
  })

  it('a peer with public relays of its own: none of ours are local, so none of its local ones', () => {
    expect(peerRelaysToUse([...local, 'ws://relay.example.com', 'wss://a.example.com'], publicRelays, false)).toEqual([
      'ws://relay.example.com',
      'wss://a.example.com',
    ])
  })

  it('a stranger: a few wss:// relays only; a local test network keeps its loopback relays', () => {
    const its = ['ws://relay.example.com', 'wss://a.example', 'wss://b.example', 'wss://c.example', 'wss://d.example']
    expect(peerRelaysToUse([...local, ...its], publicRelays, true)).toEqual(['wss://a.example', 'wss://b.example', 'wss://c.example'])
    expect(peerRelaysToUse(['ws://127.0.0.1:7000', 'wss://10.0.0.1'], ['ws://127.0.0.1:7777'], true)).toEqual(['ws://127.0.0.1:7000'])
    // one of our own relays is always fine
    expect(peerRelaysToUse(['ws://127.0.0.1:7777'], ['ws://127.0.0.1:7777', ...publicRelays], true)).toEqual(['ws://127.0.0.1:7777'])
  })
})
