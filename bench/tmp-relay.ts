import { startRelay } from '/work/main/test/helpers/relay.ts'
const r = await startRelay({ port: 47777 })
console.log(r.url)
