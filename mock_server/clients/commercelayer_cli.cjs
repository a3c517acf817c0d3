// Preloaded with `node --require` (NODE_OPTIONS, printed by `mock-server commercelayer-env`).
// The official commercelayer CLI and its SDK call https://<organization>.<domain>/api/... with
// Node's global fetch and have no base-URL option: this sends those calls to the mock named by
// MOCK_SERVER_CL_URL instead. Any other URL (the export file on the mock, npm's registry) is
// fetched as asked.
'use strict'

const mock = (process.env.MOCK_SERVER_CL_URL || '').replace(/\/+$/, '')
const domain = process.env.CL_CLI_DOMAIN || 'commercelayer.io'

if (mock && typeof globalThis.fetch === 'function') {
  const original = globalThis.fetch
  const vendor = new RegExp(`^https://[^/]*\\.${domain.replace(/[.]/g, '\\.')}(?=/)`, 'i')
  globalThis.fetch = function fetchThroughMock (input, init) {
    const url = typeof input === 'string' || input instanceof URL ? String(input) : input.url
    if (!vendor.test(url)) return original(input, init)
    const target = url.replace(vendor, mock)
    return original(input instanceof Request ? new Request(target, input) : target, init)
  }
}
