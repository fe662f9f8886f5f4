/**
 * Which study an image or a report belongs to, in a form that can be stored and matched without
 * identifying anyone. The StudyInstanceUID becomes the UID the de-identified metadata shows (the
 * keyed remapping of dicom-deid.ts: the same study, the same `2.25.…` UID); the AccessionNumber
 * becomes a keyed hash (`ACC-` + 32 hex digits). A report's metadata from the RIS carries the
 * original values: hashed with the same key, they meet the prediction's.
 *
 * A file that Vitals has de-identified already (the bus does so before storing an image) has its
 * UIDs remapped and its accession number emptied: its UID is taken as it is, not remapped twice.
 */
import { createHmac } from 'node:crypto';
import { VitalsError } from '../errors.js';
import { remapUid } from './dicom-deid.js';
import { readDicomFile } from './dicom-file.js';
import { T } from './dicom-tags.js';
import { text } from './dicom-values.js';

export interface StudyIdentifiers {
  studyInstanceUid?: string;
  accessionNumber?: string;
  /** the UID is one Vitals remapped already (a file it de-identified) */
  remapped?: boolean;
}

/** What a prediction stores and a report is matched by; null where the identifier is unknown. */
export interface StudyKeys {
  study_uid: string | null;
  accession_key: string | null;
}

const UID = /^[0-9]+(\.[0-9]+)*$/;

/** The study identifiers of a DICOM file (the data set is parsed again; the pixels are not decoded). */
export function readStudyIdentifiers(bytes: Uint8Array, maxInflatedBytes: number): StudyIdentifiers {
  const ds = readDicomFile(bytes, { maxInflatedBytes }).dataSet;
  const uid = text(ds, T.StudyInstanceUID);
  const method = text(ds, T.DeidentificationMethod) ?? '';
  return {
    studyInstanceUid: uid,
    accessionNumber: text(ds, T.AccessionNumber),
    remapped: uid !== undefined && text(ds, T.PatientIdentityRemoved)?.toUpperCase() === 'YES' && method.startsWith('Vitals'),
  };
}

export function accessionKey(salt: string, accession: string): string {
  return `ACC-${createHmac('sha256', salt).update(`accession\0${accession.trim().toUpperCase()}`).digest('hex').slice(0, 32).toUpperCase()}`;
}

export function studyKeys(salt: string, ids: StudyIdentifiers): StudyKeys {
  const uid = ids.studyInstanceUid?.replace(/\0/g, '').trim();
  const accession = ids.accessionNumber?.replace(/\0/g, '').trim();
  return {
    study_uid: uid && UID.test(uid) ? (ids.remapped ? uid : remapUid(salt, uid)) : null,
    accession_key: accession ? accessionKey(salt, accession) : null,
  };
}

/**
 * A message's `study_id` ("accession or study UID"): dotted digits are a StudyInstanceUID,
 * anything else an accession number.
 */
export function identifiersFromStudyId(studyId: string | undefined): StudyIdentifiers {
  const id = studyId?.trim();
  if (!id) return {};
  return UID.test(id) && id.includes('.') ? { studyInstanceUid: id } : { accessionNumber: id };
}

/** Checks a report's identifiers (422 naming what to send). */
export function checkReportIdentifiers(ids: { study_instance_uid?: string; accession_number?: string }): StudyIdentifiers {
  const uid = ids.study_instance_uid?.trim();
  const accession = ids.accession_number?.trim();
  if (!uid && !accession) {
    throw new VitalsError('VALIDATION_FAILED', 'a report needs the study it belongs to: send study_instance_uid or accession_number (as the RIS has them)', {
      fields: [{ field: 'study_instance_uid', message: 'study_instance_uid or accession_number is required' }],
    });
  }
  if (uid && (!UID.test(uid) || uid.length > 64)) {
    throw new VitalsError('VALIDATION_FAILED', `study_instance_uid "${uid.slice(0, 80)}" is not a DICOM UID (digits and dots, at most 64 characters)`, {
      fields: [{ field: 'study_instance_uid', message: 'not a DICOM UID' }],
    });
  }
  return { ...(uid ? { studyInstanceUid: uid } : {}), ...(accession ? { accessionNumber: accession } : {}) };
}
