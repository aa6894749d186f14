// Drive the `webdav` npm client (5.x) for tests/clients/webdav_npm.rs (clients.md §9).
//
// Usage: node webdav_client.mjs URL USER PASSWORD   (URL: a WebDAV collection, trailing /)
// Prints `ok <step>` per step; exits 1 with the error at the first failure.
import { createClient } from 'webdav'

const [url, username, password] = process.argv.slice(2)
const c = createClient(url, { username, password })
const ok = (step) => console.log(`ok ${step}`)
const check = (cond, what) => {
  if (!cond) throw new Error(`check failed: ${what}`)
}

try {
  const dav = await c.getDAVCompliance('/')
  check(dav.compliance.includes('1') && dav.compliance.includes('2'), `DAV classes ${JSON.stringify(dav)}`)
  ok('compliance')
  await c.createDirectory('/npm/deep/er', { recursive: true })
  check(await c.exists('/npm/deep/er'), 'recursive createDirectory')
  ok('createDirectory')
  await c.putFileContents('/npm/a.txt', 'alpha\n')
  // overwrite:false sends If-None-Match: * and reports a 412 as `false`.
  const written = await c.putFileContents('/npm/a.txt', 'overwritten\n', { overwrite: false })
  check(written === false, 'overwrite:false on an existing file must be refused (412)')
  check((await c.getFileContents('/npm/a.txt', { format: 'text' })) === 'alpha\n', 'content kept')
  ok('putFileContents')
  const list = await c.getDirectoryContents('/npm')
  const names = list.map((f) => f.basename).sort()
  check(JSON.stringify(names) === JSON.stringify(['a.txt', 'deep']), `listing ${names}`)
  ok('getDirectoryContents')
  const st = await c.stat('/npm/a.txt', { details: true })
  check(st.data.size === 6 && st.data.type === 'file' && st.data.etag, `stat ${JSON.stringify(st.data)}`)
  ok('stat')
  const pf = await c.customRequest('/npm/a.txt', {
    method: 'PROPFIND',
    headers: { Depth: '0', 'Content-Type': 'application/xml' },
    data: '<?xml version="1.0"?><d:propfind xmlns:d="DAV:" xmlns:oc="http://owncloud.org/ns">' +
      '<d:prop><oc:fileid/><oc:permissions/><oc:checksums/></d:prop></d:propfind>',
  })
  const xml = await pf.text()
  check(pf.status === 207 && /fileid>[^<]+</.test(xml) && /SHA1:/i.test(xml), `oc: props ${xml}`)
  ok('oc properties')
  const range = await new Promise((resolve, reject) => {
    const chunks = []
    c.createReadStream('/npm/a.txt', { range: { start: 1, end: 3 } })
      .on('data', (d) => chunks.push(d))
      .on('end', () => resolve(Buffer.concat(chunks).toString()))
      .on('error', reject)
  })
  check(range === 'lph', `range read ${JSON.stringify(range)}`)
  ok('range')
  await c.copyFile('/npm/a.txt', '/npm/copy.txt')
  await c.moveFile('/npm/copy.txt', '/npm/deep/moved.txt')
  check(await c.exists('/npm/deep/moved.txt') && !(await c.exists('/npm/copy.txt')), 'copy + move')
  ok('copy move')
  const lock = await c.lock('/npm/a.txt')
  check(lock.token, 'lock token')
  await c.unlock('/npm/a.txt', lock.token) // sends the token without <> (clients.md §9)
  await c.putFileContents('/npm/a.txt', 'after unlock\n')
  ok('lock unlock')
  // getQuota() reads the quota from an allprop PROPFIND, where oCIS (and RFC 4331 servers)
  // do not list it; ask for the properties by name, as ownCloud clients do.
  const qr = await c.customRequest('/', {
    method: 'PROPFIND',
    headers: { Depth: '0', 'Content-Type': 'application/xml' },
    data: '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop>' +
      '<d:quota-used-bytes/><d:quota-available-bytes/></d:prop></d:propfind>',
  })
  const qxml = await qr.text()
  check(qr.status === 207 && /quota-used-bytes>\d+</.test(qxml) &&
    /quota-available-bytes>-?\d+</.test(qxml), `quota props ${qxml}`)
  ok('quota')
  await c.deleteFile('/npm/deep/er')
  check(!(await c.exists('/npm/deep/er')), 'delete')
  ok('delete')
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e))
  if (e && e.response) console.error(`HTTP ${e.status}`)
  process.exit(1)
}
