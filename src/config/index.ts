export * from './config.js';
export { ignoredSettingNotes } from './seed-settings.js';
