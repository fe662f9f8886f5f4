/** The alert notification the notifier tests (HTTP channels and real SMTP) deliver. */
import type { AlertNotification } from '../../src/monitoring/notifiers.js';

export const firing: AlertNotification = {
  event: 'firing',
  alert: {
    id: 'alr_01HZX',
    model_id: 'mdl_42',
    model_name: 'breast-cancer',
    version: '1.1.0',
    rule: 'decay',
    severity: 'critical',
    dedup_key: 'mdl_42:1.1.0:decay',
    message: 'breast-cancer 1.1.0: accuracy fell from 0.96 to 0.84',
    details: { current_accuracy: 0.84, baseline_accuracy: 0.96, accuracy_decay: 0.12, labels: 250 },
    fired_at: '2025-03-01T10:00:00.000Z',
    resolved_at: null,
  },
};
