//! The console in a real browser: headless Chromium driven over WebDriver (chromedriver),
//! each test at 1280 px and at 390 px wide, each saving screenshots under
//! `target/console-screenshots/`. Skipped, with a message, only when
//! `/usr/bin/chromedriver` is missing (`bash .ci/test` installs it).

mod backtest;
mod browser;
mod fences;
mod helpers;
mod http;
mod import;
mod offers;
mod reshape;
mod results;
mod sessions;
mod support;
mod try_it;
mod walkthrough;
mod webhooks;
