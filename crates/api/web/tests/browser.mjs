// Loads the map page in Debian's Chromium (headless, software WebGL), waits for the data,
// searches a vessel, opens its panel, clicks a risk indicator, and saves a screenshot.
// Usage: node browser.mjs URL QUERY SCREENSHOT.png   (exit 0 on success, 1 with a reason)
import { chromium } from "playwright-core";

const [url, query, shot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist"],
});
const fail = async (why) => {
  console.error(`browser test failed: ${why}`);
  await browser.close();
  process.exit(1);
};
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(url);
  await page.waitForSelector("body[data-ready], body[data-error]", { timeout: 60000 });
  const err = await page.getAttribute("body", "data-error");
  if (err) await fail(`page error: ${err}`);
  if (!(await page.locator("canvas.maplibregl-canvas").count())) await fail("no map canvas");
  const leaders = await page.locator("#leaders .row").count();
  if (leaders === 0) await fail("empty risk leaderboard");
  await page.fill("#search", query);
  await page.waitForSelector("#results .row", { timeout: 10000 });
  await page.click("#results .row");
  await page.waitForSelector("#vessel-title", { timeout: 10000 });
  const title = await page.textContent("#vessel-title");
  const indicators = await page.locator("#panel .ind").count();
  if (indicators === 0) await fail(`no risk indicators in the panel of ${title}`);
  const identities = await page.locator("#panel table tr").count();
  if (identities < 2) await fail("no identity timeline");
  // An indicator with events: its events are highlighted and the map zooms to them.
  const withEvents = page.locator("#panel .ind", { hasText: "events)" });
  if (await withEvents.count()) await withEvents.first().click();
  await page.waitForTimeout(1500);
  await page.screenshot({ path: shot });
  if (errors.length) await fail(`page errors: ${errors.join("; ")}`);
  console.log(`ok: ${title}; ${leaders} leaders, ${indicators} indicators, ${identities - 1} identity periods`);
} catch (e) {
  await fail(String(e));
}
await browser.close();
