export { type BackupFile, type Installation, type Manifest, MANIFEST, checkBackup, confirmRestore, createBackup, restoreBackup } from './backup.js';
