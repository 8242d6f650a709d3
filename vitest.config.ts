import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The server's default is one worker per core; tests start one unless they set WORKERS themselves.
    env: { WORKERS: '1' },
  },
});
