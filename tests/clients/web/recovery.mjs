// Drive ownCloud Web 12.5.0's recovery features (served by spacedav) in headless Chromium, for
// tests/clients/web_recovery.rs: a file deleted and restored from the trash page, a file
// overwritten by an upload and its first version restored from the versions panel, files found
// with the search box (one with non-ASCII letters), a file marked as favorite and found in the
// favorites list. Every wait is for a selector or a response, never for time.
//
// Usage: node recovery.mjs '<json>' with {chromium, base, shots (dir), user: {name, password},
//   spaceId (the user's personal space), trashed (name of the file to delete), versioned (path
//   of the local file whose upload overwrites the one of that name), searches: [[term, name]...],
//   favorite (name)}.
// Prints {"checkpoint": name} lines (answered on stdin), then one JSON line:
//   {steps: [...], found: {term: [names shown]}, favorites: [names], error?}.
import path from 'node:path'
import readline from 'node:readline'
import { chromium } from 'playwright-core'

const o = JSON.parse(process.argv[2])
const TIMEOUT = 60000
const report = { steps: [], found: {} }
const browser = await chromium.launch({
  executablePath: o.chromium,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
context.setDefaultTimeout(TIMEOUT)
const page = await context.newPage()
// Web's requests, for the failure message (the test gets the full list from its proxy).
const responses = []
page.on('response', (r) => responses.push(`${r.request().method()} ${new URL(r.url()).pathname} -> ${r.status()}`))

const lines = readline.createInterface({ input: process.stdin })
const stdin = lines[Symbol.asyncIterator]()
async function checkpoint (name) {
  console.log(JSON.stringify({ checkpoint: name }))
  await stdin.next()
}

let n = 0
async function step (name, fn) {
  await fn()
  n += 1
  await page.screenshot({ path: path.join(o.shots, `${String(n).padStart(2, '0')}-${name}.png`) })
  report.steps.push(name)
}

const resource = (name) => page.locator(`#files-space-table [data-test-resource-name="${name}"]`)
const row = (name) => resource(name).locator('xpath=ancestor::tr')
// Runs `act` and waits for Web's answer to the request it makes.
const answered = (method, status, act, test = () => true) => Promise.all([
  page.waitForResponse((r) =>
    r.request().method() === method && r.status() === status && test(new URL(r.url()))),
  act(),
])

async function signIn (user) {
  await page.goto(o.base + '/')
  const form = page.locator('#username')
  const loginButton = page.locator('#exitAnchor, .oc-login-authorize-button, button:has-text("Log in")')
  await form.or(loginButton).first().waitFor()
  if (!(await form.isVisible())) await loginButton.first().click()
  await form.fill(user.name)
  await page.locator('#password').fill(user.password)
  await page.locator('#submit').click()
  await page.locator('#files-view, #files-space-table, .no-content-message').first().waitFor()
}

async function personalSpace () {
  await page.goto(o.base + '/files/spaces/personal')
  await page.locator('#files-space-table').waitFor()
}

// The context menu of a listed resource, then one of its actions.
async function action (name, trigger) {
  await resource(name).click({ button: 'right' })
  await page.locator(`.oc-files-actions-${trigger}-trigger`).first().click()
}

try {
  await step('signed-in', () => signIn(o.user))

  // (a) Delete, then restore from the space's page of the trash.
  await step('deleted', async () => {
    await answered('DELETE', 204, async () => {
      await action(o.trashed, 'delete')
      if (await page.locator('.oc-modal-body-actions-confirm').isVisible().catch(() => false)) {
        await page.locator('.oc-modal-body-actions-confirm').click()
      }
    })
    await resource(o.trashed).waitFor({ state: 'detached' })
  })
  await checkpoint('deleted')
  await step('trash-overview', async () => {
    // With one space only, Web skips the overview and opens that space's trash.
    await page.goto(o.base + '/files/trash/overview')
    const item = page.locator(`[data-test-resource-path="/${o.trashed}"]`)
    const space = page.locator(`tr[data-item-id="${o.spaceId}"] a`)
    await item.or(space).first().waitFor()
    if (await space.count()) await space.first().click()
    await item.waitFor()
  })
  await step('restored-from-trash', async () => {
    const item = page.locator(`[data-test-resource-path="/${o.trashed}"]`).locator('xpath=ancestor::tr')
    await item.locator('input[type="checkbox"]').check()
    await answered('MOVE', 201, () => page.locator('.oc-files-actions-restore-trigger').first().click(),
      (u) => u.pathname.includes('/trash-bin/'))
    await page.locator(`[data-test-resource-path="/${o.trashed}"]`).waitFor({ state: 'detached' })
  })
  await checkpoint('restored')
  await step('restored-listed', async () => {
    await personalSpace()
    await resource(o.trashed).waitFor()
  })

  // (b) Overwrite by uploading a file of the same name ("Replace"), then restore the first
  // version from the versions panel.
  const versioned = path.basename(o.versioned)
  await step('overwritten', async () => {
    await page.locator('#upload-menu-btn').click()
    await page.locator('#files-file-upload-input').setInputFiles(o.versioned)
    // Web asks what to do with the name that exists (Escape would mean "skip").
    await page.locator('.oc-modal-body-actions-secondary').click()
    await page.getByText('Upload complete', { exact: true }).waitFor()
    await page.locator('#close-upload-info-btn, #close-upload-bar-btn').first().click()
  })
  await checkpoint('overwritten')
  await step('versions-panel', async () => {
    await row(versioned).locator('.resource-table-btn-action-dropdown').click()
    await page.locator('.oc-files-actions-show-details-trigger').click()
    await page.locator('#sidebar-panel-versions-select').click()
    await page.locator('[data-testid="file-versions-revert-button"]').first().waitFor()
  })
  await step('version-restored', async () => {
    await answered('COPY', 204, () => page.locator('[data-testid="file-versions-revert-button"]').first().click(),
      (u) => u.pathname.includes('/v/'))
  })
  await checkpoint('version-restored')

  // (c) The search box: the preview list under it shows the hits.
  for (const [term, name] of o.searches) {
    await step(`searched-${report.steps.length}`, async () => {
      await personalSpace()
      const input = page.locator('.oc-search-input')
      await answered('REPORT', 207, () => input.fill(term))
      const hit = page.locator('#files-global-search-options li.preview .oc-resource-name', { hasText: name.split('.')[0] })
      await hit.first().waitFor()
      const shown = await page.locator('#files-global-search-options li.preview .oc-resource-name').allInnerTexts()
      report.found[term] = shown.map((s) => s.replace(/\n/g, ''))
    })
  }

  // (d) Favorite: marked from the context menu, listed on the favorites page.
  await step('favorite-marked', async () => {
    await personalSpace()
    await answered('PROPPATCH', 207, () => action(o.favorite, 'favorite'))
  })
  await step('favorites-list', async () => {
    await page.goto(o.base + '/files/favorites')
    await page.locator(`[data-test-resource-name="${o.favorite}"]`).first().waitFor()
    report.favorites = await page.locator('[data-test-resource-name]').evaluateAll((els) =>
      els.map((e) => e.getAttribute('data-test-resource-name')))
  })
} catch (e) {
  report.error = String(e && e.stack || e) + '\nlast responses:\n' + responses.slice(-25).join('\n')
  await page.screenshot({ path: path.join(o.shots, 'failure.png') }).catch(() => {})
} finally {
  lines.close()
  await browser.close()
}
console.log(JSON.stringify(report))
