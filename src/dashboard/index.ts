/** The dashboard: the web app at `/` and its aggregate endpoints under `/api/v1/dashboard/…`. */
export { PredictionRollups, BUCKET_MS } from './prediction-rollups.js';
export { DashboardQueries } from './dashboard-queries.js';
export { dashboardPlugin, type DashboardDeps, DEFAULT_WEB_ROOT } from './routes.js';
export { dashboardMigrations } from './migrations.js';
export type { DashboardSchema } from './tables.js';
