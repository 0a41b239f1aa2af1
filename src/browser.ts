/**
 * The browser the dashboard suite and the video pipeline drive: Debian's `chromium` package
 * (`infra/ensure-browser.sh` installs it), through playwright-core — Playwright never downloads one.
 */
export const CHROMIUM = process.env.STOCKADE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The flags that work on these machines: no sandbox (tests run as root), no GPU, and no background
 * networking — on a closed network chromium's own connections are refused, many at a time.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
