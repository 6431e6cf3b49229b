// Loads the ceasefire monitor's page (/ceasefire) in Debian's Chromium (headless) on a store
// analysed from the `black_sea` scenario and checks what a reader sees: weekly bar charts per
// place with the regimes as background bands, each bar's tooltip naming its week, value,
// coverage and the events behind it; the per-regime table; the calls at occupied ports; a
// change of metric (gate transits) and of split (a direction) redraws the charts; the URL
// holds the metric (a page opened on it shows that metric). Any page error, console error or
// failed request fails it. Saves a screenshot.
// Usage: node ceasefire.mjs BASE_URL SCREENSHOT.png   (exit 0 on success, 1 with a reason)
import { chromium } from "playwright-core";

const [base, shot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
});
const fail = async (why) => {
  console.error(`ceasefire page test failed: ${why}`);
  await browser.close();
  process.exit(1);
};
const errors = [];
const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
async function open(at, metric) {
  const page = await context.newPage();
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(`console: ${m.text()}`); });
  page.on("response", (r) => { if (r.status() >= 400) errors.push(`${r.status()} for ${r.url()}`); });
  await page.goto(at);
  await page.waitForSelector(`body[data-ready="${metric}"], body[data-error]`, { timeout: 60000 });
  const err = await page.getAttribute("body", "data-error");
  if (err) await fail(`page error: ${err}`);
  return page;
}
try {
  const page = await open(`${base}/ceasefire`, "departures");
  const places = await page.locator("#charts h3").count();
  if (places < 3) await fail(`departures charted for ${places} places`);
  const bars = page.locator("#charts svg rect title");
  const n = await bars.count();
  if (n < places) await fail(`${n} bars for ${places} places`);
  // A tooltip: week, value, coverage and confidence, and the events behind the number.
  const tip = await bars.first().textContent();
  if (!/^\d{4}-W\d{2}: [\d.]+ \(coverage [\d.]+, (high|medium|low)\); events( \d+)*$/.test(tip)) await fail(`tooltip ${JSON.stringify(tip)}`);
  if (!(await page.locator("#charts svg rect.regime-ua-corridor").count())) await fail("no regime band (Ukrainian corridor)");
  const regimes = await page.locator("#regimes tbody tr").count();
  if (!regimes) await fail("empty per-regime table");
  const occupied = await page.locator("#occupied tbody tr").count();
  if (!occupied) await fail("no call at an occupied port listed");
  await page.screenshot({ path: shot, fullPage: false });

  // Another metric: gate transits, then one direction of them.
  await page.selectOption("#metric", "gate_transits");
  await page.waitForSelector('body[data-ready="gate_transits"]', { timeout: 30000 });
  const gates = await page.locator("#charts h3").allTextContents();
  if (!gates.some((g) => g.startsWith("GATE-BOSPORUS"))) await fail(`gate charts: ${gates.join(", ")}`);
  const splits = await page.locator("#split option").allTextContents();
  const dir = splits.find((s) => s.startsWith("northbound") || s.startsWith("in"));
  if (!dir) await fail(`gate splits: ${splits.join(", ")}`);
  await page.selectOption("#split", dir);
  const after = await page.locator("#charts h3").count();
  if (!after) await fail(`nothing drawn for split ${dir}`);
  if (!page.url().includes("metric=gate_transits")) await fail(`URL ${page.url()} does not hold the metric`);

  // The URL opens the same metric.
  const again = await open(page.url(), "gate_transits");
  if ((await again.inputValue("#metric")) !== "gate_transits") await fail("the URL did not restore the metric");
  await again.close();
  if (errors.length) await fail(`page errors: ${errors.join("; ")}`);
  console.log(`ok: ceasefire page; ${places} places, ${n} departure bars, ${regimes} regime rows, ${occupied} occupied-port calls, ${gates.length} gate charts, split ${dir}: ${after}`);
} catch (e) {
  await fail(String(e));
}
await browser.close();
