export * from './experiment-tracking.js';
export { trackingRoutes } from './routes.js';
