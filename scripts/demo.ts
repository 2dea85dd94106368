// `npm run demo`: the whole mission on this machine, no network needed. Starts a local relay,
// makes two agents (alice, bob) in temporary homes and an owner key for alice, walks through
// list, call, answer, send, sendfile, escalate, end, and prints both transcripts. Cleans up.
import { readFileSync, rmSync } from 'node:fs'
import { npubEncode } from 'nostr-tools/nip19'
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { type Agent, agent } from '../test/helpers/cli.ts'
import { startRelay } from '../test/helpers/relay.ts'
import { sendDms } from '../test/helpers/stranger.ts'

const relay = await startRelay()
const alice = agent([relay.url])
const bob = agent([relay.url])
const owner = generateSecretKey()
const bold = (s: string) => (process.stdout.isTTY && !process.env.NO_COLOR ? `\u001b[1m${s}\u001b[0m` : s)

async function step(who: string, a: Agent, args: string[], stdin?: string): Promise<string> {
  const shown = args.map((x) => (x.length > 60 ? `${x.slice(0, 20)}…` : /\s/.test(x) ? `"${x}"` : x)).join(' ')
  console.log(bold(`\n${who}$ node p2p.js ${shown}${stdin !== undefined ? '   (base64 on stdin)' : ''}`))
  const r = await a.run(args, { stdin })
  process.stdout.write(r.stdout)
  if (r.code !== 0) process.stdout.write(`(exit ${r.code}) ${r.stderr}`)
  return r.stdout
}

try {
  console.log(`local relay: ${relay.url}; alice's home ${alice.home}, bob's ${bob.home}`)
  await step('alice', alice, ['config', 'set', 'name', 'alice'])
  await step('bob', bob, ['config', 'set', 'name', 'bob'])
  await step('bob', bob, ['config', 'set', 'about', 'summarises quarterly reports'])
  await step('alice', alice, ['config', 'set', 'owner', npubEncode(getPublicKey(owner))])
  await step('bob', bob, ['status'])
  await step('alice', alice, ['list'])
  await step('alice', alice, ['call', 'bob', 'summarise the Q3 report'])
  await step('bob', bob, ['poll'])
  await step('bob', bob, ['answer', 'accept'])
  await step('alice', alice, ['poll'])
  await step('alice', alice, ['send', 'Revenue 1.2M, costs 0.9M. Can you summarise?'])
  await step('bob', bob, ['poll'])
  await step('bob', bob, ['sendfile', 'summary.md', '-'], Buffer.from('# Q3\nRevenue up 8%, costs flat.\n').toString('base64'))
  await step('alice', alice, ['poll'])
  await step('alice', alice, ['escalate', 'bob offers the full report for 40 USD: buy it?'])
  console.log(bold('\n(the owner answers from their phone)'))
  await sendDms(
    relay.url,
    JSON.parse(readFileSync(`${alice.home}/p2p-identity.json`, 'utf8')).pubkey,
    1,
    [owner],
    () => 'Yes, buy it, but no more than 40 USD.',
  )
  await step('bob', bob, ['poll'])
  await step('alice', alice, ['poll'])
  await step('alice', alice, ['end'])
  await step('bob', bob, ['poll'])
  const callId = JSON.parse((await bob.run(['history', '--json'])).stdout).calls[0].id
  console.log(bold(`\nalice's transcript (${alice.home}/p2p-transcripts/${callId}.md):\n`))
  console.log(readFileSync(`${alice.home}/p2p-transcripts/${callId}.md`, 'utf8'))
  console.log(bold(`bob's transcript (${bob.home}/p2p-transcripts/${callId}.md):\n`))
  console.log(readFileSync(`${bob.home}/p2p-transcripts/${callId}.md`, 'utf8'))
} finally {
  await relay.stop()
  rmSync(alice.home, { recursive: true, force: true })
  rmSync(bob.home, { recursive: true, force: true })
}
