import { defineConfig } from '@playwright/test';

// The app server is not configured here (no `webServer`): each worker starts its own on a free
// port through the `app` fixture in tests/fixtures.ts, so several Playwright processes can run at
// once, as they do under hypertest.
export default defineConfig({
  testDir: './tests',
  fullyParallel: true,
  reporter: 'list',
  use: {
    headless: true,
  },
  projects: [
    {
      name: 'chromium',
      use: {
        // A project-level `use.launchOptions` replaces a top-level one, so it lives here.
        launchOptions: {
          executablePath: process.env.HT_CHROMIUM || '/usr/lib/chromium/chromium',
          args: [
            '--disable-dev-shm-usage',
            '--disable-background-networking',
            '--disable-component-update',
            '--no-first-run',
            '--disable-sync',
          ],
        },
      },
    },
  ],
});
