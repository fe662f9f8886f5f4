// Builds the dashboard into dist/web, which the server serves at / (see src/dashboard/routes.ts).
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle: no source maps shipped, no CDN, nothing fetched at run time.
    sourcemap: false,
    chunkSizeWarningLimit: 200,
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8000', '/predict': 'http://127.0.0.1:8000' } },
});
