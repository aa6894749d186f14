// Drive owncloud-sdk (1.x, Node) for tests/clients/owncloud_sdk.rs (issue 11): its `files`
// (favorites, search), `fileVersions` and `fileTrash` APIs against spacedav.
//
// Usage: node owncloud_sdk.mjs BASE_URL USER PASSWORD   (BASE_URL: http://host:port/)
// Prints `ok <step>` per step; exits 1 with the error at the first failure.
import owncloud from 'owncloud-sdk'

const [baseUrl, username, password] = process.argv.slice(2)
const oc = new owncloud({ baseUrl, auth: { basic: { username, password } } })
const ok = (step) => console.log(`ok ${step}`)
const check = (cond, what) => {
  if (!cond) throw new Error(`check failed: ${what}`)
}
const FILEID = '{http://owncloud.org/ns}fileid'
const LOCATION = '{http://owncloud.org/ns}trashbin-original-location'

try {
  await oc.login()
  ok('login')
  await oc.files.createFolder('sdk')
  for (const body of ['one', 'two!', 'three']) {
    await oc.files.putFileContents('sdk/v.txt', body, { overwrite: true })
  }
  const info = await oc.files.fileInfo('sdk/v.txt', [FILEID])
  const id = info.getProperty(FILEID)
  check(id && id.includes('!'), `file id ${id}`)
  ok('files')

  const versions = await oc.fileVersions.listVersions(id)
  check(versions.length === 2, `versions ${versions.length}`)
  const [newest, oldest] = versions.map((v) => v.getName())
  check(versions[0].getSize() === 4, `newest version size ${versions[0].getSize()}`)
  check((await oc.fileVersions.getFileVersionContents(id, newest)) === 'two!', 'newest content')
  check((await oc.fileVersions.getFileVersionContents(id, oldest)) === 'one', 'oldest content')
  await oc.fileVersions.restoreFileVersion(id, oldest, 'sdk/v.txt')
  check((await oc.files.getFileContents('sdk/v.txt')) === 'one', 'restored content')
  check((await oc.fileVersions.listVersions(id)).length === 2, 'current content kept as a version')
  ok('fileVersions')

  await oc.files.favorite('sdk/v.txt', true)
  const favs = await oc.files.getFavoriteFiles([FILEID])
  check(favs.length === 1 && favs[0].getProperty(FILEID) === id, `favorites ${favs.map((f) => f.getPath())}`)
  ok('favorites')
  const hits = await oc.files.search('V.T', 30, [FILEID])
  // FileInfo: getPath() is the folder, getName() the name.
  const found = hits.map((f) => f.getPath() + f.getName())
  check(hits.length === 1 && found[0] === '/sdk/v.txt', `search ${found}`)
  ok('search')

  await oc.files.delete('sdk/v.txt')
  let trash = await oc.fileTrash.list('/', '1', [LOCATION])
  check(trash.length === 2, `trash listing ${trash.length}`)
  const item = trash[1]
  check(item.getProperty(LOCATION) === 'sdk/v.txt', `original location ${item.getProperty(LOCATION)}`)
  await oc.fileTrash.restore(item.getName(), 'sdk/v.txt')
  check((await oc.files.getFileContents('sdk/v.txt')) === 'one', 'restored from the trash')
  check((await oc.files.fileInfo('sdk/v.txt', [FILEID])).getProperty(FILEID) === id, 'same id')
  ok('fileTrash restore')

  await oc.files.delete('sdk/v.txt')
  trash = await oc.fileTrash.list('/', '1', [LOCATION])
  await oc.fileTrash.clearTrashBin(trash[1].getName())
  check((await oc.fileTrash.list('/', '1', [LOCATION])).length === 1, 'item purged')
  await oc.files.delete('sdk')
  await oc.fileTrash.clearTrashBin()
  check((await oc.fileTrash.list('/', '1', [LOCATION])).length === 1, 'bin emptied')
  ok('fileTrash purge')
} catch (e) {
  console.error(e && e.stack ? e.stack : String(e))
  if (e && e.response) console.error(`HTTP ${e.status}`)
  process.exit(1)
}
