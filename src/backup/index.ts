export { type BackupFile, type Installation, type Manifest, MANIFEST, checkBackup, confirmRestore, createBackup, restoreBackup } from './backup.js';
export { ScheduledBackups, type Schedule, type ScheduledBackupOptions, type ScheduledBackupRun } from './scheduled-backups.js';
