// Renders web/public/icons/icon.svg into the PNG icons the web app manifest names (192 and 512 px), with
// Debian's Chromium through playwright-core. Run once after changing the SVG: node scripts/render-icons.mjs
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const dir = new URL('../web/public/icons/', import.meta.url);
const svg = readFileSync(new URL('icon.svg', dir), 'utf8');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  for (const size of [192, 512]) {
    const page = await browser.newPage({ viewport: { width: size, height: size }, deviceScaleFactor: 1 });
    await page.setContent(`<!doctype html><style>html,body{margin:0}svg{display:block;width:${size}px;height:${size}px}</style>${svg}`);
    await page.screenshot({ path: new URL(`icon-${size}.png`, dir).pathname, omitBackground: false });
    await page.close();
  }
} finally {
  await browser.close();
}
