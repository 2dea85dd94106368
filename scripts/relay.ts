// `npm run relay [-- --port 7777]`: a local relay (the same real relay the tests use) for
// trying p2p-comm by hand without the internet. Ctrl-C stops it.
import { startRelay } from '../test/helpers/relay.ts'

const flag = process.argv.indexOf('--port')
const port = flag > 0 ? Number(process.argv[flag + 1]) : 7777
const relay = await startRelay({ port })
console.log(`relay listening on ${relay.url} (Ctrl-C to stop)`)
console.log(`try: P2P_RELAYS=${relay.url} node p2p.js status`)
process.on('SIGINT', async () => {
  await relay.stop()
  process.exit(0)
})
