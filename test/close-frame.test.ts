// Manners on the wire (issue 22, point 10): the CLI ends each relay connection with a WebSocket
// close frame (1000, normal closure), not by dropping TCP, which relays log as an abnormal
// disconnect (strfry: 1006 for every run); and it exits at once, without waiting a round trip
// for the relay's answer (issue 25, point 3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RelaySocket } from '../lib/nostr/relay/socket.ts'
import { agent } from './helpers/cli.ts'
import { type FaultyRelay, startFaultyRelay } from './helpers/faulty-relay.ts'
import { startBlackHole } from './helpers/relay.ts'

const NORMAL_CLOSURE = 1000

/** Until `relay` has seen `count` connections end (the last close arrives as the client leaves). */
async function closesSeen(relay: FaultyRelay, count: number): Promise<number[]> {
  for (let i = 0; i < 100 && relay.closeCodes.length < count; i++) await new Promise((r) => setTimeout(r, 20))
  return relay.closeCodes
}

describe('closing relay connections', () => {
  let relay: FaultyRelay
  beforeAll(async () => {
    relay = await startFaultyRelay({})
  })
  afterAll(() => relay.stop())

  it('a closed socket sends a close frame with code 1000', async () => {
    relay.closeCodes.length = 0
    const socket = new RelaySocket(relay.url, { log: () => {} })
    await socket.connect(2_000)
    socket.close()
    expect(await closesSeen(relay, 1)).toEqual([NORMAL_CLOSURE])
  })

  it('the CLI closes every connection it opened with 1000, and exits promptly', async () => {
    relay.closeCodes.length = 0
    const r = await agent([relay.url]).run(['status', '--json', '--verbose'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).not.toMatch(/handle was still open/)
    const codes = await closesSeen(relay, 1)
    expect(codes.length).toBeGreaterThan(0)
    expect(codes.every((c) => c === NORMAL_CLOSURE)).toBe(true)
  })

  it('a relay that floods is cut at once, with no close handshake to wait through more of its flood', async () => {
    const junk = JSON.stringify({ id: 'x'.repeat(64), kind: 1 })
    const flooding = await startFaultyRelay({
      onReq: async (sub, ws) => {
        for (let i = 0; i < 5_000 && ws.readyState === ws.OPEN; i++) ws.send(`["EVENT","${sub}",${junk}]`)
      },
    })
    try {
      const socket = new RelaySocket(flooding.url, { log: () => {} })
      await socket.connect(2_000)
      const result = await socket.query([{ kinds: [1], limit: 1 }], Date.now() + 5_000, () => {})
      expect(result).toMatchObject({ complete: false, reason: expect.stringMatching(/^flood/) })
      expect(await closesSeen(flooding, 1)).toEqual([1006])
    } finally {
      await flooding.stop()
    }
  })

  it('a relay that never answers the close frame does not hold the process: no run waits for the answer', async () => {
    // ws answers a close frame through the connection's close(): this relay's does nothing
    const mute = await startFaultyRelay({
      onConnection: (ws) => {
        ws.close = () => {}
      },
    })
    try {
      // ws would hold the socket a minute for the answer: the run ends without it (runCli kills
      // a run still alive after 20 s, and its code is then null)
      const r = await agent([mute.url]).run(['status', '--json', '--verbose'], { env: { P2P_TEST_CLOSE_HANDSHAKE_MS: '60000' } })
      expect(r.code, r.stderr).toBe(0)
      expect(r.stderr).not.toMatch(/handle was still open/)
      expect(await closesSeen(mute, 1)).toContain(NORMAL_CLOSURE)
    } finally {
      await mute.stop()
    }
  })

  it('a socket closed while it connects ends its connect at once: no wait is left holding the process', async () => {
    const hole = await startBlackHole()
    try {
      const socket = new RelaySocket(hole.url, { log: () => {} })
      const connecting = socket.connect(60_000).then(
        () => 'connected',
        (err: Error) => `refused: ${err.message}`,
      )
      socket.close('the run is over')
      // on the old code the connect never settled (only a timer of the caller's ended the wait)
      const never = new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), 5_000).unref())
      expect(await Promise.race([connecting, never])).toBe('refused: the run is over')
    } finally {
      await hole.stop()
    }
  })
})
